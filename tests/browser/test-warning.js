'use strict';
/* The warning dialog: when it comes, what it counts, how it is answered,
 * and that it is an accessible modal. What the server says after an
 * answer is read from the answer itself (the ping), not from a later
 * request that the next warning (WarnAfterSec after it) could overtake. */
const assert = require('assert/strict');
const { hgTest, waitFor, holdsFor, note } = require('./lib/harness');

/* Warned 2 s after the last activity, ended 12 s after it. */
const LONG_WARNING = { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '12', CloseAfterSec: '3' } };
/* Deadlines: what a loaded machine or an ASan build needs, with room. */
const WARN_WAIT_MS = 10000;
const CLOSE_WAIT_MS = 5000;

async function waitDialog(env, page, timeoutMs = WARN_WAIT_MS) {
  await waitFor(() => env.dialogOpen(page), timeoutMs, 'the warning dialog');
  return Date.now();
}

async function waitNoDialog(env, page, timeoutMs = CLOSE_WAIT_MS) {
  await waitFor(async () => !(await env.dialogOpen(page)), timeoutMs, 'the warning dialog to close');
  return Date.now();
}

function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    return a ? (a.closest('dialog') ? 'dialog:' : 'page:') + a.textContent : null;
  });
}

/* Records, the moment the dialog closes (a mutation of its "open"), whether
 * the focus is still inside it: window.__focusAtClose. */
async function recordFocusAtClose(page) {
  await page.evaluate(() => {
    window.__focusAtClose = [];
    new MutationObserver((list) => {
      for (const m of list) {
        if (m.target.matches('dialog.hg-dialog') && !m.target.open) {
          window.__focusAtClose.push(m.target.contains(document.activeElement) ? 'inside' : 'outside');
        }
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['open'] });
  });
}

function clockSeconds(page) {
  return page.locator('.hg-dialog__clock').getAttribute('data-seconds').then(Number);
}

hgTest('the warning comes at WarnAfterSec and counts down the server\'s expire_in_sec', {
  config: LONG_WARNING,
}, async (env) => {
  const page = await env.newPage();
  const signIn = await env.signIn(page);
  const shown = await waitDialog(env, page);
  /* The session starts after the click (so the warning cannot come sooner
   * than 2 s after it); how late it is seen depends on the machine. */
  const after = shown - signIn.requested;
  note('warning seen ' + after + ' ms after the sign-in click (WarnAfterSec=2)');
  assert.ok(after >= 2000 - 50, 'warning ' + after + ' ms after the sign-in click, WarnAfterSec=2');
  assert.ok(after <= 2000 + 6000, 'warning ' + after + ' ms after the sign-in click, WarnAfterSec=2');

  /* An accessible modal: alertdialog, modal, labelled, described, focus on
   * the primary button. */
  const d = env.dialog(page);
  assert.equal(await d.getAttribute('role'), 'alertdialog');
  assert.equal(await d.getAttribute('aria-modal'), 'true');
  const title = await page.locator('#' + await d.getAttribute('aria-labelledby')).textContent();
  /* Described by the text and the note under it (empty here). */
  const described = (await d.getAttribute('aria-describedby')).split(' ');
  const text = (await Promise.all(described.map((id) => page.locator('#' + id).textContent()))).join(' ');
  assert.equal(title, 'Are you still there?');
  assert.match(text, /signed out/);
  assert.equal(await focused(page), 'dialog:Stay signed in');
  assert.equal(await page.getByRole('alertdialog', { name: 'Are you still there?' }).count(), 1);

  /* The countdown is the server's, within a second, at four of its steps.
   * The server is asked between two looks at the clock: its figure lies
   * between them, give or take the rounding of each side. */
  for (let i = 0; i < 4; i++) {
    const before = await clockSeconds(page);
    const server = await env.serverState(page);
    const afterwards = await clockSeconds(page);
    assert.equal(server.data.state, 'warning');
    assert.ok(server.data.expire_in_sec <= before + 1 && server.data.expire_in_sec >= afterwards - 1,
      'the dialog showed ' + before + ' s and then ' + afterwards + ' s, the server said ' +
      server.data.expire_in_sec + ' s in between');
    assert.match(await page.locator('.hg-dialog__clock').textContent(), /^0:\d\d$/);
    await waitFor(async () => (await clockSeconds(page)) < afterwards, 3000, 'the countdown to go on');
  }
  await env.axe(page, 'the open warning dialog');
});

hgTest('"Stay signed in" keeps the session', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  const pinged = env.nextPing(page);
  await page.click('text=Stay signed in');
  const server = await pinged;
  assert.equal(server.state, 'active');
  assert.ok(server.idle_sec <= 1, 'idle_sec ' + server.idle_sec);
  const closed = await waitNoDialog(env, page);
  /* ... and it comes back after another WarnAfterSec without activity. */
  const back = await waitDialog(env, page);
  note('the warning came back ' + (back - closed) + ' ms after the dialog closed (WarnAfterSec=2)');
});

