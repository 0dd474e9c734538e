#!/usr/bin/python3
"""Policy rules of desktop sessions against the real hourglassd on a private
bus with python-dbusmock's logind: rules by PAM service, seat and group
(logind's Service and Seat of the session, NSS's groups of its user), and
lock-then-terminate: locked at the idle limit (LockSession), warned before
the locked timeout, ended LockedMaxSec later (TerminateSession,
locked-timeout) unless unlocked, nothing at the lock screen counting as
activity, and the lock and its deadline kept across a restart."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import dbus  # noqa: E402

import hgbus  # noqa: E402
import hgmanager  # noqa: E402
import hgtest  # noqa: E402

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
SESSION = "org.hourglass1.Session"
LOGIND_SESSION = "org.freedesktop.login1.Session"
ALICE, BOB, CAROL = 1001, 1002, 1003  # tests/data/passwd
SLACK = hgtest.SLACK
JITTER = 1000  # µs: one boot-time instant converted to wall-clock twice

# Idle for WarnAfterSec: warned; for ExpireAfterSec: locked; warned again
# (with the same lead, 2 s) before LockedMaxSec locked ends it.
WARN, EXPIRE, LOCKED = 1, 3, 4
LAB = {
    "Timeouts": {"WarnAfterSec": WARN, "ExpireAfterSec": EXPIRE,
                 "MaxSessionSec": 0},
    "Idle": {"Sources": "page;logind"},
    "Policy lab": {"MatchSource": "desktop",
                   "Action": "lock-then-terminate",
                   "LockedMaxSec": LOCKED},
}


class DesktopPolicyFixture(hgtest.TestCase):
    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.logind_proc, self.logind = self.bus.logind()
        self.rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(self.rec.close)

    def start(self, config, managed=False):
        cls = hgmanager.ManagedDaemon if managed else hgbus.BusDaemon
        d = cls(bus=self.bus, config=config, name=self._testMethodName)
        self.addCleanup(self._finish_daemon, d)
        d.start()
        if managed:
            d.wait_ready()
        self.bus.wait_for_name(NAME)
        self.d = d
        return d

    def manager(self):
        return dbus.Interface(
            self.bus.conn.get_object(NAME, "/org/hourglass1"), MANAGER)

    def register(self, logind_id):
        """What pam_hourglass.so does at a login (as root)."""
        sid = str(self.manager().RegisterDesktopSession(logind_id))
        self.assertTrue(sid, "logind session %s is not managed" % logind_id)
        return sid, str(self.manager().GetSession(sid))

    def props(self, path):
        return hgbus._plain(self.bus.conn.get_object(NAME, path).GetAll(
            SESSION, dbus_interface=dbus.PROPERTIES_IFACE))

    def logind_calls(self, method):
        return [[str(a) for a in c[2]] for c in self.logind.GetCalls()
                if c[1] == method]

    def session_obj(self, logind_id="c1"):
        return self.bus.mock_object(
            "org.freedesktop.login1",
            "/org/freedesktop/login1/session/" + logind_id)

    def set_logind(self, logind_id="c1", **props):
        self.session_obj(logind_id).UpdateProperties(LOGIND_SESSION, props)

    def set_idle(self, idle, logind_id="c1"):
        self.set_logind(logind_id, IdleHint=dbus.Boolean(idle),
                        IdleSinceHint=dbus.UInt64(int(time.time() * 1e6)))

    def logind_report(self, path):
        """When hourglassd last heard logind's hints of the session."""
        return max([s[2] for s in self.props(path)["IdleSources"]
                    if s[0] == "logind"] or [0])

    def set_idle_seen(self, path, idle, logind_id="c1"):
        """set_idle(), and wait until hourglassd has it (the hints come
        as a signal from the mock, in no set order with our calls)."""
        before = self.logind_report(path)
        self.set_idle(idle, logind_id)
        hgtest.wait_until(lambda: self.logind_report(path) > before, SLACK,
                          message="hourglassd did not hear of IdleHint=%s"
                          % idle)

    def warnings_of(self, sid):
        return [s for s in self.rec.matching("SessionWarning")
                if s[3][0] == sid]

    def stage_changes(self, path):
        return [s[3][1]["Stage"] for s in self.rec.matching(
            "PropertiesChanged", path) if s[3][0] == SESSION and
            "Stage" in s[3][1]]

    def lock(self, sid, path, locked_max=LOCKED):
        """Idle from now: warned of the lock, then locked, to end
        locked_max later. Returns the session's properties then."""
        start = time.monotonic()
        self.set_idle(True)
        warn = hgtest.wait_until(lambda: self.warnings_of(sid), WARN + SLACK)
        self.assertEqual(warn[0][3][2], EXPIRE - WARN)
        p = self.props(path)
        self.assertEqual((p["State"], p["Warning"], p["Stage"]),
                         ("warning", "idle", "active"))
        self.assertAlmostEqual(p["LockAt"] - p["LastActivity"], EXPIRE * 1e6,
                               delta=JITTER)
        hgtest.wait_until(lambda: self.logind_calls("LockSession"),
                          EXPIRE + SLACK, message="LockSession never called")
        locked_at = time.time()
        hgtest.note("idle to LockSession: %.2f s (ExpireAfterSec=%d)"
                    % (time.monotonic() - start, EXPIRE))
        self.assertGreater(time.monotonic() - start, EXPIRE - 0.5)
        self.assertEqual(self.logind_calls("LockSession"), [["c1"]])
        self.assertFalse(self.logind_calls("TerminateSession"))
        p = self.props(path)
        self.assertEqual((p["Stage"], p["State"], p["Warning"], p["LockAt"]),
                         ("locked", "active", "", 0))
        self.assertAlmostEqual(p["ExpiresAt"] / 1e6, locked_at + locked_max,
                               delta=1.0)
        hgtest.wait_until(lambda: "locked" in self.stage_changes(path), SLACK)
        self.d.wait_for_log(r"Desktop session %s of alice reached its idle "
                            r"limit: locked, and terminated in %d s unless "
                            r"unlocked" % (sid, locked_max))
        return p


