'use strict';
/* Several tabs of one browser: one event stream between them, one state in
 * all of them. Each test runs twice: with Web Locks electing the tab that
 * holds the stream, and without them (BroadcastChannel election, as in a
 * page served under a host name that is not a secure context). */
const assert = require('assert/strict');
const { hgTest, waitFor, sleep } = require('./lib/harness');

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