hgTest('moving the mouse while the warning is shown keeps the session', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  /* Left alone, it stays: opening it is no movement. */
  const still = Date.now();
  await holdsFor(async () => (await env.dialogOpen(page)) && env.count('/api/ping', still) === 0, 1200,
    'the dialog stays without input, and nothing is reported');
  const before = (await env.serverState(page)).data;
  assert.equal(before.state, 'warning');
  assert.ok(before.expire_in_sec <= 12 - 2, 'expire_in_sec ' + before.expire_in_sec);

  /* A few plain moves over the dialog (no button pressed). */
  const t0 = Date.now();
  const pinged = env.nextPing(page);
  for (let i = 0; i < 4; i++) await page.mouse.move(300 + i * 40, 250 + i * 15);
  const after = await pinged;
  const gone = await waitNoDialog(env, page);
  note('dialog gone ' + (gone - t0) + ' ms after the mouse moved');
  assert.equal(after.state, 'active');
  assert.ok(after.idle_sec <= 1, 'idle_sec ' + after.idle_sec);
  /* Expiry pushed back to ExpireAfterSec from now. */
  assert.ok(after.expire_in_sec >= 12 - 1, 'expire_in_sec ' + after.expire_in_sec + ', ExpireAfterSec=12');
  assert.equal(env.count('/api/ping', t0) >= 1, true, 'a ping was sent');

  /* The page's own "Sign out" still signs out (the mouse is there). */
  await waitDialog(env, page);
  await page.mouse.move(10, 10);
  await waitNoDialog(env, page);
  await page.click('#hg-logout');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
});

hgTest('Escape and Enter answer the dialog; Tab stays inside it; the focus leaves it', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await recordFocusAtClose(page);
  await waitDialog(env, page);

  /* The focus trap: Tab and Shift+Tab go round the two buttons, and
   * moving around is not activity (the dialog stays, no ping). */
  const trapped = Date.now();
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await holdsFor(async () => (await env.dialogOpen(page)) && env.count('/api/ping', trapped) === 0, 1200,
    'Tab is not activity: the dialog stays and nothing is reported');
  assert.equal((await env.serverState(page)).data.state, 'warning');

  /* Escape means "stay". */
  let pinged = env.nextPing(page);
  await page.keyboard.press('Escape');
  assert.equal((await pinged).state, 'active');
  await waitNoDialog(env, page);

  /* Enter presses the focused primary button. */
  await waitDialog(env, page);
  assert.equal(await focused(page), 'dialog:Stay signed in');
  pinged = env.nextPing(page);
  await page.keyboard.press('Enter');
  assert.equal((await pinged).state, 'active');
  await waitNoDialog(env, page);
  /* The focus went back where it was (nowhere: the page), and it did so
   * as the dialog closed, both times. */
  assert.deepEqual(await page.evaluate(() => window.__focusAtClose), ['outside', 'outside']);
  assert.notEqual(await focused(page), 'dialog:Stay signed in');
});

