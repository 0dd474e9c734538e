'use strict';
/*
 * A private system bus for one browser test: a dbus-daemon of the test's
 * own (never the machine's bus), for what only D-Bus can do to hourglassd
 * (Manager.SetWaiting). Started and stopped by PID; calls go through
 * dbus-send, each with a deadline.
 *
 *   const bus = await Bus.start();
 *   daemon.useBus(bus);                 // before daemon.start()
 *   await bus.call('SetWaiting', 'boolean:true');
 */
const { spawn, execFile } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { waitFor } = require('./wait');

const NAME = 'org.hourglass1';
const PATH = '/org/hourglass1';
const MANAGER = 'org.hourglass1.Manager';

/* Anyone may talk to anyone: hourglassd's own checks (root or its
 * AdminGroup) are what a test looks at. */
const CONFIG = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
`;

const live = new Set();
process.on('exit', () => {
  for (const bus of live) bus.kill();
});

function run(args, timeoutMs) {
  return new Promise((resolve) => {
    execFile('dbus-send', args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ ok: !error, out: stdout, err: stderr || (error && error.message) || '' });
    });
  });
}

class Bus {
  static async start(timeoutMs = 10000) {
    const bus = new Bus();
    await bus.launch(timeoutMs);
    return bus;
  }

  constructor() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-browser-bus-'));
    this.proc = null;
    this.address = '';
    this.exit = null;
  }

  launch(timeoutMs) {
    const sockets = path.join(this.tmp, 'sock');
    fs.mkdirSync(sockets);
    const conf = path.join(this.tmp, 'bus.conf');
    fs.writeFileSync(conf, CONFIG.replace('{dir}', sockets));
    /* fd 3 is where it prints its address. */
    const proc = this.proc = spawn('dbus-daemon', ['--config-file=' + conf, '--nofork', '--print-address=3'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    live.add(this);
    let err = '';
    proc.stderr.on('data', (c) => { err += c; });
    proc.on('exit', (code, signal) => { this.exit = { code, signal }; });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('dbus-daemon gave no address: ' + err)), timeoutMs);
      proc.on('error', (e) => { clearTimeout(timer); reject(e); });
      proc.stdio[3].on('data', (c) => {
        out += c;
        if (!out.includes('\n')) return;
        clearTimeout(timer);
        this.address = out.trim();
        resolve(this);
      });
    });
  }

  /* A method of org.hourglass1.Manager, as this process's user;
   * args in dbus-send's form ("boolean:true"). Resolves to the reply
   * (dbus-send's text), rejects with the error. */
  async call(method, ...args) {
    const r = await run(['--bus=' + this.address, '--print-reply', '--reply-timeout=5000',
      '--dest=' + NAME, PATH, MANAGER + '.' + method].concat(args), 10000);
    if (!r.ok) throw new Error(method + ' failed: ' + r.err.trim());
    return r.out;
  }

  /* hourglassd has taken its name. */
  async waitForDaemon(timeoutMs = 10000) {
    await waitFor(async () => {
      const r = await run(['--bus=' + this.address, '--print-reply', '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:' + NAME], 5000);
      return r.ok && /boolean true/.test(r.out);
    }, timeoutMs, NAME + ' on the test bus');
  }

  kill() {
    if (this.proc && !this.exit) {
      try { process.kill(this.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }
  }

  async stop() {
    if (this.proc && !this.exit) {
      this.proc.kill('SIGTERM');
      await waitFor(() => this.exit, 5000, 'dbus-daemon to exit').catch(() => this.kill());
    }
    live.delete(this);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

module.exports = { Bus };
