'use strict';
/* Pages in the person's language: every table of strings.js has every key
 * (with the same placeholders); no user-visible string lives outside the
 * tables (every screen rendered with a pseudo-translation, where each
 * table value is marked, must show nothing unmarked but names, numbers and
 * punctuation); the language follows the browser's languages, the sign-in
 * page's switch holds in that browser (its profile) and not in a fresh
 * one (the kiosk's reset); durations and times go through Intl; the
 * warning in each language, pictured in <build>/screenshots/. */
const assert = require('assert/strict');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { hgTest, waitFor, note } = require('./lib/harness');
const { BUILD_ROOT, SOURCE_ROOT } = require('./lib/daemon');

const ASSETS = path.join(SOURCE_ROOT, 'web', 'assets');
const STRINGS_SOURCE = fs.readFileSync(path.join(ASSETS, 'strings.js'), 'utf8');
const SHOTS = path.join(BUILD_ROOT, 'screenshots');
const LANGS = ['en', 'de', 'fr', 'es', 'nl', 'pl'];

function loadTables(source) {
  const sandbox = { window: {} };
  vm.runInNewContext(source, sandbox);
  return sandbox.window.HG_STRINGS;
}

const TABLES = loadTables(STRINGS_SOURCE);

function placeholders(text) {
  return (text.match(/\{\w+\}/g) || []).sort().join(' ');
}

/* Every value marked: what a page shows of the tables is ⟦...⟧. */
function pseudoSource() {
  const marked = {};
  for (const [code, table] of Object.entries(TABLES)) {
    marked[code] = {};
    for (const [key, value] of Object.entries(table)) {
      marked[code][key] = key.startsWith('meta.') && key !== 'meta.name' ? value : '⟦' + value + '⟧';
    }
  }
  return 'window.HG_STRINGS = ' + JSON.stringify(marked) + ';\n';
}

/* What the page shows or says that is not from the tables: its visible
 * text, the title, and the names screen readers get from attributes,
 * with every marked string and the allowed dynamic parts taken out. */
async function unmarked(page, allowed) {
  const seen = await page.evaluate(() => {
    const parts = [document.title, document.body.innerText];
    for (const n of document.querySelectorAll('[aria-label], [title], [placeholder], [alt], input[type=submit], input[type=button]')) {
      for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'value']) {
        if (n.hasAttribute(a) && (a !== 'value' || n.type === 'submit' || n.type === 'button')) parts.push(n.getAttribute(a));
      }
    }
    return parts.join('\n');
  });
  let rest = seen;
  for (;;) {
    const next = rest.replace(/⟦[^⟦⟧]*⟧/g, ' ');
    if (next === rest) break;
    rest = next;
  }
  for (const a of allowed || []) rest = rest.split(a).join(' ');
  return rest.replace(/[\s\d:.,·…–-]+/g, '');
}

function keysOf(table) {
  return Object.keys(table).sort();
}

hgTest('every language has every key, with the same placeholders', {}, async () => {
  assert.deepEqual(Object.keys(TABLES).sort(), LANGS.slice().sort());
  const english = keysOf(TABLES.en);
  for (const code of LANGS) {
    const table = TABLES[code];
    assert.deepEqual(keysOf(table), english, code + ': the keys differ from English');
    for (const key of english) {
      assert.equal(typeof table[key], 'string', code + ' ' + key);
      assert.ok(table[key].trim(), code + ' ' + key + ' is empty');
      assert.equal(placeholders(table[key]), placeholders(TABLES.en[key]), code + ' ' + key + ': placeholders');
    }
    assert.equal(table['meta.dir'], 'ltr');
  }
  /* Every key the pages and scripts use is in the table, and the HTML's
   * inline English is the table's. */
  for (const file of ['login.html', 'session.html', 'login.js', 'session.js', 'client.js']) {
    const text = fs.readFileSync(path.join(ASSETS, file), 'utf8');
    const used = new Set();
    for (const m of text.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/\b(?:t|msg)\('([a-z_.-]+)'\s*[,)]/g)) used.add(m[1]);
    for (const key of used) assert.ok(key in TABLES.en, file + ' uses ' + key + ', which is not in the tables');
    for (const m of text.matchAll(/data-i18n="([^"]+)"[^>]*>([^<]*)</g)) {
      assert.equal(m[2], TABLES.en[m[1]], file + ': the inline text of ' + m[1]);
    }
  }
  /* client.js builds the key of a refusal from the reason the daemon
   * gives (daemon/hg-more-time.c): every reason has its words. */
  const reasons = Array.from(fs.readFileSync(path.join(SOURCE_ROOT, 'daemon', 'hg-more-time.c'), 'utf8')
    .matchAll(/\[HG_MORE_TIME_\w+\] = "([a-z-]+)"/g), (m) => m[1]).filter((r) => r !== 'granted');
  assert.ok(reasons.includes('waiting') && reasons.length >= 5, 'the reasons of hg-more-time.c: ' + reasons);
  for (const reason of reasons.concat(['network', 'unknown'])) {
    assert.ok('warning.refused.' + reason in TABLES.en, 'no words for the refusal ' + reason);
  }
});

