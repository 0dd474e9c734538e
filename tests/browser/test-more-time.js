'use strict';
/* The warning dialog before the absolute limit ([Policy NAME] with
 * MaxSessionSec, WarnBeforeSec, ExtendBySec, MaxExtensions): "More time"
 * only in a limit warning with extensions left; each grant moves the
 * limit and is one extension less; an open dialog follows what the
 * server pushes (someone waiting, set over D-Bus; more time granted
 * elsewhere); a refusal says why (someone waiting; all used); a later
 * lead time shows the dialog again, or announces it when it is open; an
 * idle warning never offers more time.
 * What the server says is read from its answers, not from the page. */
const assert = require('assert/strict');
const { hgTest, waitFor, holdsFor } = require('./lib/harness');

/* Deadlines: what a loaded machine or an ASan build needs, with room. */
const WARN_WAIT_MS = 15000;

/* Idle warnings far away: only the limit speaks. */
function limitPolicy(keys) {
  return {
    'Policy timed': Object.assign({
      MatchSource: 'web', WarnAfterSec: '300', ExpireAfterSec: '600', CloseAfterSec: '10',
    }, keys),
  };
}

/* The limit 19 s after sign-in, warned of at 16 s and at 4 s before it. */
const TWO_EXTENSIONS = limitPolicy({
  MaxSessionSec: '19', WarnBeforeSec: '16;4', ExtendBySec: '3', MaxExtensions: '2',
});

const TEXT = {
  title: 'Your time is almost up',
  cannot: 'Your session has reached its time limit and cannot be extended. Save your work: you will be signed out when the time runs out.',
  waiting: 'Someone is waiting for this computer, so more time is not possible.',
  usedUp: 'You have used all your extensions.',
  network: 'Could not reach the sign-in service. Please try again.',
};

async function waitDialog(env, page) {
  await waitFor(() => env.dialogOpen(page), WARN_WAIT_MS, 'the warning dialog');
}

/* What the dialog shows and where the focus is. */
function dialog(page) {
  return page.evaluate(() => {
    const d = document.querySelector('dialog.hg-dialog');
    const more = d.querySelector('.hg-dialog__button');
    const a = document.activeElement;
    return {
      open: d.open,
      warning: d.getAttribute('data-warning'),
      title: d.querySelector('.hg-dialog__title').textContent,
      text: d.querySelector('.hg-dialog__text').textContent,
      note: d.querySelector('.hg-dialog__note').textContent,
      more: !more.hidden && more.getBoundingClientRect().height > 0,
      focus: a && d.contains(a) ? a.textContent : null,
      seconds: Number(d.querySelector('.hg-dialog__clock').getAttribute('data-seconds')),
      live: d.querySelector('.hg-dialog__live').textContent,
    };
  });
}

function clientState(page) {
  return page.evaluate(() => window.hourglass.state);
}

/* Clicks "More time" and returns the server's answer {status, data}. */
async function askMoreTime(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/more-time', { timeout: 10000 }),
    page.click('.hg-dialog__button >> text=More time'),
  ]);
  return { status: response.status(), data: await response.json() };
}

/* Records every opening and closing of the dialog with the warning
 * level then (window.__dialogLog), and what the live region says
 * (window.__announced). */
