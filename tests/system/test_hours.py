#!/usr/bin/python3
"""Opening hours on a booted Debian, with the real PAM stacks: outside
AllowedHours a web sign-in with the right password (pam_unix) is refused
with 403 "closed" and when it opens, and a console login through
/etc/pam.d/login with pam_hourglass.so in its account stack is refused
with the greeter's message and never becomes a session. A web session
open at closing time is warned, then ends (closing-time) with its PAM
session closed, and the next sign-in is refused."""

import datetime
import sys
import time

import hgsys
import hgtest

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ZONE_DROPIN = "/etc/systemd/system/hourglassd.service.d/50-test-zone.conf"


def pam_hourglass_in_account(m):
    """account required pam_hourglass.so after common-account in
    /etc/pam.d/login, as pam_hourglass(8) shows."""
    stack = m.read_file("/etc/pam.d/login")
    if "account required pam_hourglass.so" not in stack:
        m.write_file("/etc/pam.d/login", stack.replace(
            "\n@include common-account\n",
            "\n@include common-account\naccount required pam_hourglass.so\n"))


def zone_with_minute_end_in(seconds):
    """A POSIX zone whose offset has seconds, so that the current local
    minute ends in about seconds (10 to 69): (TZ, offset)."""
    offset = int((60 - seconds - time.time()) % 60)
    return "HGT-0:00:%02d" % offset, offset


class HoursTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        m = hgsys.machine()
        hgsys.pam_hourglass_in_login(m)
        pam_hourglass_in_account(m)

    def set_zone(self, tz):
        """The daemon's time zone ($TZ) through a unit drop-in, or none."""
        if tz:
            self.m.write_file(ZONE_DROPIN, "[Service]\nEnvironment=TZ=%s\n" % tz)
        else:
            self.m.remove(ZONE_DROPIN)
        self.m.systemctl("daemon-reload")

    def tearDown(self):
        self.set_zone(None)

    def test_closed_refuses_web_and_console(self):
        today = datetime.datetime.now(datetime.timezone.utc).weekday()
        self.set_zone("UTC")
        self.hg.start({"Timeouts": {
            "AllowedHours": "%s 10:00-11:00" % DAYS[(today + 2) % 7]}})
        user = self.m.add_user("closed")
        r = self.hg.client().login_response(user.name, user.password)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "closed")
        opens = datetime.datetime.fromtimestamp(r.json()["opens_at"],
                                                datetime.timezone.utc)
        self.assertEqual((opens.weekday(), opens.hour, opens.minute),
                         ((today + 2) % 7, 10, 0))
        self.assertIsNone(hgtest.session_token(r))
        # The console: login's account stack asks hourglassd, which says no.
        login = self.m.console_login(user)
        self.addCleanup(login.kill)
        self.wait_until(lambda: not login.running(), 15,
                        message="login went on:\n%s" % login.output())
        self.assertIn("This computer is closed until %s 10:00"
                      % DAYS[(today + 2) % 7], login.output())
        self.assertEqual(self.hg.sessions(), [])
        self.assertIsNone(login.logind_session())

    def test_web_session_ends_at_closing_time(self):
        tz, offset = zone_with_minute_end_in(25)
        self.set_zone(tz)
        now = datetime.datetime.fromtimestamp(time.time() + offset,
                                              datetime.timezone.utc)
        minute = now.hour * 60 + now.minute
        closes_at = time.time() + 60 - now.second - now.microsecond / 1e6
        hours = "%s %02d:%02d-%02d:%02d" % (
            DAYS[now.weekday()], minute // 60, minute % 60,
            (minute + 1) // 60, (minute + 1) % 60)
        self.hg.start({"Timeouts": {"AllowedHours": hours,
                                    "WarnBeforeSec": "8"}})
        user = self.m.add_user("late")
        client = self.hg.client()
        token, sid = self.hg.login(user, client)
        state = client.session(token).json()
        self.assertEqual(state["limit_reason"], "closing-time")

        def warned():
            s = client.session(token)
            self.assertEqual(s.status, 200, "ended before any warning: %r" % s)
            return s.json() if s.json()["state"] == "warning" else None
        state = self.wait_until(warned, closes_at - time.time() + 5)
        self.assertEqual(state["warning"], "closing-time")
        self.wait_message(r"Session %s of %s ended: closing-time"
                          % (sid, user.name),
                          timeout=closes_at - time.time() + 10)
        late = time.time() - closes_at
        self.wait_message(r"session closed for user %s" % user.name)
        self.assertEqual(client.session(token).status, 401)
        r = client.login_response(user.name, user.password)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "closed")
        print("# closing time: the session ended %.2f s after it "
              "(AllowedHours to the minute, the daemon's zone %s)" % (late, tz))
        self.assertGreaterEqual(late, -0.2)


if __name__ == "__main__":
    sys.exit(hgsys.main())
