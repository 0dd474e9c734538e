#!/usr/bin/python3
"""tools/run-demo leaves nothing behind: started on an existing build
(--no-build) on a free port, with a session open (so a PAM helper runs),
then stopped as a terminal's Ctrl-C stops it (SIGINT to its whole process
group, once or twice), or with SIGTERM or SIGHUP to the script alone: every
process it started (its dbus-daemon, hourglassd, the PAM helper) is gone
when it has exited, and so is its temporary directory.

This test is a subreaper (hgtest): a process the demo orphaned would
become our child, found alive (or as a zombie, reaped) below, not lost to
PID 1. Runs alone too:
  HG_BUILD_ROOT=build /usr/bin/python3 tests/demo/test_demo.py
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import hgtest  # noqa: E402

RUN_DEMO = os.path.join(hgtest.SOURCE_ROOT, "tools", "run-demo")
CTL = os.path.join(hgtest.BUILD_ROOT, "tools", "hourglassctl")


def descendants(pid):
    """Every process below pid, now."""
    found, todo = set(), [pid]
    while todo:
        kids = hgtest.children_of(todo.pop()) - found
        found |= kids
        todo += kids
    return found


def pending(pid):
    """The signals pending for pid (its own and its process's)."""
    mask = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("SigPnd:", "ShdPnd:")):
                    mask |= int(line.split()[1], 16)
    except OSError:
        pass
    return {n for n in range(1, 65) if mask & (1 << (n - 1))}


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def as_in_a_terminal():
    """In the child: the signals a terminal sends take their default
    action, whatever this test inherited (a shell's background job
    ignores SIGINT, nohup SIGHUP, and a shell cannot trap a signal that
    was ignored when it started)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


class Demo:
    """tools/run-demo in a process group of its own, as a shell runs a
    foreground command: its output in a file, read with deadlines."""

    def __init__(self, test):
        self.port = hgtest.free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.out_path = os.path.join(test.tmp, "run-demo.out")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LD_", "PAM_", "NSS_WRAPPER", "DBUS_",
                                    "ASAN_", "UBSAN_", "LSAN_"))}
        with open(self.out_path, "wb") as out:
            self.proc = hgtest.spawn(
                [RUN_DEMO, "--no-build", "--build-dir", hgtest.BUILD_ROOT,
                 "--listen", self.host],
                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, preexec_fn=as_in_a_terminal)
        self.tmp = None

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout=30.0):
        """Serving, with its bus address printed; returns that address."""
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("run-demo exited with %r:\n%s"
                                     % (self.proc.returncode, self.output()))
            m = re.search(r"export DBUS_SYSTEM_BUS_ADDRESS=(\S+)",
                          self.output())
            return m and self.get("/") == 200 and m.group(1)
        return hgtest.wait_until(up, timeout,
                                 message="the demo did not start:\n%s"
                                 % self.output())

    def get(self, path):
        req = urllib.request.Request("http://%s%s" % (self.host, path))
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except OSError:
            return None

    def sign_in(self, user="demo", password="demo"):
        req = urllib.request.Request(
            "http://%s/api/login" % self.host,
            data=json.dumps({"user": user, "password": password}).encode(),
            headers={"Content-Type": "application/json",
                     "Origin": "http://" + self.host})
        with urllib.request.urlopen(req, timeout=15) as r:
            return json.loads(r.read())

    def wait_exit(self, timeout=30.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("run-demo still running %.0f s after the "
                                 "signal:\n%s" % (timeout, self.output()))


class DemoCleanupTest(hgtest.TestCase):
    def setUp(self):
        if not os.path.exists(os.path.join(hgtest.BUILD_ROOT, "daemon",
                                           "hourglassd")):
            self.skipTest("no hourglassd in " + hgtest.BUILD_ROOT)
        self.tmp = self.scratch_dir()

    def start_demo(self):
        """A running demo with one session; (demo, every process below it:
        {pid: comm})."""
        demo = Demo(self)
        self.addCleanup(self.kill_leftovers, demo)
        bus = demo.wait_ready()
        self.assertEqual(demo.sign_in(), {"state": "authenticated",
                                          "messages": []})
        # Its operators' bus works (hourglassctl as the demo says).
        ctl = subprocess.run([CTL, "--no-legend", "list"], timeout=30,
                             env=dict(os.environ,
                                      DBUS_SYSTEM_BUS_ADDRESS=bus),
                             capture_output=True, text=True)
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        self.assertRegex(ctl.stdout, r"\bdemo\s+web\s+active\b")
        procs = hgtest.wait_until(
            lambda: self.started(demo), 10,
            message="expected dbus-daemon, hourglassd and a PAM helper "
            "below run-demo")
        demo.tmp = re.search(r"configuration is (/tmp/hourglass-demo\.\w+)/",
                             demo.output()).group(1)
        self.assertTrue(os.path.isdir(demo.tmp))
        return demo, procs

    @staticmethod
    def started(demo):
        procs = {pid: comm(pid) for pid in descendants(demo.proc.pid)}
        names = set(procs.values())
        want = {"dbus-daemon", "hourglassd"}
        if want <= names and any(n and hgtest.HELPER_NAME.startswith(n)
                                 for n in names):
            return procs
        return None

    def assert_all_gone(self, demo, procs):
        """Nothing run-demo started is left (orphans reparent to us: they
        would be found running, or reaped as zombies)."""
        try:
            self.assertGone(list(procs), timeout=10)
        except AssertionError:
            left = {p: comm(p) for p in procs if hgtest.pid_running(p)}
            raise AssertionError("left behind by run-demo: %r\n%s"
                                 % (left, demo.output())) from None
        self.assertFalse(os.path.exists(demo.tmp), demo.tmp + " was kept")

    def kill_leftovers(self, demo):
        """Whatever a failed test left, by PID (the fixture's own cleanup;
        the test has failed already if there is any)."""
        if demo.proc.poll() is None:
            hgtest.kill_pid(demo.proc.pid)
        for pid in descendants(os.getpid()):
            if comm(pid) in ("dbus-daemon", "hourglassd") or \
                    hgtest.is_helper(pid):
                hgtest.kill_pid(pid)
                hgtest.reap(pid)
        if demo.tmp:
            shutil.rmtree(demo.tmp, ignore_errors=True)

    def test_ctrl_c(self):
        demo, procs = self.start_demo()
        # What a terminal does on Ctrl-C: SIGINT to the foreground group.
        os.killpg(demo.proc.pid, signal.SIGINT)
        self.assertEqual(demo.wait_exit(), 130)
        self.assert_all_gone(demo, procs)

    def test_ctrl_c_twice(self):
        # The second Ctrl-C lands while the first one's cleanup waits for
        # hourglassd (stopped here, so that it waits): the cleanup still
        # finishes.
        demo, procs = self.start_demo()
        [daemon] = [p for p, name in procs.items() if name == "hourglassd"]
        os.kill(daemon, signal.SIGSTOP)
        self.addCleanup(hgtest.kill_pid, daemon, signal.SIGCONT)
        hgtest.wait_until(lambda: hgtest.proc_state(daemon) == "T", 5)
        os.killpg(demo.proc.pid, signal.SIGINT)
        hgtest.wait_until(lambda: signal.SIGTERM in pending(daemon), 10,
                          message="run-demo did not send hourglassd SIGTERM")
        os.killpg(demo.proc.pid, signal.SIGINT)
        os.kill(daemon, signal.SIGCONT)
        self.assertEqual(demo.wait_exit(), 130)
        self.assert_all_gone(demo, procs)

    def test_sigterm_to_the_script(self):
        demo, procs = self.start_demo()
        demo.proc.send_signal(signal.SIGTERM)
        self.assertEqual(demo.wait_exit(), 143)
        self.assert_all_gone(demo, procs)

    def test_sighup_to_the_script(self):
        # The terminal closed.
        demo, procs = self.start_demo()
        demo.proc.send_signal(signal.SIGHUP)
        self.assertEqual(demo.wait_exit(), 129)
        self.assert_all_gone(demo, procs)


if __name__ == "__main__":
    hgtest.main()
