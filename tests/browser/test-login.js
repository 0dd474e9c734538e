'use strict';
/* Signing in and out through the pages; the pages pass axe-core. */
const assert = require('assert/strict');
const { hgTest, waitFor, holdsFor, countSessionRefusals } = require('./lib/harness');

hgTest('sign in with a password shows the session page', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await page.locator('#hg-signed-in strong').filter({ hasText: 'alice' }).waitFor();
  assert.equal(await page.locator('#hg-signed-in').textContent(), 'Signed in as alice');
  assert.equal(await page.locator('#hg-idle-limit').textContent(),
    'You are signed out after 1 minute without activity.');
  const state = await page.evaluate(() => window.hourglass.state);
  assert.equal(state.user, 'alice');
  assert.equal(state.state, 'active');
  assert.equal(await env.dialogOpen(page), false);
});

hgTest('a wrong password gives the generic failure and no session', {}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'wrong');
  await page.click('#hg-submit');
  await page.locator('#hg-alert p').waitFor();
  assert.match(await page.locator('#hg-alert').textContent(), /Sign-in failed/);
  assert.equal(await page.inputValue('#hg-password'), '');
  assert.equal(await env.cookie(), null);
  assert.equal(await page.locator('#hg-logout').count(), 0);
});

hgTest('sign out returns to the login page, which says so', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  await page.click('#hg-logout');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
  assert.equal(new URL(page.url()).search, '', 'the notice query is taken out of the address');
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.equal(r.status, 401);
  assert.deepEqual(r.data, { error: 'session-ended', reason: 'logout' });
});

hgTest('a request racing the sign-out does not lose "You have signed out."', {
  initScript: countSessionRefusals,
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60' } },
}, async (env) => {
  /* No stream: the page polls GET /api/session every 2 s instead. */
  await env.context.route('**/api/events*', (route) => route.abort());
  const page = await env.newPage();
  await env.signIn(page);
  const hold = await env.holdLogout();
  const polls = [];
  page.on('response', (r) => {
    /* Without the cookie: 401 "no-session" (the cookie went before the
     * sign-out was sent on, so no poll meets the ended session). */
    if (new URL(r.url()).pathname === '/api/session' && r.status() === 401) polls.push(r);
  });
  /* Through the API, the button's own path: a click would also ping. */
  await page.evaluate(() => { window.hourglass.signOut().catch(() => {}); });
  await waitFor(() => hold.held, 5000, 'the sign-out, its answer held');
  /* A poll while the answer is held: no cookie any more, 401 "no-session",
   * read by the page before the answer comes. */
  await waitFor(() => polls.length, 10000, 'a GET /api/session answered 401 while the answer is held');
  await waitFor(() => page.evaluate(() => window.__sessionRefused > 0), 5000, 'the page to read that 401');
  hold.release();
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
});

hgTest('the login and session pages have no axe-core violations', {
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60' } },
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await env.axe(page, 'the login page');
  await page.goto(env.daemon.url('/?ended=idle-timeout&after=600'));
  assert.equal(await page.locator('#hg-notice').textContent(),
    'You were signed out after 10 minutes without activity.');
  await env.axe(page, 'the login page with a notice');
  await env.signIn(page);
  await env.axe(page, 'the session page');
  /* Small screens too. */
  await page.setViewportSize({ width: 360, height: 640 });
  await env.axe(page, 'the session page on a small screen');
});

hgTest('the login page explains every way a session ends', {}, async (env) => {
  const page = await env.newPage();
  const expect = {
    'idle-timeout&after=90': 'You were signed out after 90 seconds without activity.',
    'idle-timeout&after=600': 'You were signed out after 10 minutes without activity.',
    'idle-timeout&after=45': 'You were signed out after 45 seconds without activity.',
    'idle-timeout&after=60': 'You were signed out after 1 minute without activity.',
    'idle-timeout': 'You were signed out after a period without activity.',
    'max-age': 'You were signed out: the session time limit was reached.',
    'terminated': 'You were signed out by an administrator.',
    'replaced': 'You were signed out because you signed in elsewhere in this browser.',
    'browser-closed': 'You were signed out because the browser window was closed.',
    'logout': 'You have signed out.',
    'shutdown': 'You were signed out because the sign-in service was stopped.',
    'allowance': 'You were signed out: your time for today is used up.',
    'closing-time': 'You were signed out: this computer has closed.',
    'something-else': 'Your previous session has ended.',
  };
  for (const [query, text] of Object.entries(expect)) {
    await page.goto(env.daemon.url('/?ended=' + query));
    assert.equal(await page.locator('#hg-notice').textContent(), text, query);
  }
});

