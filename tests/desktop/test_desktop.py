#!/usr/bin/python3
"""Desktop logins: pam_hourglass.so in a session stack run by libpamtest
(hg-pamtest) against the real hourglassd on a private system bus with
python-dbusmock's logind: registration and unregistration, busy and idle
from logind's hints, the warning and the end (TerminateSession or
LockSession, re-armed on unlock), unmanaged low uids, and a daemon that is
absent, hung or refusing, which never holds a login up; the account phase
(CheckAccount): refused outside the opening hours and with no allowance
left (PAM_PERM_DENIED and the greeter's message), let through inside them,
and a daemon that is absent (permissive, fatal under strict)."""

import datetime

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import dbus  # noqa: E402

import hgbus  # noqa: E402
import hgtest  # noqa: E402

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
LOGIND = "org.freedesktop.login1"
ALICE = 1001
PAMTEST = os.path.join(hgtest.BUILD_ROOT, "tests", "desktop", "hg-pamtest")
MODULE = os.path.join(hgtest.BUILD_ROOT, "pam", "pam_hourglass.so")
PAM_ENV = "/usr/lib/x86_64-linux-gnu/security/pam_env.so"
CTL = os.path.join(hgtest.BUILD_ROOT, "tools", "hourglassctl")
SLACK = hgtest.SLACK
# pam_hourglass.so's bound on its call to hourglassd; what hg-pamtest
# takes beyond it is the process's own start and end.
CALL_BOUND = 2.0


