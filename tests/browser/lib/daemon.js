'use strict';
/*
 * The real hourglassd from the build tree, for one browser test: a free
 * port, its configuration in a fresh temporary directory, fake users and
 * passwords (nss_wrapper + pam_wrapper's pam_matrix, tests/data: alice /
 * secret, PAM service hourglass-test), stderr in a log file that a failing
 * test prints. Started and stopped by PID, and so are the PAM helpers it
 * leaves (found by a marker in their environment); every wait has a
 * deadline (lib/wait.js).
 *
 * Environment (meson sets it; defaults for a run by hand):
 *   HG_BUILD_ROOT     build directory (default <source>/build)
 *   HG_SOURCE_ROOT    source directory (default three levels up)
 *   HG_TEST_PRELOAD   LD_PRELOAD of the daemon, ':'-separated (the
 *                     sanitizer runtime first under ASan)
 *   HG_TEST_SANITIZE  meson's b_sanitize
 *   HG_TEST_PAM_MODULE  pam_hgtest.so (default <build>/tests/pam/)
 *   HG_TEST_KEEP=1    keep the temporary directories
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { waitFor } = require('./wait');

const SOURCE_ROOT = path.resolve(process.env.HG_SOURCE_ROOT || path.join(__dirname, '..', '..', '..'));
const BUILD_ROOT = path.resolve(process.env.HG_BUILD_ROOT || path.join(SOURCE_ROOT, 'build'));
const DATA_DIR = path.join(SOURCE_ROOT, 'tests', 'data');
const DAEMON = path.join(BUILD_ROOT, 'daemon', 'hourglassd');
const PAM_MODULE = process.env.HG_TEST_PAM_MODULE || path.join(BUILD_ROOT, 'tests', 'pam', 'pam_hgtest.so');
const SANITIZE = process.env.HG_TEST_SANITIZE || 'none';
const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer/;

const DEFAULT_CONFIG = {
  Timeouts: { WarnAfterSec: '2', ExpireAfterSec: '5', CloseAfterSec: '2' },
  Http: { Listen: '127.0.0.1:{port}' },
  Pam: { Service: 'hourglass-test', FailDelayMSec: '100', Helper: 'fork' },
};

/* Daemons still running when this process ends (a timeout, Ctrl-C) are
 * killed by PID, and so are their PAM helpers, never left behind. */
const live = new Set();
process.on('exit', () => {
  for (const daemon of live) daemon.killAll();
});
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
}

function killPid(pid) {
  try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ }
}

/* Processes whose environment holds the line marker (the daemon passes
 * HOURGLASS_TEST_* on to its helpers). */
function pidsWithMarker(marker) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync('/proc/' + name + '/environ', 'latin1').split('\0').includes(marker)) out.push(Number(name));
    } catch (e) { /* gone, or not ours */ }
  }
  return out;
}

function compilerFile(name) {
  try {
    const out = execFileSync('cc', ['-print-file-name=' + name], { encoding: 'utf8' }).trim();
    return out.startsWith('/') ? fs.realpathSync(out) : null;
  } catch (e) {
    return null;
  }
}

function preload() {
  let value = process.env.HG_TEST_PRELOAD;
  if (!value) {
    const libs = (SANITIZE.includes('address') ? ['libasan.so'] : []).concat(['libpam_wrapper.so', 'libnss_wrapper.so']);
    const paths = libs.map(compilerFile);
    if (paths.includes(null)) throw new Error('cannot find ' + libs.join(', ') + ': install libpam-wrapper and libnss-wrapper');
    value = paths.join(':');
  }
  return value.split(/[: ]+/).filter(Boolean).join(':');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: port });
    socket.setTimeout(500);
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => { socket.destroy(); resolve(false); });
  });
}

function mergeConfig(base, updates) {
  const out = {};
  for (const [group, keys] of Object.entries(base)) out[group] = Object.assign({}, keys);
  for (const [group, keys] of Object.entries(updates || {})) out[group] = Object.assign(out[group] || {}, keys);
  return out;
}