/* Further PAM steps, with the test module pam_hgtest (tests/pam). */
const LONG = { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60' } };

hgTest('sign in with a one-time code (a further PAM step)', {
  config: LONG,
  prepare: (d) => d.useHgtestService('mode=otp', 'code=424242'),
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  await page.click('#hg-submit');
  /* The step: PAM's message, a visible field labelled by PAM's prompt. */
  const code = page.getByLabel('One-time code');
  await code.waitFor();
  assert.equal(await page.locator('#hg-messages').textContent(), 'A code was sent to you.');
  assert.equal(await code.getAttribute('type'), 'text');
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await page.evaluate(() => document.activeElement.id), await code.getAttribute('id'));
  assert.equal((await page.locator('#hg-submit').textContent()).trim(), 'Continue');
  assert.equal(await page.locator('#hg-step-credentials').isHidden(), true);
  await env.axe(page, 'the one-time code step');
  await code.fill('424242');
  await page.click('#hg-submit');
  await env.ready(page);
  /* The name comes with the session's state, after the page shows. */
  await page.locator('#hg-signed-in strong').filter({ hasText: 'alice' }).waitFor();
  assert.equal(await page.locator('#hg-signed-in').textContent(), 'Signed in as alice');
});

hgTest('a wrong one-time code fails like a wrong password', {
  config: LONG,
  prepare: (d) => d.useHgtestService('mode=otp', 'code=424242'),
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  await page.click('#hg-submit');
  await page.getByLabel('One-time code').fill('000000');
  await page.click('#hg-submit');
  await page.locator('#hg-alert p').waitFor();
  assert.match(await page.locator('#hg-alert').textContent(), /Sign-in failed/);
  /* Back at the first step, the name kept, the password not. */
  assert.equal(await page.locator('#hg-step-credentials').isVisible(), true);
  assert.equal(await page.inputValue('#hg-user'), 'alice');
  assert.equal(await page.inputValue('#hg-password'), '');
  assert.equal(await env.cookie(), null);
});

hgTest('sign in with an expired password: a new one, twice', {
  config: LONG,
  prepare: (d) => d.useHgtestService('expired', 'new=fresh-one'),
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  await page.click('#hg-submit');
  const first = page.getByLabel('New password', { exact: true });
  await first.waitFor();
  assert.equal(await first.getAttribute('type'), 'password');
  await env.axe(page, 'the new password step');
  await first.fill('fresh-one');
  await page.click('#hg-submit');
  const second = page.getByLabel('Retype new password');
  await second.waitFor();
  assert.equal(await second.getAttribute('type'), 'password');
  await second.fill('fresh-one');
  await page.click('#hg-submit');
  await env.ready(page);
  /* The name comes with the session's state, after the page shows. */
  await page.locator('#hg-signed-in strong').filter({ hasText: 'alice' }).waitFor();
  assert.equal(await page.locator('#hg-signed-in').textContent(), 'Signed in as alice');
  assert.doesNotMatch(env.daemon.log(), /fresh-one/);
});

hgTest('"Start over" leaves a PAM step for the first one', {
  config: LONG,
  prepare: (d) => d.useHgtestService('mode=otp', 'code=424242'),
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  await page.click('#hg-submit');
  await page.getByLabel('One-time code').waitFor();
  await page.click('#hg-restart');
  assert.equal(await page.locator('#hg-step-credentials').isVisible(), true);
  assert.equal(await page.locator('#hg-restart').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'hg-password');
});

/* A kiosk's person follows a link to another site and one back: that
 * navigation is cross-site, so the SameSite=Strict cookie stays behind and
 * the server shows the sign-in page; the page finds the live session with
 * a request of its own and goes back to it. Signed out, it stays. */
