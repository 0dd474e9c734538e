#!/usr/bin/python3
"""Sessions across restarts and crashes, with hgmanager.py standing in for
systemd (notification socket, fd store, RUNTIME_DIRECTORY) and the PAM
helpers forked as without systemd: after SIGKILL, and after a SIGTERM with
a restart job queued, every session is taken back with its PAM session
still open and no deadline later than before; a stop ends them all; a
session whose time ran out meanwhile ends with its true reason; bad state
files are refused with a reason and lose nothing else."""

import os
import signal
import time

import hgbus
import hgmanager
import hgtest

SYSTEMD = "org.freedesktop.systemd1"
UNIT_PATH = "/org/freedesktop/systemd1/unit/hourglassd_2eservice"
JOB_PATH = "/org/freedesktop/systemd1/job/42"


class RestartTest(hgtest.TestCase):
    CONFIG = {"Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120,
                           "CloseAfterSec": 60}}

    def managed(self, config=None, bus=None):
        d = hgmanager.ManagedDaemon(
            config=hgtest.merge_config(self.CONFIG, config), bus=bus,
            name=self._testMethodName)
        self.addCleanup(self._finish_daemon, d)
        d.start()
        d.wait_ready()
        return d

    def closes(self, d, user="alice"):
        return [c for c, u, _ in d.pam_calls()
                if c == "close_session" and u == user]

    def state_files(self, d):
        return sorted(os.listdir(os.path.join(d.runtime_dir, "sessions")))

    def assert_taken_back(self, d, token, before, at):
        r = d.client().session(token)
        self.assertEqual(r.status, 200, r)
        elapsed = time.monotonic() - at
        self.assertLessEqual(r.json()["expire_in_sec"],
                             before["expire_in_sec"] - int(elapsed),
                             "a deadline moved later: %r then %r after %.1f s"
                             % (before, r.json(), elapsed))
        return r.json()

    def test_crash_keeps_web_sessions(self):
        d = self.managed()
        c = d.client()
        token = c.login()
        (helper,) = d.helper_pids()
        self.assertEqual(len(self.state_files(d)), 1)
        before, at = c.session(token).json(), time.monotonic()
        d.crash()
        # The store holds the helper's connection: no EOF, PAM stays open.
        self.assertTrue(hgtest.pid_running(helper))
        d.restart()
        d.wait_ready()
        d.wait_for_log(r"Session \w+ of alice taken back")
        self.assert_taken_back(d, token, before, at)
        self.assertEqual(self.closes(d), [], "the PAM session was closed")
        # It is the same live session: signing out closes PAM, once.
        self.assertEqual(c.logout(token).status, 200)
        hgtest.wait_until(lambda: self.closes(d), 5.0)
        self.assertGone([helper])
        self.assertEqual(len(self.closes(d)), 1)
        self.assertEqual(self.state_files(d), [])

    def test_restart_job_keeps_sessions(self):
        bus = hgbus.SystemBus()
        self.addCleanup(bus.close)
        mock_systemd(bus, "restart")
        d = self.managed(bus=bus)
        c = d.client()
        token = c.login()
        before, at = c.session(token).json(), time.monotonic()
        d.stop()
        d.wait_for_log(r"restarting, every session is kept")
        self.assertEqual(self.closes(d), [])
        d.restart()
        d.wait_ready()
        self.assert_taken_back(d, token, before, at)
        self.assertEqual(c.logout(token).status, 200)
        hgtest.wait_until(lambda: self.closes(d), 5.0)

    def test_stop_ends_everything(self):
        bus = hgbus.SystemBus()
        self.addCleanup(bus.close)
        mock_systemd(bus, "stop")
        d = self.managed(bus=bus)
        token = d.client().login()
        d.stop()
        d.wait_for_log(r"ended: shutdown")
        hgtest.wait_until(lambda: self.closes(d), 5.0)
        self.assertEqual(self.state_files(d), [])
        d.restart()
        d.wait_ready()
        self.assertEqual(d.client().session(token).status, 401)

    def test_expired_while_down_ends_with_its_reason(self):
        d = self.managed({"Timeouts": {"WarnAfterSec": 1, "ExpireAfterSec": 2,
                                       "CloseAfterSec": 60}})
        token = d.client().login()
        expire_in = d.client().session(token).json()["expire_in_sec"]
        ends_at = time.monotonic() + expire_in
        d.crash()
        # The condition is the session's own end, while no daemon runs.
        hgtest.wait_until(lambda: time.monotonic() > ends_at + 0.2,
                          expire_in + 5)
        d.restart()
        d.wait_ready()
        d.wait_for_log(r"ended: idle-timeout")
        r = d.client().session(token)
        self.assertEqual(r.json(), {"error": "session-ended",
                                    "reason": "idle-timeout"})
        hgtest.wait_until(lambda: self.closes(d), 5.0)

    def test_helper_gone_while_down(self):
        d = self.managed()
        token = d.client().login()
        (helper,) = d.helper_pids()
        d.crash()
        hgtest.kill_pid(helper)
        hgtest.wait_until(lambda: not hgtest.pid_running(helper), 5.0)
        d.restart()
        d.wait_ready()
        d.wait_for_log(r"not taken back: (no connection to its PAM helper was "
                       r"kept|its PAM helper has exited)")
        self.assertEqual(d.client().session(token).status, 401)
        self.assertEqual(self.state_files(d), [])

    def test_bad_state_files_are_refused(self):
        d = self.managed()
        token = d.client().login()
        (name,) = self.state_files(d)
        d.crash()
        path = os.path.join(d.runtime_dir, "sessions", name)
        with open(path, "rb") as f:
            good = f.read()
        cases = {
            "truncated": good[:len(good) // 2],
            "corrupt": good.replace(b"USER=alice", b"USER=alicf"),
            "other boot": good.replace(good.split(b"\n")[1],
                                       b"BOOT_ID=" + b"0" * 32),
            "other version": good.replace(b"HOURGLASS_STATE=1",
                                          b"HOURGLASS_STATE=9"),
        }
        for what, data in cases.items():
            with self.subTest(what=what):
                with open(path, "wb") as f:
                    f.write(data)
                mark = d.log_mark()
                d.restart()
                d.wait_ready()
                d.wait_for_log(r"State file \S+ refused: ", after=mark)
                self.assertEqual(d.client().session(token).status, 401)
                self.assertTrue(d.alive())
                self.assertEqual(self.state_files(d), [])
                d.crash()
        self.assertGreater(d.runs, len(cases))


class DesktopRestartTest(hgtest.TestCase):
    """A registered desktop session stays managed after a crash: it is not
    left without a limit. One that logind no longer has is dropped."""

    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.logind_proc, self.logind = self.bus.logind()
        for sid in ("c1", "c2"):
            self.logind.AddSession(sid, "seat0", hgbus.dbus.UInt32(1001),
                                   "alice", True)
        self.d = hgmanager.ManagedDaemon(
            config={"Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120}},
            bus=self.bus, name=self._testMethodName)
        self.addCleanup(self._finish_daemon, self.d)
        self.d.start()
        self.d.wait_ready()
        self.bus.wait_for_name("org.hourglass1")

    def manager(self):
        return hgbus.dbus.Interface(
            self.bus.conn.get_object("org.hourglass1", "/org/hourglass1"),
            "org.hourglass1.Manager")

    def sessions(self):
        return {str(s[0]): str(s[2]) for s in self.manager().ListSessions()}

    def test_crash_keeps_desktop_sessions(self):
        keep = str(self.manager().RegisterDesktopSession("c1"))
        gone = str(self.manager().RegisterDesktopSession("c2"))
        self.d.crash()
        # logind forgets c2 while the daemon is down.
        self.bus.stop_mock(self.logind_proc, "org.freedesktop.login1")
        self.logind_proc, self.logind = self.bus.logind()
        self.logind.AddSession("c1", "seat0", hgbus.dbus.UInt32(1001),
                               "alice", True)
        self.d.restart()
        self.d.wait_ready()
        self.bus.wait_for_name("org.hourglass1")
        self.assertEqual(self.sessions(), {keep: "desktop"})
        self.d.wait_for_log(r"not taken back: logind no longer has session c2")
        # Still managed: an operator's terminate goes through logind.
        self.manager().TerminateSession(keep)
        logind = self.bus.mock_object("org.freedesktop.login1",
                                      "/org/freedesktop/login1")
        calls = hgtest.wait_until(lambda: [
            [str(a) for a in c[2]] for c in logind.GetCalls()
            if c[1] == "TerminateSession"], 5.0)
        self.assertEqual(calls, [["c1"]])


def mock_systemd(bus, job_type):
    """org.freedesktop.systemd1 with our unit and its queued job."""
    bus.start_mock([SYSTEMD, "/org/freedesktop/systemd1",
                    SYSTEMD + ".Manager"], SYSTEMD)
    systemd = bus.mock_object(SYSTEMD, "/org/freedesktop/systemd1")
    systemd.AddMethod("", "GetUnitByPID", "u", "o", 'ret = "%s"' % UNIT_PATH)
    systemd.AddObject(UNIT_PATH, SYSTEMD + ".Unit",
                      {"Job": hgbus.dbus.Struct(
                          (hgbus.dbus.UInt32(42),
                           hgbus.dbus.ObjectPath(JOB_PATH)),
                          signature="uo")}, [])
    systemd.AddObject(JOB_PATH, SYSTEMD + ".Job",
                      {"JobType": hgbus.dbus.String(job_type)}, [])


if __name__ == "__main__":
    hgtest.main()
