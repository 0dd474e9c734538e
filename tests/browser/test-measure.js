'use strict';
/* Figures for the record, printed into the test log ("# ..." lines):
 * - the size of client.js, raw and gzip -9 (what every page loads);
 * - how long the page takes to show what the server says: from the SSE
 *   "warning" event reaching the page to the dialog being open (and the
 *   next frame), and from the SSE "ended" event to the sign-in page and its
 *   notice; plus the server side, estimated: the daemon logs no time of its
 *   own, so "when the server warns" is the first byte of the login answer
 *   reaching the page + WarnAfterSec (resp. ExpireAfterSec), the server's
 *   idle clock starting at the sign-in. That estimate is short by the
 *   answer's own trip (about a millisecond; more on a busy machine), and
 *   says how late the server's timer plus the stream are.
 * Every time is taken in the page (Date.now() and performance.now() on the
 * machine's one clock), kept in localStorage across the page changes.
 * The bounds asserted are deadlines that only a broken mechanism crosses
 * (a second or more late or early), loose enough for a loaded machine or
 * an ASan build: this test is for the figures. */
const assert = require('assert/strict');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const zlib = require('zlib');
const { hgTest, waitFor, note } = require('./lib/harness');

const RUNS = 5;
const WARN = 2;
const EXPIRE = 4;

/* Runs in every page before its own scripts. */
function recorder() {
  const KEY = 'hg-measure';
  const now = () => performance.timeOrigin + performance.now();
  const rec = (k, v) => {
    try {
      const all = JSON.parse(localStorage.getItem(KEY) || '{}');
      if (!(k in all)) all[k] = v;   /* the first of each */
      localStorage.setItem(KEY, JSON.stringify(all));
    } catch (e) { /* no storage: no figures */ }
  };
  const frame = (k) => requestAnimationFrame(() => rec(k, now()));
  /* The stream's events, before client.js hears them (our listener is
   * added just before each of its own). */
  if (window.EventSource) {
    const add = EventSource.prototype.addEventListener;
    EventSource.prototype.addEventListener = function (type, fn, opts) {
      if (type === 'warning' || type === 'ended') add.call(this, type, () => rec('sse-' + type, now()));
      return add.call(this, type, fn, opts);
    };
  }
  /* The login answer's first byte on the sign-in page (the network's
   * time, not when a busy page got round to it). */
  const realFetch = window.fetch;
  window.fetch = function (input) {
    const p = realFetch.apply(this, arguments);
    if (String(input).endsWith('/api/login')) {
      p.then(() => {
        const e = performance.getEntriesByType('resource').filter((x) => x.name.endsWith('/api/login')).pop();
        rec('login-answer', e && e.responseStart > 0 ? performance.timeOrigin + e.responseStart : now());
      }, () => {});
    }
    return p;
  };
  if (location.pathname === '/' && location.search.includes('ended=')) rec('login-page', performance.timeOrigin);
  new MutationObserver((list) => {
    for (const m of list) {
      const n = m.target;
      if (n.matches('dialog.hg-dialog') && n.open) {
        rec('dialog-open', now());
        frame('dialog-frame');
      } else if (n.id === 'hg-notice' && !n.hidden) {
        rec('notice', now());
        frame('notice-frame');
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['open', 'hidden'] });
}

function stats(list) {
  const s = list.slice().sort((a, b) => a - b);
  const p50 = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return 'p50 ' + p50.toFixed(1) + ' ms, max ' + s[s.length - 1].toFixed(1) + ' ms (n=' + s.length + ')';
}

hgTest('figures: client.js size; from the server\'s warning and end to the page', {
  timeout: 180000,
  initScript: recorder,
  config: { Timeouts: { WarnAfterSec: String(WARN), ExpireAfterSec: String(EXPIRE), CloseAfterSec: '3' } },
}, async (env) => {
  /* Size. */
  const file = path.join(__dirname, '..', '..', 'web', 'assets', 'client.js');
  const raw = fs.readFileSync(file);
  let gz;
  try {
    gz = execFileSync('gzip', ['-9c'], { input: raw }).length;   /* gzip -9c < client.js | wc -c */
  } catch (e) {
    gz = zlib.gzipSync(raw, { level: 9 }).length;
  }
  note('client.js: ' + raw.length + ' bytes raw, ' + gz + ' bytes gzip -9');

  const page = await env.newPage();
  const m = { warnLate: [], warnShow: [], warnFrame: [], endLate: [], endNav: [], endNotice: [] };
  for (let run = 0; run < RUNS; run++) {
    await page.goto(env.daemon.url('/'));
    await page.evaluate(() => localStorage.removeItem('hg-measure'));
    await env.signIn(page);
    /* No input from here on: the warning, then the end. */
    await page.locator('#hg-notice').waitFor({ timeout: (EXPIRE + 10) * 1000 });
    await waitFor(() => page.evaluate(() => 'notice-frame' in JSON.parse(localStorage.getItem('hg-measure') || '{}')),
      5000, 'the notice painted');
    const r = await page.evaluate(() => JSON.parse(localStorage.getItem('hg-measure')));
    for (const k of ['login-answer', 'sse-warning', 'dialog-open', 'dialog-frame', 'sse-ended', 'login-page', 'notice']) {
      assert.ok(typeof r[k] === 'number', 'run ' + run + ': no ' + k + ' in ' + JSON.stringify(r));
    }
    assert.equal(await page.locator('#hg-notice').textContent(),
      'You were signed out after ' + EXPIRE + ' seconds without activity.');
    m.warnLate.push(r['sse-warning'] - (r['login-answer'] + WARN * 1000));
    m.warnShow.push(r['dialog-open'] - r['sse-warning']);
    m.warnFrame.push(r['dialog-frame'] - r['sse-warning']);
    m.endLate.push(r['sse-ended'] - (r['login-answer'] + EXPIRE * 1000));
    m.endNav.push(r['login-page'] - r['sse-ended']);
    m.endNotice.push(r['notice-frame'] - r['sse-ended']);
  }
  note('server warns (login answer + WarnAfterSec=' + WARN + ') -> SSE "warning" in the page: ' + stats(m.warnLate));
  note('SSE "warning" in the page -> dialog open (showModal): ' + stats(m.warnShow));
  note('SSE "warning" in the page -> next frame with the dialog: ' + stats(m.warnFrame));
  note('server ends (login answer + ExpireAfterSec=' + EXPIRE + ') -> SSE "ended" in the page: ' + stats(m.endLate));
  note('SSE "ended" in the page -> sign-in page starts loading: ' + stats(m.endNav));
  note('SSE "ended" in the page -> sign-in page with its notice, next frame: ' + stats(m.endNotice));

  /* Deadlines: several seconds late, or a second early (before the
   * login answer could even have come), is a broken mechanism. */
  assert.ok(Math.max(...m.warnFrame) < 5000, 'warning shown late: ' + m.warnFrame);
  assert.ok(Math.max(...m.endNotice) < 5000, 'end shown late: ' + m.endNotice);
  assert.ok(Math.max(...m.warnLate) < 5000 && Math.min(...m.warnLate) > -1000, 'warning event at ' + m.warnLate);
  assert.ok(Math.max(...m.endLate) < 5000 && Math.min(...m.endLate) > -1000, 'ended event at ' + m.endLate);
});