class DesktopFixture(hgtest.TestCase):
    """A private bus with logind's session c1 of alice, and the PAM service
    that registers it (no tests of its own: test_desktop_idle reuses it)."""

    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.logind_proc, self.logind = self.bus.logind()
        self.logind.AddSession("c1", "seat0", dbus.UInt32(ALICE), "alice",
                               True)
        self.tmp = self.bus.tmp  # removed with the bus
        self.pam_dir = os.path.join(self.tmp, "pam.d")
        os.mkdir(self.pam_dir)
        self.set_service()

    def set_service(self, logind_id="c1", options="debug", account=None):
        env_file = os.path.join(self.tmp, "env")
        with open(env_file, "w") as f:
            f.write("XDG_SESSION_ID=%s\n" % logind_id)
        with open(os.path.join(self.pam_dir, "hg-desktop"), "w") as f:
            f.write("session required %s readenv=1 envfile=%s "
                    "conffile=/dev/null\n" % (PAM_ENV, env_file))
            if account is not None:
                f.write("account required %s %s\n" % (MODULE, account))
            f.write("session required %s %s\n" % (MODULE, options))
        with open(os.path.join(self.pam_dir, "other"), "w") as f:
            f.write("session required "
                    "/usr/lib/x86_64-linux-gnu/security/pam_deny.so\n")

    def start(self, timeouts=None, action="terminate", idle=None, env=None,
              extra=None):
        config = {"Timeouts": dict({"WarnAfterSec": 1, "ExpireAfterSec": 3,
                                    "MaxSessionSec": 0}, **(timeouts or {})),
                  "Desktop": {"Action": action}}
        if idle:
            config["Idle"] = idle
        config.update(extra or {})
        d = hgbus.BusDaemon(self.bus, config=config, name=self._testMethodName,
                            env=env)
        self.addCleanup(self._finish_daemon, d)
        d.start()
        self.bus.wait_for_name(NAME)
        self.d = d
        return d

    def pam(self, *ops, uid=None, timeout=20):
        """Runs hg-pamtest: (exit code, stdout, stderr, seconds)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LD_", "PAM_", "NSS_", "DBUS_"))}
        preload = [p for p in hgtest.preload().split(":")
                   if "nss_wrapper" not in p]
        env.update(self.bus.env())
        env.update(getattr(self, "pam_env", {}))
        env.update({"LD_PRELOAD": ":".join(preload), "PAM_WRAPPER": "1",
                    "PAM_WRAPPER_SERVICE_DIR": self.pam_dir,
                    "PAM_WRAPPER_DEBUGLEVEL": "2"})
        if hgtest.SANITIZE != "none":
            env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["ASAN_OPTIONS"] = "detect_leaks=0"
        cmd = [PAMTEST, "hg-desktop", "alice"] + list(ops)
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                   "--clear-groups"] + cmd
        start = time.monotonic()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=timeout)
        return out.returncode, out.stdout, out.stderr, time.monotonic() - start

    def sessions(self):
        m = dbus.Interface(self.bus.conn.get_object(NAME, "/org/hourglass1"),
                           MANAGER)
        return [hgbus._plain(s) for s in m.ListSessions()]

    def desktop_ids(self):
        return [s[0] for s in self.sessions() if s[2] == "desktop"]

    def set_idle(self, idle, logind_id="c1"):
        obj = self.bus.mock_object(LOGIND,
                                   "/org/freedesktop/login1/session/" + logind_id)
        obj.UpdateProperties("org.freedesktop.login1.Session", {
            "IdleHint": dbus.Boolean(idle),
            "IdleSinceHint": dbus.UInt64(int(time.time() * 1e6))})

    def logind_calls(self, method):
        return [[str(a) for a in c[2]] for c in self.logind.GetCalls()
                if c[1] == method]


class DesktopTest(DesktopFixture):
    # -- registration --

    def test_register_and_unregister_in_one_transaction(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start()
        code, out, err, secs = self.pam("open", "close")
        self.assertEqual(code, 0, out + err)
        new = rec.wait_for("SessionNew")
        removed = rec.wait_for("SessionRemoved")
        self.assertEqual(removed[3][:2], new[3])
        self.assertEqual(removed[3][2], "logout")
        self.d.wait_for_log(r"Session \w+ of alice started .*HG_SOURCE=desktop")
        self.assertIn("managed as", err)  # debug output
        self.assertEqual(self.desktop_ids(), [])

    def test_busy_idle_warning_and_terminate(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start(action="terminate")
        monitor = None
        if os.path.exists(CTL):
            env = dict(os.environ, **self.bus.env())
            monitor = hgtest.spawn([CTL, "monitor"], env=env,
                                   stdout=subprocess.PIPE, text=True)
            self.addCleanup(hgtest.stop_process, monitor, signal.SIGKILL)
        code, out, err, _ = self.pam("open")
        self.assertEqual(code, 0, out + err)
        [sid] = hgtest.wait_until(self.desktop_ids, 5)
        path = [s[4] for s in self.sessions() if s[0] == sid][0]
        props = self.bus.conn.get_object(NAME, path).GetAll(
            "org.hourglass1.Session", dbus_interface=dbus.PROPERTIES_IFACE)
        self.assertEqual(str(props["LogindSession"]), "c1")
        # Not idle (logind's word): only the absolute limit runs, none
        # here; for longer than WarnAfterSec (1 s), nothing happens.
        hgtest.assert_stays(
            lambda: self.desktop_ids() == [sid] and
            not rec.matching("SessionWarning"), 1.5,
            "no warning and no end while logind says busy")
        # Idle from now: warned after WarnAfterSec, ended after ExpireAfterSec.
        start = time.monotonic()
        self.set_idle(True)
        warn = rec.wait_for("SessionWarning", lambda s: s[3][0] == sid,
                            1 + SLACK)
        warned = time.monotonic() - start
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid,
                               3 + SLACK)
        ended = time.monotonic() - start
        hgtest.note("idle from logind: warned after %.2f s, ended after "
                    "%.2f s (WarnAfterSec=1, ExpireAfterSec=3)"
                    % (warned, ended))
        self.assertEqual(removed[3][2], "idle-timeout")
        # IdleSinceHint is taken after start: no end before 3 s.
        self.assertGreater(ended, 2.5)
        hgtest.wait_until(lambda: self.logind_calls("TerminateSession"), SLACK)
        self.assertEqual(self.logind_calls("TerminateSession"), [["c1"]])
        self.assertIsNotNone(warn)
        if monitor:
            monitor.send_signal(signal.SIGTERM)
            text, _ = monitor.communicate(timeout=SLACK)
            self.assertIn(sid, text)
            self.assertRegex(text, r"warning")
            self.assertRegex(text, r"idle-timeout")

    def test_lock_then_unlock_rearms(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start(action="lock")
        self.assertEqual(self.pam("open")[0], 0)
        [sid] = hgtest.wait_until(self.desktop_ids, SLACK)
        self.set_idle(True)
        rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid, 3 + SLACK)
        hgtest.wait_until(lambda: self.logind_calls("LockSession"), SLACK)
        self.assertEqual(self.logind_calls("LockSession"), [["c1"]])
        self.assertFalse(self.logind_calls("TerminateSession"))
        # The person unlocks: managed again, as a new session.
        c1 = self.bus.mock_object(LOGIND, "/org/freedesktop/login1/session/c1")
        c1.UpdateProperties("org.freedesktop.login1.Session",
                            {"LockedHint": dbus.Boolean(True)})
        self.set_idle(False)
        c1.UpdateProperties("org.freedesktop.login1.Session",
                            {"LockedHint": dbus.Boolean(False)})
        new = rec.wait_for("SessionNew", lambda s: s[3][0] != sid, 5)
        self.assertEqual(self.desktop_ids(), [new[3][0]])

    def test_logind_removing_the_session_unregisters_it(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start({"ExpireAfterSec": 60, "WarnAfterSec": 50})
        self.assertEqual(self.pam("open")[0], 0)
        [sid] = hgtest.wait_until(self.desktop_ids, 5)
        self.logind.EmitSignal("org.freedesktop.login1.Manager",
                               "SessionRemoved", "so",
                               ["c1", dbus.ObjectPath(
                                   "/org/freedesktop/login1/session/c1")])
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid, 5)
        self.assertEqual(removed[3][2], "logout")

    def test_low_uid_is_not_managed(self):
        self.logind.AddSession("c5", "seat1", dbus.UInt32(500), "lowuid", True)
        self.set_service("c5")
        self.start()
        code, out, err, _ = self.pam("open", "close")
        self.assertEqual(code, 0, out + err)
        self.assertIn("not managed", err)
        self.assertEqual(self.desktop_ids(), [])

    # -- a daemon that cannot answer never holds a login up --

    def test_daemon_absent(self):
        code, out, err, secs = self.pam("open", "close")
        self.assertEqual(code, 0, out + err)
        # No name on the bus: refused at once, not at the bound (nor at
        # sd-bus's 25 s).
        hgtest.note("open and close without hourglassd: %.2f s" % secs)
        self.assertLess(secs, CALL_BOUND + SLACK)
        self.assertIn("RegisterDesktopSession of logind session c1 failed", err)
        self.set_service(options="strict")
        code, out, err, secs = self.pam("open")
        self.assertEqual(code, 1, out + err)

    def test_daemon_hung(self):
        d = self.start()
        d.signal(signal.SIGSTOP)
        self.addCleanup(lambda: d.alive() and d.signal(signal.SIGCONT))
        code, out, err, secs = self.pam("open")
        d.signal(signal.SIGCONT)
        self.assertEqual(code, 0, out + err)
        hgtest.note("open against a stopped hourglassd: %.2f s (bound %.0f s)"
                    % (secs, CALL_BOUND))
        self.assertGreater(secs, CALL_BOUND - 0.5)  # it did wait for the bound...
        # ...and not for sd-bus's 25 s default.
        self.assertLess(secs, CALL_BOUND + SLACK)
        self.assertIn("failed", err)

    def test_daemon_refuses(self):
        self.start()
        code, out, err, _ = self.pam("open", uid=1002)
        self.assertEqual(code, 0, out + err)
        self.assertIn("needs root or the admin group", err)
        self.assertEqual(self.desktop_ids(), [])

    def test_bad_option_is_an_error(self):
        self.set_service(options="timeout=99999")
        code, out, err, _ = self.pam("open")
        self.assertEqual(code, 1, out + err)
        self.assertIn("bad option", err)


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class AccountTest(DesktopFixture):
    """pam_sm_acct_mgmt against CheckAccount; the daemon and the module
    both in UTC, so that the message's local times are known."""

    def setUp(self):
        super().setUp()
        self.pam_env = {"TZ": "UTC"}
        self.set_service(account="debug")

    def start_utc(self, timeouts, extra=None):
        return self.start(dict({"WarnAfterSec": 60, "ExpireAfterSec": 120},
                               **timeouts), env={"TZ": "UTC"}, extra=extra)

    def test_closed_is_refused_with_when_it_opens(self):
        today = datetime.datetime.now(datetime.timezone.utc).weekday()
        day = DAYS[(today + 2) % 7]
        self.start_utc({"AllowedHours": "%s 10:00-11:00" % day})
        code, out, err, _ = self.pam("account")
        self.assertEqual(code, 1, out + err)
        self.assertIn("account PAM_PERM_DENIED", out)
        self.assertIn("error: This computer is closed until %s 10:00.\n" % day,
                      out)
        self.assertIn("login of alice refused: closed", err)
        # Refused at the account phase: no session was registered.
        self.assertEqual(self.desktop_ids(), [])

    def test_the_rule_of_the_service_and_seat(self):
        # Closed only by the rule of this PAM service on seat1.
        today = datetime.datetime.now(datetime.timezone.utc).weekday()
        day = DAYS[(today + 2) % 7]
        self.start_utc({}, extra={"Policy lab": {
            "MatchSource": "desktop", "MatchService": "hg-desktop",
            "MatchSeat": "seat1", "AllowedHours": "%s 10:00-11:00" % day}})
        self.pam_env["XDG_SEAT"] = "seat1"
        code, out, err, _ = self.pam("account")
        self.assertEqual(code, 1, out + err)
        self.assertIn("error: This computer is closed until %s 10:00." % day,
                      out)
        self.pam_env["XDG_SEAT"] = "seat0"
        code, out, err, _ = self.pam("account")
        self.assertEqual(code, 0, out + err)
        self.assertIn("account PAM_SUCCESS", out)

    def test_inside_the_hours_is_let_through(self):
        self.start_utc({"AllowedHours": "Mon-Sun 00:00-24:00",
                        "DailyAllowanceSec": 3600})
        code, out, err, _ = self.pam("account", "open")
        self.assertEqual(code, 0, out + err)
        self.assertIn("account PAM_SUCCESS", out)
        self.assertNotIn("error:", out)
        self.assertIn("account of alice: allowed", err)
        hgtest.wait_until(self.desktop_ids, SLACK)

    def test_no_allowance_left_is_refused_until_it_renews(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start_utc({"DailyAllowanceSec": 1})
        code, out, err, _ = self.pam("account", "open")
        self.assertEqual(code, 0, out + err)
        [sid] = hgtest.wait_until(self.desktop_ids, SLACK)
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid,
                               1 + SLACK)
        self.assertEqual(removed[3][2], "allowance")
        code, out, err, _ = self.pam("account")
        self.assertEqual(code, 1, out + err)
        self.assertIn("account PAM_PERM_DENIED", out)
        self.assertIn("error: Your time for today is used up; it renews at "
                      "00:00.\n", out)

    def test_daemon_absent_permissive_unless_strict(self):
        code, out, err, secs = self.pam("account")
        self.assertEqual(code, 0, out + err)
        self.assertIn("account PAM_SUCCESS", out)
        self.assertIn("CheckAccount of user alice failed", err)
        self.assertLess(secs, CALL_BOUND + SLACK)
        self.set_service(account="strict")
        code, out, err, _ = self.pam("account")
        self.assertEqual(code, 1, out + err)
        self.assertIn("account PAM_PERM_DENIED", out)
        self.assertIn("error: The time limits cannot be checked now", out)


if __name__ == "__main__":
    hgtest.main()
