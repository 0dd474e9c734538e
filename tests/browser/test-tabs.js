'use strict';
/* Several tabs of one browser: one event stream between them, one state in
 * all of them. Each test runs twice: with Web Locks electing the tab that
 * holds the stream, and without them (BroadcastChannel election, as in a
 * page served under a host name that is not a secure context). Latencies
 * (a tab following another) are printed; what is asserted is a generous
 * deadline. */
const assert = require('assert/strict');
const { hgTest, waitFor, holdsFor, within, note, countSessionRefusals } = require('./lib/harness');

const NO_LOCKS = () => {
  Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
};

const MODES = [
  ['Web Locks', null],
  ['BroadcastChannel election', NO_LOCKS],
];

/* Deadlines for what takes well under a second on an idle machine. */
const FOLLOW_MS = 5000;
const WARN_WAIT_MS = 15000;

async function twoTabs(env) {
  const a = await env.newPage();
  await env.signIn(a);
  const b = await env.newPage();
  await b.goto(env.daemon.url('/'));
  await env.ready(b);
  return [a, b];
}

/* /api/events requests open at once, and the most ever open together. */
function trackStreams(ctx) {
  const t = { open: 0, max: 0 };
  const isEvents = (r) => new URL(r.url()).pathname === '/api/events';
  ctx.on('request', (r) => {
    if (isEvents(r)) t.max = Math.max(t.max, ++t.open);
  });
  const done = (r) => { if (isEvents(r)) t.open--; };
  ctx.on('requestfinished', done);
  ctx.on('requestfailed', done);
  return t;
}

function openStreams(env) {
  /* Streams the server holds, from its point of view: GET /api/events
   * requests minus the ones that ended. Here: requests seen. */
  return env.count('/api/events');
}

/* The elected tab has opened the stream (after the election: a few
 * hundred ms without Web Locks); returns its page. */
async function streamHolder(env) {
  const r = await waitFor(() => env.requests.find((x) => x.path === '/api/events'), FOLLOW_MS,
    'a tab to open the event stream');
  return r.page;
}

/* The countdown of two tabs agrees: b, read between two looks at a, shows
 * what a showed, give or take a second of rounding. */
async function assertSameCountdown(a, b) {
  const clock = (p) => p.locator('.hg-dialog__clock').getAttribute('data-seconds').then(Number);
  const first = await clock(a);
  const other = await clock(b);
  const last = await clock(a);
  assert.ok(other <= first + 1 && other >= last - 1,
    'tab a counted ' + first + ' then ' + last + ' s, tab b ' + other + ' s in between');
}

