'use strict';
/*
 * Browser test harness: node:test + Debian's Chromium through playwright-core
 * (never a downloaded browser). hgTest(name, options, fn) gives fn a fresh
 * hourglassd (lib/daemon.js) and a freshly launched Chromium (its own
 * temporary profile), records what a failure needs to be understood (the
 * daemon's log, the pages' console, Chromium's own log) and prints it only
 * when the test fails; every test also fails on a CSP violation or an
 * uncaught page error.
 *
 *   HG_CHROMIUM     the browser (default /usr/bin/chromium)
 *   CI              set: missing tools fail the test instead of skipping it
 */

/* Chromium's stderr (through playwright's pw:browser debug channel) is kept
 * out of the output, and shown with a failure. */
process.env.DEBUG = [process.env.DEBUG, 'pw:browser'].filter(Boolean).join(',');
const browserLog = [];
const realStderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = function (chunk, ...rest) {
  const text = String(chunk);
  if (text.includes('pw:browser')) {
    browserLog.push(text.replace(/\s+$/, ''));
    if (browserLog.length > 400) browserLog.splice(0, browserLog.length - 400);
    return true;
  }
  return realStderrWrite(chunk, ...rest);
};

const { test } = require('node:test');
const fs = require('fs');
const path = require('path');
const { Daemon } = require('./daemon');
const { Bus } = require('./bus');
const { waitFor, holdsFor, within } = require('./wait');

const CHROMIUM = process.env.HG_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--no-first-run'];

let playwright = null;
let axeSource = null;
try {
  playwright = require('playwright-core');
  axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
} catch (e) { /* reported below */ }

(function requireTools() {
  const missing = [];
  if (!playwright || !axeSource) missing.push('the npm packages (run tests/browser/setup)');
  if (!fs.existsSync(CHROMIUM)) missing.push(CHROMIUM + ' (apt-get install chromium)');
  if (!missing.length) return;
  console.log('# SKIP browser tests: missing ' + missing.join(' and '));
  process.exit(process.env.CI ? 1 : 77);
})();

function print(text) {
  realStderrWrite(text + '\n');
}

/* A measurement worth keeping in the test log. */
function note(text) {
  process.stdout.write('# ' + text + '\n');
}

class Env {
  constructor(name) {
    this.name = name;
    this.daemon = null;
    this.bus = null;
    this.browser = null;
    this.context = null;
    this.console = [];
    this.csp = [];
    this.pageErrors = [];
    this.requests = [];
    this.responses = [];
  }

  async start(opts) {
    this.daemon = new Daemon(opts.config);
    if (opts.bus) {
      this.bus = await Bus.start();
      this.daemon.useBus(this.bus);
    }
    if (opts.prepare) await opts.prepare(this.daemon);
    await this.daemon.start();
    if (this.bus) await this.bus.waitForDaemon();
    this.browser = await playwright.chromium.launch({
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30000,
    });
    this.context = await this.newContext(opts.initScript);
  }

