#!/usr/bin/python3
"""hourglassctl against a stand-in for hourglassd on a private system bus,
and against the real hourglassd.

A dbus-daemon of type "system" with an allow-everything policy runs in a
temporary directory; python-dbusmock owns org.hourglass1 on it and plays
the Manager and Session interfaces of dbus/org.hourglass1.*.xml (session
objects at /org/hourglass1/session/<id escaped as sd_bus_path_encode does>).
What only the real daemon can tell (policy rules and their explanation,
waiting, a person's more time, the warning of a limit) runs against
hourglassd from the build tree on a bus of its own, with the integration
tests' fixtures (tests/integration/hgtest.py, hgbus.py: fake users from
nss_wrapper, passwords from pam_wrapper); hourglassctl then runs as root
or, through setpriv, as the session's own user.
A test-only interface on the Manager object, org.hourglass1.Test, makes a
method fail with a given D-Bus error, or list sessions whose objects are
gone; a hung daemon is the mock stopped (SIGSTOP). The built hourglassctl
runs with DBUS_SYSTEM_BUS_ADDRESS pointing at that bus. Nothing sleeps a
fixed time: waits are the integration tests' polls with a deadline
(hgtest.wait_until), and every process is started and stopped by PID
through hgtest.spawn().

Run by meson (suites integration and ctl), or by hand:
  HG_BUILD_ROOT=build /usr/bin/python3 tests/ctl/test_ctl.py
"""

import contextlib
import json
import math
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import dbus
import dbus.bus

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))
# The daemon of the real-daemon tests is the one built beside this
# hourglassctl.
if os.environ.get("HOURGLASSCTL") and not os.environ.get("HG_BUILD_ROOT"):
    os.environ["HG_BUILD_ROOT"] = os.path.dirname(os.path.dirname(
        os.path.abspath(os.environ["HOURGLASSCTL"])))

import hgbus  # noqa: E402
import hgtest  # noqa: E402
from hgtest import wait_until  # noqa: E402

CTL = os.environ.get("HOURGLASSCTL") or os.path.join(
    hgtest.BUILD_ROOT, "tools", "hourglassctl")
PYTHON = "/usr/bin/python3"

BUS_NAME = "org.hourglass1"
MANAGER_PATH = "/org/hourglass1"
MANAGER_IFACE = "org.hourglass1.Manager"
SESSION_IFACE = "org.hourglass1.Session"
SESSION_PREFIX = "/org/hourglass1/session/"
TEST_IFACE = "org.hourglass1.Test"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
NO_SUCH_SESSION = "org.hourglass1.Error.NoSuchSession"
ALICE, CAROL = 1001, 1003  # tests/data/passwd; alice is in kiosk-admins

