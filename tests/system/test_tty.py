#!/usr/bin/python3
"""Console logins go idle by their tty on a booted Debian: real logind
refuses SetIdleHint for a tty session and never signals its idleness, so
only hourglassd's reading of the tty's last input (the atime of
/dev/pts/N, seen through the shipped unit's sandbox) can end it. A pty
with no input warns and ends (idle-timeout), and logind terminates the
login through the polkit rule; a pty that someone types into stays
active."""

import sys
import time

import hgsys

# Well above the 8 s granularity of a tty's atime.
CONFIG = {"Timeouts": {"WarnAfterSec": 12, "ExpireAfterSec": 18,
                       "MaxSessionSec": 0},
          "Desktop": {"Action": "terminate"}}


class TtyTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        hgsys.pam_hourglass_in_login(hgsys.machine())

    def setUp(self):
        super().setUp()
        self.hg.start(CONFIG)

    def state(self, sid):
        for s in self.hg.sessions():
            if s["id"] == sid:
                return s["state"]
        return None

    def test_idle_pty_warns_ends_and_is_terminated(self):
        user, login, sid = self.console_login("idle")
        logind_id = login.logind_session()
        props = self.m.run(["loginctl", "show-session", logind_id,
                            "--property=Type", "--property=TTY"]).stdout
        self.assertIn("Type=tty", props)
        self.assertRegex(props, r"TTY=pts/\d+")
        status = self.hg.ctl("status", sid, check=True).stdout
        self.assertRegex(status, r"tty\s+pts/\d+")
        login.write("true\n")  # the last input
        last = time.monotonic()
        self.wait_until(lambda: self.state(sid) == "warning", 12 + 8 + 10,
                        message="no warning")
        warned = time.monotonic() - last
        self.wait_message(r"Session %s of %s ended: idle-timeout"
                          % (sid, user.name), timeout=18 + 10)
        ended = time.monotonic() - last
        self.wait_until(lambda: not login.running(), 15,
                        message="logind did not end the login")
        self.wait_until(lambda: login.logind_session() is None, 15)
        print("# pty without input: warned %.1f s, ended %.1f s after the last "
              "input (WarnAfterSec=12, ExpireAfterSec=18, atime to 8 s)"
              % (warned, ended))
        self.assertGreaterEqual(warned, 12 - 1)

    def test_typing_keeps_it_active(self):
        user, login, sid = self.console_login("busy")
        start = time.monotonic()
        # Someone types a line every 2 s for 30 s: longer than
        # ExpireAfterSec plus the atime's granularity.
        while time.monotonic() - start < 30:
            login.write("true\n")
            hgsys.hgtest.assert_stays(
                lambda: self.state(sid) == "active", 2.0,
                "the session stays active while someone types", interval=0.5)
        self.assertTrue(login.running())
        self.assertEqual(self.state(sid), "active")


if __name__ == "__main__":
    sys.exit(hgsys.main())
