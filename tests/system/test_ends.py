#!/usr/bin/python3
"""Every sign-in and every end in the journal with its structured fields
(journalctl -o json: HG_USER and HG_LOGIN for a sign-in, HG_SESSION,
HG_USER and HG_SOURCE for a start, and HG_REASON too for an end), and the
kiosk's reset unit hourglass-session-end@<id>.service run by systemd at
every end: logout, terminated, idle-timeout, max-age, browser-closed,
replaced, shutdown."""

import sys

import hgsys


def reset_unit(sid):
    return "hourglass-session-end@%s.service" % sid


class EndsTest(hgsys.TestCase):
    def sign_in(self, config=None):
        """A fresh daemon (with config) and a signed-in user; checks the
        sign-in's journal entries. Returns (client, token, session id, user)."""
        self.hg.start(config)
        user = self.m.add_user()
        client = self.hg.client()
        token = client.login(user.name, user.password)
        # The id from the journal: with short timeouts the session may be
        # over before a listing would see it.
        started = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_USER") == user.name and
             "HG_SESSION" in e and "HG_REASON" not in e), None),
            message="no start entry for %s" % user.name)
        sid = started["HG_SESSION"]
        self.assert_signed_in(sid, user)
        return client, token, sid, user

    def entry(self, sid, kind):
        """The journal entry of the session's start or end."""
        return self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             e.get("MESSAGE", "").endswith(kind)), None),
            message="no %r entry for session %s" % (kind, sid))

    def assert_signed_in(self, sid, user):
        login = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_LOGIN") == "succeeded" and
             e.get("HG_USER") == user.name), None),
            message="no successful sign-in entry for %s" % user.name)
        self.assertEqual(login["SYSLOG_IDENTIFIER"], "hourglassd")
        self.assertEqual(login["_SYSTEMD_UNIT"], hgsys.UNIT)
        started = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             "HG_REASON" not in e), None))
        self.assertEqual((started["HG_USER"], started["HG_SOURCE"],
                          started["MESSAGE"]),
                         (user.name, "web", "Session %s of %s started"
                          % (sid, user.name)))

    def assert_ended(self, sid, user, reason, timeout=10):
        """The end's entry, with its fields, and the reset unit's run."""
        ended = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_SESSION") == sid and
             "HG_REASON" in e), None), timeout=timeout,
            message="no end of session %s" % sid)
        self.assertEqual(
            (ended["HG_USER"], ended["HG_SOURCE"], ended["HG_REASON"],
             ended["MESSAGE"], ended["_SYSTEMD_UNIT"]),
            (user.name, "web", reason, "Session %s of %s ended: %s"
             % (sid, user.name, reason), hgsys.UNIT))
        done = self.wait_journal(lambda es: next(
            (e for e in es if e.get("UNIT") == reset_unit(sid) and
             e.get("JOB_TYPE") == "start" and "JOB_RESULT" in e), None),
            message="systemd did not run %s" % reset_unit(sid))
        self.assertEqual(done["JOB_RESULT"], "done", done)
        return ended

    def test_logout(self):
        c, token, sid, user = self.sign_in()
        self.assertEqual(c.logout(token).status, 200)
        self.assert_ended(sid, user, "logout")

    def test_terminated(self):
        _, _, sid, user = self.sign_in()
        self.hg.ctl("terminate", sid, check=True)
        self.assert_ended(sid, user, "terminated")

    def test_idle_timeout(self):
        _, _, sid, user = self.sign_in(
            {"Timeouts": {"WarnAfterSec": "1", "ExpireAfterSec": "2"}})
        self.assert_ended(sid, user, "idle-timeout")

    def test_max_age(self):
        _, _, sid, user = self.sign_in({"Timeouts": {"MaxSessionSec": "2"}})
        self.assert_ended(sid, user, "max-age")

    def test_browser_closed(self):
        _, _, sid, user = self.sign_in({"Timeouts": {"CloseAfterSec": "1"}})
        self.assert_ended(sid, user, "browser-closed")

    def test_replaced(self):
        c, token, sid, user = self.sign_in()
        # A new sign-in from the same browser (it sends the old cookie).
        r = c.login_response(user.name, user.password, token=token)
        self.assertEqual(r.status, 200, r)
        self.assert_ended(sid, user, "replaced")

    def test_shutdown(self):
        _, _, sid, user = self.sign_in()
        self.hg.stop()
        self.assert_ended(sid, user, "shutdown")

    def test_failed_sign_in(self):
        self.hg.start()
        user = self.m.add_user()
        r = self.hg.client().login_response(user.name, "not-" + user.password)
        self.assertEqual(r.status, 401)
        failed = self.wait_journal(lambda es: next(
            (e for e in es if e.get("HG_LOGIN") == "failed" and
             e.get("HG_USER") == user.name), None))
        self.assertTrue(failed.get("HG_REASON"), failed)
        self.assertEqual(failed["SYSLOG_IDENTIFIER"], "hourglassd")
        self.assertNotIn("HG_SESSION", failed)


if __name__ == "__main__":
    sys.exit(hgsys.main())