USEC = 1000000
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def duration(sec):
    """A duration as hourglassctl prints it: 42s, 3m07s, 1h02m, 2d05h."""
    if sec < 60:
        return "%ds" % sec
    if sec < 3600:
        return "%dm%02ds" % (sec // 60, sec % 60)
    if sec < 86400:
        return "%dh%02dm" % (sec // 3600, sec // 60 % 60)
    return "%dd%02dh" % (sec // 86400, sec // 3600 % 24)


def durations(first, last):
    """What may be printed for a span known to lie within [first, last]
    seconds (the command ran some time in between)."""
    return {duration(sec) for sec in range(int(first), int(last) + 1)}


def path_of(session_id):
    """The object path hourglassd gives a session: sd_bus_path_encode()
    escapes what is not alphanumeric, and a leading digit, as _xx."""
    label = "".join(
        c if c.isascii() and c.isalnum() and not (i == 0 and c.isdigit())
        else "_%02x" % ord(c)
        for i, c in enumerate(session_id))
    return SESSION_PREFIX + (label or "_")


class Bus:
    """A private dbus-daemon of type system, stopped by PID."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hg-ctl-bus-")
        config = os.path.join(self.dir, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(dir=self.dir))
        read_end, write_end = os.pipe()
        # Its complaints (it may not raise its fd limit) go to a log file.
        log = open(os.path.join(self.dir, "bus.log"), "w")
        try:
            self.proc = hgtest.spawn(
                ["dbus-daemon", "--config-file=" + config, "--nofork",
                 "--print-address=%d" % write_end],
                pass_fds=(write_end,), stdin=subprocess.DEVNULL, stderr=log)
        finally:
            os.close(write_end)
            log.close()
        try:
            self.address = self._read_address(read_end)
        finally:
            os.close(read_end)

    @staticmethod
    def _read_address(fd, timeout=10.0):
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError("dbus-daemon printed no address")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError("dbus-daemon exited")
            data += chunk
        return data.decode().strip()

    def stop(self):
        hgtest.stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def _failing(method, body):
    """Mock code: the test's error for this method first."""
    return ("error = getattr(self, 'hg_errors', {}).get(%r)\n"
            "if error:\n"
            "    raise dbus.exceptions.DBusException('refused by the test',"
            " name=error)\n" % method) + body


# The session path for args[0], as path_of() above; and NoSuchSession for an
# id without an object, as hourglassd answers.
_LOOKUP = (
    "sid = args[0]\n"
    "label = ''\n"
    "for i, c in enumerate(sid):\n"
    "    keep = c.isascii() and c.isalnum() and not (i == 0 and c.isdigit())\n"
    "    label += c if keep else '_%02x' % ord(c)\n"
    "path = '" + SESSION_PREFIX + "' + (label or '_')\n"
    "if path not in objects:\n"
    "    raise dbus.exceptions.DBusException('no session ' + sid,"
    " name='" + NO_SUCH_SESSION + "')\n")

_LIST = (
    "ret = []\n"
    "for path in sorted(objects):\n"
    "    if path.startswith('" + SESSION_PREFIX + "'):\n"
    "        p = objects[path].props['" + SESSION_IFACE + "']\n"
    "        ret.append((p['Id'], p['User'], p['Source'], p['State'],"
    " dbus.ObjectPath(path)))\n"
    "for ghost in getattr(self, 'hg_ghosts', []):\n"
    "    ret.append(tuple(ghost))\n")

MANAGER_METHODS = [
    ("ListSessions", "", "a(sssso)", _failing("ListSessions", _LIST)),
    ("GetSession", "s", "o",
     _failing("GetSession", _LOOKUP + "ret = dbus.ObjectPath(path)\n")),
    ("TerminateSession", "s", "", _failing("TerminateSession", _LOOKUP)),
    ("ExtendSession", "s", "", _failing("ExtendSession", _LOOKUP)),
    ("RegisterDesktopSession", "s", "s", "ret = ''"),
    ("UnregisterDesktopSession", "s", "", ""),
]

TEST_METHODS = [
    ("SetError", "ss",
     "self.hg_errors = dict(getattr(self, 'hg_errors', {}))\n"
     "self.hg_errors[args[0]] = args[1]\n"),
    ("SetGhosts", "a(sssso)", "self.hg_ghosts = list(args[0])\n"),
    ("Reset", "",
     "self.hg_errors = {}\nself.hg_ghosts = []\n"),
]


class Mock:
    """python-dbusmock as org.hourglass1 on a Bus."""

    def __init__(self, bus, log_path):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        self.proc = hgtest.spawn(
            [PYTHON, "-m", "dbusmock", "--system", "-l", log_path, BUS_NAME,
             MANAGER_PATH, MANAGER_IFACE],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.conn = dbus.bus.BusConnection(bus.address)
        wait_until(lambda: self.conn.name_has_owner(BUS_NAME),
                   message="dbusmock did not take " + BUS_NAME)
        self.manager = self.conn.get_object(BUS_NAME, MANAGER_PATH)
        self.mock = dbus.Interface(self.manager, MOCK_IFACE)
        self.test = dbus.Interface(self.manager, TEST_IFACE)
        self.mock.AddMethods("", [(n, i, o, c) for n, i, o, c in
                                  MANAGER_METHODS])
        self.mock.AddMethods(TEST_IFACE, [(n, i, "", c) for n, i, c in
                                          TEST_METHODS])
        self.mock.AddProperties(MANAGER_IFACE, {
            "WarnAfterSec": dbus.UInt32(540),
            "ExpireAfterSec": dbus.UInt32(600),
            "MaxSessionSec": dbus.UInt32(28800),
            "CloseAfterSec": dbus.UInt32(30),
        })

    def add_session(self, session_id, user, source, state, created,
                    last_activity, warn_at, expires_at, extra=None):
        path = path_of(session_id)
        props = {
            "Id": dbus.String(session_id),
            "User": dbus.String(user),
            "Source": dbus.String(source),
            "State": dbus.String(state),
            "Created": dbus.UInt64(created),
            "LastActivity": dbus.UInt64(last_activity),
            "WarnAt": dbus.UInt64(warn_at),
            "ExpiresAt": dbus.UInt64(expires_at),
        }
        props.update(extra or {})
        self.mock.AddObject(path, SESSION_IFACE, props,
                            [("Terminate", "", "", ""), ("Extend", "", "", "")])
        return path

    def session_mock(self, path):
        return dbus.Interface(self.conn.get_object(BUS_NAME, path), MOCK_IFACE)

    def calls(self, method=None):
        calls = [(str(name), [str(a) for a in args])
                 for _, name, args in self.mock.GetCalls()]
        return [c for c in calls if method is None or c[0] == method]

    @contextlib.contextmanager
    def hung(self):
        """The daemon stops answering (SIGSTOP) until the block ends."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        self.conn.close()
        hgtest.stop_process(self.proc)


# A web session active for ten minutes, idle 3 min 5.5 s, from a daemon
# without policies; a desktop session in its warning, idle 1 h 2 min, with
# no idle timeout (ExpiresAt 0), locked by lock-then-terminate, its limit
# in an hour, one extension taken of one. The first id starts with a
# digit, so its object path is escaped.
WEB_ID = "0123456789abcdef0123456789abcdef"
DESKTOP_ID = "fedcba9876543210fedcba9876543210"
GHOST_ID = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
UNKNOWN_ID = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


class LineReader:
    """Lines of a child's stdout, read by a thread, waited for with a
    deadline."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(stream,),
                                       daemon=True)
        self.thread.start()

    def _run(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout=10.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output line within %.1f s" % timeout)


class CtlTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hg-ctl-test-")
        cls.bus = Bus()
        cls.mock = Mock(cls.bus, os.path.join(cls.tmp, "mock.log"))
        now = int(time.time() * USEC)
        cls.web_last = now - int(185.5 * USEC)
        cls.mock.add_session(WEB_ID, "alice", "web", "active",
                             now - 600 * USEC, cls.web_last,
                             cls.web_last + 540 * USEC,
                             cls.web_last + 600 * USEC)
        cls.desktop_limit = now + 3600 * USEC
        cls.mock.add_session(DESKTOP_ID, "bob", "desktop", "warning",
                             now - 7200 * USEC, now - 3720 * USEC,
                             now - 3600 * USEC, 0, {
                                 "Policy": dbus.String("lab"),
                                 "Action": dbus.String("lock-then-terminate"),
                                 "Warning": dbus.String("locked"),
                                 "Stage": dbus.String("locked"),
                                 "LockAt": dbus.UInt64(0),
                                 "LimitAt": dbus.UInt64(cls.desktop_limit),
                                 "Extensions": dbus.UInt32(1),
                                 "ExtensionsLeft": dbus.UInt32(0),
                             })

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()
        cls.bus.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.mock.test.Reset()
        self.mock.mock.ClearCalls()

    def ctl(self, *args, env=None, timeout=30):
        full_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address,
                        LC_ALL="C.UTF-8")
        full_env.pop("HOURGLASSCTL_BUS_ADDRESS", None)
        full_env.update(env or {})
        return subprocess.run([CTL] + list(args), env=full_env,
                              capture_output=True, text=True,
                              timeout=timeout)

    def assertExit(self, result, status, stderr=None):
        self.assertEqual(result.returncode, status,
                         "stdout: %r, stderr: %r"
                         % (result.stdout, result.stderr))
        if stderr is not None:
            self.assertEqual(result.stderr, stderr)


class ListTest(CtlTestCase):
    def test_table(self):
        before = time.time()
        result = self.ctl("list")
        after = time.time()
        self.assertExit(result, 0, "")
        lines = result.stdout.split("\n")
        self.assertEqual(lines[0].split(),
                         ["ID", "USER", "SOURCE", "STATE", "IDLE", "EXPIRES",
                          "IN"])
        # Oldest first; idle 1h02m and no expiry for the desktop session.
        self.assertEqual(lines[1].split(),
                         [DESKTOP_ID, "bob", "desktop", "warning", "1h02m",
                          "-"])
        row = lines[2].split()
        self.assertEqual(row[:4], [WEB_ID, "alice", "web", "active"])
        idle_lo, idle_hi = (before - self.web_last / USEC,
                            after - self.web_last / USEC)
        self.assertIn(row[4], durations(idle_lo, idle_hi))
        self.assertIn(row[5], durations(math.ceil(600 - idle_hi),
                                        math.ceil(600 - idle_lo)))
        self.assertEqual(lines[3:], ["", "2 sessions listed.", ""])
        # Columns line up under their headers.
        self.assertEqual(lines[1].index("bob"), lines[0].index("USER"))
        self.assertEqual(lines[2].index("6m"), lines[0].index("EXPIRES IN"))

    def test_no_legend(self):
        result = self.ctl("--no-legend", "list")
        self.assertExit(result, 0, "")
        ids = [line.split()[0] for line in result.stdout.splitlines()]
        self.assertEqual(ids, [DESKTOP_ID, WEB_ID])

    def test_default_command_is_list(self):
        result = self.ctl("--no-legend")
        self.assertExit(result, 0, "")
        self.assertEqual(len(result.stdout.splitlines()), 2)

    def test_json(self):
        before = time.time()
        result = self.ctl("list", "--json")
        self.assertExit(result, 0, "")
        sessions = json.loads(result.stdout)
        self.assertEqual([s["id"] for s in sessions], [DESKTOP_ID, WEB_ID])
        desktop, web = sessions
        self.assertEqual(desktop["user"], "bob")
        self.assertEqual(desktop["source"], "desktop")
        self.assertEqual(desktop["state"], "warning")
        self.assertEqual(desktop["expires_at"], 0)
        self.assertIsNone(desktop["expires_in_sec"])
        self.assertEqual(web["last_activity"], self.web_last)
        self.assertEqual(web["warn_at"], self.web_last + 540 * USEC)
        self.assertEqual(web["expires_at"], self.web_last + 600 * USEC)
        self.assertEqual(web["path"], path_of(WEB_ID))
        idle = before - self.web_last / USEC
        self.assertTrue(int(idle) <= web["idle_sec"] <= int(idle) + 5,
                        web["idle_sec"])
        self.assertEqual(web["idle_sec"] + web["expires_in_sec"], 600)
        for key in ("created", "last_activity", "warn_at", "expires_at",
                    "idle_sec"):
            self.assertIsInstance(web[key], int)

    def test_vanished_session_is_skipped(self):
        self.mock.test.SetGhosts([(GHOST_ID, "carol", "web", "active",
                                   dbus.ObjectPath(path_of(GHOST_ID)))])
        result = self.ctl("list", "--no-legend")
        self.assertExit(result, 0, "")
        self.assertNotIn(GHOST_ID, result.stdout)
        self.assertEqual(len(result.stdout.splitlines()), 2)
        result = self.ctl("list", "--json")
        self.assertExit(result, 0, "")
        self.assertEqual(len(json.loads(result.stdout)), 2)


class StatusTest(CtlTestCase):
    def test_human(self):
        before = time.time()
        result = self.ctl("status", WEB_ID)
        after = time.time()
        idle_lo, idle_hi = (before - self.web_last / USEC,
                            after - self.web_last / USEC)
        self.assertExit(result, 0, "")
        fields = dict(re.match(r"^\s*([^:]+): (.*)$", line).groups()
                      for line in result.stdout.splitlines())
        self.assertEqual(fields["Id"], WEB_ID)
        self.assertEqual(fields["User"], "alice")
        self.assertEqual(fields["Source"], "web")
        self.assertEqual(fields["State"], "active")
        self.assertEqual(fields["Object"], path_of(WEB_ID))
        times = {key: re.match("^(%s) \\((.*)\\)$" % TIMESTAMP,
                               fields[key]).groups()
                 for key in ("Created", "Last activity", "Warns at",
                             "Expires at")}
        self.assertEqual(times["Last activity"][0], time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(self.web_last // USEC)))
        self.assertIn(times["Created"][1],
                      {d + " ago" for d in durations(idle_lo + 414.5,
                                                     idle_hi + 414.5)})
        self.assertIn(times["Last activity"][1],
                      {d + " ago" for d in durations(idle_lo, idle_hi)})
        self.assertIn(times["Warns at"][1],
                      {"in " + d for d in durations(
                          math.ceil(540 - idle_hi), math.ceil(540 - idle_lo))})
        self.assertIn(times["Expires at"][1],
                      {"in " + d for d in durations(
                          math.ceil(600 - idle_hi), math.ceil(600 - idle_lo))})
        self.assertEqual(self.mock.calls("GetSession"), [("GetSession", [WEB_ID])])

    def test_never_expires(self):
        result = self.ctl("status", DESKTOP_ID)
        self.assertExit(result, 0, "")
        self.assertRegex(result.stdout, r"(?m)^   Expires at: never$")

    def test_policy_fields(self):
        before = time.time()
        result = self.ctl("status", DESKTOP_ID)
        after = time.time()
        self.assertExit(result, 0, "")
        lines = result.stdout.splitlines()
        self.assertEqual(lines[3:8], [
            "        State: warning",
            "      Warning: locked",
            "        Stage: locked",
            "       Policy: lab",
            "       Action: lock-then-terminate",
        ])
        self.assertEqual(lines[12], "     Locks at: locked now")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S",
                              time.localtime(self.desktop_limit // USEC))
        left = self.desktop_limit / USEC
        self.assertIn(lines[13], {"     Limit at: %s (in %s)" % (stamp, d)
                                  for d in durations(math.ceil(left - after),
                                                     math.ceil(left - before))})
        self.assertEqual(lines[14], "   Extensions: 1 taken, 0 left")

    def test_older_daemon_shows_no_policy(self):
        # The web session's daemon knows no policies: no line for them.
        result = self.ctl("status", WEB_ID)
        self.assertExit(result, 0, "")
        labels = [line.split(":")[0].strip()
                  for line in result.stdout.splitlines()]
        self.assertEqual(labels, ["Id", "User", "Source", "State", "Created",
                                  "Last activity", "Warns at", "Expires at",
                                  "Object"])
        web = json.loads(self.ctl("--json", "status", WEB_ID).stdout)
        for key in ("policy", "action", "warning", "stage", "lock_at",
                    "limit_at", "extensions", "extensions_left"):
            self.assertNotIn(key, web)

    def test_json(self):
        result = self.ctl("--json", "status", DESKTOP_ID)
        self.assertExit(result, 0, "")
        session = json.loads(result.stdout)
        self.assertEqual(session["id"], DESKTOP_ID)
        self.assertEqual(session["user"], "bob")
        self.assertEqual(session["source"], "desktop")
        self.assertIsNone(session["expires_in_sec"])
        self.assertTrue(3720 <= session["idle_sec"] <= 3730)
        self.assertEqual(
            {k: session[k] for k in ("policy", "action", "warning", "stage",
                                     "lock_at", "limit_at", "extensions",
                                     "extensions_left")},
            {"policy": "lab", "action": "lock-then-terminate",
             "warning": "locked", "stage": "locked", "lock_at": 0,
             "limit_at": self.desktop_limit, "extensions": 1,
             "extensions_left": 0})

    def test_unknown_session(self):
        result = self.ctl("status", UNKNOWN_ID)
        self.assertExit(result, 1, "hourglassctl: no session %s\n" % UNKNOWN_ID)


class ControlTest(CtlTestCase):
    def test_terminate(self):
        result = self.ctl("terminate", WEB_ID)
        self.assertExit(result, 0, "")
        self.assertEqual(result.stdout, "")
        self.assertEqual(self.mock.calls(),
                         [("TerminateSession", [WEB_ID])])

    def test_extend(self):
        # Not the caller's own session: the operator's ExtendSession, once
        # the session is read to tell.
        result = self.ctl("extend", DESKTOP_ID)
        self.assertExit(result, 0, "")
        self.assertEqual(self.mock.calls(), [("GetSession", [DESKTOP_ID]),
                                             ("ExtendSession", [DESKTOP_ID])])

    def test_extend_operator(self):
        result = self.ctl("extend", "--operator", DESKTOP_ID)
        self.assertExit(result, 0, "")
        self.assertEqual(self.mock.calls(), [("ExtendSession", [DESKTOP_ID])])

    def test_terminate_denied(self):
        self.mock.test.SetError("TerminateSession", ACCESS_DENIED)
        result = self.ctl("terminate", WEB_ID)
        self.assertExit(
            result, 1,
            "hourglassctl: permission denied: terminating sessions needs root"
            " or the admin group ([DBus] AdminGroup)\n")
        self.assertEqual(self.mock.calls("TerminateSession"),
                         [("TerminateSession", [WEB_ID])])

    def test_extend_denied(self):
        self.mock.test.SetError("ExtendSession", ACCESS_DENIED)
        result = self.ctl("extend", WEB_ID)
        self.assertExit(
            result, 1,
            "hourglassctl: permission denied: extending a session needs root,"
            " the admin group ([DBus] AdminGroup) or the session's own user\n")

    def test_list_denied(self):
        self.mock.test.SetError("ListSessions", ACCESS_DENIED)
        result = self.ctl("list")
        self.assertExit(result, 1,
                        "hourglassctl: permission denied: refused by the test\n")

    def test_no_such_session(self):
        for verb in ("terminate", "extend"):
            result = self.ctl(verb, UNKNOWN_ID)
            self.assertExit(result, 1,
                            "hourglassctl: no session %s\n" % UNKNOWN_ID)

    def test_invalid_args(self):
        self.mock.test.SetError("ExtendSession", INVALID_ARGS)
        result = self.ctl("extend", WEB_ID)
        self.assertExit(result, 1, "hourglassctl: hourglassd refused the "
                        "request: refused by the test\n")

    def test_timeout(self):
        # The mock does not answer while stopped; the message says the call
        # gave up (an answer would have been a success).
        with self.mock.hung():
            result = self.ctl("--timeout", "0.2", "list")
        self.assertExit(result, 1, "hourglassctl: hourglassd did not answer "
                        "within 0.2 s (see --timeout)\n")


class UsageTest(CtlTestCase):
    def assertUsage(self, args, stderr_re):
        result = self.ctl(*args)
        self.assertEqual(result.returncode, 2, result)
        self.assertEqual(result.stdout, "")
        self.assertRegex(result.stderr, stderr_re)
        self.assertEqual(len(result.stderr.splitlines()), 1 if
                         stderr_re.startswith("^hourglassctl: ") else 2)

    def test_malformed_ids_are_not_sent(self):
        for verb in ("status", "terminate", "extend"):
            for bad in ("0123", WEB_ID.upper(), WEB_ID + "0",
                        "g" + WEB_ID[1:], WEB_ID[:31] + "\n", "",
                        "../" + WEB_ID[3:]):
                self.assertUsage([verb, bad],
                                 r"^hourglassctl: invalid session id ")
        self.assertEqual(self.mock.calls(), [])

    def test_unknown_command(self):
        self.assertUsage(["frobnicate"],
                         r"^hourglassctl: unknown command 'frobnicate'")

    def test_missing_and_extra_arguments(self):
        self.assertUsage(["terminate"], r"^hourglassctl: 'terminate' needs")
        self.assertUsage(["list", "x"],
                         r"^hourglassctl: unexpected argument 'x'")
        self.assertUsage(["extend", WEB_ID, WEB_ID],
                         r"^hourglassctl: unexpected argument")
        self.assertEqual(self.mock.calls(), [])

    def test_policy_usage(self):
        self.assertUsage(["policy"],
                         r"^hourglassctl: 'policy' needs a command \(explain\)")
        self.assertUsage(["policy", "frob", "alice"],
                         r"^hourglassctl: unknown policy command 'frob'")
        self.assertUsage(["policy", "explain"],
                         r"^hourglassctl: 'policy explain' needs a user name")
        self.assertUsage(["policy", "explain", ""],
                         r"^hourglassctl: invalid user name ''")
        self.assertUsage(["policy", "explain", "alice", "bob"],
                         r"^hourglassctl: unexpected argument 'bob'")
        self.assertUsage(["policy", "explain", "alice", "--source", "kiosk"],
                         r"^hourglassctl: invalid --source 'kiosk': web or "
                         r"desktop expected \(see --help\)$")
        self.assertUsage(["policy", "explain", "alice", "--source="],
                         r"^hourglassctl: invalid --source ''")
        self.assertUsage(["policy", "explain", "alice", "--seat", ""],
                         r"^hourglassctl: --seat needs a name")
        self.assertUsage(["policy", "explain", "alice", "--service="],
                         r"^hourglassctl: --service needs a name")
        self.assertUsage(["policy", "explain", "alice", "--source"],
                         r"requires an argument")
        self.assertEqual(self.mock.calls(), [])

    def test_command_options_belong_to_their_command(self):
        self.assertUsage(["list", "--source", "web"],
                         r"^hourglassctl: --source does not apply to 'list'")
        self.assertUsage(["--seat", "seat0", "status", WEB_ID],
                         r"^hourglassctl: --seat does not apply to 'status'")
        self.assertUsage(["policy", "explain", "alice", "--own"],
                         r"^hourglassctl: --own does not apply to 'policy'")
        self.assertUsage(["extend", "--own", "--operator", WEB_ID],
                         r"^hourglassctl: --own and --operator exclude each "
                         r"other")
        self.assertEqual(self.mock.calls(), [])

    def test_extend_and_waiting_usage(self):
        # hourglassd grants what the policy says (ExtendBySec): no seconds.
        self.assertUsage(["extend", WEB_ID, "600"],
                         r"^hourglassctl: unexpected argument '600'")
        self.assertUsage(["waiting", "maybe"],
                         r"^hourglassctl: invalid argument 'maybe': on or off "
                         r"expected")
        self.assertUsage(["waiting", "on", "off"],
                         r"^hourglassctl: unexpected argument 'off'")
        self.assertEqual(self.mock.calls(), [])

    def test_allowance_usage(self):
        self.assertUsage(["allowance"],
                         r"^hourglassctl: 'allowance' needs a user name")
        self.assertUsage(["allowance", ""],
                         r"^hourglassctl: invalid user name ''")
        self.assertUsage(["allowance", "alice", "bob"],
                         r"^hourglassctl: unexpected argument 'bob'")
        for bad in ("0", "-5", "86401", "1e3", "10s", "", " 5", "99999999999"):
            self.assertUsage(["allowance", "alice", "--grant", bad],
                             r"^hourglassctl: invalid --grant '.*': seconds "
                             r"from 1 to 86400 expected \(see --help\)$")
        self.assertUsage(["allowance", "alice", "--grant", "60", "--source",
                          "web"],
                         r"^hourglassctl: --grant takes no --source")
        self.assertUsage(["status", "--grant", "60"],
                         r"^hourglassctl: --grant does not apply to 'status'")
        self.assertEqual(self.mock.calls(), [])

    def test_bad_options(self):
        self.assertUsage(["--frob", "list"], r"unrecognized option")
        self.assertUsage(["--timeout", "0", "list"],
                         r"^hourglassctl: invalid --timeout '0'")
        self.assertUsage(["--timeout", "soon", "list"],
                         r"^hourglassctl: invalid --timeout 'soon'")

    def test_help_and_version(self):
        result = self.ctl("--help")
        self.assertExit(result, 0, "")
        self.assertIn("terminate ID", result.stdout)
        self.assertIn("policy explain USER", result.stdout)
        self.assertIn("waiting [on|off]", result.stdout)
        self.assertIn("allowance USER", result.stdout)
        result = self.ctl("--version")
        self.assertExit(result, 0, "")
        self.assertRegex(result.stdout, r"^hourglassctl \d+\.\d+")


class NoDaemonTest(CtlTestCase):
    def test_daemon_absent(self):
        # HOURGLASSCTL_BUS_ADDRESS wins over DBUS_SYSTEM_BUS_ADDRESS: this
        # bus has no org.hourglass1.
        empty = Bus()
        try:
            for verb in (["list"], ["status", WEB_ID], ["terminate", WEB_ID]):
                result = self.ctl(
                    *verb, env={"HOURGLASSCTL_BUS_ADDRESS": empty.address})
                self.assertExit(result, 1, "hourglassctl: hourglassd is not "
                                "running (org.hourglass1 not on the system "
                                "bus)\n")
        finally:
            empty.stop()
        self.assertEqual(self.mock.calls(), [])

    def test_bus_unreachable(self):
        missing = "unix:path=" + os.path.join(self.tmp, "no-such-socket")
        result = self.ctl("list", env={"DBUS_SYSTEM_BUS_ADDRESS": missing})
        self.assertExit(result, 1, "hourglassctl: cannot connect to the "
                        "system bus: No such file or directory\n")


class CompletionTest(CtlTestCase):
    """data/completion/hourglassctl, sourced by bash, asked as bash would
    ask it; the ids come from the built hourglassctl and the mock."""

    SCRIPT = os.path.join(SOURCE_ROOT, "data", "completion", "hourglassctl")

    def complete(self, line):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        env.pop("HOURGLASSCTL_BUS_ADDRESS", None)
        result = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c",
             'source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; '
             '_hourglassctl; printf "%s\\n" "${COMPREPLY[@]}"',
             "bash", self.SCRIPT, line],
            env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        return [w for w in result.stdout.split("\n") if w]

    def test_commands_and_options(self):
        self.assertEqual(self.complete(CTL + " "),
                         ["list", "status", "terminate", "extend", "monitor",
                          "policy", "waiting", "allowance"])
        self.assertEqual(self.complete(CTL + " --timeout 5 e"), ["extend"])
        self.assertEqual(self.complete(CTL + " --no"), ["--no-legend"])
        self.assertEqual(self.complete(CTL + " --timeout "), [])
        self.assertEqual(self.complete(CTL + " list "), [])

    def test_command_words(self):
        self.assertEqual(self.complete(CTL + " policy "), ["explain"])
        self.assertEqual(self.complete(CTL + " waiting "), ["on", "off"])
        self.assertEqual(self.complete(CTL + " waiting on "), [])
        self.assertEqual(self.complete(CTL + " extend --o"),
                         ["--own", "--operator"])
        self.assertEqual(self.complete(CTL + " policy explain alice --s"),
                         ["--source", "--seat", "--service"])
        self.assertEqual(self.complete(CTL + " policy explain x --source "),
                         ["web", "desktop"])
        self.assertEqual(self.complete(CTL + " policy explain --seat s0 x "),
                         [])
        # The user names are the machine's (compgen -u): root is one.
        self.assertIn("root", self.complete(CTL + " policy explain r"))
        self.assertIn("root", self.complete(CTL + " allowance r"))
        self.assertEqual(self.complete(CTL + " allowance root --g"),
                         ["--grant"])
        self.assertEqual(self.complete(CTL + " allowance --grant "), [])

    def test_session_ids(self):
        self.assertEqual(self.complete(CTL + " terminate "),
                         [DESKTOP_ID, WEB_ID])
        self.assertEqual(self.complete(CTL + " --json status 01"), [WEB_ID])
        self.assertEqual(self.complete(CTL + " extend %s " % WEB_ID), [])
        self.assertEqual(self.complete(CTL + " extend --own 01"), [WEB_ID])


class MonitorTest(CtlTestCase):
    def start_monitor(self, *args, env=None):
        full_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        full_env.pop("HOURGLASSCTL_BUS_ADDRESS", None)
        full_env.update(env or {})
        proc = hgtest.spawn([CTL, "monitor"] + list(args), env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
        self.addCleanup(self.reap, proc)
        return proc, LineReader(proc.stdout)

    @staticmethod
    def reap(proc):
        hgtest.stop_process(proc, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()

    def emit(self, member, signature, args):
        self.mock.mock.EmitSignal(MANAGER_IFACE, member, signature, args)

    def stop_monitor(self, proc, sig):
        os.kill(proc.pid, sig)
        self.assertEqual(proc.wait(timeout=10), 0)
        self.assertEqual(proc.stderr.read(), "")

    def test_lines(self):
        proc, out = self.start_monitor()
        # The legend comes once the subscriptions are in place.
        self.assertEqual(out.next(),
                         "Watching the sessions of hourglassd; Ctrl-C stops.")
        self.emit("SessionNew", "so", [WEB_ID, dbus.ObjectPath(path_of(WEB_ID))])
        self.assertRegex(out.next(),
                         "^%s new %s alice web$" % (TIMESTAMP, WEB_ID))
        self.emit("SessionWarning", "sot",
                  [WEB_ID, dbus.ObjectPath(path_of(WEB_ID)), dbus.UInt64(30)])
        self.assertRegex(out.next(),
                         "^%s warning %s 30s left$" % (TIMESTAMP, WEB_ID))
        session = self.mock.session_mock(path_of(WEB_ID))
        session.UpdateProperties(SESSION_IFACE, {"State": "warning"})
        self.assertRegex(out.next(),
                         "^%s state %s warning$" % (TIMESTAMP, WEB_ID))
        # Times only invalidate: no line for them.
        session.EmitSignal("org.freedesktop.DBus.Properties",
                           "PropertiesChanged", "sa{sv}as",
                           [SESSION_IFACE, dbus.Dictionary({}, signature="sv"),
                            ["LastActivity", "WarnAt", "ExpiresAt"]])
        session.UpdateProperties(SESSION_IFACE, {"State": "active"})
        self.assertRegex(out.next(),
                         "^%s state %s active$" % (TIMESTAMP, WEB_ID))
        # A session gone before its details could be read.
        self.emit("SessionNew", "so",
                  [GHOST_ID, dbus.ObjectPath(path_of(GHOST_ID))])
        self.assertRegex(out.next(), "^%s new %s - -$" % (TIMESTAMP, GHOST_ID))
        self.emit("SessionRemoved", "sos",
                  [GHOST_ID, dbus.ObjectPath(path_of(GHOST_ID)),
                   "idle-timeout"])
        self.assertRegex(out.next(),
                         "^%s removed %s idle-timeout$" % (TIMESTAMP, GHOST_ID))
        self.stop_monitor(proc, signal.SIGTERM)
        self.assertIsNone(out.next())

    def test_json(self):
        proc, out = self.start_monitor("--json")
        # No legend in JSON: signal until the subscription shows.
        path = dbus.ObjectPath(path_of(DESKTOP_ID))

        def probe():
            self.emit("SessionWarning", "sot",
                      [DESKTOP_ID, path, dbus.UInt64(125)])
            try:
                return out.lines.get(timeout=0.2)
            except queue.Empty:
                return None
        first = json.loads(wait_until(probe))
        self.assertEqual(first["event"], "warning")
        self.assertEqual(first["id"], DESKTOP_ID)
        self.assertEqual(first["seconds_left"], 125)
        self.assertLess(abs(first["time"] / USEC - time.time()), 60)
        # Probes that crossed the subscription may still be in the pipe.
        self.emit("SessionRemoved", "sos", [DESKTOP_ID, path, "terminated"])
        while True:
            event = json.loads(out.next())
            if event["event"] != "warning":
                break
        self.assertEqual({k: v for k, v in event.items() if k != "time"},
                         {"event": "removed", "id": DESKTOP_ID,
                          "reason": "terminated"})
        self.emit("SessionNew", "so", [DESKTOP_ID, path])
        event = json.loads(out.next())
        self.assertEqual(
            {k: v for k, v in event.items() if k != "time"},
            {"event": "new", "id": DESKTOP_ID, "user": "bob",
             "source": "desktop"})
        self.mock.session_mock(path).UpdateProperties(
            SESSION_IFACE, {"State": "warning"})
        event = json.loads(out.next())
        self.assertEqual((event["event"], event["id"], event["state"]),
                         ("state", DESKTOP_ID, "warning"))
        self.stop_monitor(proc, signal.SIGINT)

    def test_warning_kind_and_locked_timeout(self):
        proc, out = self.start_monitor()
        self.assertRegex(out.next(), "^Watching")
        # The kind is the session's Warning property; a session without it
        # (an older daemon) gets none.
        desktop = dbus.ObjectPath(path_of(DESKTOP_ID))
        self.emit("SessionWarning", "sot", [DESKTOP_ID, desktop,
                                            dbus.UInt64(125)])
        self.assertRegex(out.next(), "^%s warning %s locked 2m05s left$"
                         % (TIMESTAMP, DESKTOP_ID))
        self.emit("SessionWarning", "sot", [WEB_ID, path_of(WEB_ID),
                                            dbus.UInt64(5)])
        self.assertRegex(out.next(), "^%s warning %s 5s left$"
                         % (TIMESTAMP, WEB_ID))
        self.emit("SessionRemoved", "sos", [DESKTOP_ID, desktop,
                                            "locked-timeout"])
        self.assertRegex(out.next(), "^%s removed %s locked-timeout$"
                         % (TIMESTAMP, DESKTOP_ID))
        self.stop_monitor(proc, signal.SIGTERM)

    def test_json_warning_kind(self):
        proc, out = self.start_monitor("--json")
        path = dbus.ObjectPath(path_of(WEB_ID))

        def probe():
            self.emit("SessionWarning", "sot", [WEB_ID, path, dbus.UInt64(9)])
            try:
                return out.lines.get(timeout=0.2)
            except queue.Empty:
                return None
        self.assertIsNone(json.loads(wait_until(probe))["kind"])
        self.emit("SessionWarning", "sot",
                  [DESKTOP_ID, path_of(DESKTOP_ID), dbus.UInt64(60)])
        while True:
            event = json.loads(out.next())
            if event["id"] == DESKTOP_ID:
                break
        self.assertEqual((event["event"], event["kind"],
                          event["seconds_left"]), ("warning", "locked", 60))
        self.stop_monitor(proc, signal.SIGTERM)

    def test_bus_goes_away(self):
        # The monitor waits for a daemon that is not there yet, and fails
        # when the bus itself is gone.
        other = Bus()
        try:
            proc, out = self.start_monitor(
                env={"HOURGLASSCTL_BUS_ADDRESS": other.address})
            self.assertRegex(out.next(), "^Watching")
        finally:
            other.stop()
        self.assertEqual(proc.wait(timeout=10), 1)
        self.assertEqual(proc.stderr.read(), "hourglassctl: lost the "
                         "connection to the system bus\n")

    def test_no_legend(self):
        proc, out = self.start_monitor("--no-legend")
        path = dbus.ObjectPath(path_of(WEB_ID))

        def probe():
            self.emit("SessionRemoved", "sos", [WEB_ID, path, "logout"])
            try:
                return out.lines.get(timeout=0.2)
            except queue.Empty:
                return None
        self.assertRegex(wait_until(probe),
                         "^%s removed %s logout$" % (TIMESTAMP, WEB_ID))
        self.stop_monitor(proc, signal.SIGTERM)


# --- against the real hourglassd -------------------------------------------

# alice (in kiosk-admins) signs in on the page under [Policy staff]: an hour
# at most, warned from its first second on (WarnBeforeSec 3599 of 3600) so
# that she may ask for more time at once, 10 minutes more at most twice.
# carol has the fallback: 8 hours, no more time. [Policy lab] is for the
# desktops of seat1.
DAEMON_CONFIG = {
    "DBus": {"AdminGroup": "kiosk-admins"},
    "Timeouts": {"WarnAfterSec": 540, "ExpireAfterSec": 600,
                 "MaxSessionSec": 28800},
    "Policy staff": {"MatchGroup": "kiosk-admins", "MatchSource": "web",
                     "MaxSessionSec": 3600, "ExtendBySec": 600,
                     "MaxExtensions": 2, "WarnBeforeSec": "3599;60"},
    "Policy lab": {"MatchSource": "desktop", "MatchSeat": "seat1",
                   "Action": "lock-then-terminate", "LockedMaxSec": 1200},
}

FALLBACK_LIMITS = {
    "WarnAfterSec": 540, "ExpireAfterSec": 600, "MaxSessionSec": 28800,
    "CloseAfterSec": 0, "InhibitMaxSec": 0, "Action": "terminate",
    "LockedMaxSec": 600, "ExtendBySec": 0, "MaxExtensions": 0,
    "WarnBeforeSec": [], "DailyAllowanceSec": 0, "AllowedHours": "",
}
STAFF_LIMITS = dict(FALLBACK_LIMITS, MaxSessionSec=3600, ExtendBySec=600,
                    MaxExtensions=2, WarnBeforeSec=[3599, 60])
LAB_LIMITS = dict(FALLBACK_LIMITS, Action="lock-then-terminate",
                  LockedMaxSec=1200)


def ctl_environment(bus):
    """hourglassctl's environment: the test's bus, and the fake users
    (nss_wrapper; under ASan its runtime first), as hgtest.Daemon has
    them."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_", "NSS_WRAPPER", "DBUS_",
                                "HOURGLASSCTL_", "XDG_SESSION_ID"))}
    env.update(bus.env())
    env.update({
        "LC_ALL": "C.UTF-8",
        "LD_PRELOAD": ":".join(p for p in hgtest.preload().split(":")
                               if "nss_wrapper" in p or "asan" in p),
        "NSS_WRAPPER_PASSWD": os.path.join(hgtest.DATA_DIR, "passwd"),
        "NSS_WRAPPER_GROUP": os.path.join(hgtest.DATA_DIR, "group"),
    })
    if hgtest.SANITIZE != "none":
        env["NSS_WRAPPER_DISABLE_DEEPBIND"] = "1"
    return env


class DaemonTestCase(hgtest.TestCase):
    """hourglassd with DAEMON_CONFIG on a bus of the test's own."""

    CONFIG = DAEMON_CONFIG

    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.d = hgbus.BusDaemon(self.bus, config=self.CONFIG,
                                 name=self._testMethodName)
        self.addCleanup(self._finish_daemon, self.d)
        self.d.start()
        self.bus.wait_for_name(BUS_NAME)
        self.client = self.d.client()
        self.manager = dbus.Interface(
            self.bus.conn.get_object(BUS_NAME, MANAGER_PATH), MANAGER_IFACE)

    def ctl(self, *args, uid=None):
        """hourglassctl ARGS as root, or as uid (its own groups only)."""
        cmd = []
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                   "--clear-groups"]
        return subprocess.run(cmd + [CTL] + list(args),
                              env=ctl_environment(self.bus),
                              capture_output=True, text=True, timeout=30)

    def assertExit(self, result, status, stderr=None):
        self.assertEqual(result.returncode, status,
                         "stdout: %r, stderr: %r"
                         % (result.stdout, result.stderr))
        if stderr is not None:
            self.assertEqual(result.stderr, stderr)

    def sign_in(self, user):
        """A web session of user, ended after the test; its id."""
        before = {str(s[0]) for s in self.manager.ListSessions()}
        token = self.client.login(user, "secret")
        self.addCleanup(self.client.logout, token)
        new = [str(s[0]) for s in self.manager.ListSessions()
               if str(s[0]) not in before]
        self.assertEqual(len(new), 1)
        return new[0]

    def props(self, sid):
        obj = self.bus.conn.get_object(BUS_NAME, path_of(sid))
        return hgbus._plain(obj.GetAll(SESSION_IFACE,
                                       dbus_interface=dbus.PROPERTIES_IFACE))

    def wait_for_limit_warning(self, sid):
        """Until the session warns of its limit (staff: a second in)."""
        return wait_until(lambda: self.props(sid)["Warning"] == "limit" and
                          self.props(sid), 1 + hgtest.SLACK,
                          message="no limit warning")

    def waiting(self):
        return bool(self.bus.conn.get_object(BUS_NAME, MANAGER_PATH).Get(
            MANAGER_IFACE, "Waiting", dbus_interface=dbus.PROPERTIES_IFACE))

    def header_line(self, group):
        with open(self.d.config_path) as f:
            return f.read().splitlines().index("[%s]" % group) + 1


class PolicyExplainTest(DaemonTestCase):
    def limits_of(self, text):
        """The indented 'Key  value' lines of one source, as a dict."""
        return dict(re.match(r"^  (\S+)\s+(.*)$", line).groups()
                    for line in text.splitlines() if line.startswith("  "))

    def test_matching_rule(self):
        result = self.ctl("policy", "explain", "alice", "--source", "web")
        self.assertExit(result, 0, "")
        head, body = result.stdout.split("\n\n")
        self.assertEqual(head, "User alice, groups: alice kiosk-admins")
        first, rest = body.split("\n", 1)
        self.assertEqual(first, "web: [Policy staff] at %s:%d"
                         % (self.d.config_path, self.header_line(
                             "Policy staff")))
        self.assertEqual(self.limits_of(rest), {
            "WarnAfterSec": "540 (9m00s)",
            "ExpireAfterSec": "600 (10m00s)",
            "MaxSessionSec": "3600 (1h00m)",
            "CloseAfterSec": "0",
            "InhibitMaxSec": "0",
            "Action": "terminate",
            "LockedMaxSec": "600 (10m00s)",
            "ExtendBySec": "600 (10m00s)",
            "MaxExtensions": "2",
            "WarnBeforeSec": "3599;60",
            "DailyAllowanceSec": "0",
            "AllowedHours": "-",
        })
        # The values line up.
        starts = {line.index(value) for line in rest.splitlines()
                  for value in [line.split()[1]]}
        self.assertEqual(len(starts), 1)

    def test_both_sources_and_the_fallback(self):
        # carol matches no rule; alice's desktop login on seat1 is a lab's.
        result = self.ctl("policy", "explain", "carol")
        self.assertExit(result, 0, "")
        blocks = result.stdout.split("\n\n")
        self.assertEqual(blocks[0], "User carol, groups: carol")
        self.assertEqual([b.split("\n")[0] for b in blocks[1:]], [
            "web: the fallback ([Timeouts] and [Desktop] in %s)"
            % self.d.config_path,
            "desktop: the fallback ([Timeouts] and [Desktop] in %s)"
            % self.d.config_path])
        self.assertEqual(self.limits_of(blocks[2])["WarnBeforeSec"], "-")
        result = self.ctl("policy", "explain", "alice", "--source=desktop",
                          "--seat", "seat1", "--service", "gdm-password")
        self.assertExit(result, 0, "")
        self.assertIn("\ndesktop (seat seat1, service gdm-password): "
                      "[Policy lab] at %s:%d\n"
                      % (self.d.config_path, self.header_line("Policy lab")),
                      result.stdout)
        self.assertNotIn("web", result.stdout)
        result = self.ctl("policy", "explain", "carol", "--source=desktop",
                          "--service", "sshd")
        self.assertIn("\ndesktop (service sshd): the fallback", result.stdout)

    def test_json(self):
        result = self.ctl("--json", "policy", "explain", "alice")
        self.assertExit(result, 0, "")
        answer = json.loads(result.stdout)
        self.assertEqual(answer["user"], "alice")
        self.assertEqual(sorted(answer["groups"]), ["alice", "kiosk-admins"])
        web, desktop = answer["sources"]
        self.assertEqual(web, {
            "source": "web", "seat": None, "service": None,
            "policy": "staff", "file": self.d.config_path,
            "line": self.header_line("Policy staff"), "limits": STAFF_LIMITS})
        # Without a seat, the lab's rule does not match a desktop login.
        self.assertEqual(desktop, {
            "source": "desktop", "seat": None, "service": None,
            "policy": "", "file": self.d.config_path, "line": 0,
            "limits": FALLBACK_LIMITS})
        result = self.ctl("--json", "policy", "explain", "carol",
                          "--source", "desktop", "--seat", "seat1")
        [lab] = json.loads(result.stdout)["sources"]
        self.assertEqual((lab["policy"], lab["seat"], lab["limits"]),
                         ("lab", "seat1", LAB_LIMITS))

    def test_unknown_user(self):
        for args in (["nosuchuser"], ["nosuchuser", "--source", "desktop"]):
            result = self.ctl("policy", "explain", *args)
            self.assertExit(result, 1,
                            "hourglassctl: no such user: nosuchuser\n")
            self.assertEqual(result.stdout, "")

    def test_name_the_daemon_refuses(self):
        result = self.ctl("policy", "explain", "alice", "--seat", "s" * 300)
        self.assertExit(result, 1, "hourglassctl: hourglassd refused the "
                        "request: Not a seat name\n")


class StatusPolicyTest(DaemonTestCase):
    def test_own_session_without_an_id(self):
        sid = self.sign_in("alice")
        created = self.props(sid)["Created"]
        self.wait_for_limit_warning(sid)
        before = time.time()
        result = self.ctl("status", uid=ALICE)
        after = time.time()
        self.assertExit(result, 0, "")
        fields = dict(re.match(r"^\s*([^:]+): (.*)$", line).groups()
                      for line in result.stdout.splitlines())
        self.assertEqual(fields["Id"], sid)
        self.assertEqual(
            {k: fields[k] for k in ("State", "Warning", "Stage", "Policy",
                                    "Extensions")},
            {"State": "warning", "Warning": "limit", "Stage": "active",
             "Policy": "staff", "Extensions": "0 taken, 2 left"})
        # The rule's own limits, its MaxSessionSec apart from the fallback's.
        self.assertEqual(
            {k: fields[k] for k in ("Warn after", "Expire after",
                                    "Max session")},
            {"Warn after": "9m00s idle", "Expire after": "10m00s idle",
             "Max session": "1h00m"})
        # A web session: no desktop action, no lock.
        self.assertNotIn("Action", fields)
        self.assertNotIn("Locks at", fields)
        limit = created / USEC + 3600
        self.assertIn(fields["Limit at"], {
            "%s (in %s)" % (time.strftime("%Y-%m-%d %H:%M:%S",
                                          time.localtime(int(limit))), d)
            for d in durations(math.ceil(limit - after) - 1,
                               math.ceil(limit - before) + 1)})

    def test_json_and_the_fallback(self):
        sid = self.sign_in("carol")
        result = self.ctl("--json", "status", sid)
        self.assertExit(result, 0, "")
        session = json.loads(result.stdout)
        props = self.props(sid)
        self.assertEqual(
            {k: session[k] for k in ("policy", "action", "warning", "stage",
                                     "extensions", "extensions_left")},
            {"policy": "", "action": "", "warning": "", "stage": "active",
             "extensions": 0, "extensions_left": 0})
        self.assertEqual(
            {k: session[k] for k in ("warn_after_sec", "expire_after_sec",
                                     "max_session_sec")},
            {"warn_after_sec": 540, "expire_after_sec": 600,
             "max_session_sec": 28800})
        self.assertLess(abs(session["limit_at"] - props["LimitAt"]), USEC)
        self.assertLess(abs(session["limit_at"] -
                            (props["Created"] + 28800 * USEC)), USEC)
        result = self.ctl("status", sid)
        self.assertIn("\n       Policy: (fallback)\n", result.stdout)
        self.assertIn("\n   Extensions: none offered\n", result.stdout)

    def test_no_own_session(self):
        result = self.ctl("status")
        self.assertExit(result, 1, "hourglassctl: root has no session (give "
                        "a session id)\n")
        self.sign_in("alice")
        self.sign_in("alice")
        result = self.ctl("status", uid=ALICE)
        self.assertExit(result, 1, "hourglassctl: alice has 2 sessions: give "
                        "a session id (see 'hourglassctl list')\n")


class WaitingTest(DaemonTestCase):
    def test_on_off_and_query(self):
        self.assertExit(self.ctl("waiting"), 0, "")
        self.assertEqual(self.ctl("waiting").stdout, "off\n")
        result = self.ctl("waiting", "on")
        self.assertExit(result, 0, "")
        self.assertEqual(result.stdout, "")
        self.assertTrue(self.waiting())
        self.assertEqual(self.ctl("waiting").stdout, "on\n")
        self.assertEqual(json.loads(self.ctl("--json", "waiting").stdout),
                         {"waiting": True})
        # Saying it twice changes nothing.
        self.assertExit(self.ctl("waiting", "on"), 0, "")
        self.assertExit(self.ctl("waiting", "off"), 0, "")
        self.assertFalse(self.waiting())
        self.assertEqual(json.loads(self.ctl("--json", "waiting").stdout),
                         {"waiting": False})

    def test_only_for_operators(self):
        # carol is no admin; alice is one (kiosk-admins), reading is open.
        result = self.ctl("waiting", "on", uid=CAROL)
        self.assertExit(result, 1, "hourglassctl: permission denied: setting "
                        "waiting needs root or the admin group ([DBus] "
                        "AdminGroup)\n")
        self.assertFalse(self.waiting())
        self.assertEqual(self.ctl("waiting", uid=CAROL).stdout, "off\n")
        result = subprocess.run(
            ["setpriv", "--reuid=%d" % ALICE, "--regid=%d" % ALICE,
             "--groups=1500", CTL, "waiting", "on"],
            env=ctl_environment(self.bus), capture_output=True, text=True,
            timeout=30)
        self.assertExit(result, 0, "")
        self.assertTrue(self.waiting())


class AllowanceTest(DaemonTestCase):
    """An hour a day; 10 minutes in the lab (desktop, seat1)."""

    CONFIG = dict(DAEMON_CONFIG,
                  Timeouts=dict(DAEMON_CONFIG["Timeouts"],
                                DailyAllowanceSec=3600),
                  **{"Policy lab": dict(DAEMON_CONFIG["Policy lab"],
                                        DailyAllowanceSec=600)})

    def test_fresh_user_has_it_all(self):
        result = self.ctl("allowance", "carol")
        self.assertExit(result, 0, "")
        self.assertEqual(result.stdout,
                         "User carol, today:\n"
                         "Used     0s\n"
                         "Granted  0s\n"
                         "Left     1h00m\n"
                         "Spent    no\n")
        result = self.ctl("--json", "allowance", "carol")
        self.assertExit(result, 0, "")
        self.assertEqual(json.loads(result.stdout),
                         {"user": "carol", "used_sec": 0, "granted_sec": 0,
                          "left_sec": 3600, "spent": False})
        # The lab's rule, asked as a desktop login on seat1.
        result = self.ctl("--json", "allowance", "carol", "--source",
                          "desktop", "--seat", "seat1")
        self.assertExit(result, 0, "")
        self.assertEqual(json.loads(result.stdout)["left_sec"], 600)

    def test_grant_moves_what_is_left(self):
        result = self.ctl("allowance", "carol", "--grant", "600")
        self.assertExit(result, 0, "")
        self.assertEqual(result.stdout,
                         "User carol, granted today in all: 10m00s\n")
        result = self.ctl("--json", "allowance", "carol", "--grant", "60")
        self.assertExit(result, 0, "")
        self.assertEqual(json.loads(result.stdout),
                         {"user": "carol", "granted_sec": 660})
        shown = json.loads(self.ctl("--json", "allowance", "carol").stdout)
        self.assertEqual((shown["granted_sec"], shown["left_sec"]),
                         (660, 3600 + 660))
        self.d.wait_for_log(r"Allowance of carol: 60 s more for today, "
                            r"granted over D-Bus by uid 0")

    def test_only_for_operators(self):
        result = self.ctl("allowance", "carol", "--grant", "600", uid=CAROL)
        self.assertExit(result, 1, "hourglassctl: permission denied: granting "
                        "allowance needs root or the admin group ([DBus] "
                        "AdminGroup)\n")
        result = self.ctl("allowance", "carol", uid=CAROL)
        self.assertExit(result, 1, "hourglassctl: permission denied: reading "
                        "someone's allowance needs root or the admin group "
                        "([DBus] AdminGroup)\n")
        self.assertEqual(json.loads(self.ctl("--json", "allowance",
                                             "carol").stdout)["granted_sec"], 0)

    def test_unknown_user(self):
        result = self.ctl("allowance", "nobody-here")
        self.assertExit(result, 1, "hourglassctl: no such user: nobody-here\n")


class ExtendTest(DaemonTestCase):
    GRANTED = (r"^More time granted: the limit is now (%s) \(in (\S+)\); "
               r"(\d+) extensions? left\.$" % TIMESTAMP)

    def test_own_session_gets_more_time(self):
        sid = self.sign_in("alice")
        before = self.wait_for_limit_warning(sid)
        self.assertEqual(before["ExtensionsLeft"], 2)
        result = self.ctl("extend", uid=ALICE)
        self.assertExit(result, 0, "")
        stamp, left_text, left = re.match(self.GRANTED,
                                          result.stdout.rstrip("\n")).groups()
        self.assertEqual(left, "1")
        self.assertIn(left_text, durations(4190, 4201))
        after = self.props(sid)
        self.assertEqual((after["Extensions"], after["ExtensionsLeft"]),
                         (1, 1))
        self.assertLess(abs(after["LimitAt"] - before["LimitAt"] -
                            600 * USEC), USEC)
        self.assertEqual(stamp, time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(after["LimitAt"] // USEC)))
        # The second lead time is an hour and ten minutes away again: too
        # early for more, and the reason says so.
        result = self.ctl("extend", sid, uid=ALICE)
        self.assertExit(result, 1, "hourglassctl: more time refused: More "
                        "time can be asked for only in the last 3599 s "
                        "before the session's time is up\n")
        self.assertEqual(result.stdout, "")
        self.assertEqual(self.props(sid)["ExtensionsLeft"], 1)

    def test_json(self):
        sid = self.sign_in("alice")
        self.wait_for_limit_warning(sid)
        result = self.ctl("--json", "extend", "--own", sid, uid=ALICE)
        self.assertExit(result, 0, "")
        answer = json.loads(result.stdout)
        props = self.props(sid)
        self.assertEqual((answer["id"], answer["extensions_left"]), (sid, 1))
        self.assertLess(abs(answer["limit_at"] - props["LimitAt"]), USEC)

    def test_refused_while_someone_is_waiting(self):
        sid = self.sign_in("alice")
        before = self.wait_for_limit_warning(sid)
        self.assertExit(self.ctl("waiting", "on"), 0, "")
        result = self.ctl("extend", uid=ALICE)
        self.assertExit(result, 1, "hourglassctl: more time refused: Someone "
                        "is waiting for this machine: no more time can be "
                        "given\n")
        self.assertEqual(result.stdout, "")
        after = self.props(sid)
        self.assertEqual(after["ExtensionsLeft"], 2)
        # The same limit (D-Bus times are converted to wall-clock at each
        # read: a microsecond apart).
        self.assertLess(abs(after["LimitAt"] - before["LimitAt"]), 1000)
        # No one waits any more: granted.
        self.assertExit(self.ctl("waiting", "off"), 0, "")
        result = self.ctl("extend", uid=ALICE)
        self.assertExit(result, 0, "")
        self.assertRegex(result.stdout, self.GRANTED)

    def test_operators_extend_as_before(self):
        # root's extension of alice's session, and alice's own with
        # --operator: activity, no more time.
        sid = self.sign_in("alice")
        before = self.wait_for_limit_warning(sid)
        for args, uid in (((sid,), None), (("--operator",), ALICE)):
            result = self.ctl("extend", *args, uid=uid)
            self.assertExit(result, 0, "")
            self.assertEqual(result.stdout, "")
        after = self.props(sid)
        self.assertEqual((after["Extensions"], after["ExtensionsLeft"]),
                         (0, 2))
        self.assertLess(abs(after["LimitAt"] - before["LimitAt"]), 1000)
        self.assertGreater(after["LastActivity"], before["LastActivity"])

    def test_no_more_time_offered(self):
        # carol's policy offers none: her extend counts as activity; with
        # --own the daemon says why there is no more.
        sid = self.sign_in("carol")
        before = self.props(sid)
        result = self.ctl("extend", uid=CAROL)
        self.assertExit(result, 0, "")
        self.assertEqual(result.stdout, "")
        self.assertGreater(self.props(sid)["LastActivity"],
                           before["LastActivity"])
        result = self.ctl("extend", "--own", uid=CAROL)
        self.assertExit(result, 1, "hourglassctl: more time refused: This "
                        "session's policy gives no more time\n")

    def test_own_is_for_the_owner(self):
        sid = self.sign_in("alice")
        self.wait_for_limit_warning(sid)
        result = self.ctl("extend", "--own", sid)
        self.assertExit(result, 1, "hourglassctl: permission denied: only the "
                        "session's own user asks for more time; operators "
                        "extend with --operator\n")
        result = self.ctl("extend", sid, uid=CAROL)
        self.assertExit(result, 1, "hourglassctl: permission denied: "
                        "extending a session needs root, the admin group "
                        "([DBus] AdminGroup) or the session's own user\n")
        self.assertEqual(self.props(sid)["ExtensionsLeft"], 2)


class MonitorLimitTest(DaemonTestCase):
    def test_limit_warning(self):
        proc = hgtest.spawn([CTL, "monitor"], env=ctl_environment(self.bus),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
        self.addCleanup(MonitorTest.reap, proc)
        out = LineReader(proc.stdout)
        self.assertRegex(out.next(), "^Watching")
        sid = self.sign_in("alice")
        self.assertRegex(out.next(), "^%s new %s alice web$"
                         % (TIMESTAMP, sid))
        deadline = time.monotonic() + 1 + hgtest.SLACK
        while True:
            line = out.next(max(0.1, deadline - time.monotonic()))
            m = re.match("^%s warning %s (\\S+) (\\S+) left$"
                         % (TIMESTAMP, sid), line or "")
            if m:
                break
        self.assertEqual(m.group(1), "limit")
        self.assertIn(m.group(2), durations(3590, 3599))
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 0)


if __name__ == "__main__":
    if not os.access(CTL, os.X_OK):
        sys.exit("%s is not built (set HOURGLASSCTL)" % CTL)
    unittest.main(verbosity=2)