class Daemon {
  constructor(config) {
    this.config = mergeConfig(DEFAULT_CONFIG, config);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-browser-'));
    this.configPath = path.join(this.tmp, 'hourglass.conf');
    this.logPath = path.join(this.tmp, 'hourglassd.log');
    this.pamDir = path.join(this.tmp, 'pam.d');
    fs.mkdirSync(this.pamDir);
    for (const name of fs.readdirSync(path.join(DATA_DIR, 'pam.d'))) {
      fs.copyFileSync(path.join(DATA_DIR, 'pam.d', name), path.join(this.pamDir, name));
    }
    this.proc = null;
    this.port = null;
    this.exit = null;
    this.marker = 'HOURGLASS_TEST_RUN=' + this.tmp;
    this.busAddress = 'unix:path=' + path.join(this.tmp, 'no-bus');
    this.groupPath = path.join(DATA_DIR, 'group');
    /* More of the daemon's environment, set by a test's prepare(): TZ, the
     * zone of its opening hours and its day. */
    this.env = {};
  }

  get origin() {
    return 'http://127.0.0.1:' + this.port;
  }

  url(p) {
    return this.origin + (p || '/');
  }

  /* A PAM service of the test module pam_hgtest alone (every call), with
   * its arguments (mode=otp code=C, expired new=N, ...); the daemon uses it. */
  useHgtestService(...args) {
    if (!fs.existsSync(PAM_MODULE)) throw new Error(PAM_MODULE + ' is missing: build the tests first');
    const line = [PAM_MODULE, 'password=secret'].concat(args).join(' ');
    const text = ['auth', 'account', 'password', 'session'].map((k) => k + ' required ' + line + '\n').join('');
    fs.writeFileSync(path.join(this.pamDir, 'hourglass-hgtest'), text);
    this.config.Pam.Service = 'hourglass-hgtest';
  }

  /* hourglassd on a test's own bus (lib/bus.js; no logind there), with
   * this process's user allowed to steer it: root is, anyone else through
   * an AdminGroup of its gid, added to a copy of the fake group file. */
  useBus(bus) {
    this.busAddress = bus.address;
    this.config.Idle = Object.assign({ Sources: 'page' }, this.config.Idle);
    if (process.getuid() === 0) return;
    this.groupPath = path.join(this.tmp, 'group');
    fs.writeFileSync(this.groupPath, fs.readFileSync(path.join(DATA_DIR, 'group'), 'utf8') +
      'hg-test-runner:x:' + process.getgid() + ':\n');
    this.config.DBus = Object.assign({}, this.config.DBus, { AdminGroup: 'hg-test-runner' });
  }

  /* A directory the test may fill, to be used as WebRoot. */
  webRoot() {
    const dir = path.join(this.tmp, 'webroot');
    fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
    return dir;
  }

  configText() {
    const lines = [];
    for (const [group, keys] of Object.entries(this.config)) {
      lines.push('[' + group + ']');
      for (const [k, v] of Object.entries(keys)) lines.push(k + '=' + String(v).replace('{port}', this.port));
      lines.push('');
    }
    return lines.join('\n');
  }

