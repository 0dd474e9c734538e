'use strict';
/* The warning dialog: when it comes, what it counts, how it is answered,
 * and that it is an accessible modal. */
const assert = require('assert/strict');
const { hgTest, waitFor, sleep, note } = require('./lib/harness');

/* Warned 2 s after the last activity, ended 12 s after it. */
const LONG_WARNING = { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '12', CloseAfterSec: '3' } };

async function waitDialog(env, page, timeoutMs = 6000) {
  await waitFor(() => env.dialogOpen(page), timeoutMs, 'the warning dialog');
  return Date.now();
}

async function waitNoDialog(env, page, timeoutMs = 2000) {
  await waitFor(async () => !(await env.dialogOpen(page)), timeoutMs, 'the warning dialog to close');
  return Date.now();
}

function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    return a ? (a.closest('dialog') ? 'dialog:' : 'page:') + a.textContent : null;
  });
}

hgTest('the warning comes at WarnAfterSec and counts down the server\'s expire_in_sec', {
  config: LONG_WARNING,
}, async (env) => {
  const page = await env.newPage();
  const signedIn = await env.signIn(page);
  const shown = await waitDialog(env, page);
  const after = (shown - signedIn) / 1000;
  assert.ok(after >= 1.5 && after <= 3.5, 'warning ' + after + ' s after sign-in, WarnAfterSec=2');

  /* An accessible modal: alertdialog, modal, labelled, described, focus on
   * the primary button. */
  const d = env.dialog(page);
  assert.equal(await d.getAttribute('role'), 'alertdialog');
  assert.equal(await d.getAttribute('aria-modal'), 'true');
  const title = await page.locator('#' + await d.getAttribute('aria-labelledby')).textContent();
  const text = await page.locator('#' + await d.getAttribute('aria-describedby')).textContent();
  assert.equal(title, 'Are you still there?');
  assert.match(text, /signed out/);
  assert.equal(await focused(page), 'dialog:Stay signed in');
  assert.equal(await page.getByRole('alertdialog', { name: 'Are you still there?' }).count(), 1);

  /* The countdown is the server's, within a second, for several seconds. */
  for (let i = 0; i < 4; i++) {
    const shownSec = Number(await page.locator('.hg-dialog__clock').getAttribute('data-seconds'));
    const server = await env.serverState(page);
    assert.equal(server.data.state, 'warning');
    assert.ok(Math.abs(shownSec - server.data.expire_in_sec) <= 1,
      'dialog shows ' + shownSec + ' s, the server says ' + server.data.expire_in_sec + ' s');
    assert.match(await page.locator('.hg-dialog__clock').textContent(), /^0:\d\d$/);
    await sleep(700);
  }
  await env.axe(page, 'the open warning dialog');
});

hgTest('"Stay signed in" keeps the session', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  await page.click('text=Stay signed in');
  await waitNoDialog(env, page, 1000);
  const server = await env.serverState(page);
  assert.equal(server.data.state, 'active');
  assert.ok(server.data.idle_sec <= 1);
  /* ... and it comes back after another WarnAfterSec without activity. */
  await waitDialog(env, page, 4000);
});

hgTest('moving the mouse while the warning is shown keeps the session', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  /* Left alone, it stays: opening it is no movement. */
  await sleep(1200);
  assert.equal(await env.dialogOpen(page), true, 'the dialog stays without input');
  const before = (await env.serverState(page)).data;
  assert.equal(before.state, 'warning');
  assert.ok(before.expire_in_sec <= 12 - 2, 'expire_in_sec ' + before.expire_in_sec);

  /* A few plain moves over the dialog (no button pressed). */
  const t0 = Date.now();
  for (let i = 0; i < 4; i++) await page.mouse.move(300 + i * 40, 250 + i * 15);
  const gone = await waitNoDialog(env, page, 1000);
  note('dialog gone ' + (gone - t0) + ' ms after the mouse moved');
  const after = (await env.serverState(page)).data;
  assert.equal(after.state, 'active');
  assert.ok(after.idle_sec <= 1, 'idle_sec ' + after.idle_sec);
  /* Expiry pushed back to ExpireAfterSec from now. */
  assert.ok(after.expire_in_sec >= 12 - 1, 'expire_in_sec ' + after.expire_in_sec + ', ExpireAfterSec=12');
  assert.equal(env.count('/api/ping', t0) >= 1, true, 'a ping was sent');

  /* The page's own "Sign out" still signs out (the mouse is there). */
  await waitDialog(env, page, 4000);
  await page.mouse.move(10, 10);
  await waitNoDialog(env, page, 1000);
  await page.click('#hg-logout');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
});

hgTest('Escape and Enter answer the dialog; Tab stays inside it', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);

  /* The focus trap: Tab and Shift+Tab go round the two buttons, and
   * moving around is not activity (the dialog stays). */
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await sleep(1200);
  assert.equal(await env.dialogOpen(page), true, 'Tab is not activity');
  assert.equal((await env.serverState(page)).data.state, 'warning');

  /* Escape means "stay". */
  await page.keyboard.press('Escape');
  await waitNoDialog(env, page, 1000);
  assert.equal((await env.serverState(page)).data.state, 'active');

  /* Enter presses the focused primary button. */
  await waitDialog(env, page, 4000);
  assert.equal(await focused(page), 'dialog:Stay signed in');
  await page.keyboard.press('Enter');
  await waitNoDialog(env, page, 1000);
  assert.equal((await env.serverState(page)).data.state, 'active');
  /* The focus went back where it was. */
  assert.notEqual(await focused(page), 'dialog:Stay signed in');
});

hgTest('keyboard only: the dialog\'s "Sign out" is reached with Tab and pressed with Enter', { config: LONG_WARNING }, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  await waitDialog(env, page);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'dialog:Sign out');
  /* Reaching it took no activity: the dialog is still up. */
  await sleep(300);
  assert.equal(await env.dialogOpen(page), true);
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
  /* Opened with 13 s left: said once on opening, then at 10 s. */
  await waitFor(() => page.evaluate(() => window.__announced.some((t) => t.startsWith('10 seconds'))),
    8000, 'the 10 s announcement');
  await sleep(3000);
  const announced = await page.evaluate(() => window.__announced);
  assert.ok(announced.length >= 1 && announced.length <= 3, 'announced: ' + JSON.stringify(announced));
  for (const text of announced) assert.match(text, /^\d+ seconds? left before you are signed out\.$/);
});

hgTest('activity before the warning keeps it away; no activity, no ping', {
  config: { Timeouts: { WarnAfterSec: '3', ExpireAfterSec: '12', CloseAfterSec: '3' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  /* Busy for 5 s: moving the pointer now and then. */
  const start = Date.now();
  for (let i = 0; Date.now() - start < 5000; i++) {
    await page.mouse.move(100 + (i % 2) * 50, 200);
    await sleep(400);
    assert.equal(await env.dialogOpen(page), false, 'no warning while busy');
  }
  const pings = env.count('/api/ping', start);
  assert.ok(pings >= 1, 'activity was reported');
  /* Idle: no more pings, and the warning comes. */
  await sleep(1500);
  const idleSince = Date.now();
  await waitDialog(env, page, 5000);
  assert.equal(env.count('/api/ping', idleSince), 0, 'no ping without activity');
});
