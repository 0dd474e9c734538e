'use strict';
/* client.js in an operator's own pages (WebRoot): one script tag brings the
 * warning, the strings and the styles; window.hourglass is the API. */
const assert = require('assert/strict');
const fs = require('fs');
const path = require('path');
const { hgTest, waitFor, holdsFor } = require('./lib/harness');

const KIOSK_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Library catalogue</title>
  <script src="/assets/client.js" defer></script>
  <script src="/assets/kiosk.js" defer></script>
</head>
<body>
  <main>
    <h1>Library catalogue</h1>
    <p>Session: <span id="state">unknown</span></p>
    <button id="out" type="button">Done</button>
  </main>
</body>
</html>
`;

const KIOSK_JS = `'use strict';
window.kioskEvents = [];
hourglass.on('state', function (s) {
  document.getElementById('state').textContent = s.state;
  window.kioskEvents.push(s.state);
});
hourglass.on('ended', function (e) { window.kioskEvents.push('ended:' + e.reason); });
document.getElementById('out').addEventListener('click', function () { hourglass.signOut(); });
`;

/* A second page of the operator's, with client.js alone. */
const OTHER_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Opening hours</title>
  <script src="/assets/client.js" defer></script>
</head>
<body>
  <main><h1>Opening hours</h1><p><a href="/">Back</a></p></main>
</body>
</html>
`;

function prepare(daemon) {
  const root = daemon.webRoot();
  fs.writeFileSync(path.join(root, 'assets', 'kiosk.html'), KIOSK_HTML);
  fs.writeFileSync(path.join(root, 'assets', 'other.html'), OTHER_HTML);
  fs.writeFileSync(path.join(root, 'assets', 'kiosk.js'), KIOSK_JS);
  /* The operator's session page: the built-in one with other content. */
  const builtIn = fs.readFileSync(path.join(__dirname, '..', '..', 'web', 'assets', 'session.html'), 'utf8');
  const custom = builtIn.replace(/<main id="hg-home"[\s\S]*<\/main>/,
    '<main id="hg-home" class="hg-home"><h1 class="hg-title">Welcome to the library</h1>' +
    '<p><a href="/assets/other.html">Opening hours</a></p></main>');
  assert.notEqual(custom, builtIn);
  fs.writeFileSync(path.join(root, 'session.html'), custom);
  daemon.config.Http.WebRoot = root;
}

hgTest('an operator\'s page with only client.js gets the warning and the API', {
  prepare,
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '12', CloseAfterSec: '2' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  assert.equal(await page.locator('h1').textContent(), 'Welcome to the library');

  await page.goto(env.daemon.url('/assets/kiosk.html'));
  await env.ready(page);
  await waitFor(() => env.dialogOpen(page), 10000, 'the warning on the operator\'s page');
  assert.equal(await page.locator('#state').textContent(), 'warning');
  /* Strings and styles came with client.js; the page's language stays. */
  assert.equal(await page.locator('#hg-dialog-title').textContent(), 'Are you still there?');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.hg-dialog')).borderTopLeftRadius), '16px');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await env.axe(page, 'an operator page with the warning dialog');

  await page.click('text=Stay signed in');
  await waitFor(async () => (await page.locator('#state').textContent()) === 'active', 5000, 'state active');
  assert.equal(await env.dialogOpen(page), false);
  assert.equal(env.count('/api/events'), 2, 'one stream for the session page, one for this page');

  await page.click('#out');
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-notice').textContent(), 'You have signed out.');
});

hgTest('moving between the session page and an operator\'s page is not a close', {
  prepare,
  config: { Timeouts: { WarnAfterSec: '30', ExpireAfterSec: '60', CloseAfterSec: '2' } },
}, async (env) => {
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  const start = Date.now();
  /* There and back four times, by link, by address and by history, each
   * page left once the server holds its stream. */
  for (let i = 0; i < 4; i++) {
    let since = Date.now();
    if (i % 2) await page.goto(env.daemon.url('/assets/other.html'));
    else await Promise.all([page.waitForURL('**/assets/other.html'), page.click('text=Opening hours')]);
    await env.ready(page);
    assert.equal(await page.locator('h1').textContent(), 'Opening hours');
    await env.streamOpen(page, since);
    since = Date.now();
    if (i % 2) await page.goBack();
    else await Promise.all([page.waitForURL(env.daemon.url('/')), page.click('text=Back')]);
    await env.ready(page);
    assert.equal(await page.locator('#hg-logout').count(), 1, 'back on the session page');
    await env.streamOpen(page, since);
  }
  /* Every page left said so (a beacon, its stream closed) and the next one
   * opened its own stream; the session lives on past CloseAfterSec (2 s). */
  assert.ok(env.count('/api/events', start) >= 8, env.count('/api/events', start) + ' streams opened');
  await holdsFor(() => !/ended: browser-closed/.test(env.daemon.log()), 3000, 'no browser-closed end');
  const r = await env.daemon.request('GET', '/api/session', { cookie });
  assert.equal(r.status, 200, JSON.stringify(r.data));
  assert.equal(await page.locator('#hg-logout').count(), 1);
});

hgTest('an operator\'s page without a session goes to the login page', { prepare }, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/assets/kiosk.html'));
  await page.locator('#hg-user').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await page.locator('#hg-notice').isHidden(), true);
});
