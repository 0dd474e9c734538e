'use strict';
/* How a session ends (or does not) seen from the browser: idle expiry,
 * closing the browser, reloading, a broken event stream, waking up. Times
 * are measured from a moment before their cause (so that the lower bound
 * holds on any machine) and printed; the upper bounds are deadlines. */
const assert = require('assert/strict');
const { hgTest, waitFor, holdsFor, note } = require('./lib/harness');

/* Room for a loaded machine or an ASan build on top of a configured time. */
const SLACK_MS = 6000;

hgTest('expiry returns to the login page with the reason', {
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '4', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  const signedIn = await env.signIn(page);
  const cookie = await env.cookie();
  await page.locator('#hg-notice').waitFor({ timeout: 4000 + SLACK_MS });
  const left = Math.round(await page.evaluate(() => performance.timeOrigin)) - signedIn.requested;
  note('back on the login page ' + left + ' ms after the sign-in click (ExpireAfterSec=4)');
  assert.ok(left >= 4000 - 50 && left <= 4000 + SLACK_MS, left + ' ms');
  assert.equal(await page.locator('#hg-notice').textContent(),
    'You were signed out after 4 seconds without activity.');
  assert.equal(await page.locator('#hg-user').count(), 1);
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.deepEqual(r.data, { error: 'session-ended', reason: 'idle-timeout' });
  await env.axe(page, 'the login page after expiry');
});

hgTest('closing the browser ends the session CloseAfterSec later', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
}, async (env) => {
  const a = await env.newPage();
  await env.signIn(a);
  const b = await env.newPage();
  await b.goto(env.daemon.url('/'));
  await env.ready(b);
  const cookie = await env.cookie();
  assert.ok(cookie);
  /* The server holds the browser's stream: from now on only its end can
   * start the grace. */
  await env.streamOpen();

  const closed = Date.now();
  await env.context.close();
  /* Watched in the daemon's log: a request would be a sign of life. */
  const endedAt = await env.daemon.waitLog(/ended: browser-closed/, 2000 + SLACK_MS);
  const after = endedAt - closed;
  note('session ended ' + after + ' ms after the browser closed (CloseAfterSec=2)');
  assert.ok(after >= 2000 - 50 && after <= 2000 + SLACK_MS, after + ' ms');
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.equal(r.status, 401);
  assert.deepEqual(r.data, { error: 'session-ended', reason: 'browser-closed' });
});

hgTest('a reload is not a close', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  /* Each page load takes the stream over: the old one ends, a new one opens. */
  for (let i = 0; i < 3; i++) {
    const since = Date.now();
    await page.reload();
    await env.ready(page);
    await env.streamOpen(page, since);
  }
  /* Back and forth between the page and itself. */
  const since = Date.now();
  await page.goto(env.daemon.url('/'));
  await env.ready(page);
  await env.streamOpen(page, since);
  /* Longer than CloseAfterSec (2 s): no end. */
  await holdsFor(() => !/ended: browser-closed/.test(env.daemon.log()), 3500, 'no browser-closed end');
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.equal(r.status, 200, JSON.stringify(r.data));
  assert.equal(await page.locator('#hg-logout').count(), 1);
});

hgTest('without the event stream the page polls, still warns, and keeps the session', {
  config: { Timeouts: { WarnAfterSec: '4', ExpireAfterSec: '30', CloseAfterSec: '3' } },
}, async (env) => {
  await env.context.route('**/api/events*', (route) => route.abort());
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  const start = Date.now();
  await waitFor(() => env.dialogOpen(page), 4000 + SLACK_MS, 'the warning, from polling');
  note('warning ' + (Date.now() - start) + ' ms after sign-in with polling (WarnAfterSec=4)');
  assert.ok(env.count('/api/session', start) >= 2, 'polled GET /api/session');
  assert.equal((await env.daemon.request('GET', '/api/session', { cookie })).status, 200);
  assert.doesNotMatch(env.daemon.log(), /ended: browser-closed/);
});

hgTest('after a sleep the page asks the server before showing anything', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  await page.clock.install();
  await env.signIn(page);
  /* Settled: the page has its stream, and asks nothing more by itself. */
  await env.streamOpen(page);
  const before = Date.now();
  /* The page's clock jumps 20 s: to it, the machine slept. */
  await page.clock.fastForward(20000);
  await waitFor(() => env.count('/api/session', before) >= 1, 5000, 'a GET /api/session after the wake-up');
  assert.equal(await env.dialogOpen(page), false);
  assert.equal(await page.locator('#hg-logout').count(), 1);
});