async function recordDialog(page) {
  await page.evaluate(() => {
    window.__dialogLog = [];
    window.__announced = [];
    new MutationObserver((list) => {
      for (const m of list) {
        const t = m.target;
        if (m.type === 'attributes' && t.matches('dialog.hg-dialog')) {
          window.__dialogLog.push((t.open ? 'open:' : 'close:') + window.hourglass.state.warn_level);
        } else if (m.type === 'childList' && t.matches('.hg-dialog__live') && t.textContent) {
          window.__announced.push(t.textContent);
        }
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['open'] });
  });
}

hgTest('"More time" in a limit warning: each grant moves the limit, the last one takes the button away', {
  config: TWO_EXTENSIONS, timeout: 120000,
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  await recordDialog(page);
  let d = await dialog(page);
  assert.equal(d.warning, 'limit');
  assert.equal(d.title, TEXT.title);
  assert.equal(d.text, 'This session has a time limit. You can ask for 3 seconds more, or save your work: you will be signed out when the time runs out.');
  assert.equal(d.note, 'Extensions left: 2.');
  assert.ok(d.more, 'the button is there');
  assert.equal(d.focus, 'More time', 'the focus is on "More time"');
  const s = await clientState(page);
  assert.deepEqual([s.state, s.warning, s.warn_level, s.extensions_left, s.extend_by_sec, s.waiting],
    ['warning', 'limit', 1, 2, 3, false]);
  await env.axe(page, 'the limit warning with "More time"');

  /* Late enough that 3 s more keep it within the first lead time (16 s):
   * the dialog stays, with the new time. */
  await waitFor(async () => (await dialog(page)).seconds <= 9, WARN_WAIT_MS, 'the countdown to reach 9 s');
  for (const left of [1, 0]) {
    const before = (await env.serverState(page)).data.limit_in_sec;
    const r = await askMoreTime(page);
    assert.equal(r.status, 200, JSON.stringify(r.data));
    assert.equal(r.data.extensions_left, left);
    assert.equal(r.data.warning, 'limit');
    assert.equal(r.data.warn_level, 1);
    assert.ok(r.data.limit_in_sec >= before + 2 && r.data.limit_in_sec <= before + 3,
      'the limit moved from ' + before + ' s to ' + r.data.limit_in_sec + ' s away (ExtendBySec=3)');
    d = await dialog(page);
    assert.ok(d.open, 'the dialog stays open');
    assert.ok(d.seconds >= r.data.expire_in_sec - 1 && d.seconds <= r.data.expire_in_sec,
      'the dialog counts ' + d.seconds + ' s, the server said ' + r.data.expire_in_sec + ' s');
    assert.equal((await clientState(page)).extensions_left, left);
    if (left > 0) {
      assert.equal(d.note, 'Time added: 3 seconds. Extensions left: 1.');
      assert.ok(d.more);
      assert.equal(d.focus, 'More time');
    } else {
      /* Used up: no button, the focus on "OK", and it says so. */
      assert.equal(d.note, 'Time added: 3 seconds.');
      assert.equal(d.more, false, 'no "More time" once all are used');
      assert.equal(d.focus, 'OK');
      assert.equal(d.text, TEXT.cannot);
    }
    await waitFor(async () => (await page.evaluate(() => window.__announced)).includes(d.note), 5000,
      'the answer announced: ' + d.note);
  }
  await env.axe(page, 'the limit warning after the last extension');

  /* The second lead time (4 s) while the dialog is open: announced anew,
   * without closing it. */
  await page.evaluate(() => { window.__announced = []; });
  await waitFor(async () => (await clientState(page)).warn_level === 2, WARN_WAIT_MS, 'the second lead time');
  await waitFor(async () => (await page.evaluate(() => window.__announced))
    .some((t) => /^Your time is almost up\. \d seconds? left before you are signed out\.$/.test(t)),
  5000, 'the second lead time announced');
  assert.deepEqual(await page.evaluate(() => window.__dialogLog), [], 'the dialog stayed open throughout');
  assert.equal((await dialog(page)).focus, 'OK');
});

hgTest('a second lead time shows the dialog again after "OK"; no extensions, no button', {
  config: limitPolicy({ MaxSessionSec: '12', WarnBeforeSec: '9;4' }),
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await recordDialog(page);
  await waitDialog(env, page);
  let d = await dialog(page);
  assert.deepEqual([d.warning, d.title, d.text, d.note, d.more, d.focus],
    ['limit', TEXT.title, TEXT.cannot, '', false, 'OK']);
  assert.equal((await clientState(page)).extensions_left, 0);
  await page.keyboard.press('Enter');
  await waitFor(async () => !(await env.dialogOpen(page)), 5000, 'the dialog to close on "OK"');
  assert.equal((await dialog(page)).focus, null, 'the focus left the dialog');

  await waitDialog(env, page);
  assert.deepEqual(await page.evaluate(() => window.__dialogLog), ['open:1', 'close:1', 'open:2'],
    'opened at the first lead time, closed, opened again at the second');
  d = await dialog(page);
  assert.equal(d.focus, 'OK');
  assert.equal(d.more, false);
  /* Announced as on any opening. */
  await waitFor(async () => /^\d seconds? left before you are signed out\.$/.test((await dialog(page)).live),
    5000, 'the reopened dialog announced');
  await page.locator('#hg-notice').waitFor({ timeout: WARN_WAIT_MS });
  assert.equal(await page.locator('#hg-notice').textContent(), 'You were signed out: the session time limit was reached.');
});

/* Holds the page's next POST /api/more-time until change() (someone
 * starting to wait, the last extension taken elsewhere) has been done at
 * the server, then lets it go: the person pressed the button just as the
 * change came. The change is complete when change() returns (a D-Bus reply,
 * an HTTP answer), so the server judges the request after it, whatever the
 * page hears first: its own 409, or the pushed state (which, while the
 * request runs, takes the button away and says nothing; the answer is said
 * after). Deterministic without sleeps. */
async function raceMoreTime(page, change) {
  await page.route('**/api/more-time', async (route) => {
    await change();
    await route.continue();
  }, { times: 1 });
  return askMoreTime(page);
}

hgTest('someone starts waiting: an open dialog drops the button and says why at once; a request racing it is refused', {
  config: TWO_EXTENSIONS, bus: true,
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  await recordDialog(page);
  let d = await dialog(page);
  assert.deepEqual([d.more, d.focus], [true, 'More time'], 'offered before anyone waits');

  /* Told by the server (its event stream), no click. */
  await env.bus.call('SetWaiting', 'boolean:true');
  await waitFor(async () => (await dialog(page)).note === TEXT.waiting, 5000, 'the waiting note without a click');
  d = await dialog(page);
  assert.equal(d.more, false, 'no button that could only fail');
  assert.equal(d.focus, 'OK', 'the focus went to "OK" with the button');
  assert.equal(d.text, TEXT.cannot);
  assert.equal((await clientState(page)).waiting, true);
  await waitFor(async () => (await page.evaluate(() => window.__announced)).includes(TEXT.waiting), 5000,
    'the waiting note announced');

  /* No one waits any more: the button is back. */
  await env.bus.call('SetWaiting', 'boolean:false');
  await waitFor(async () => (await dialog(page)).more, 5000, 'the button back');
  assert.equal((await dialog(page)).note, 'Extensions left: 2.');

  /* Pressed as someone starts waiting: the server's refusal, said. */
  await page.evaluate(() => { window.__announced = []; });
  const r = await raceMoreTime(page, () => env.bus.call('SetWaiting', 'boolean:true'));
  assert.equal(r.status, 409);
  assert.deepEqual(r.data, { error: 'more-time-refused', reason: 'waiting' });
  d = await dialog(page);
  assert.deepEqual([d.note, d.more, d.focus], [TEXT.waiting, false, 'OK']);
  await waitFor(async () => (await page.evaluate(() => window.__announced)).includes(TEXT.waiting), 5000,
    'the refusal announced');
  assert.equal((await clientState(page)).waiting, true);
  assert.deepEqual(await page.evaluate(() => window.__dialogLog), [], 'the dialog stayed open throughout');

  /* Another person's session, warned while someone waits: no button, why
   * up front, in the dialog's description. */
  const other = await env.newContext();
  const next = await other.newPage();
  await env.signIn(next);
  await waitDialog(env, next);
  d = await dialog(next);
  assert.deepEqual([d.warning, d.note, d.more, d.focus], ['limit', TEXT.waiting, false, 'OK']);
  const s = await clientState(next);
  assert.deepEqual([s.extensions_left, s.waiting], [2, true]);
  const described = (await env.dialog(next).getAttribute('aria-describedby')).split(' ');
  assert.ok(described.includes('hg-dialog-note'), 'the note describes the dialog');
  await env.axe(next, 'the limit warning while someone is waiting');
  await other.close();
});

hgTest('more time granted elsewhere: the page counts to the new limit; a network failure is not a refusal; a request racing the last grant is refused', {
  config: TWO_EXTENSIONS,
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  await waitDialog(env, page);
  await recordDialog(page);
  assert.equal((await dialog(page)).note, 'Extensions left: 2.');

  /* Granted outside the page, late enough that 3 s more keep it within
   * the first lead time (16 s): no new warning level, only the push. */
  await waitFor(async () => (await dialog(page)).seconds <= 9, WARN_WAIT_MS, 'the countdown to reach 9 s');
  const outside = await env.daemon.request('POST', '/api/more-time', { body: {}, cookie });
  assert.equal(outside.status, 200, outside.text);
  assert.equal(outside.data.extensions_left, 1);
  assert.equal(outside.data.warn_level, 1);
  await waitFor(async () => (await clientState(page)).extensions_left === 1, 5000, 'the page told of the grant');
  let d = await dialog(page);
  assert.ok(d.seconds >= outside.data.expire_in_sec - 2 && d.seconds <= outside.data.expire_in_sec,
    'the dialog counts ' + d.seconds + ' s, the server said ' + outside.data.expire_in_sec + ' s');
  assert.deepEqual([d.note, d.more], ['Extensions left: 1.', true]);
  await waitFor(async () => (await page.evaluate(() => window.__announced)).includes('Extensions left: 1.'), 5000,
    'the new count announced');

  /* The server out of reach: said, and the button stays to try again. */
  await page.route('**/api/more-time', (route) => route.abort());
  await page.click('.hg-dialog__button >> text=More time');
  await waitFor(async () => (await dialog(page)).note === TEXT.network, 5000, 'the network failure said');
  d = await dialog(page);
  assert.deepEqual([d.more, d.focus], [true, 'More time']);
  await page.unroute('**/api/more-time');

  /* Pressed as the last extension is taken elsewhere. */
  const r = await raceMoreTime(page, async () => {
    const last = await env.daemon.request('POST', '/api/more-time', { body: {}, cookie });
    assert.equal(last.status, 200, last.text);
    assert.equal(last.data.extensions_left, 0);
  });
  assert.equal(r.status, 409);
  assert.equal(r.data.reason, 'used-up');
  d = await dialog(page);
  assert.deepEqual([d.note, d.more, d.focus], [TEXT.usedUp, false, 'OK']);
  await waitFor(async () => (await page.evaluate(() => window.__announced)).includes(TEXT.usedUp), 5000,
    'the refusal announced');
  await waitFor(async () => (await clientState(page)).extensions_left === 0, 5000, 'the page told of the last grant');
  assert.deepEqual(await page.evaluate(() => window.__dialogLog), [], 'the dialog stayed open');
});

hgTest('an idle warning never offers more time, even within the limit\'s warning', {
  config: limitPolicy({
    WarnAfterSec: '5', ExpireAfterSec: '20', MaxSessionSec: '30', WarnBeforeSec: '28',
    ExtendBySec: '60', MaxExtensions: '3',
  }),
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  /* 2 s after sign-in: the limit's warning, with the button. */
  await waitDialog(env, page);
  await recordDialog(page);
  let d = await dialog(page);
  assert.deepEqual([d.warning, d.more, d.focus], ['limit', true, 'More time']);

  /* 5 s idle: the idle warning stands (its end comes before the limit). */
  await waitFor(async () => (await dialog(page)).warning === 'idle', WARN_WAIT_MS, 'the idle warning');
  d = await dialog(page);
  assert.deepEqual([d.title, d.more, d.focus, d.note], ['Are you still there?', false, 'Stay signed in', '']);
  assert.equal((await clientState(page)).extensions_left, 3, 'extensions are left: it is the kind that hides it');
  await waitFor(async () => (await page.evaluate(() => window.__announced))
    .some((t) => t.startsWith('Are you still there? ')), 5000, 'the new warning announced');

  /* "Stay signed in": the limit's warning again, with its button. */
  const pinged = env.nextPing(page);
  await page.keyboard.press('Enter');
  const after = await pinged;
  assert.deepEqual([after.state, after.warning], ['warning', 'limit']);
  await waitFor(async () => (await dialog(page)).more, 5000, 'the button back in the limit warning');
  d = await dialog(page);
  /* The focus stays on the button that was pressed, now "OK". */
  assert.deepEqual([d.warning, d.focus], ['limit', 'OK']);
  assert.deepEqual(await page.evaluate(() => window.__dialogLog), [], 'one dialog throughout');
});

hgTest('an idle warning far from the limit: "Stay signed in", no "More time"', {
  config: limitPolicy({
    WarnAfterSec: '2', ExpireAfterSec: '30', MaxSessionSec: '600', WarnBeforeSec: '60',
    ExtendBySec: '60', MaxExtensions: '3',
  }),
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  await waitDialog(env, page);
  const d = await dialog(page);
  assert.deepEqual([d.warning, d.title, d.more, d.focus], ['idle', 'Are you still there?', false, 'Stay signed in']);
  const s = await clientState(page);
  assert.deepEqual([s.warning, s.extensions_left], ['idle', 3]);
  /* And it stays away while the warning stands. */
  await holdsFor(async () => !(await dialog(page)).more, 1500, 'no "More time" in the idle warning');
});