class RulesTest(DesktopPolicyFixture):
    def test_rules_by_service_seat_and_group(self):
        self.start({
            "Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120},
            "Idle": {"Sources": "page;logind"},
            "Policy web": {"MatchSource": "web", "MaxSessionSec": 60},
            "Policy ssh": {"MatchSource": "desktop", "MatchService": "sshd",
                           "ExpireAfterSec": 300},
            "Policy lab": {"MatchSeat": "seat1",
                           "Action": "lock-then-terminate"},
            "Policy staff": {"MatchGroup": "kiosk-admins",
                             "MatchSource": "desktop", "Action": "lock"},
        })
        # (logind id, uid, user, seat, PAM service) -> rule, action
        logins = [
            ("c1", ALICE, "alice", "seat0", "gdm-password", "staff", "lock"),
            ("c2", BOB, "bob", None, "sshd", "ssh", "terminate"),
            ("c3", BOB, "bob", "seat1", "gdm-password", "lab",
             "lock-then-terminate"),
            ("c4", ALICE, "alice", "seat1", "sshd", "ssh", "terminate"),
            ("c5", CAROL, "carol", "seat0", "login", "", "terminate"),
        ]
        for lid, uid, user, seat, service, _, _ in logins:
            self.bus.logind_session(self.logind, lid, uid, user, seat=seat,
                                    service=service)
        for lid, uid, user, seat, service, rule, action in logins:
            with self.subTest(logind=lid, rule=rule):
                sid, path = self.register(lid)
                p = self.props(path)
                self.assertEqual((p["Policy"], p["Action"], p["Source"],
                                  p["LogindSession"]),
                                 (rule, action, "desktop", lid))
                self.d.wait_for_log(
                    r"Desktop session %s of %s \(logind session %s, seat %s, "
                    r"service %s\): policy %s"
                    % (sid, user, lid, seat or "-", service,
                       rule or "fallback"))
                # What ExplainPolicy says of the same login.
                who = {"source": "desktop", "service": service}
                if seat:
                    who["seat"] = seat
                explained = self.manager().ExplainPolicy(
                    user, dbus.Dictionary(who, signature="sv"))
                self.assertEqual(str(explained[0]), rule)
        # Each gets its rule's limits: idle from now, the SSH login ends
        # ExpireAfterSec (300 s) later, the fallback's after 120 s.
        for lid, expire in (("c2", 300), ("c5", 120)):
            with self.subTest(logind=lid, expire=expire):
                _, path = self.register(lid)  # the same session
                self.set_idle_seen(path, True, lid)
                p = self.props(path)
                self.assertAlmostEqual(p["ExpiresAt"] - p["LastActivity"],
                                       expire * 1e6, delta=JITTER)

    def test_no_groups_no_group_rule(self):
        # A user NSS does not know has no groups: no group's rule, but
        # still the rules by service and the fallback.
        self.start({"Policy staff": {"MatchGroup": "kiosk-admins"},
                    "Policy login": {"MatchService": "login"}})
        self.bus.logind_session(self.logind, "c1", 4242, "stranger",
                                service="login")
        self.bus.logind_session(self.logind, "c2", 4243, "other",
                                service="gdm-password")
        sid, path = self.register("c1")
        self.assertEqual(self.props(path)["Policy"], "login")
        sid, path = self.register("c2")
        self.assertEqual(self.props(path)["Policy"], "")
        self.d.wait_for_log(r"Cannot tell the groups of other")


