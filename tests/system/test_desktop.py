#!/usr/bin/python3
"""pam_hourglass.so in a real login stack: /etc/pam.d/login with the line
the shipped example (pam-examples/login) gives, after pam_systemd, and a
console login on a pty (`login -f` under `script`). The logind session is
registered with hourglassd; an operator's terminate ends it through logind
(its scope is stopped, the login's processes go); a normal logout
unregisters it; accounts below MinUid are not managed; a login without
hourglassd running goes on."""

import re
import sys
import time

import hgsys

EXAMPLE = "/usr/share/doc/hourglass/pam-examples/login"


class DesktopTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        m = hgsys.machine()
        # The line the shipped example tells admins to add, where it says.
        lines = re.findall(r"(?m)^#\s+(session\s+optional\s+pam_hourglass\.so.*)$",
                           m.read_file(EXAMPLE))
        assert len(lines) == 1, lines
        stack = m.read_file("/etc/pam.d/login")
        assert "\n@include common-session\n" in stack
        m.write_file("/etc/pam.d/login", stack.replace(
            "\n@include common-session\n",
            "\n@include common-session\n%s\n" % lines[0]))
        assert re.search(r"(?m)^session\s+optional\s+pam_systemd\.so",
                         m.read_file("/etc/pam.d/common-session"))
        m.hourglass.start()

    def setUp(self):
        super().setUp()
        if not self.hg.active():
            self.hg.start()

    def login(self, user):
        """A console login of user, its shell running (killed at the end)."""
        login = self.m.console_login(user)
        self.addCleanup(login.kill)
        return login.ready()

    def desktop_sessions(self, user):
        return [s for s in self.hg.sessions()
                if s["user"] == user.name and s["source"] == "desktop"]

    def session_of(self, user):
        """(hourglass id, logind id) of the user's one desktop session."""
        [s] = self.wait_until(lambda: self.desktop_sessions(user),
                              message="no desktop session of %s" % user.name)
        logind_id = self.hg.bus_property(s["path"], "org.hourglass1.Session",
                                         "LogindSession").strip('"')
        return s["id"], logind_id

    def logind_props(self, logind_id):
        r = self.m.run(["loginctl", "show-session", logind_id, "--property=Name",
                        "--property=Type", "--property=Class", "--property=TTY",
                        "--property=Scope", "--property=State"], check=False)
        return dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l) \
            if r.returncode == 0 else None

    def test_login_registered_and_terminated_through_logind(self):
        user = self.m.add_user("desk")
        login = self.login(user)
        sid, logind_id = self.session_of(user)
        self.assertEqual(login.logind_session(), logind_id)
        props = self.logind_props(logind_id)
        self.assertEqual((props["Name"], props["Type"], props["Class"],
                          props["State"]), (user.name, "tty", "user", "active"))
        self.assertRegex(props["TTY"], r"^pts/\d+$")
        scope = props["Scope"]
        started = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             "HG_REASON" not in e), None))
        self.assertEqual((started["HG_USER"], started["HG_SOURCE"]),
                         (user.name, "desktop"))

        r = self.hg.ctl("terminate", sid)
        self.assertEqual(r.returncode, 0, r.stderr)
        # logind stops the session's scope: the login and its shell go.
        self.wait_until(lambda: self.logind_props(logind_id) is None,
                        message="logind session %s still there: %r"
                        % (logind_id, self.logind_props(logind_id)))
        self.wait_until(lambda: not login.running(),
                        message="the login is still running")
        self.wait_message(r"^Stopped %s\b" % re.escape(scope))
        ended = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             "HG_REASON" in e), None))
        self.assertEqual((ended["HG_REASON"], ended["HG_SOURCE"]),
                         ("terminated", "desktop"))
        self.assertEqual(self.desktop_sessions(user), [])

    def test_logout_unregisters(self):
        user = self.m.add_user("desk")
        login = self.login(user)
        sid, logind_id = self.session_of(user)
        login.write("exit\n")
        self.wait_until(lambda: not login.running(),
                        message="the login did not end")
        ended = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             "HG_REASON" in e), None))
        self.assertEqual(ended["HG_REASON"], "logout")
        self.assertEqual(self.desktop_sessions(user), [])

    def test_system_account_is_not_managed(self):
        user = self.m.add_user("sys")
        # Below [Pam] MinUid (1000): a system account with a shell.
        self.m.run(["usermod", "--uid", "990", user.name])
        login = self.login(user)
        self.assertTrue(login.logind_session())
        self.assertEqual(self.desktop_sessions(user), [])
        self.assertFalse([e for e in self.journal() if
                          "pam_hourglass" in e.get("MESSAGE", "")],
                         "pam_hourglass complained")

    def test_login_goes_on_without_hourglassd(self):
        self.hg.stop()
        user = self.m.add_user("desk")
        t0 = time.monotonic()
        login = self.login(user)
        took = time.monotonic() - t0
        self.assertTrue(login.logind_session())
        self.assertLess(took, 5, "the login took %.1f s" % took)
        # The optional module says why it did not register the session.
        self.wait_message(r"^pam_hourglass\(login:session\): ")


if __name__ == "__main__":
    sys.exit(hgsys.main())
