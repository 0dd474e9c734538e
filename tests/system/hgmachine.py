"""A booted copy of the cached root (Machine): systemd-nspawn with its
PID 1 found below it, commands inside through nsenter, files, accounts,
background commands, the journal as JSON, power-off and clean-up by PID.
See hgsys.py for the whole picture."""

import ctypes
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import hgroot
from hgroot import (CONTAINER_PATH, KEEP, RUNS_DIR, UNIT, ProductBuild,
                    RootCache, check_prerequisites, log, remove_propagate_dir,
                    remove_tree, run_host, start_time, sweep_stale_runs)

sys.path.insert(0, os.path.join(hgroot.SOURCE_ROOT, "tests", "integration"))
import hgtest  # noqa: E402  (waits)


class User:
    def __init__(self, name, password, uid, gid):
        self.name, self.password, self.uid, self.gid = name, password, uid, gid

    def __repr__(self):
        return "<User %s uid=%d>" % (self.name, self.uid)


class Background:
    """A command started inside the machine and left running; its output
    goes to a file of the run."""

    def __init__(self, proc, log_path, args):
        self.proc, self.log_path, self.args = proc, log_path, args

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def write(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        """Kills, by PID, nsenter's child (it runs in the machine) and what
        it started, and lets nsenter reap it and exit. Killing nsenter
        first would leave the child's zombie to the host's init, which
        may take its time; the machine's power-off waits for every
        process of its namespace, zombies included."""
        if self.proc.poll() is None:
            for pid in _descendants(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


class ConsoleLogin:
    """`login -f USER` on a pty of its own (util-linux script), through the
    machine's /etc/pam.d/login: pam_systemd makes it a logind session of
    type tty, as on a text console. Its shell reads what write() sends."""

    def __init__(self, machine, user):
        self.m, self.user = machine, user
        self.proc = machine.spawn(["script", "--quiet", "--flush", "--command",
                                   "login -f " + user.name, "/dev/null"])
        self._marks = 0

    def write(self, text):
        self.proc.write(text)

    def output(self):
        return self.proc.output()

    def running(self):
        return self.proc.running()

    def kill(self):
        self.proc.kill()

    def ready(self, timeout=15):
        """Waits until the shell answers: the whole session stack
        (pam_systemd, and whatever follows it) has run by then."""
        self._marks += 1
        mark = "ready-%d-%s" % (self._marks, self.user.name)
        self.write("echo %s-$((6*7))\n" % mark)
        hgtest.wait_until(lambda: "%s-42" % mark in self.output(),
                          timeout=timeout, interval=0.05,
                          message="the shell of %s did not answer; output:\n%s"
                          % (self.user.name, self.output()))
        return self

    def logind_session(self):
        """The id of the user's logind session, or None."""
        r = self.m.run(["loginctl", "list-sessions", "--no-legend"], check=False)
        for line in r.stdout.splitlines():
            words = line.split()
            if len(words) >= 3 and words[2] == self.user.name:
                return words[0]
        return None


def _children(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return kids


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        for kid in _children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


_libc = ctypes.CDLL(None, use_errno=True)
# hgtest makes its importer a child subreaper; here that would be wrong: a
# command killed inside the machine leaves a zombie that would be ours,
# and the machine's shutdown waits for every process of its namespace
# ("Waiting for process: N"). Let the host's init reap them.
_libc.prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _pdeathsig_term():
    """In nspawn before exec: SIGTERM when we die, which nspawn turns into
    its --kill-signal for the machine (an orderly power-off)."""
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class Machine:
    """A booted copy of the cached root with hourglass installed."""

    def __init__(self, name):
        self.name = re.sub(r"[^a-z0-9-]", "-", name.lower())[:40].strip("-")
        self.name = "hg-%s-%d" % (self.name, os.getpid())
        self.run_dir = os.path.join(RUNS_DIR, self.name)
        self.root = os.path.join(self.run_dir, "root")
        self.console_log = os.path.join(self.run_dir, "nspawn.log")
        self.nspawn = None
        self.pid1 = None
        self.pid1_start = None
        self.background = []
        self.timings = {}
        self._users = 0
        self._closed = False

    # -- boot and power-off --

    def _save_state(self, **extra):
        state = {"owner": os.getpid(), "owner_start": start_time(os.getpid()),
                 "name": self.name, "kept": False}
        if self.nspawn:
            state.update(nspawn=self.nspawn.pid,
                         nspawn_start=start_time(self.nspawn.pid))
        if self.pid1:
            state.update(pid1=self.pid1, pid1_start=start_time(self.pid1))
        state.update(extra)
        tmp = os.path.join(self.run_dir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.rename(tmp, os.path.join(self.run_dir, "state.json"))

    def prepare(self):
        """The run's root: a copy of the cache with the build installed."""
        check_prerequisites()
        hgroot.private_dir(RUNS_DIR)
        sweep_stale_runs()
        t0 = time.monotonic()
        build = ProductBuild()
        with build.lock:
            build.build()
            packages = build.runtime_packages()
        t1 = time.monotonic()
        cache = RootCache()
        os.makedirs(self.run_dir)
        self._save_state()
        with cache.lock:
            cached_root = cache.ensure(packages)
            t2 = time.monotonic()
            run_host(["cp", "-a", "--reflink=auto", cached_root, self.root])
        t3 = time.monotonic()
        with build.lock:
            build.install(self.root)
        t4 = time.monotonic()
        self.timings.update(build=t1 - t0, cache=t2 - t1, copy=t3 - t2,
                            install=t4 - t3)
        return self

    def boot(self, timeout=120):
        t0 = time.monotonic()
        args = ["systemd-nspawn", "--quiet", "--directory=" + self.root,
                "--boot", "--register=no", "--keep-unit",
                "--machine=" + self.name, "--link-journal=no",
                "--console=read-only", "--kill-signal=SIGRTMIN+4"]
        with open(self.console_log, "ab") as out:
            self.nspawn = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True,
                preexec_fn=None if KEEP else _pdeathsig_term)
        self._save_state()
        try:
            self.pid1 = hgtest.wait_until(self._find_pid1, timeout=30,
                                          interval=0.05)
            self.pid1_start = start_time(self.pid1)
            self._save_state()
            state = hgtest.wait_until(self._booted, timeout=timeout,
                                      interval=0.1)
        except AssertionError as e:
            raise AssertionError("the machine did not boot (%s); its console:\n%s"
                                 % (e, self.console_tail())) from None
        self.timings["boot"] = time.monotonic() - t0
        if state == "degraded":
            log("booted degraded; failed units:\n" +
                self.run(["systemctl", "--failed", "--no-pager"],
                         check=False).stdout)
        log("%s: build %.1f s, cached root %.1f s, copy %.1f s, install "
            "%.1f s, boot %.1f s (PID 1 is %d)"
            % (self.name, self.timings["build"], self.timings["cache"],
               self.timings["copy"], self.timings["install"],
               self.timings["boot"], self.pid1))
        return self

    def _find_pid1(self):
        if self.nspawn.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %d"
                                 % self.nspawn.returncode)
        for pid in _descendants(self.nspawn.pid):
            if _comm(pid) == "systemd":
                return pid
        return None

    def _booted(self):
        if self.nspawn.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %d"
                                 % self.nspawn.returncode)
        r = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def last_journal(self, lines=400):
        """The end of the last boot's journal, read from the host (the
        journal is persistent), with monotonic times: around the longest
        pause of its last lines."""
        r = run_host(["journalctl", "--directory",
                      os.path.join(self.root, "var/log/journal"), "--no-pager",
                      "--output=short-monotonic", "--lines=%d" % lines],
                     check=False, timeout=30)
        out = r.stdout.splitlines()
        times = []
        for line in out:
            m = re.match(r"^\[\s*([0-9.]+)\]", line)
            times.append(float(m.group(1)) if m else None)
        gaps = [(times[i] - times[i - 1], i) for i in range(1, len(out))
                if times[i] is not None and times[i - 1] is not None]
        if not gaps:
            return r.stdout
        gap, i = max(gaps)
        return "(the longest pause: %.1f s)\n%s" % (
            gap, "\n".join(out[max(0, i - 15):i + 10]))

    def _signal_pid1(self, sig):
        """Signals the machine's PID 1 if it still runs (by its PID and
        start time: never a reused PID)."""
        if self.pid1 and start_time(self.pid1) == self.pid1_start:
            try:
                os.kill(self.pid1, sig)
            except ProcessLookupError:
                pass

    def console_tail(self, chars=4000):
        try:
            with open(self.console_log, "rb") as f:
                return f.read()[-chars:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        """Powers off and deletes the run; kills by PID what does not go.
        With HG_SYSTEM_KEEP=1 leaves the machine running instead."""
        if self._closed:
            return
        self._closed = True
        for b in self.background:
            b.kill()
        if KEEP and self.pid1 and self.nspawn.poll() is None:
            self._save_state(kept=True)
            log("kept %s: root %s\n  a shell inside:  nsenter -t %d -a /bin/bash -l\n"
                "  power it off:    kill -RTMIN+4 %d   (the run directory is "
                "deleted by the next run after that)"
                % (self.name, self.run_dir, self.pid1, self.pid1))
            return
        t0 = time.monotonic()
        if self.nspawn is not None:
            if self.pid1:
                self._signal_pid1(signal.SIGRTMIN + 4)  # power-off
            elif self.nspawn.poll() is None:
                self.nspawn.terminate()  # nspawn sends its --kill-signal
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                log("%s did not power off within 30 s: killing it; its "
                    "console:\n%s" % (self.name, self.console_tail(3000)))
                self._signal_pid1(signal.SIGKILL)  # the whole namespace
                for pid in _descendants(self.nspawn.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.nspawn.kill()
                self.nspawn.wait(10)
        self.timings["poweroff"] = time.monotonic() - t0
        if self.timings["poweroff"] > 5:
            log("%s took %.1f s to power off; its journal's end:\n%s"
                % (self.name, self.timings["poweroff"], self.last_journal()))
        remove_propagate_dir(self.name)
        remove_tree(self.run_dir)

    # -- commands inside --

    def command(self, args, user=None):
        """The host command line that runs args inside the machine (as
        user: a User, a name or a uid; with its groups)."""
        if user is not None:
            who = user.name if isinstance(user, User) else str(user)
            args = ["setpriv", "--reuid=" + who, "--regid=" + who,
                    "--init-groups", "--"] + list(args)
        return ["nsenter", "-t", str(self.pid1), "-a", "--"] + list(args)

    def env(self):
        return {"PATH": CONTAINER_PATH, "LANG": "C.UTF-8", "HOME": "/root",
                "TERM": "dumb", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}

    def run(self, args, input=None, check=True, timeout=60, user=None):
        """Runs args inside; returns the CompletedProcess (text, stdout and
        stderr apart). check: fail the test on a non-zero exit."""
        cmd = self.command(args, user)
        try:
            r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                               timeout=timeout, env=self.env())
        except subprocess.TimeoutExpired as e:
            raise AssertionError("%s: no end within %d s" % (shlex.join(args),
                                                            timeout)) from e
        if check and r.returncode != 0:
            raise AssertionError("%s exited with %d\nstdout: %s\nstderr: %s"
                                 % (shlex.join(args), r.returncode, r.stdout,
                                    r.stderr))
        return r

    def sh(self, script, **kw):
        return self.run(["sh", "-ec", script], **kw)

    def spawn(self, args, user=None):
        """Starts args inside and returns at once (a Background); stdin is
        a pipe, the output a file. Killed at the end of the run."""
        n = len(self.background)
        log_path = os.path.join(self.run_dir, "background-%d.log" % n)
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(self.command(args, user),
                                    stdin=subprocess.PIPE, stdout=out,
                                    stderr=subprocess.STDOUT, env=self.env())
        b = Background(proc, log_path, args)
        self.background.append(b)
        return b

    def console_login(self, user):
        """A console login of user on a pty (a ConsoleLogin)."""
        return ConsoleLogin(self, user)

    def systemctl(self, *args, check=True, timeout=60):
        return self.run(["systemctl", "--no-pager"] + list(args), check=check,
                        timeout=timeout)

    def show(self, unit, *props):
        """systemctl show UNIT -p ... as a dict."""
        args = ["show", unit]
        for p in props:
            args += ["-p", p]
        out = self.systemctl(*args).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def write_file(self, path, text, mode="644"):
        """Writes a file inside (through the machine's own view of the
        paths: the root's symlinks never lead onto the host)."""
        self.run(["sh", "-ec", 'mkdir -p "$(dirname "$1")"; umask 077; '
                  'cat > "$1.tmp"; chmod "$2" "$1.tmp"; mv -f "$1.tmp" "$1"',
                  "sh", path, mode], input=text)

    def read_file(self, path):
        return self.run(["cat", path]).stdout

    def remove(self, path):
        self.run(["rm", "-f", path])

    # -- accounts --

    def add_user(self, prefix="user", password=None, groups=(), expired=False,
                 empty_password=False):
        """A fresh account (useradd -m, chpasswd): unique name, uid >= 1000."""
        self._users += 1
        name = "%s%d" % (prefix, self._users)
        if password is None and not empty_password:
            password = "Pw-%s-7q%d" % (name, os.getpid() % 1000)
        args = ["useradd", "--create-home", "--shell", "/bin/bash"]
        if groups:
            args += ["--groups", ",".join(groups)]
        self.run(args + [name])
        if empty_password:
            self.run(["passwd", "--delete", name])
            password = ""
        else:
            self.run(["chpasswd"], input="%s:%s\n" % (name, password))
        if expired:
            self.run(["chage", "--lastday", "0", name])
        uid = int(self.run(["id", "-u", name]).stdout)
        gid = int(self.run(["id", "-g", name]).stdout)
        return User(name, password, uid, gid)

    def add_group(self, name):
        self.run(["groupadd", "--force", name])
        return int(self.run(["getent", "group", name]).stdout.split(":")[2])

    # -- the journal --

    def journal(self, *matches, after=None, extra=()):
        """Entries of the current boot as dicts (journalctl -o json), after
        the cursor `after`, that have every FIELD=VALUE of matches. The
        matches are applied here: journalctl 252 returns nothing for a
        match with --after-cursor once the journal is split by user."""
        args = ["journalctl", "--boot", "--no-pager", "--output=json", "--quiet"]
        if after:
            args.append("--after-cursor=" + after)
        out = self.run(args + list(extra), check=False, timeout=60).stdout
        wanted = [m.split("=", 1) for m in matches]
        entries = []
        for line in out.splitlines():
            try:
                e = {k: _journal_value(v) for k, v in json.loads(line).items()}
            except ValueError:
                continue
            if all(e.get(k) == v for k, v in wanted):
                entries.append(e)
        return entries

    def cursor(self):
        """The cursor of the journal's last entry: journal(after=...) looks
        past it."""
        entries = self.journal(extra=["--lines=1"])
        return entries[-1]["__CURSOR"] if entries else None

    def wait_journal(self, predicate, after=None, timeout=10, message=None,
                     matches=()):
        """Waits until the entries after the cursor (with matches, as for
        journal()) satisfy predicate (a function of the list that returns
        something true, which is returned), or fails with the journal's
        tail."""
        seen = []

        def check():
            seen[:] = self.journal(*matches, after=after)
            return predicate(seen)
        try:
            return hgtest.wait_until(check, timeout=timeout, interval=0.2)
        except AssertionError:
            raise AssertionError("%s within %.0f s; journal:\n%s"
                                 % (message or "journal condition not met",
                                    timeout, format_entries(seen[-60:]))) from None

    def journal_text(self, after=None, lines=150):
        args = ["journalctl", "--boot", "--no-pager", "--output=short-precise",
                "--lines=%d" % lines]
        if after:
            args.append("--after-cursor=" + after)
        return self.run(args, check=False).stdout

    def diagnostics(self, after=None):
        """What a failing test prints: the unit's status, failed units, the
        journal since the test began."""
        parts = []
        for title, args in (
                ("systemctl status hourglassd",
                 ["systemctl", "status", "--no-pager", "--full", "--lines=0", UNIT]),
                ("systemctl --failed", ["systemctl", "--failed", "--no-pager"])):
            try:
                r = self.run(args, check=False, timeout=20)
                parts.append("--- %s:\n%s%s" % (title, r.stdout, r.stderr))
            except AssertionError as e:
                parts.append("--- %s: %s" % (title, e))
        try:
            parts.append("--- journal%s:\n%s" % (
                " since the test began" if after else "",
                self.journal_text(after=after)))
        except AssertionError as e:
            parts.append("--- journal: %s" % e)
        return "\n".join(parts)


def _journal_value(v):
    if isinstance(v, list) and v and all(isinstance(x, int) for x in v):
        return bytes(v).decode("utf-8", "replace")
    return v


def format_entries(entries):
    return "\n".join("%s %s[%s]: %s" % (
        e.get("__REALTIME_TIMESTAMP", ""), e.get("SYSLOG_IDENTIFIER", "?"),
        e.get("_PID", ""), e.get("MESSAGE", "")) for e in entries)