class LockThenTerminateTest(DesktopPolicyFixture):
    def test_locked_until_the_end(self):
        self.start(LAB)
        self.bus.logind_session(self.logind, "c1", ALICE, "alice",
                                service="gdm-password")
        sid, path = self.register("c1")
        p = self.props(path)
        self.assertEqual((p["Policy"], p["Action"], p["Stage"], p["LockAt"]),
                         ("lab", "lock-then-terminate", "active", 0))
        locked = self.lock(sid, path)
        deadline = locked["ExpiresAt"]

        # At the lock screen: input (logind says busy) and an agent's
        # reports are not activity.
        self.set_idle_seen(path, False)
        self.assertEqual(self.bus.call_as(
            ALICE, NAME, "/org/hourglass1", MANAGER, "ReportActivity", "su",
            (sid, 0))[0], "ok")
        p = self.props(path)
        self.assertEqual(p["Stage"], "locked")
        self.assertAlmostEqual(p["ExpiresAt"], deadline, delta=JITTER)
        self.assertEqual(p["LastActivity"], locked["LastActivity"])

        # Warned of the end, with the idle warning's lead.
        warn = hgtest.wait_until(lambda: self.warnings_of(sid)[1:], LOCKED +
                                 SLACK, message="no warning of the end")[0]
        self.assertEqual(warn[3][2], EXPIRE - WARN)
        p = self.props(path)
        self.assertEqual((p["State"], p["Warning"], p["Stage"]),
                         ("warning", "locked", "locked"))

        # Still locked LockedMaxSec after the lock: ended and terminated.
        removed = self.rec.wait_for("SessionRemoved",
                                    lambda s: s[3][0] == sid,
                                    timeout=LOCKED + SLACK)
        ended = time.time()
        self.assertEqual(removed[3][2], "locked-timeout")
        hgtest.note("ended %.2f s after its deadline"
                    % (ended - deadline / 1e6))
        self.assertGreater(ended, deadline / 1e6 - 0.5)
        hgtest.wait_until(lambda: self.logind_calls("TerminateSession"), SLACK)
        self.assertEqual(self.logind_calls("TerminateSession"), [["c1"]])
        self.d.wait_for_log(r"Session %s of alice ended: locked-timeout" % sid)

    def test_unlock_returns_to_active(self):
        self.start(LAB)
        self.bus.logind_session(self.logind, "c1", ALICE, "alice")
        sid, path = self.register("c1")
        locked = self.lock(sid, path)
        deadline = locked["ExpiresAt"]
        # The screen locker says locked, then the person unlocks and works.
        self.set_logind(LockedHint=dbus.Boolean(True))
        self.set_logind(LockedHint=dbus.Boolean(False))
        hgtest.wait_until(lambda: self.props(path)["Stage"] == "active", SLACK)
        unlocked = time.time()
        self.set_idle_seen(path, False)
        p = self.props(path)
        self.assertEqual((p["State"], p["Warning"]), ("active", ""))
        self.assertAlmostEqual(p["LastActivity"] / 1e6, unlocked, delta=1.0)
        self.assertEqual(p["ExpiresAt"], 0)  # busy: no idle end
        self.d.wait_for_log(r"Desktop session %s of alice unlocked: active "
                            r"again" % sid)
        # Told on the bus like any change of stage.
        hgtest.wait_until(lambda: self.stage_changes(path)[-1:] == ["active"],
                          SLACK, message="no PropertiesChanged for Stage: %r"
                          % self.stage_changes(path))
        # Past the locked deadline: not ended, the same session.
        hgtest.assert_stays(
            lambda: not self.logind_calls("TerminateSession") and
            [str(s[0]) for s in self.manager().ListSessions()] == [sid],
            max(0.0, deadline / 1e6 + 1 - time.time()),
            "an unlocked session stays")
        # Idle again: locked again, from the start.
        self.set_idle(True)
        hgtest.wait_until(lambda: len(self.logind_calls("LockSession")) == 2,
                          EXPIRE + SLACK)
        self.assertEqual(self.props(path)["Stage"], "locked")


