'use strict';
/* How a session ends (or does not) seen from the browser: idle expiry,
 * closing the browser, reloading, a broken event stream, waking up. */
const assert = require('assert/strict');
const { hgTest, waitFor, sleep, note } = require('./lib/harness');

hgTest('expiry returns to the login page with the reason', {
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '4', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  const signedIn = await env.signIn(page);
  const cookie = await env.cookie();
  await page.locator('#hg-notice').waitFor({ timeout: 8000 });
  const left = Math.round(await page.evaluate(() => performance.timeOrigin)) - signedIn.answered;
  note('back on the login page ' + left + ' ms after signing in (ExpireAfterSec=4)');
  assert.ok(left >= 3000 && left <= 5500, left + ' ms');
  assert.equal(await page.locator('#hg-notice').textContent(),
    'You were signed out after 4 seconds without activity.');
  assert.equal(await page.locator('#hg-user').count(), 1);
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.deepEqual(r.data, { error: 'session-ended', reason: 'idle-timeout' });
  await env.axe(page, 'the login page after expiry');
});

hgTest('closing the browser ends the session within CloseAfterSec + 1 s', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
}, async (env) => {
  const a = await env.newPage();
  await env.signIn(a);
  const b = await env.newPage();
  await b.goto(env.daemon.url('/'));
  await env.ready(b);
  const cookie = await env.cookie();
  assert.ok(cookie);
  await sleep(500);

  const closed = Date.now();
  await env.context.close();
  /* Watched in the daemon's log: a request would be a sign of life. */
  const endedAt = await env.daemon.waitLog(/ended: browser-closed/, 6000);
  const after = endedAt - closed;
  note('session ended ' + after + ' ms after the browser closed (CloseAfterSec=2)');
  assert.ok(after >= 1500 && after <= 3000, after + ' ms');
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
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await env.ready(page);
    await sleep(300);
  }
  /* Back and forth between the page and itself. */
  await page.goto(env.daemon.url('/'));
  await env.ready(page);
  await sleep(3500);
  assert.doesNotMatch(env.daemon.log(), /ended: browser-closed/);
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
  await waitFor(() => env.dialogOpen(page), 8000, 'the warning, from polling');
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
  await sleep(1500);
  const before = Date.now();
  /* The page's clock jumps 20 s: to it, the machine slept. */
  await page.clock.fastForward(20000);
  await waitFor(() => env.count('/api/session', before) >= 1, 3000, 'a GET /api/session after the wake-up');
  assert.equal(await env.dialogOpen(page), false);
  assert.equal(await page.locator('#hg-logout').count(), 1);
});
