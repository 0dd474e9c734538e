#!/usr/bin/python3
"""Lock, then sign out, on a booted Debian with real logind: a console
login whose policy rule says Action=lock-then-terminate is locked through
logind (LockSession, allowed to the hourglass user by the shipped polkit
rule: logind sends the session its Lock signal) at the idle limit; typing
on the locked console is not activity; still locked LockedMaxSec later,
it ends (locked-timeout) and logind terminates it. A locker that says it
unlocked (logind's LockedHint, set by the session's user) makes it active
again."""

import json
import sys
import time

import hgsys

LOCKED_MAX = 8
# Idle limits well above the 8 s granularity of a tty's atime; the rule is
# matched on the PAM service of the console login.
CONFIG = {"Timeouts": {"WarnAfterSec": 12, "ExpireAfterSec": 18,
                       "MaxSessionSec": 0},
          "Desktop": {"Action": "terminate"},
          "Policy lab": {"MatchSource": "desktop", "MatchService": "login",
                         "Action": "lock-then-terminate",
                         "LockedMaxSec": LOCKED_MAX}}
LOGIND = "org.freedesktop.login1"


class LockTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        hgsys.pam_hourglass_in_login(hgsys.machine())

    def setUp(self):
        super().setUp()
        self.hg.start(CONFIG)

    def status(self, sid):
        r = self.hg.ctl("--json", "status", sid)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def logind_path(self, logind_id):
        r = self.m.run(["busctl", "--json=short", "call", LOGIND,
                        "/org/freedesktop/login1", LOGIND + ".Manager",
                        "GetSession", "s", logind_id])
        return json.loads(r.stdout)["data"][0]

    def watch_lock_signals(self):
        """busctl monitor of logind's Lock and Unlock signals."""
        mon = self.m.spawn(["busctl", "monitor", "--system", "--match",
                            "type='signal',sender='%s',"
                            "interface='%s.Session'" % (LOGIND, LOGIND)])
        self.addCleanup(mon.kill)
        # It says so once it has become a monitor.
        self.wait_until(lambda: "Monitoring bus message stream" in
                        mon.output(), 10, message="busctl monitor did not "
                        "start:\n%s" % mon.output())
        return mon

    def wait_locked(self, sid, last):
        self.wait_until(lambda: (self.status(sid) or {}).get("stage")
                        == "locked", 18 + 8 + 15, message="never locked")
        return time.monotonic() - last

    def test_locked_then_signed_out(self):
        user, login, sid = self.console_login("lab")
        logind_id = login.logind_session()
        path = self.logind_path(logind_id)
        s = self.status(sid)
        self.assertEqual(s["policy"], "lab")
        mon = self.watch_lock_signals()
        login.write("true\n")  # the last input
        last = time.monotonic()
        locked = self.wait_locked(sid, last)
        # logind took the call: the session was sent its Lock signal.
        self.wait_until(lambda: "Member=Lock" in mon.output() and
                        path in mon.output(), 10,
                        message="logind sent no Lock to %s:\n%s"
                        % (path, mon.output()))
        self.assertFalse([e for e in self.journal() if "logind refused" in
                          str(e.get("MESSAGE", ""))])
        # Keys on a locked console are the locker's, not the person's.
        login.write("true\n")
        hgsys.hgtest.assert_stays(
            lambda: (self.status(sid) or {}).get("stage") == "locked", 2.0,
            "typing does not unlock it", interval=0.5)
        self.wait_message(r"Session %s of %s ended: locked-timeout"
                          % (sid, user.name), timeout=LOCKED_MAX + 10)
        ended = time.monotonic() - last
        self.wait_until(lambda: not login.running(), 15,
                        message="logind did not end the login")
        self.wait_until(lambda: login.logind_session() is None, 15)
        print("# lock-then-terminate on a console: locked %.1f s after the "
              "last input (ExpireAfterSec=18, atime to 8 s), ended %.1f s "
              "after it (LockedMaxSec=%d)" % (locked, ended, LOCKED_MAX))
        self.assertGreaterEqual(ended - locked, LOCKED_MAX - 1.5)

    def test_unlock_makes_it_active(self):
        user, login, sid = self.console_login("lab")
        path = self.logind_path(login.logind_session())
        login.write("true\n")
        last = time.monotonic()
        self.wait_locked(sid, last)
        locked_at = time.monotonic()

        def hint(value):  # what a screen locker tells logind
            self.m.run(["busctl", "call", LOGIND, path, LOGIND + ".Session",
                        "SetLockedHint", "b", value], user=user.name)
        hint("true")
        hint("false")
        self.wait_until(lambda: (self.status(sid) or {}).get("stage")
                        != "locked", 10, message="the unlock was not seen")
        self.assertEqual(self.status(sid)["state"], "active")
        # Past the end it had while locked, the session is still there.
        hgsys.hgtest.assert_stays(
            lambda: self.status(sid) is not None,
            max(0.5, locked_at + LOCKED_MAX + 2 - time.monotonic()),
            "an unlocked session does not end locked-timeout", interval=0.5)
        self.assertTrue(login.running())


if __name__ == "__main__":
    sys.exit(hgsys.main())