class LockRestartTest(DesktopPolicyFixture):
    """hgmanager.py stands in for systemd: the lock and its deadline are in
    the session's state file, and a crash loses neither."""

    LOCKED_MAX = 8
    CONFIG = hgtest.merge_config(LAB, {"Policy lab": {"LockedMaxSec":
                                                      LOCKED_MAX}})

    def state_text(self, sid):
        return hgtest._read(os.path.join(self.d.runtime_dir, "sessions",
                                         sid)) or ""

    def locked_then_crash(self):
        self.start(self.CONFIG, managed=True)
        self.bus.logind_session(self.logind, "c1", ALICE, "alice")
        sid, path = self.register("c1")
        p = self.lock(sid, path, self.LOCKED_MAX)
        hgtest.wait_until(lambda: "\nLOCKED_AT=" in self.state_text(sid),
                          SLACK, message="no LOCKED_AT in the state file")
        self.set_logind(LockedHint=dbus.Boolean(True))  # the screen locker
        self.d.crash()
        hgtest.wait_until(lambda: not self.bus.has_owner(NAME), SLACK)
        return sid, path, p["ExpiresAt"]

    def restart(self):
        self.d.restart()
        self.d.wait_ready()
        self.bus.wait_for_name(NAME)

    def test_restart_mid_lock_keeps_the_lock_and_its_deadline(self):
        sid, path, deadline = self.locked_then_crash()
        self.restart()
        self.d.wait_for_log(r"Session %s of alice taken back" % sid)
        p = self.props(path)
        self.assertEqual((p["Policy"], p["Stage"]), ("lab", "locked"))
        self.assertAlmostEqual(p["ExpiresAt"], deadline, delta=JITTER)
        removed = self.rec.wait_for(
            "SessionRemoved", lambda s: s[3][0] == sid,
            timeout=max(0, deadline / 1e6 - time.time()) + SLACK)
        self.assertEqual(removed[3][2], "locked-timeout")
        self.assertGreater(time.time(), deadline / 1e6 - 0.5)
        hgtest.wait_until(lambda: self.logind_calls("TerminateSession"), SLACK)
        self.assertEqual(self.logind_calls("TerminateSession"), [["c1"]])

    def test_unlocked_while_down(self):
        sid, path, deadline = self.locked_then_crash()
        # The person unlocks while no hourglassd runs.
        self.set_logind(LockedHint=dbus.Boolean(False))
        self.restart()
        hgtest.wait_until(lambda: self.props(path)["Stage"] == "active", SLACK,
                           message="still locked after the restart: %r"
                          % self.props(path))
        self.set_idle_seen(path, False)
        hgtest.assert_stays(
            lambda: not self.logind_calls("TerminateSession") and
            [str(s[0]) for s in self.manager().ListSessions()] == [sid],
            max(0.0, deadline / 1e6 + 1 - time.time()),
            "a session unlocked meanwhile stays")


if __name__ == "__main__":
    hgtest.main()