hgTest('no user-visible string lives outside the tables', {
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '30', CloseAfterSec: '5' } },
}, async (env) => {
  await env.context.route('**/assets/strings.js', (route) => route.fulfill({
    status: 200, contentType: 'text/javascript; charset=utf-8', body: pseudoSource(),
  }));
  const page = await env.newPage();
  const screens = [];
  async function check(what, allowed) {
    const rest = await unmarked(page, allowed);
    screens.push(what);
    assert.equal(rest, '', what + ': text outside the tables: ' + JSON.stringify(rest));
  }

  await page.goto(env.daemon.url('/'));
  await page.locator('#hg-user').waitFor();
  await check('the sign-in page');
  await page.click('#hg-submit');
  await page.locator('#hg-alert p').waitFor();
  await check('the sign-in page with an alert');
  for (const reason of ['idle-timeout&after=600', 'idle-timeout&after=45', 'max-age', 'logout',
    'terminated', 'browser-closed', 'replaced', 'shutdown', 'bogus']) {
    await page.goto(env.daemon.url('/?ended=' + reason));
    await page.locator('#hg-notice').waitFor();
    await check('the notice ?ended=' + reason);
  }
  await page.goto(env.daemon.url('/'));
  await page.fill('#hg-user', 'alice');
  await page.fill('#hg-password', 'wrong');
  await page.click('#hg-submit');
  await waitFor(async () => /⟦/.test(await page.locator('#hg-alert').innerText()), 10000, 'the failure');
  await check('a failed sign-in');

  await env.signIn(page);
  await page.locator('#hg-signed-in strong').waitFor();
  await check('the session page', ['alice']);
  await waitFor(() => env.dialogOpen(page), 10000, 'the warning dialog');
  await check('the warning dialog', ['alice']);
  note('checked: ' + screens.join(', '));
});

hgTest('the language follows the browser, and Intl formats durations and times', {}, async (env) => {
  const expected = {
    en: ['Sign in', 'You were signed out after 10 minutes without activity.'],
    de: ['Anmelden', 'Sie wurden nach 10 Minuten ohne Aktivität abgemeldet.'],
    fr: ['Connexion', 'Votre session a été fermée après 10 minutes d’inactivité.'],
    es: ['Iniciar sesión', 'Se cerró su sesión tras 10 minutos sin actividad.'],
    nl: ['Aanmelden', 'U bent afgemeld na 10 minuten zonder activiteit.'],
    pl: ['Zaloguj się', 'Nastąpiło wylogowanie z powodu braku aktywności. Czas bezczynności: 10 minut.'],
  };
  const browserTags = { en: 'en-GB', de: 'de-AT', fr: 'fr-CA', es: 'es-MX', nl: 'nl-BE', pl: 'pl-PL' };
  for (const code of LANGS) {
    const own = await env.newContext(null, { locale: browserTags[code] });
    const page = await own.newPage();
    await page.goto(env.daemon.url('/?ended=idle-timeout&after=600'));
    await page.locator('#hg-notice').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), code);
    assert.equal(await page.locator('#hg-title').textContent(), expected[code][0]);
    assert.equal(await page.locator('#hg-notice').textContent(), expected[code][1]);
    assert.equal(await page.locator('#hg-langs button[aria-pressed="true"]').getAttribute('lang'), code);
    /* 45 s is seconds, in the language's plural: Polish "45 sekund". */
    const seconds = await page.evaluate(() => window.hourglassI18n.duration(45));
    assert.equal(seconds, new Intl.NumberFormat(code, { style: 'unit', unit: 'second', unitDisplay: 'long' }).format(45));
    const time = await page.evaluate(() => window.hourglassI18n.time(new Date(2026, 0, 5, 15, 42)));
    assert.equal(time, new Intl.DateTimeFormat(code, { hour: 'numeric', minute: '2-digit' }).format(new Date(2026, 0, 5, 15, 42)));
    await env.axe(page, 'the sign-in page in ' + code);
    await own.close();
  }
  /* A language without a table: English. */
  const other = await env.newContext(null, { locale: 'ja-JP' });
  const page = await other.newPage();
  await page.goto(env.daemon.url('/'));
  await page.locator('#hg-user').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await other.close();
});

