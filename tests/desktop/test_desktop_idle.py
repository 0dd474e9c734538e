#!/usr/bin/python3
"""Idle sources of desktop sessions, against the real hourglassd on a
private bus with python-dbusmock's logind and pam_hourglass.so: console
logins on a real pty and a real virtual console (input typed into them,
read by the session side, as a shell would), sessions nothing can judge
(said on the bus, in the journal and by hourglassctl), an agent's
ReportIdleSource, and logind's idle locks within InhibitMaxSec. Lines
starting with "#" give the measured delay from the last input to the
warning."""

import fcntl
import json
import os
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import dbus  # noqa: E402

import hgbus  # noqa: E402
import hgtest  # noqa: E402
from test_desktop import ALICE, CTL, LOGIND, MANAGER, NAME, \
    DesktopFixture  # noqa: E402

SESSION_IFACE = "org.hourglass1.Session"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
# tty atimes move in 8-second steps: the timeouts stay well above that.
WARN, EXPIRE = 9, 12
SLACK = 8 + 1.5  # the atime's step, and the loop's own delays


def note(text):
    sys.stderr.write("# %s\n" % text)


class Pty:
    """A pty whose slave side reads what is typed, as a login shell does
    (reads are what move the device's atime)."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.tty = os.ttyname(self.slave)[len("/dev/"):]

    def type(self):
        os.write(self.master, b"x\n")
        os.read(self.slave, 16)

    def close(self):
        os.close(self.master)
        os.close(self.slave)


class VirtualConsole:
    """A virtual console of the machine's own (/dev/tty63 or below): keys
    pushed in with TIOCSTI, read back as a login's shell would. Another
    run of this test on the same machine (a second build, a second
    checkout) must not type into ours: each takes a console of its own,
    held with an exclusive lock."""

    FIRST, LAST = 63, 40

    def __init__(self):
        error = None
        for n in range(self.FIRST, self.LAST - 1, -1):
            path = "/dev/tty%d" % n
            try:
                fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            except OSError as e:
                error = e
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                error = e
                continue
            self.fd, self.tty = fd, path[len("/dev/"):]
            return
        raise error

    def type(self):
        for c in b"x\n":
            fcntl.ioctl(self.fd, termios.TIOCSTI, bytes([c]))
        os.read(self.fd, 16)

    def close(self):
        os.close(self.fd)


class IdleTest(DesktopFixture):
    def start(self, timeouts=None, idle=None):
        """The shipped sources (the fixtures' default is the page alone)."""
        return super().start(
            timeouts, idle=dict({"Sources": "page;logind;tty"}, **(idle or {})))

    def session_props(self, sid):
        path = self.manager().GetSession(sid)
        return hgbus._plain(self.bus.conn.get_object(NAME, path).GetAll(
            SESSION_IFACE, dbus_interface=dbus.PROPERTIES_IFACE))

    def manager(self):
        return dbus.Interface(
            self.bus.conn.get_object(NAME, "/org/hourglass1"), MANAGER)

    def set_session(self, **props):
        obj = self.bus.mock_object(LOGIND, "/org/freedesktop/login1/session/c1")
        obj.UpdateProperties("org.freedesktop.login1.Session", props)

    def register(self):
        code, out, err, _ = self.pam("open")
        self.assertEqual(code, 0, out + err)
        [sid] = hgtest.wait_until(self.desktop_ids, 5)
        return sid

    def status(self, sid, *options):
        env = dict(os.environ, **self.bus.env())
        out = subprocess.run([CTL] + list(options) + ["status", sid], env=env,
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout


class TtyTest(IdleTest):
    """A console login: typing keeps it, silence warns and ends it."""

    def run_console(self, console, kind):
        self.addCleanup(console.close)
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_session(Type="tty", TTY=console.tty)
        self.start({"WarnAfterSec": WARN, "ExpireAfterSec": EXPIRE})
        console.type()
        sid = self.register()
        props = self.session_props(sid)
        self.assertTrue(props["IdleKnown"])
        [[name, method, _]] = props["IdleSources"]
        self.assertEqual((name, method), ("tty", console.tty))
        self.assertRegex(self.status(sid),
                         r"Idle sources:  tty %s: last \d+s ago" % console.tty)
        [src] = json.loads(self.status(sid, "--json"))["idle_sources"]
        self.assertEqual((src["name"], src["method"]), ("tty", console.tty))
        self.assertLess(abs(src["last"] / 1e6 - time.time()), 10)
        # Someone types, every 2 s, for longer than the idle timeout and
        # the atime's step together: never warned.
        end = time.monotonic() + EXPIRE + SLACK + 2
        while time.monotonic() < end:
            console.type()
            last_input = time.monotonic()
            time.sleep(2)  # the person's pace
            self.assertFalse(rec.matching("SessionWarning"),
                             "warned while typing")
        self.assertEqual(self.desktop_ids(), [sid])
        # Then nobody: warned WarnAfterSec after the last input, give or
        # take the atime's step, and ended.
        warn = rec.wait_for("SessionWarning", lambda s: s[3][0] == sid,
                            WARN + SLACK + 2)
        delay = time.monotonic() - last_input
        note("%s: last input to warning %.1f s (WarnAfterSec=%d)"
             % (kind, delay, WARN))
        self.assertGreater(delay, WARN - 2.5)  # 2 s of pacing, 0.5 s jitter
        self.assertLess(delay, WARN + SLACK)
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid,
                               EXPIRE - WARN + 2)
        self.assertEqual(removed[3][2], "idle-timeout")
        hgtest.wait_until(lambda: self.logind_calls("TerminateSession"), 5)
        self.assertIsNotNone(warn)

    def test_pty(self):
        self.run_console(Pty(), "tty pts")

    def test_virtual_console(self):
        try:
            console = VirtualConsole()
        except OSError as e:
            self.skipTest("no virtual console to type into: %s" % e)
        self.run_console(console, "tty vt")

    def test_tty_source_off(self):
        pty = Pty()
        self.addCleanup(pty.close)
        self.set_session(Type="tty", TTY=pty.tty)
        self.start({"WarnAfterSec": WARN, "ExpireAfterSec": EXPIRE},
                   idle={"Sources": "page;logind"})
        sid = self.register()
        props = self.session_props(sid)
        self.assertFalse(props["IdleKnown"])
        self.assertEqual(props["IdleSources"], [])

    def test_graphical_session_tty_is_not_read(self):
        # A VT under X or Wayland sees no input: logind ignores it, so do we.
        pty = Pty()
        self.addCleanup(pty.close)
        self.set_session(Type="wayland", TTY=pty.tty)
        self.start({"WarnAfterSec": WARN, "ExpireAfterSec": EXPIRE})
        sid = self.register()
        self.assertEqual(self.session_props(sid)["IdleSources"], [])


class NoSourceTest(IdleTest):
    def test_nothing_can_tell_then_an_agent_can(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_session(Type="x11")
        self.start({"WarnAfterSec": 2, "ExpireAfterSec": 5,
                    "MaxSessionSec": 3600})
        mark = self.d.log_mark()
        sid = self.register()
        props = self.session_props(sid)
        self.assertFalse(props["IdleKnown"])
        self.assertEqual(props["IdleSources"], [])
        self.assertIn("only the absolute limit", self.status(sid))
        status = json.loads(self.status(sid, "--json"))
        self.assertEqual((status["idle_known"], status["idle_sources"]),
                         (False, []))
        # Said once, when it would first have warned.
        line = self.d.wait_for_log(
            r"Desktop session %s of alice \(logind session c1\) has no "
            r"working idle source.*MaxSessionSec \(3600 s" % sid, 5,
            after=mark)
        self.assertFalse(rec.matching("SessionWarning"))
        # An agent that sees input: judged by it from now on.
        agent, result = self.bus.stay_as(
            ALICE, NAME, "/org/hourglass1", MANAGER, "ReportIdleSource",
            "ssas", [sid, "x11-sync", []])
        self.addCleanup(lambda: agent.poll() is None and agent.kill())
        self.assertEqual(result[0], "ok", result)
        start = time.monotonic()
        props = self.session_props(sid)
        self.assertTrue(props["IdleKnown"])
        self.assertEqual([s[:2] for s in props["IdleSources"]],
                         [["agent", "x11-sync"]])
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, 4)
        note("agent (no input reported): report to warning %.1f s "
             "(WarnAfterSec=2)" % (time.monotonic() - start))
        # The agent goes: nothing can tell again, the session is busy.
        self.bus.stop_staying(agent)
        self.d.wait_for_log(r"hourglass-agent of desktop session %s went "
                            r"away" % sid, 5)
        hgtest.wait_until(
            lambda: self.session_props(sid)["State"] == "active", 3)
        self.assertFalse(self.session_props(sid)["IdleKnown"])
        self.assertEqual(
            len(self.d.log_text().split("has no working idle source")), 2,
            "said more than once")
        self.assertIn(sid, line.group(0))

    def test_report_idle_source_authorization(self):
        self.start()
        sid = self.register()
        for uid in (1002, 0):
            result = self.bus.call_as(uid, NAME, "/org/hourglass1", MANAGER,
                                      "ReportIdleSource", "ssas",
                                      [sid, "x11-sync", []])
            self.assertEqual(list(result[:2]), ["error", ACCESS_DENIED], uid)
        result = self.bus.call_as(ALICE, NAME, "/org/hourglass1", MANAGER,
                                  "ReportIdleSource", "ssas",
                                  [sid, "bad method!", []])
        self.assertEqual(result[1], "org.freedesktop.DBus.Error.InvalidArgs")


class InhibitTest(IdleTest):
    INHIBIT = 4

    def setUp(self):
        super().setUp()
        self.logind.AddMethod(LOGIND_MANAGER, "ListInhibitors", "",
                              "a(ssssuu)", "ret = getattr(self, 'locks', [])")

    def set_locks(self, locks):
        code = "self.locks = %r" % ([tuple(lock) for lock in locks],)
        self.logind.AddMethod(LOGIND_MANAGER, "HgSetLocks", "", "", code)
        self.bus.conn.get_object(LOGIND, "/org/freedesktop/login1").HgSetLocks(
            dbus_interface=LOGIND_MANAGER)
        # What logind does when a lock is taken or released.
        self.logind.EmitSignal(
            "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
            [LOGIND_MANAGER,
             dbus.Dictionary({"BlockInhibited": "idle" if locks else ""},
                             signature="sv"),
             dbus.Array([], signature="s")])

    def test_lock_holds_off_the_warning_until_inhibit_max(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_session(Type="wayland")
        self.start({"WarnAfterSec": 2, "ExpireAfterSec": 5},
                   idle={"InhibitMaxSec": self.INHIBIT})
        sid = self.register()
        # A video plays (a lock of alice's, and one of another user's that
        # does not count); the person stops touching anything now.
        self.set_locks([("sleep:idle", "Firefox", "video", "block", ALICE, 42),
                        ("idle", "other", "x", "block", 1002, 43),
                        ("idle", "delay", "x", "delay", ALICE, 44)])
        hgtest.wait_until(lambda: [s for s in self.session_props(sid)
                                   ["IdleSources"] if s[0] == "inhibitor"], 3)
        self.set_idle(True)
        start = time.monotonic()
        self.assertEqual(
            [s[:2] for s in self.session_props(sid)["IdleSources"]],
            [["logind", "idle-hint"], ["inhibitor", "logind: Firefox"]])
        # Not before InhibitMaxSec + WarnAfterSec (a bounded "nothing
        # happens" check), and no later.
        warn = rec.wait_for("SessionWarning", lambda s: s[3][0] == sid,
                            self.INHIBIT + 2 + 2)
        delay = time.monotonic() - start
        note("inhibitor: last input to warning %.1f s (InhibitMaxSec=%d, "
             "WarnAfterSec=2)" % (delay, self.INHIBIT))
        self.assertGreater(delay, self.INHIBIT + 2 - 0.5)
        self.assertIsNotNone(warn)
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid, 5)
        self.assertEqual(removed[3][2], "idle-timeout")

    def test_released_lock_counts_as_activity_until_then(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_session(Type="wayland")
        self.start({"WarnAfterSec": 2, "ExpireAfterSec": 5},
                   idle={"InhibitMaxSec": 60})
        sid = self.register()
        self.set_locks([("idle", "mpv", "video", "block", ALICE, 42)])
        hgtest.wait_until(lambda: self.session_props(sid)["IdleSources"], 3)
        self.set_idle(True)
        # The video plays 3 s and ends: warned 2 s later, not at once.
        time.sleep(3)  # the video's length, not a wait for the daemon
        self.assertFalse(rec.matching("SessionWarning"))
        self.set_locks([])
        released = time.monotonic()
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, 4)
        self.assertGreater(time.monotonic() - released, 1.5)

    def test_locks_count_for_nothing_by_default(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_session(Type="wayland")
        self.start({"WarnAfterSec": 2, "ExpireAfterSec": 5})
        sid = self.register()
        self.set_locks([("idle", "Firefox", "video", "block", ALICE, 42)])
        self.set_idle(True)
        start = time.monotonic()
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, 4)
        self.assertLess(time.monotonic() - start, 3)
        self.assertNotIn("inhibitor",
                         [s[0] for s in self.session_props(sid)["IdleSources"]])


if __name__ == "__main__":
    hgtest.main()