for (const [mode, initScript] of MODES) {
  hgTest('[' + mode + '] two tabs share one event stream; activity in one clears the warning in both', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '12', CloseAfterSec: '2' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    if (initScript) assert.equal(await a.evaluate(() => navigator.locks), undefined);
    await waitFor(async () => (await env.dialogOpen(a)) && (await env.dialogOpen(b)), WARN_WAIT_MS,
      'the warning in both tabs');
    assert.equal(openStreams(env), 1, 'one /api/events request for the browser');
    await assertSameCountdown(a, b);

    /* A key press in tab b (not a dialog button) is activity. */
    const t0 = Date.now();
    const pinged = env.nextPing(b);
    await b.keyboard.press('KeyA');
    assert.equal((await pinged).state, 'active', 'the server, told of the key');
    await waitFor(async () => !(await env.dialogOpen(a)) && !(await env.dialogOpen(b)), FOLLOW_MS,
      'the warning to close in both tabs');
    note('[' + mode + '] warning closed in both tabs ' + (Date.now() - t0) + ' ms after a key in one');

    /* Clicking "Stay signed in" in tab a clears it in b as well. */
    await waitFor(async () => (await env.dialogOpen(a)) && (await env.dialogOpen(b)), WARN_WAIT_MS,
      'the warning again');
    await a.click('text=Stay signed in');
    await waitFor(async () => !(await env.dialogOpen(a)) && !(await env.dialogOpen(b)), FOLLOW_MS,
      'the warning to close in both tabs');
    assert.equal(openStreams(env), 1, 'still one /api/events request');
  });

  hgTest('[' + mode + '] sign-out in one tab signs out the other', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    await streamHolder(env);
    assert.equal(openStreams(env), 1);
    /* Sign out in the tab that does not hold the stream, then in one that does. */
    const t0 = Date.now();
    await b.click('#hg-logout');
    await Promise.all([a, b].map((p) => p.locator('#hg-notice').waitFor({ timeout: FOLLOW_MS * 2 })));
    /* When the login page started loading in each tab (same clock). */
    for (const [name, p] of [['a', a], ['b', b]]) {
      const left = Math.round(await p.evaluate(() => performance.timeOrigin)) - t0;
      note('[' + mode + '] tab ' + name + ' left the session ' + left + ' ms after the click');
      assert.ok(left <= FOLLOW_MS, 'tab ' + name + ' left the session ' + left + ' ms after the click');
    }
    assert.equal(await a.locator('#hg-notice').textContent(), 'You have signed out.');
    assert.equal(await b.locator('#hg-notice').textContent(), 'You have signed out.');
  });

  hgTest('[' + mode + '] a request from another tab racing the sign-out does not lose its reason', {
    initScript: [initScript, countSessionRefusals].filter(Boolean),
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '5' } },
  }, async (env) => {
    /* No stream (it would bring "ended: logout" first): the tab that would
     * hold it polls GET /api/session instead. From the hold on, the pages'
     * clock stands still: a 401 without a reason waits a second (client.js)
     * for the reason, and that second must not run out while the test
     * holds the sign-out's answer. */
    await env.context.clock.install();
    await env.context.route('**/api/events*', (route) => route.abort());
    const [a, b] = await twoTabs(env);
    const polling = await streamHolder(env);
    const other = polling === a ? b : a;
    const hold = await env.holdLogout();
    const polls = [];
    polling.on('response', (r) => {
      /* Without the cookie: 401 "no-session" (the cookie went before the
       * sign-out was sent on, so no poll meets the ended session). */
      if (new URL(r.url()).pathname === '/api/session' && r.status() === 401) polls.push(r);
    });
    /* Paused a little ahead of the page's time (which runs on meanwhile:
     * a slow machine may overtake "a little", then it is tried again). */
    await waitFor(async () => {
      try {
        await env.context.clock.pauseAt(await polling.evaluate(() => Date.now() + 100));
        return true;
      } catch (e) {
        if (/to the past/.test(e.message)) return false;
        throw e;
      }
    }, FOLLOW_MS, 'the pages\' clock to stop');
    /* Through the API, the button's own path: a click would also ping. */
    await other.evaluate(() => { window.hourglass.signOut().catch(() => {}); });
    await waitFor(() => hold.held, FOLLOW_MS, 'the sign-out, its answer held');
    /* The polling tab asks the server now (as when it becomes visible):
     * no cookie any more, 401 "no-session", read before the answer comes. */
    await polling.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await waitFor(() => polls.length, FOLLOW_MS, 'a GET /api/session answered 401 while the answer is held');
    await waitFor(() => polling.evaluate(() => window.__sessionRefused > 0), FOLLOW_MS,
      'the polling tab to read that 401');
    hold.release();
    await Promise.all([a, b].map((p) => p.locator('#hg-notice').waitFor({ timeout: FOLLOW_MS * 2 })));
    assert.equal(await a.locator('#hg-notice').textContent(), 'You have signed out.');
    assert.equal(await b.locator('#hg-notice').textContent(), 'You have signed out.');
  });

  hgTest('[' + mode + '] seven tabs (more than Chromium\'s 6 connections per host) still work', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '4', ExpireAfterSec: '30', CloseAfterSec: '2' } },
  }, async (env) => {
    const streams = trackStreams(env.context);
    const tabs = [await env.newPage()];
    await env.signIn(tabs[0]);
    while (tabs.length < 7) {
      const p = await env.newPage();
      await p.goto(env.daemon.url('/'));
      await env.ready(p);
      tabs.push(p);
    }
    const seventh = tabs[6];
    const allOpen = async () => (await Promise.all(tabs.map((p) => env.dialogOpen(p)))).every(Boolean);
    const noneOpen = async () => (await Promise.all(tabs.map((p) => env.dialogOpen(p)))).every((o) => !o);

    /* The warning, in all seven. */
    await waitFor(allOpen, WARN_WAIT_MS, 'the warning in all seven tabs');
    assert.equal(openStreams(env), 1, 'one /api/events request for seven tabs');
    assert.equal(streams.max, 1, 'never two /api/events requests at once');
    /* The seventh tab's own requests get through (a seventh stream would
     * hold them until a connection frees: never, with six streams open). */
    const asked = Date.now();
    const state = await within(env.serverState(seventh), FOLLOW_MS, 'GET /api/session from the seventh tab');
    assert.equal(state.data.state, 'warning');
    const answered = Date.now() - asked;

    /* A key in the seventh tab clears the warning in all. */
    const t0 = Date.now();
    const pinged = env.nextPing(seventh);
    await seventh.keyboard.press('KeyA');
    assert.equal((await pinged).state, 'active', 'the server, told of the key');
    await waitFor(noneOpen, FOLLOW_MS, 'the warning to close in all seven tabs');
    const cleared = Date.now() - t0;

    /* Sign-out from the seventh signs out all. */
    const t1 = Date.now();
    await seventh.click('#hg-logout');
    /* From the sign-out request (the click itself may take a while). */
    const signOutAt = (await waitFor(() => env.requests.find((r) => r.path === '/api/logout' && r.at >= t1),
      FOLLOW_MS, 'the sign-out request')).at;
    await Promise.all(tabs.map((p) => p.locator('#hg-notice').waitFor({ timeout: FOLLOW_MS * 3 })));
    let slowest = 0;
    for (const p of tabs) {
      slowest = Math.max(slowest, Math.round(await p.evaluate(() => performance.timeOrigin)) - signOutAt);
      assert.equal(await p.locator('#hg-notice').textContent(), 'You have signed out.');
    }
    note('[' + mode + '] seven tabs: the seventh tab\'s GET /api/session answered in ' + answered + ' ms; ' +
      'warning cleared in all ' + cleared + ' ms after a key; ' +
      'the last tab left the session ' + slowest + ' ms after the sign-out request');
    assert.ok(slowest <= FOLLOW_MS, 'a tab left the session ' + slowest + ' ms after the sign-out request');
    assert.equal(openStreams(env), 1, 'still one /api/events request');
    assert.equal(streams.max, 1);
  });

  hgTest('[' + mode + '] when the tab holding the stream closes, another takes over', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '3' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    const c = await env.newPage();
    await c.goto(env.daemon.url('/'));
    await env.ready(c);
    const holder = await streamHolder(env);
    assert.equal(openStreams(env), 1);
    const others = [a, b, c].filter((p) => p !== holder);
    const cookie = await env.cookie();

    const t0 = Date.now();
    await holder.close({ runBeforeUnload: false });
    await waitFor(() => openStreams(env) === 2, FOLLOW_MS, 'another tab to open the stream');
    note('[' + mode + '] another tab took the stream over ' + (Date.now() - t0) + ' ms after the holder closed');
    const second = env.requests.filter((r) => r.path === '/api/events')[1].page;
    assert.ok(others.includes(second));

    /* CloseAfterSec (3 s) and a second more after the holder left, the
     * session is alive: the new stream covers it. Watched in the daemon's
     * log (a request of ours would be a sign of life), then asked once. */
    await holdsFor(() => !/ended: browser-closed/.test(env.daemon.log()) && openStreams(env) === 2,
      Math.max(0, t0 + 4000 - Date.now()), 'no browser-closed end and no further stream');
    const r = await env.daemon.request('GET', '/api/session', { cookie });
    assert.equal(r.status, 200, JSON.stringify(r.data));
    assert.equal(openStreams(env), 2, 'no further stream');
    for (const p of others) assert.equal(await p.locator('#hg-logout').count(), 1);
  });
}