hgTest('the switch holds in this browser until the reset, through the session and the warning', {
  config: { Timeouts: { WarnAfterSec: '3', ExpireAfterSec: '60', CloseAfterSec: '5' } },
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/?ended=logout'));
  await page.locator('#hg-notice').waitFor();
  assert.equal(await page.locator('#hg-title').textContent(), 'Sign in');
  await page.fill('#hg-user', 'alice');
  await page.click('#hg-langs button[lang="pl"]');
  /* At once, in place: the typed name stays, the notice is translated. */
  assert.equal(await page.locator('#hg-title').textContent(), TABLES.pl['login.heading']);
  assert.equal(await page.locator('#hg-notice').textContent(), TABLES.pl['ended.logout']);
  assert.equal(await page.locator('#hg-submit-label').textContent(), TABLES.pl['login.submit']);
  assert.equal(await page.inputValue('#hg-user'), 'alice');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'pl');
  assert.equal(await page.title(), TABLES.pl['login.page_title']);
  assert.equal(await page.locator('#hg-langs button[lang="pl"]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#hg-langs button[lang="en"]').getAttribute('aria-pressed'), 'false');
  await page.click('#hg-submit');
  await page.locator('#hg-alert p').waitFor();
  assert.equal(await page.locator('#hg-alert p').textContent(), TABLES.pl['login.need_password']);
  await page.click('#hg-langs button[lang="de"]');
  assert.equal(await page.locator('#hg-alert p').textContent(), TABLES.de['login.need_password'], 'the alert follows');
  await env.axe(page, 'the sign-in page after a switch');

  /* Kept in this browser: the next page load, the session page, the dialog. */
  await page.reload();
  await page.locator('#hg-user').waitFor();
  assert.equal(await page.locator('#hg-title').textContent(), TABLES.de['login.heading']);
  await env.signIn(page);
  await page.locator('#hg-signed-in strong').waitFor();
  assert.equal(await page.locator('#hg-signed-in').textContent(), 'Angemeldet als alice');
  assert.equal(await page.locator('#hg-idle-limit').textContent(), 'Nach 1 Minute ohne Aktivität werden Sie abgemeldet.');
  await waitFor(() => env.dialogOpen(page), 10000, 'the warning dialog');
  assert.equal(await page.locator('#hg-dialog-title').textContent(), TABLES.de['warning.title']);
  assert.equal(await env.dialog(page).getAttribute('lang'), 'de');
  assert.match(await page.locator('.hg-dialog__at').textContent(), /^Abmeldung um \d{1,2}:\d{2}$/);
  await env.axe(page, 'the warning dialog in German');

  /* A fresh profile (what the kiosk's reset leaves): the browser's language again. */
  const fresh = await env.newContext();
  const next = await fresh.newPage();
  await next.goto(env.daemon.url('/'));
  await next.locator('#hg-user').waitFor();
  assert.equal(await next.locator('#hg-title').textContent(), 'Sign in');
  await fresh.close();
});

hgTest('screenshots of the warning in every language', {
  config: { Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '300', CloseAfterSec: '10' } },
}, async (env) => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const code of LANGS) {
    const ctx = await env.newContext(null, { viewport: { width: 1280, height: 720 }, locale: code });
    const page = await ctx.newPage();
    await page.goto(env.daemon.url('/'));
    await page.fill('#hg-user', 'alice');
    await page.fill('#hg-password', 'secret');
    await page.click('#hg-submit');
    await page.waitForFunction(() => window.hourglass && window.hourglass.state !== null);
    await page.mouse.move(1, 1);
    await waitFor(async () => page.evaluate(() => {
      const d = document.querySelector('dialog.hg-dialog');
      return !!(d && d.open);
    }), 10000, 'the warning in ' + code);
    assert.equal(await page.locator('#hg-dialog-title').textContent(), TABLES[code]['warning.title']);
    assert.equal(await page.locator('.hg-dialog__button--primary').textContent(), TABLES[code]['warning.stay']);
    /* Inside the screen: no text cut off by a longer language. */
    const fits = await page.evaluate(() => {
      const d = document.querySelector('dialog.hg-dialog').getBoundingClientRect();
      const overflow = Array.from(document.querySelectorAll('.hg-dialog *'))
        .filter((n) => n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflow !== 'visible');
      return d.top >= 0 && d.bottom <= innerHeight && d.left >= 0 && d.right <= innerWidth && !overflow.length;
    });
    assert.ok(fits, 'the dialog fits in ' + code);
    const file = path.join(SHOTS, 'warning-' + code + '.png');
    await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    note('screenshot ' + file);
    await page.locator('.hg-dialog__button', { hasText: TABLES[code]['warning.sign_out'] }).click();
    await page.locator('#hg-notice').waitFor();
    assert.equal(await page.locator('#hg-notice').textContent(), TABLES[code]['ended.logout']);
    await ctx.close();
  }
});