  /* A context with the recorders; initScript (a function, or a list of
   * them) runs in every page before the page's own scripts (CDP, not
   * subject to the page's CSP); options go to browser.newContext (a
   * locale: the browser's languages). */
  async newContext(initScript, options) {
    const ctx = await this.browser.newContext(Object.assign({ viewport: { width: 1280, height: 800 } }, options));
    ctx.setDefaultTimeout(10000);
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error('csp-violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI +
          ' at ' + e.sourceFile + ':' + e.lineNumber);
      });
    });
    for (const script of [].concat(initScript || [])) await ctx.addInitScript(script);
    ctx.on('console', (m) => {
      const text = m.text();
      const where = m.page() ? m.page().url() : '';
      this.console.push(new Date().toISOString() + ' console.' + m.type() + ' ' + text + ' (' + where + ')');
      if (/csp-violation|Content.Security.Policy/i.test(text)) this.csp.push(text);
    });
    ctx.on('page', (page) => {
      page.on('pageerror', (error) => {
        this.pageErrors.push(page.url() + ': ' + error.stack);
        this.console.push(new Date().toISOString() + ' pageerror ' + error.stack);
      });
    });
    ctx.on('request', (r) => {
      const url = new URL(r.url());
      this.requests.push({ at: Date.now(), method: r.method(), path: url.pathname, page: r.frame().page() });
    });
    ctx.on('response', (r) => {
      const url = new URL(r.url());
      this.responses.push({ at: Date.now(), status: r.status(), path: url.pathname, page: r.frame().page() });
    });
    return ctx;
  }

  /* The server has taken an event stream of page (any page if none) since
   * the time since: its 200 answer came. Returns that page. */
  async streamOpen(page, since = 0, timeoutMs = 10000) {
    const r = await waitFor(() => this.responses.find((x) => x.path === '/api/events' && x.status === 200 &&
      x.at >= since && (!page || x.page === page)), timeoutMs, 'an open event stream');
    return r.page;
  }

  count(pathname, since = 0) {
    return this.requests.filter((r) => r.path === pathname && r.at >= since).length;
  }

  async newPage(ctx) {
    return (ctx || this.context).newPage();
  }

  /* Signs in through the login page; resolves once the session page's
   * client has the server's state. Returns { requested, answered }:
   * Date.now() before the click that sends the login (the session starts
   * after it) and when the answer was seen (after the session started). */
  async signIn(page, user = 'alice', password = 'secret') {
    await page.goto(this.daemon.url('/'));
    await page.fill('#hg-user', user);
    await page.fill('#hg-password', password);
    const requested = Date.now();
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/login'),
      page.click('#hg-submit'),
    ]);
    const answered = Date.now();
    if (response.status() !== 200) throw new Error('sign-in answered ' + response.status());
    await this.ready(page);
    return { requested, answered };
  }

  /* The answer to the page's next POST /api/ping, as JSON: the server's
   * state right after the activity (call before causing it). A test that
   * fails before awaiting it leaves no unhandled rejection behind. */
  nextPing(page) {
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/ping' &&
      r.request().method() === 'POST', { timeout: 15000 }).then((r) => r.json());
    answer.catch(() => {});
    return answer;
  }

  /* A page of the session, once client.js heard the server. */
  async ready(page) {
    await page.waitForFunction(() => window.hourglass && window.hourglass.state !== null, null, { timeout: 10000 });
  }

  async cookie(ctx) {
    const c = (await (ctx || this.context).cookies()).find((x) => x.name === 'hourglass_session');
    return c ? c.value : null;
  }

  /* Holds the answer to POST /api/logout until release() is called, the
   * session ended by then and the browser without its cookie (as the
   * answer's Set-Cookie would leave it; cleared before the sign-out is sent
   * on, which carries the cookie itself): from then on every request of
   * the pages is answered 401 "no-session", racing the sign-out. */
  async holdLogout(ctx) {
    ctx = ctx || this.context;
    const hold = { held: false };
    const gate = new Promise((resolve) => { hold.release = resolve; });
    await ctx.route('**/api/logout', async (route) => {
      try {
        const cookie = (await ctx.cookies()).find((c) => c.name === 'hourglass_session');
        await ctx.clearCookies();
        const headers = Object.assign({}, route.request().headers());
        if (cookie) headers.cookie = cookie.name + '=' + cookie.value;
        const response = await route.fetch({ headers });
        hold.held = true;
        await gate;
        await route.fulfill({ response });
      } catch (e) { /* the page went away meanwhile */ }
    });
    return hold;
  }

  /* GET /api/session from inside the page: a sign of life, not activity. */
  async serverState(page) {
    return page.evaluate(async () => {
      const r = await fetch('/api/session', { cache: 'no-store' });
      return { status: r.status, data: await r.json() };
    });
  }

  dialog(page) {
    return page.locator('dialog.hg-dialog');
  }

  async dialogOpen(page) {
    return page.evaluate(() => {
      const d = document.querySelector('dialog.hg-dialog');
      return !!(d && d.open);
    });
  }

  async axe(page, what) {
    /* A string is run as a script by CDP: the page's CSP, which blocks
     * script tags and eval, does not apply to it. */
    if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ') + ' ' + n.failureSummary),
      }));
    });
    if (result.length) {
      throw new Error('axe-core found violations on ' + what + ':\n' + JSON.stringify(result, null, 2));
    }
  }

  assertClean() {
    if (this.csp.length) throw new Error('CSP violations:\n' + this.csp.join('\n'));
    if (this.pageErrors.length) throw new Error('uncaught page errors:\n' + this.pageErrors.join('\n'));
  }

  dump(error) {
    print('\n==== ' + this.name + ': FAILED: ' + (error && error.stack || error));
    if (this.daemon) print('---- hourglassd log (' + this.daemon.logPath + '):\n' + this.daemon.logTail(120));
    print('---- pages (console, errors):\n' + this.console.slice(-150).join('\n'));
    print('---- requests:\n' + this.requests.slice(-80).map((r) => r.at + ' ' + r.method + ' ' + r.path).join('\n'));
    /* Without its harmless D-Bus complaints. */
    print('---- chromium:\n' + browserLog.filter((l) => !/ERROR:dbus\//.test(l)).slice(-60).join('\n'));
    print('==== end of ' + this.name);
  }

  async close(failed) {
    let error = null;
    if (this.browser) {
      await this.browser.close().catch(() => {});
    }
    if (this.daemon) {
      try {
        await this.daemon.stop();
      } catch (e) {
        error = e;
      }
      this.daemon.cleanup(failed || error);
    }
    if (this.bus) await this.bus.stop();
    if (error && !failed) throw error;
  }
}

/* An init script: counts, in window.__sessionRefused, the 401 answers to
 * GET /api/session whose body the page has read. Once the count shows,
 * the page's own handling of that answer (it follows the read in the same
 * turn) has run. */
function countSessionRefusals() {
  const json = Response.prototype.json;
  window.__sessionRefused = 0;
  Response.prototype.json = function () {
    const read = json.call(this);
    if (this.status === 401 && new URL(this.url).pathname === '/api/session') {
      read.then(() => { window.__sessionRefused++; }, () => {});
    }
    return read;
  };
}

/* A test with its own daemon (options.config: groups of keys merged into
 * the test defaults; options.bus: on a private system bus, env.bus) and
 * its own browser. */
function hgTest(name, opts, fn) {
  if (typeof opts === 'function') {
    fn = opts;
    opts = {};
  }
  test(name, { timeout: opts.timeout || 90000, skip: opts.skip }, async () => {
    const env = new Env(name);
    let failed = false;
    browserLog.length = 0;
    try {
      await env.start(opts);
      await fn(env);
      env.assertClean();
    } catch (e) {
      failed = true;
      env.dump(e);
      throw e;
    } finally {
      await env.close(failed);
    }
  });
}

module.exports = { hgTest, waitFor, holdsFor, within, note, countSessionRefusals };