hgTest('back from another site by a link, the session page again', { config: LONG }, async (env) => {
  const http = require('http');
  const other = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!DOCTYPE html><title>Catalogue</title><a id="back" href="' + env.daemon.url('/') + '">Back</a>');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const site = 'http://localhost:' + other.address().port + '/';
    const page = await env.newPage();
    await env.signIn(page);
    await page.goto(site);
    await page.click('#back');
    await page.locator('#hg-logout').waitFor();
    /* The name comes with the session's state, after the page shows. */
    await page.locator('#hg-signed-in strong').filter({ hasText: 'alice' }).waitFor();
    assert.equal(await page.locator('#hg-signed-in').textContent(), 'Signed in as alice');
    await env.ready(page);

    await page.click('#hg-logout');
    await page.locator('#hg-notice').waitFor();
    await page.goto(site);
    await page.click('#back');
    await page.locator('#hg-user').waitFor();
    /* Bounded "nothing happens": no session, so the sign-in page stays. */
    await holdsFor(async () => (await page.locator('#hg-user').count()) === 1, 1500, 'the sign-in page stays');
  } finally {
    other.close();
  }
});

/* The day's refusals (403 closed / allowance-used) in words. The daemon
 * and the browser both in UTC, so that the day and the time the page
 * names are known here: a browser elsewhere names them in its own zone. */
const DAY_NAMES = {
  en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
  de: ['Sonntag', 'Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag'],
};
const SCHEDULE_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const IN_TWO_DAYS = (new Date().getUTCDay() + 2) % 7;
const inUtc = (daemon) => { daemon.env.TZ = 'UTC'; };

async function submit(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/login'),
    page.click('#hg-submit'),
  ]);
  return response;
}

hgTest('a sign-in outside the opening hours says when the computer opens, in the page\'s language', {
  config: { Timeouts: { AllowedHours: SCHEDULE_DAYS[IN_TWO_DAYS] + ' 10:00-11:00' } },
  prepare: inUtc,
}, async (env) => {
  const ctx = await env.newContext(null, { locale: 'en-GB', timezoneId: 'UTC' });
  const page = await ctx.newPage();
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  const response = await submit(page);
  assert.equal(response.status(), 403);
  assert.equal((await response.json()).error, 'closed');
  const alert = page.locator('#hg-alert[role="alert"] p');
  await waitFor(async () => (await alert.count()) === 1, 5000, 'the refusal in the alert');
  assert.equal(await alert.textContent(),
    'This computer is closed. It opens on ' + DAY_NAMES.en[IN_TWO_DAYS] + ' at 10:00 AM.');
  assert.equal(await page.inputValue('#hg-password'), '', 'the password is not kept');
  assert.equal(await page.locator('#hg-signed-in').count(), 0);
  /* The alert follows the language, the time formatted again. */
  await page.click('#hg-langs button[lang="de"]');
  assert.equal(await alert.textContent(),
    'Dieser Computer ist geschlossen. Er öffnet am ' + DAY_NAMES.de[IN_TWO_DAYS] + ' um 10:00.');
  await env.axe(page, 'the sign-in page with a refusal');
  await ctx.close();
});

hgTest('no time left today: the sign-in says when it renews; no time in sight, no time said', {
  config: { Timeouts: { DailyAllowanceSec: '3', WarnAfterSec: '30', ExpireAfterSec: '60' } },
  prepare: inUtc,
}, async (env) => {
  const ctx = await env.newContext(null, { locale: 'en-GB', timezoneId: 'UTC' });
  const page = await ctx.newPage();
  await env.signIn(page);
  /* The allowance ends the session, and the page says why. */
  await page.locator('#hg-notice').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#hg-notice').textContent(),
    'You were signed out: your time for today is used up.');
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'secret');
  const response = await submit(page);
  assert.equal(response.status(), 403);
  const data = await response.json();
  assert.equal(data.error, 'allowance-used');
  assert.equal(data.renews_at % 86400, 0, 'renews at midnight UTC: ' + data.renews_at);
  const alert = page.locator('#hg-alert p');
  await waitFor(async () => (await alert.count()) === 1, 5000, 'the refusal in the alert');
  assert.equal(await alert.textContent(), 'Your time for today is used up. It renews tomorrow at 12:00 AM.');
  assert.equal(await page.locator('#hg-notice').isHidden(), true, 'the old notice gives way');

  /* renews_at null (nothing in sight): the first sentence alone. */
  await page.route('**/api/login', (route) => route.fulfill({
    status: 403, contentType: 'application/json',
    body: JSON.stringify({ error: 'allowance-used', reason: 'x', renews_at: null }),
  }));
  await page.fill('#hg-password', 'secret');
  await submit(page);
  await waitFor(async () => (await alert.textContent()) === 'Your time for today is used up.', 5000,
    'the refusal without a time');
  await ctx.close();
});