hgTest('the limit warning and the answers to "More time" come from the tables', {
  config: {
    'Policy timed': {
      MatchSource: 'web', WarnAfterSec: '300', ExpireAfterSec: '600', CloseAfterSec: '10',
      MaxSessionSec: '40', WarnBeforeSec: '38', ExtendBySec: '1', MaxExtensions: '2',
    },
  },
}, async (env) => {
  await env.context.route('**/assets/strings.js', (route) => route.fulfill({
    status: 200, contentType: 'text/javascript; charset=utf-8', body: pseudoSource(),
  }));
  const page = await env.newPage();
  await env.signIn(page);
  const cookie = await env.cookie();
  await waitFor(() => env.dialogOpen(page), 10000, 'the limit warning');
  const note = () => page.locator('.hg-dialog__note').textContent();
  const ask = () => Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/more-time'),
    page.click('.hg-dialog__button >> nth=0'),
  ]).then(([r]) => r.status());
  assert.match(await note(), /⟦/);
  assert.equal(await unmarked(page, ['alice']), '', 'the limit warning with "More time"');
  /* Late enough that a second more stays within the lead time. */
  await waitFor(async () => Number(await page.locator('.hg-dialog__clock').getAttribute('data-seconds')) <= 35,
    10000, 'the countdown to reach 35 s');
  assert.equal(await ask(), 200);
  await waitFor(async () => (await note()).split('⟦').length === 3, 5000, 'the grant and the extensions left');
  assert.equal(await unmarked(page, ['alice']), '', 'the dialog after a grant');
  /* The last one taken behind the page's back while the page's request
   * is on its way (held by the route: once taken, the state pushed to
   * the page takes the button away): the page's request is refused. */
  let behind = 0;
  await page.route('**/api/more-time', async (route) => {
    behind = (await env.daemon.request('POST', '/api/more-time', { body: {}, cookie })).status;
    await route.continue();
  });
  assert.equal(await ask(), 409);
  assert.equal(behind, 200, 'the extension taken behind the page\'s back');
  await waitFor(async () => (await page.locator('.hg-dialog__button >> nth=0').isHidden()), 5000, 'the refusal');
  assert.equal(await unmarked(page, ['alice']), '', 'the dialog after a refusal');
});

/* The operator's strings.js in the WebRoot: a changed text, a language of
 * its own (keys it lacks fall back to English), and the older flat form. */
hgTest('a WebRoot strings.js changes texts and adds a language', {
  prepare: (daemon) => {
    const root = daemon.webRoot();
    const tables = loadTables(STRINGS_SOURCE);
    tables.en['login.heading'] = 'Library sign-in';
    tables.it = { 'meta.name': 'Italiano', 'meta.dir': 'ltr', 'login.heading': 'Accedi' };
    fs.writeFileSync(path.join(root, 'assets', 'strings.js'),
      'window.HG_STRINGS = ' + JSON.stringify(tables) + ';\n');
    daemon.config.Http.WebRoot = root;
  },
}, async (env) => {
  const page = await env.newPage();
  await page.goto(env.daemon.url('/'));
  await page.locator('#hg-user').waitFor();
  assert.equal(await page.locator('#hg-title').textContent(), 'Library sign-in');
  assert.equal(await page.locator('#hg-langs button').count(), LANGS.length + 1);
  await page.click('#hg-langs button[lang="it"]');
  assert.equal(await page.locator('#hg-title').textContent(), 'Accedi');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'it');
  assert.equal(await page.locator('label[for="hg-user"]').textContent(), TABLES.en['login.user_label']);
  await env.axe(page, 'the sign-in page with a language of the operator\'s');

  /* The older form: one flat table with meta.lang, the only language. */
  const flat = Object.assign({}, TABLES.en, { 'meta.lang': 'sv', 'login.heading': 'Logga in' });
  fs.writeFileSync(path.join(env.daemon.config.Http.WebRoot, 'assets', 'strings.js'),
    'window.HG_STRINGS = ' + JSON.stringify(flat) + ';\n');
  await page.reload();
  await page.locator('#hg-user').waitFor();
  assert.equal(await page.locator('#hg-title').textContent(), 'Logga in');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'sv');
  assert.equal(await page.locator('#hg-langs').isHidden(), true, 'no switch for one language');
});
