#!/usr/bin/python3
"""Web sign-in through the shipped /etc/pam.d/hourglass with Debian's real
PAM stack (pam_unix, accounts made by useradd/chpasswd): the right
password; a wrong password and an unknown user alike (status, body,
delay); an empty password refused although common-auth says nullok; an
expired password (chage -d 0) changed in the sign-in's conversation, after
which the new password works and the old one does not. Passwords never
reach the journal."""

import re
import sys

import hgsys
import hgtest

FAIL_DELAY = 2.0  # [Pam] FailDelayMSec's default, in seconds
NEW_PASSWORD = "Tundra-Lantern-58q"


class SignInTest(hgsys.TestCase):
    @classmethod
    def setUpClass(cls):
        hgsys.machine().hourglass.start()

    def setUp(self):
        super().setUp()
        if not self.hg.active():
            self.hg.start()
        self.c = self.hg.client()

    def assert_failed_alike(self, responses):
        """Every response is the one generic failure, after the same delay."""
        first = responses[0]
        for r in responses:
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.body, first.body)
            self.assertEqual(r.json()["state"], "failed")
            self.assertIsNone(hgtest.session_token(r), r.cookies)
            self.assertGreaterEqual(r.elapsed, FAIL_DELAY - 0.05, r)
            self.assertLess(r.elapsed, FAIL_DELAY + 1.0, r)
        spread = max(r.elapsed for r in responses) - min(r.elapsed for r in responses)
        self.assertLess(spread, 0.3, [r.elapsed for r in responses])

    def assert_password_not_in_journal(self, *passwords):
        for pw in passwords:
            r = self.m.run(["sh", "-c", 'journalctl --boot --output=export | '
                            'grep -F -c -e "$1"', "sh", pw], check=False)
            self.assertEqual(r.stdout.strip(), "0", "a password is in the journal")

    def login_steps(self, user, password, answers):
        """Signs in and answers each further prompt by its text (answers:
        {regex: answer}); returns the final response and the prompt texts."""
        r = self.c.login_response(user, password)
        prompts = []
        while r.status == 200 and r.json()["state"] == "prompt":
            step = r.json()
            texts = [p["text"] for p in step["prompts"]]
            prompts += texts
            reply = []
            for text in texts:
                match = [a for rx, a in answers.items() if re.search(rx, text, re.I)]
                self.assertTrue(match, "unexpected prompt %r" % text)
                reply.append(match[0])
            r = self.c.post("/api/login", {"conversation": step["conversation"],
                                           "answers": reply})
        return r, prompts

    def test_right_password(self):
        u = self.m.add_user()
        r = self.c.login_response(u.name, u.password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "authenticated")
        token = hgtest.session_token(r)
        self.assertRegex(token, hgtest.TOKEN_RE)
        state = self.c.session(token).json()
        self.assertEqual((state["user"], state["state"]), (u.name, "active"))
        # pam_unix opened the PAM session, in the helper, for this user.
        self.wait_message(r"^pam_unix\(hourglass:session\): session opened for "
                          r"user %s\(uid=%d\) by" % (u.name, u.uid),
                          matches=["SYSLOG_IDENTIFIER=hourglass-pam-helper"])
        self.assertEqual(self.c.logout(token).status, 200)
        self.wait_message(r"^pam_unix\(hourglass:session\): session closed for "
                          r"user %s$" % u.name)
        self.assert_password_not_in_journal(u.password)

    def test_wrong_password_and_unknown_user_alike(self):
        u = self.m.add_user()
        wrong = self.c.login_response(u.name, u.password + "x")
        unknown = self.c.login_response("nosuch%s" % u.name, u.password)
        self.assert_failed_alike([wrong, unknown])
        # Both went through pam_unix, which knew the difference.
        self.wait_message(r"^pam_unix\(hourglass:auth\): authentication failure;"
                          r".* user=%s$" % u.name)
        self.wait_message(r"^pam_unix\(hourglass:auth\): check pass; user unknown")
        self.assert_password_not_in_journal(u.password + "x", u.password)

    def test_empty_password_refused_despite_nullok(self):
        self.assertRegex(self.m.read_file("/etc/pam.d/common-auth"),
                         r"(?m)^auth\s.*pam_unix\.so.*\bnullok\b")
        u = self.m.add_user(empty_password=True)
        other = self.m.add_user()
        # The account does open without a password elsewhere: su from
        # another user asks nothing (nullok).
        r = self.m.run(["su", "--command", "id -un", u.name], user=other,
                       check=False)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, u.name), r.stderr)
        control = self.c.login_response(other.name, "not-" + other.password)
        empty = self.c.login_response(u.name, "")
        guess = self.c.login_response(u.name, "anything")
        self.assert_failed_alike([control, empty, guess])
        entries = self.journal()
        self.assertFalse([e for e in entries if re.search(
            r"hourglass:session\): session opened for user %s\(" % u.name,
            e.get("MESSAGE", ""))], hgsys.format_entries(entries))

    def test_expired_password_is_changed_at_sign_in(self):
        u = self.m.add_user(expired=True)
        self.assertRegex(self.m.run(["chage", "--list", u.name]).stdout,
                         r"Last password change\s*: password must be changed")
        r, prompts = self.login_steps(u.name, u.password, {
            r"current": u.password, r"retype": NEW_PASSWORD, r"new": NEW_PASSWORD})
        self.assertEqual(prompts, ["Current password: ", "New password: ",
                                   "Retype new password: "])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "authenticated")
        token = hgtest.session_token(r)
        self.assertEqual(self.c.session(token).json()["user"], u.name)
        self.wait_message(r"^pam_unix\(hourglass:chauthtok\): password changed "
                          r"for %s$" % u.name)
        self.assertNotRegex(self.m.run(["chage", "--list", u.name]).stdout,
                            r"password must be changed")
        self.assertEqual(self.c.logout(token).status, 200)

        # The new password works without further steps; the old one fails.
        r = self.c.login_response(u.name, NEW_PASSWORD)
        self.assertEqual((r.status, r.json()["state"]), (200, "authenticated"))
        self.c.logout(hgtest.session_token(r))
        old = self.c.login_response(u.name, u.password)
        self.assert_failed_alike([old])
        self.assert_password_not_in_journal(u.password, NEW_PASSWORD)

    def test_expired_password_mismatch_fails_and_changes_nothing(self):
        u = self.m.add_user(expired=True)
        shadow = self.m.run(["getent", "shadow", u.name]).stdout
        r, prompts = self.login_steps(u.name, u.password, {
            r"current": u.password, r"retype": NEW_PASSWORD + "-other",
            r"new": NEW_PASSWORD})
        self.assertEqual(len(prompts), 3, prompts)
        self.assertEqual((r.status, r.json()["state"]), (401, "failed"))
        self.assertEqual(self.m.run(["getent", "shadow", u.name]).stdout, shadow)


if __name__ == "__main__":
    sys.exit(hgsys.main())