hgTest('keyboard only: the dialog\'s "Sign out" is reached with Tab and pressed with Enter', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  await waitDialog(env, page);
  const tabbed = Date.now();
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  /* Reaching it took no activity: the dialog is still up, nothing reported. */
  await holdsFor(async () => (await env.dialogOpen(page)) && env.count('/api/ping', tabbed) === 0, 500,
    'Tab is not activity');
  await page.keyboard.press('Enter');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
  assert.equal((await env.daemon.request('GET', '/api/session', { cookie })).data.reason, 'logout');
});

hgTest('the countdown is announced politely at a few marks, not every second', {
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '15', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  const live = page.locator('.hg-dialog__live');
  assert.equal(await live.getAttribute('aria-live'), 'polite');
  await page.evaluate(() => {
    window.__announced = [];
    const node = document.querySelector('.hg-dialog__live');
    new MutationObserver(() => {
      if (node.textContent) window.__announced.push(node.textContent);
    }).observe(node, { childList: true, characterData: true, subtree: true });
  });
  const announced = () => page.evaluate(() => window.__announced);
  /* Opened with 13 s left: said once on opening, then at 10 s. */
  await waitFor(async () => (await announced()).some((t) => t.startsWith('10 seconds')),
    WARN_WAIT_MS, 'the 10 s announcement');
  /* Then nothing more for the next three seconds (every second would be
   * three more). */
  await holdsFor(async () => (await announced()).length <= 3, 3000, 'at most three announcements');
  const said = await announced();
  assert.ok(said.length >= 1 && said.length <= 3, 'announced: ' + JSON.stringify(said));
  for (const text of said) assert.match(text, /^\d+ seconds? left before you are signed out\.$/);
});

