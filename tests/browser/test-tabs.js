'use strict';
/* Several tabs of one browser: one event stream between them, one state in
 * all of them. Each test runs twice: with Web Locks electing the tab that
 * holds the stream, and without them (BroadcastChannel election, as in a
 * page served under a host name that is not a secure context). */
const assert = require('assert/strict');
const { hgTest, waitFor, sleep, note } = require('./lib/harness');

const NO_LOCKS = () => {
  Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
};

const MODES = [
  ['Web Locks', null],
  ['BroadcastChannel election', NO_LOCKS],
];

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

for (const [mode, initScript] of MODES) {
  hgTest('[' + mode + '] two tabs share one event stream; activity in one clears the warning in both', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '12', CloseAfterSec: '2' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    if (initScript) assert.equal(await a.evaluate(() => navigator.locks), undefined);
    await waitFor(async () => (await env.dialogOpen(a)) && (await env.dialogOpen(b)), 6000, 'the warning in both tabs');
    assert.equal(openStreams(env), 1, 'one /api/events request for the browser');
    const clockA = await a.locator('.hg-dialog__clock').getAttribute('data-seconds');
    const clockB = await b.locator('.hg-dialog__clock').getAttribute('data-seconds');
    assert.ok(Math.abs(clockA - clockB) <= 1, 'same countdown: ' + clockA + ' and ' + clockB);

    /* A key press in tab b (not a dialog button) is activity. */
    const t0 = Date.now();
    await b.keyboard.press('KeyA');
    await waitFor(async () => !(await env.dialogOpen(a)) && !(await env.dialogOpen(b)), 1000,
      'the warning to close in both tabs');
    assert.ok(Date.now() - t0 <= 1000);
    assert.equal((await env.serverState(a)).data.state, 'active');

    /* Clicking "Stay signed in" in tab a clears it in b as well. */
    await waitFor(async () => (await env.dialogOpen(a)) && (await env.dialogOpen(b)), 5000, 'the warning again');
    await a.click('text=Stay signed in');
    await waitFor(async () => !(await env.dialogOpen(a)) && !(await env.dialogOpen(b)), 1000,
      'the warning to close in both tabs');
    assert.equal(openStreams(env), 1, 'still one /api/events request');
  });

  hgTest('[' + mode + '] sign-out in one tab signs out the other within a second', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    await sleep(300);
    assert.equal(openStreams(env), 1);
    /* Sign out in the tab that does not hold the stream, then in one that does. */
    const t0 = Date.now();
    await b.click('#hg-logout');
    await Promise.all([a, b].map((p) => p.locator('#hg-notice').waitFor({ timeout: 2000 })));
    /* When the login page started loading in each tab (same clock). */
    for (const p of [a, b]) {
      const left = Math.round(await p.evaluate(() => performance.timeOrigin)) - t0;
      assert.ok(left <= 1000, 'a tab left the session ' + left + ' ms after the click');
    }
    assert.equal(await a.locator('#hg-notice').textContent(), 'You have signed out.');
    assert.equal(await b.locator('#hg-notice').textContent(), 'You have signed out.');
  });

  hgTest('[' + mode + '] a request from another tab racing the sign-out does not lose its reason', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '5' } },
  }, async (env) => {
    /* No stream (it would bring "ended: logout" first): the tab that would
     * hold it polls GET /api/session every 2 s instead. */
    await env.context.route('**/api/events*', (route) => route.abort());
    const [a, b] = await twoTabs(env);
    await sleep(300);
    const polling = env.requests.find((r) => r.path === '/api/events').page;
    const other = polling === a ? b : a;
    const hold = await env.holdLogout();
    const polls = [];
    polling.on('response', (r) => {
      /* Without the cookie: 401 "no-session" (the cookie went before the
       * sign-out was sent on, so no poll meets the ended session). */
      if (new URL(r.url()).pathname === '/api/session' && r.status() === 401) polls.push(r);
    });
    /* Through the API, the button's own path: a click would also ping. */
    await other.evaluate(() => { window.hourglass.signOut().catch(() => {}); });
    await waitFor(() => hold.held, 3000, 'the sign-out, its answer held');
    /* The poll of the other tab: no cookie any more, 401 "no-session". */
    await waitFor(() => polls.length, 4000, 'a GET /api/session answered 401 while the answer is held');
    await sleep(300);
    hold.release();
    await Promise.all([a, b].map((p) => p.locator('#hg-notice').waitFor({ timeout: 3000 })));
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
    await waitFor(allOpen, 8000, 'the warning in all seven tabs');
    assert.equal(openStreams(env), 1, 'one /api/events request for seven tabs');
    assert.equal(streams.max, 1, 'never two /api/events requests at once');
    /* The seventh tab's own requests get through at once. */
    const asked = Date.now();
    assert.equal((await env.serverState(seventh)).data.state, 'warning');
    assert.ok(Date.now() - asked < 1000, 'GET /api/session from the seventh tab took ' + (Date.now() - asked) + ' ms');

    /* A key in the seventh tab clears the warning in all. */
    const t0 = Date.now();
    await seventh.keyboard.press('KeyA');
    await waitFor(noneOpen, 1000, 'the warning to close in all seven tabs');
    const cleared = Date.now() - t0;
    assert.equal((await env.serverState(tabs[0])).data.state, 'active');

    /* Sign-out from the seventh signs out all within a second. */
    await sleep(300);
    const t1 = Date.now();
    await seventh.click('#hg-logout');
    /* From the sign-out request (the click itself may take a while). */
    const signOutAt = (await waitFor(() => env.requests.find((r) => r.path === '/api/logout' && r.at >= t1),
      2000, 'the sign-out request')).at;
    /* A deadline for seven page loads on a busy machine; the bound is
     * on when each tab left (its navigation start), below. */
    await Promise.all(tabs.map((p) => p.locator('#hg-notice').waitFor({ timeout: 8000 })));
    let slowest = 0;
    for (const p of tabs) {
      slowest = Math.max(slowest, Math.round(await p.evaluate(() => performance.timeOrigin)) - signOutAt);
      assert.equal(await p.locator('#hg-notice').textContent(), 'You have signed out.');
    }
    note('[' + mode + '] seven tabs: warning cleared in all ' + cleared + ' ms after a key; ' +
      'the last tab left the session ' + slowest + ' ms after the sign-out request');
    assert.ok(slowest <= 1000, 'a tab left the session ' + slowest + ' ms after the sign-out request');
    assert.equal(openStreams(env), 1, 'still one /api/events request');
    assert.equal(streams.max, 1);
  });

  hgTest('[' + mode + '] when the tab holding the stream closes, another takes over', {
    initScript,
    config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
  }, async (env) => {
    const [a, b] = await twoTabs(env);
    const c = await env.newPage();
    await c.goto(env.daemon.url('/'));
    await env.ready(c);
    await sleep(300);
    assert.equal(openStreams(env), 1);
    const holder = env.requests.find((r) => r.path === '/api/events').page;
    const others = [a, b, c].filter((p) => p !== holder);
    const cookie = await env.cookie();

    const t0 = Date.now();
    await holder.close({ runBeforeUnload: false });
    await waitFor(() => openStreams(env) === 2, 1500, 'another tab to open the stream');
    const took = Date.now() - t0;
    assert.ok(took <= 1500, 'took over in ' + took + ' ms');
    assert.equal(openStreams(env), 2);
    const second = env.requests.filter((r) => r.path === '/api/events')[1].page;
    assert.ok(others.includes(second));

    /* CloseAfterSec (2 s) later the session is alive: the new stream covers it. */
    await sleep(3200);
    const r = await env.daemon.request('GET', '/api/session', { cookie });
    assert.equal(r.status, 200, JSON.stringify(r.data));
    assert.equal(openStreams(env), 2, 'no further stream');
    for (const p of others) assert.equal(await p.locator('#hg-logout').count(), 1);
  });
}