  environment() {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(LD_|PAM_|NSS_WRAPPER|HOURGLASS_|ASAN_|UBSAN_|LSAN_|DBUS_)/.test(k)) env[k] = v;
    }
    Object.assign(env, {
      LD_PRELOAD: preload(),
      PAM_WRAPPER: '1',
      PAM_WRAPPER_SERVICE_DIR: this.pamDir,
      PAM_MATRIX_PASSWD: path.join(DATA_DIR, 'passdb'),
      NSS_WRAPPER_PASSWD: path.join(DATA_DIR, 'passwd'),
      NSS_WRAPPER_GROUP: this.groupPath,
      HOURGLASS_LOG: 'stderr',
      HOURGLASS_LOG_LEVEL: 'debug',
      /* Passed on to the PAM helpers: how killAll() finds them. */
      HOURGLASS_TEST_RUN: this.tmp,
      /* Never the machine's own bus. */
      DBUS_SYSTEM_BUS_ADDRESS: this.busAddress,
    }, this.env);
    if (SANITIZE !== 'none') {
      env.PAM_WRAPPER_DISABLE_DEEPBIND = '1';
      env.NSS_WRAPPER_DISABLE_DEEPBIND = '1';
      env.ASAN_OPTIONS = 'detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=66:print_summary=1';
      env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1:exitcode=67';
    }
    return env;
  }

  async start(timeoutMs = 15000) {
    if (!fs.existsSync(DAEMON)) throw new Error(DAEMON + ' is missing: build first (ninja -C ' + BUILD_ROOT + ')');
    for (let attempt = 0; attempt < 5; attempt++) {
      this.port = await freePort();
      fs.writeFileSync(this.configPath, this.configText());
      const mark = this.log().length;
      const log = fs.openSync(this.logPath, 'a');
      this.exit = null;
      this.proc = spawn(DAEMON, ['--config', this.configPath], {
        env: this.environment(), cwd: this.tmp, stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      const proc = this.proc;
      live.add(this);
      proc.on('exit', (code, signal) => {
        if (this.proc === proc) this.exit = { code, signal };
      });
      let listening = false;
      try {
        await waitFor(async () => this.exit || (listening = await canConnect(this.port)),
          timeoutMs, 'hourglassd to listen');
      } catch (e) { /* reported below */ }
      if (listening) return this;
      if (!this.exit) break;
      /* Another program took the free port meanwhile: try another. */
      if (!this.log().slice(mark).includes('Cannot listen')) break;
    }
    throw new Error('hourglassd did not start (' + JSON.stringify(this.exit) + '); log:\n' + this.logTail());
  }

  async stop(timeoutMs = 10000) {
    const proc = this.proc;
    if (!proc) return;
    if (!this.exit) {
      proc.kill('SIGTERM');
      try {
        await waitFor(() => this.exit, timeoutMs, 'hourglassd to exit on SIGTERM');
      } catch (e) {
        proc.kill('SIGKILL');
        await waitFor(() => this.exit, 10000, 'hourglassd to die of SIGKILL');
        throw new Error('hourglassd did not stop on SIGTERM within ' + timeoutMs + ' ms');
      }
    }
    this.proc = null;
    if (SANITIZER_RE.test(this.log())) throw new Error('sanitizer report in the daemon log:\n' + this.logTail());
    if (this.exit.code !== 0) throw new Error('hourglassd exited with ' + JSON.stringify(this.exit));
  }

  /* SIGKILL to the daemon, if it runs, and to every helper it started. */
  killAll() {
    if (this.proc && !this.exit) killPid(this.proc.pid);
    for (const pid of pidsWithMarker(this.marker)) killPid(pid);
  }

  /* Nothing of this daemon's is left running; its directory goes unless
   * kept. */
  cleanup(keep) {
    this.killAll();
    live.delete(this);
    if (keep || process.env.HG_TEST_KEEP === '1') return;
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; }
  }

  logTail(lines = 80) {
    return this.log().split('\n').slice(-lines).join('\n');
  }

  /* Waits for a line of the log matching re; returns Date.now() then. */
  async waitLog(re, timeoutMs) {
    await waitFor(() => re.test(this.log()), timeoutMs, re + ' in the daemon log');
    return Date.now();
  }

  /* An HTTP request from outside the browser (allowed Host and Origin). */
  request(method, p, opts = {}) {
    return new Promise((resolve, reject) => {
      const headers = { Host: '127.0.0.1:' + this.port };
      const body = opts.body === undefined ? null : JSON.stringify(opts.body);
      if (body !== null) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(body);
        headers.Origin = this.origin;
      }
      if (opts.cookie) headers.Cookie = 'hourglass_session=' + opts.cookie;
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: p, headers, timeout: 10000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          let data = null;
          try { data = JSON.parse(text); } catch (e) { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, data, text });
        });
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      if (body !== null) req.write(body);
      req.end();
    });
  }
}

module.exports = { Daemon, SOURCE_ROOT, BUILD_ROOT };
