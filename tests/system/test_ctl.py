#!/usr/bin/python3
"""hourglassctl over the real system bus (dbus-daemon with the shipped
policy /usr/share/dbus-1/system.d/org.hourglass1.conf): reading for root
and for an ordinary user; terminate refused to an ordinary user, allowed
to root and to a member of [DBus] AdminGroup; extend allowed to the
session's own user only; the bus name owned by root alone."""

import sys

import hgsys

ADMINS = "hgadmins"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"


class CtlTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        m = hgsys.machine()
        m.add_group(ADMINS)
        cls.admin = m.add_user("admin", groups=[ADMINS])
        cls.stranger = m.add_user("stranger")
        # The admin group's id is resolved when the configuration loads.
        m.hourglass.start({"DBus": {"AdminGroup": ADMINS}})

    def setUp(self):
        super().setUp()
        self.owner = self.m.add_user("owner")
        self.c = self.hg.client()
        self.token, self.sid = self.hg.login(self.owner, self.c)

    def assert_session_live(self):
        self.assertEqual(self.c.session(self.token).status, 200)
        self.assertIn(self.sid, self.hg.session_ids())

    def assert_terminated(self):
        r = self.c.session(self.token)
        self.assertEqual((r.status, r.json()), (
            401, {"error": "session-ended", "reason": "terminated"}))
        self.assertNotIn(self.sid, self.hg.session_ids())

    def test_reading_as_root_and_as_an_ordinary_user(self):
        for who in (None, self.stranger):
            r = self.hg.ctl("list", user=who)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^%s\s+%s\s+web\s+active\s"
                             % (self.sid, self.owner.name))
            [s] = [s for s in self.hg.sessions(user=who) if s["id"] == self.sid]
            self.assertEqual((s["user"], s["source"], s["state"]),
                             (self.owner.name, "web", "active"))
            # (sd_bus_path_encode: a leading digit is escaped, "_3N")
            self.assertTrue(s["path"].startswith("/org/hourglass1/session/"), s)
            self.assertEqual(self.hg.bus_property(
                s["path"], "org.hourglass1.Session", "Id"), '"%s"' % self.sid)
            r = self.hg.ctl("status", self.sid, user=who)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(self.owner.name, r.stdout)

    def test_terminate_refused_to_an_ordinary_user(self):
        r = self.hg.ctl("terminate", self.sid, user=self.stranger)
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)
        self.assert_session_live()
        # The session's own user may not end it over the bus either.
        r = self.hg.ctl("terminate", self.sid, user=self.owner)
        self.assertEqual(r.returncode, 1)
        self.assert_session_live()

    def test_terminate_allowed_to_root(self):
        r = self.hg.ctl("terminate", self.sid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_terminated()
        self.wait_message(r"^Session %s of %s terminated over D-Bus by uid 0$"
                          % (self.sid, self.owner.name))

    def test_terminate_allowed_to_the_admin_group(self):
        r = self.hg.ctl("terminate", self.sid, user=self.admin)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_terminated()
        self.wait_message(r"^Session %s of %s terminated over D-Bus by uid %d$"
                          % (self.sid, self.owner.name, self.admin.uid))

    def test_extend_allowed_to_the_owner_only(self):
        r = self.hg.ctl("extend", self.sid, user=self.owner)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.hg.ctl("extend", self.sid, user=self.stranger)
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)
        self.assert_session_live()

    def test_only_root_owns_the_bus_name(self):
        r = self.m.run(["busctl", "--system", "call", "org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "RequestName", "su", "org.hourglass1", "0"],
                       user=self.stranger, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Access denied", r.stderr)
        # Methods of other interfaces are not let through by the policy.
        r = self.m.run(["busctl", "--system", "call", "org.hourglass1",
                        "/org/hourglass1", "org.freedesktop.DBus.Properties",
                        "Set", "ssv", "org.hourglass1.Manager", "WarnAfterSec",
                        "u", "1"], user=self.stranger, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Access denied", r.stderr)
        self.assertEqual(self.hg.manager_property("WarnAfterSec"), "540")


if __name__ == "__main__":
    sys.exit(hgsys.main())
