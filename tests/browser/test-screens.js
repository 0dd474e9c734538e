'use strict';
/* Screenshots of the four screens a person sees (sign-in, session, the
 * warning, signed out) on a 1080p kiosk and on a phone, written to
 * <build>/screenshots/ for a person to look at; and what can be checked
 * without looking: nothing overflows sideways, the dialog and its buttons
 * fit the screen. */
const assert = require('assert/strict');
const fs = require('fs');
const path = require('path');
const { hgTest, waitFor, note } = require('./lib/harness');
const { BUILD_ROOT } = require('./lib/daemon');

const DIR = path.join(BUILD_ROOT, 'screenshots');
const SIZES = [[1920, 1080], [480, 800]];

/* No horizontal scrolling, and every element of selector inside the viewport. */
async function fits(page, what, selector) {
  const r = await page.evaluate((sel) => {
    const root = document.documentElement;
    const out = [];
    for (const n of sel ? document.querySelectorAll(sel) : []) {
      const b = n.getBoundingClientRect();
      if (b.left < 0 || b.top < 0 || b.right > innerWidth + 0.5 || b.bottom > innerHeight + 0.5) {
        out.push(n.className + ' ' + JSON.stringify([b.left, b.top, b.right, b.bottom]));
      }
    }
    return { scroll: root.scrollWidth, width: root.clientWidth, out };
  }, selector || null);
  assert.ok(r.scroll <= r.width, what + ': ' + r.scroll + ' px wide in a ' + r.width + ' px viewport');
  assert.deepEqual(r.out, [], what + ': outside the viewport');
}

async function shoot(page, name, selector) {
  const files = [];
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    /* Two frames: layout and paint at the new size. */
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await fits(page, name + ' at ' + width + 'x' + height, selector);
    const file = path.join(DIR, name + '-' + width + 'x' + height + '.png');
    await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    files.push(file);
  }
  /* Dark mode, at the kiosk's size. */
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: SIZES[0][0], height: SIZES[0][1] });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const dark = path.join(DIR, name + '-dark-' + SIZES[0][0] + 'x' + SIZES[0][1] + '.png');
  await page.screenshot({ path: dark, animations: 'disabled', caret: 'hide' });
  files.push(dark);
  await page.emulateMedia({ colorScheme: 'light' });
  return files;
}

hgTest('screenshots of the login, session, warning and signed-out screens', {
  /* The warning with about a minute left, as a person would see it. */
  config: { Timeouts: { WarnAfterSec: '6', ExpireAfterSec: '66', CloseAfterSec: '5' } },
}, async (env) => {
  fs.mkdirSync(DIR, { recursive: true });
  const page = await env.newPage();
  const files = [];

  await page.goto(env.daemon.url('/'));
  await page.locator('#hg-user').waitFor();
  files.push(...await shoot(page, 'login', '.hg-card'));

  await env.signIn(page);
  await page.locator('#hg-signed-in strong').waitFor();
  /* The pointer off the button: no hover colour in the picture. */
  await page.mouse.move(1, 1);
  files.push(...await shoot(page, 'session', '#hg-logout'));

  /* No input from here on: a moving mouse would answer the dialog. */
  await waitFor(() => env.dialogOpen(page), 10000, 'the warning dialog');
  files.push(...await shoot(page, 'warning', 'dialog.hg-dialog, .hg-dialog__button'));
  assert.equal(await env.dialogOpen(page), true, 'taking the pictures was not activity');

  /* Signed out with the keyboard: the login page and its notice. */
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
  files.push(...await shoot(page, 'signed-out', '.hg-card'));

  /* The longest notice: the one after an idle timeout (the address
   * client.js goes to, as after ExpireAfterSec=600). */
  await page.goto(env.daemon.url('/?ended=idle-timeout&after=600'));
  assert.equal(await page.locator('#hg-notice').textContent(),
    'You were signed out after 10 minutes without activity.');
  files.push(...await shoot(page, 'signed-out-idle', '.hg-card'));

  for (const f of files) {
    assert.ok(fs.statSync(f).size > 2000, f + ' is nearly empty');
    note('screenshot ' + f);
  }
});

hgTest('screenshots of the limit\'s warning with "More time"', {
  /* About a minute before the absolute limit, two extensions left. */
  config: {
    'Policy timed': {
      MatchSource: 'web', WarnAfterSec: '300', ExpireAfterSec: '600', CloseAfterSec: '10',
      MaxSessionSec: '70', WarnBeforeSec: '66', ExtendBySec: '600', MaxExtensions: '2',
    },
  },
}, async (env) => {
  fs.mkdirSync(DIR, { recursive: true });
  const page = await env.newPage();
  await env.signIn(page);
  await page.mouse.move(1, 1);
  await waitFor(() => env.dialogOpen(page), 10000, 'the limit warning');
  assert.equal(await page.locator('.hg-dialog__button--primary').textContent(), 'More time');
  const files = await shoot(page, 'warning-limit', 'dialog.hg-dialog, .hg-dialog__button:not([hidden])');
  for (const f of files) {
    assert.ok(fs.statSync(f).size > 2000, f + ' is nearly empty');
    note('screenshot ' + f);
  }
});