hgTest('activity before the warning keeps it away; no activity, no ping', {
  config: { Timeouts: { WarnAfterSec: '3', ExpireAfterSec: '12', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  /* Busy for 5 s: moving the pointer now and then, no warning between. */
  const start = Date.now();
  for (let i = 0; Date.now() - start < 5000; i++) {
    await page.mouse.move(100 + (i % 2) * 50, 200);
    await holdsFor(async () => !(await env.dialogOpen(page)), 400, 'no warning while busy');
  }
  const pings = env.count('/api/ping', start);
  assert.ok(pings >= 1, 'activity was reported');
  /* Idle: the warning comes, and until then at most the one ping that
   * reports the last move (a ping without activity would be one more:
   * never two within PING_GAP, and the warning is 3 s away). */
  const idleSince = Date.now();
  await waitDialog(env, page);
  const late = env.count('/api/ping', idleSince);
  note('pings after the last move, until the warning: ' + late);
  assert.ok(late <= 1, late + ' pings without activity');
});

/* The day's ends: the session page shows the one that comes first; their
 * warnings say what ends the session, and offer no "More time" even
 * where extensions are left (nothing moves those ends). The browser in
 * UTC; the page in English (Intl's "en"): "1 hr 30 min", "8:00 PM". */
const EXTENSIONS = { MaxSessionSec: '600', ExtendBySec: '60', MaxExtensions: '2' };
const SCHEDULE_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

async function dayPage(env) {
  const ctx = await env.newContext(null, { locale: 'en-GB', timezoneId: 'UTC' });
  return { ctx, page: await ctx.newPage() };
}

async function assertNoMoreTime(env, page) {
  const shown = await env.dialog(page).locator('.hg-dialog__button:visible').allTextContents();
  assert.deepEqual(shown, ['OK', 'Sign out']);
}

hgTest('under DailyAllowanceSec the session page shows the time left today', {
  config: { Timeouts: Object.assign({ DailyAllowanceSec: '5400', WarnAfterSec: '60', ExpireAfterSec: '120' }, EXTENSIONS) },
}, async (env) => {
  const { ctx, page } = await dayPage(env);
  await env.signIn(page);
  const day = page.locator('#hg-day-limit');
  await waitFor(() => day.isVisible(), 5000, 'the time left today');
  /* Hours and minutes, never "90 minutes" (Intl's short units). */
  assert.match(await day.textContent(), /^Time left today: 1 hr 30 mins?$/);
  assert.equal(await day.getAttribute('data-limit'), 'allowance');
  await page.evaluate(() => window.hourglassI18n.setLanguage('de'));
  assert.match(await day.textContent(), /^Verbleibende Zeit heute: 1 Std\. 30 Min\.$/);
  await env.axe(page, 'the session page with the time left today');
  await ctx.close();
});

hgTest('the allowance\'s warning says the day\'s time runs out, with no "More time"', {
  config: { Timeouts: Object.assign({ DailyAllowanceSec: '14', WarnBeforeSec: '10', WarnAfterSec: '60', ExpireAfterSec: '120' }, EXTENSIONS) },
}, async (env) => {
  const { ctx, page } = await dayPage(env);
  await env.signIn(page);
  assert.match(await page.locator('#hg-day-limit').textContent(), /^Time left today: \d{1,2} secs?$/);
  await waitDialog(env, page);
  assert.equal(await env.dialog(page).getAttribute('data-warning'), 'allowance');
  assert.equal(await page.locator('#hg-dialog-title').textContent(), 'Your time for today is almost used up');
  assert.match(await page.locator('#hg-dialog-text').textContent(), /when your time for today runs out\. More time cannot be given\.$/);
  await assertNoMoreTime(env, page);
  await page.locator('#hg-notice').waitFor({ timeout: 20000 });
  assert.equal(await page.locator('#hg-notice').textContent(), 'You were signed out: your time for today is used up.');
  await ctx.close();
});

/* A closing time 25 s away: the daemon's zone (TZ) is offset by seconds
 * so that its local minute ends then, and the schedule opens for that
 * minute only (as tests/integration/test_allowance.py does). */
function closingSoon(seconds) {
  const now = Date.now() / 1000;
  const offset = Math.floor(((60 - seconds - now) % 60 + 60) % 60);
  const local = new Date((now + offset) * 1000);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const hhmm = (m) => String(Math.floor(m / 60)).padStart(2, '0') + ':' + String(m % 60).padStart(2, '0');
  return {
    tz: 'HGT-0:00:' + String(offset).padStart(2, '0'),
    hours: SCHEDULE_DAYS[local.getUTCDay()] + ' ' + hhmm(minute) + '-' + hhmm(minute + 1),
  };
}

hgTest('closing time: the session page says when, the warning says the computer closes, with no "More time"', {
  config: { Timeouts: Object.assign({ WarnBeforeSec: '10', WarnAfterSec: '60', ExpireAfterSec: '120' }, EXTENSIONS) },
  /* Just before the daemon starts: the minute must not be over by then. */
  prepare: (daemon) => {
    const closing = closingSoon(25);
    daemon.config.Timeouts.AllowedHours = closing.hours;
    daemon.env.TZ = closing.tz;
  },
  timeout: 120000,
}, async (env) => {
  const { ctx, page } = await dayPage(env);
  await env.signIn(page);
  const day = page.locator('#hg-day-limit');
  await waitFor(() => day.isVisible(), 5000, 'the closing time');
  assert.match(await day.textContent(), /^This computer closes at \d{1,2}:\d{2}( [AP]M)?$/);
  assert.equal(await day.getAttribute('data-limit'), 'closing-time');
  const state = await page.evaluate(() => window.hourglass.state);
  assert.equal(state.limit_reason, 'closing-time');
  assert.ok(state.extensions_left > 0, 'extensions are left: ' + state.extensions_left);
  await waitDialog(env, page, 30000);
  assert.equal(await env.dialog(page).getAttribute('data-warning'), 'closing-time');
  assert.equal(await page.locator('#hg-dialog-title').textContent(), 'This computer closes soon');
  assert.equal(await page.locator('#hg-dialog-text').textContent(),
    'Save your work: you will be signed out at closing time. More time cannot be given.');
  await assertNoMoreTime(env, page);
  await env.axe(page, 'the closing-time warning');
  await page.locator('#hg-notice').waitFor({ timeout: 20000 });
  assert.equal(await page.locator('#hg-notice').textContent(), 'You were signed out: this computer has closed.');
  await ctx.close();
});
