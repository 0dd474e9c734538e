#!/usr/bin/python3
"""Sign-in, the session cookie, the session API, logout and the pages:
the real daemon under pam_wrapper (pam_matrix, tests/data/passdb) and
nss_wrapper (tests/data/passwd)."""

import math
import os
import re
import time

import hgtest
from hgtest import COOKIE_NAME, TOKEN_RE

ASSETS = os.path.join(hgtest.SOURCE_ROOT, "web", "assets")
LOGIN_MARKER = b'class="hg-page hg-page--login"'
SESSION_MARKER = b'class="hg-page hg-page--session"'
STATE_FIELDS = {"state", "user", "idle_sec", "warn_in_sec", "expire_in_sec",
                "warn_after_sec", "expire_after_sec"}
# Passwords that appear nowhere else: the log must not contain them.
WRONG_PASSWORD = "Wr0ng-pa55word-7f3k"


def asset(name):
    with open(os.path.join(ASSETS, name), "rb") as f:
        return f.read()


def parse_cookie(value):
    """(name, value, {attribute lower-case: value or True})."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name, val, attrs


class LoginTest(hgtest.TestCase):
    def setUp(self):
        self.d = self.daemon({"Timeouts": {"WarnAfterSec": 540,
                                           "ExpireAfterSec": 600}})
        self.c = self.d.client()

    def assert_session_cookie(self, response):
        cookies = [parse_cookie(v) for v in response.cookies]
        ours = [c for c in cookies if c[0] == COOKIE_NAME]
        self.assertEqual(len(ours), 1, response.cookies)
        _, token, attrs = ours[0]
        self.assertRegex(token, TOKEN_RE)
        self.assertIs(attrs.get("httponly"), True, response.cookies)
        self.assertEqual(attrs.get("samesite", "").lower(), "strict",
                         response.cookies)
        self.assertEqual(attrs.get("path"), "/", response.cookies)
        # Gone when the browser closes.
        self.assertNotIn("max-age", attrs)
        self.assertNotIn("expires", attrs)
        self.assertNotIn("domain", attrs)
        return token

    def assert_security_headers(self, r):
        csp = r.header("Content-Security-Policy")
        self.assertTrue(csp, r.headers)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(r.header("Cache-Control"), "no-store")

    def test_login_success_and_session_state(self):
        start = time.monotonic()
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["state"], "authenticated")
        self.assertEqual(r.header("Content-Type"), "application/json")
        token = self.assert_session_cookie(r)

        s = self.c.session(token)
        # The session is at most this old (whole seconds, rounded up).
        age = math.ceil(time.monotonic() - start)
        self.assertEqual(s.status, 200, s)
        state = s.json()
        self.assertTrue(STATE_FIELDS <= set(state), state)
        self.assertEqual(state["state"], "active")
        self.assertEqual(state["user"], "alice")
        self.assertEqual(state["warn_after_sec"], 540)
        self.assertEqual(state["expire_after_sec"], 600)
        for key in ("idle_sec", "warn_in_sec", "expire_in_sec"):
            self.assertIsInstance(state[key], int, key)
        self.assertLessEqual(state["idle_sec"], age)
        self.assertTrue(540 - age <= state["warn_in_sec"] <= 540, state)
        self.assertTrue(600 - age <= state["expire_in_sec"] <= 600, state)
        self.assert_security_headers(s)

        self.d.wait_for_log(r"Web login of alice: succeeded.*HG_USER=alice")
        self.d.wait_for_log(r"Session [0-9a-f]+ of alice started")
        self.assertNotIn("secret", self.d.log_text())
        self.assertNotIn(token, self.d.log_text())

    def test_failures_look_alike(self):
        cases = [
            ("alice", WRONG_PASSWORD, "auth"),  # wrong password
            ("nobody", "secret", "auth"),       # unknown user
            ("lowuid", "secret", "uid"),        # uid below MinUid
            ("bob", "secret", "account"),       # pam_acct_mgmt refuses
        ]
        bodies = set()
        for user, password, reason in cases:
            with self.subTest(user=user):
                mark = self.d.log_mark()
                r = self.c.login_response(user, password)
                self.assertEqual(r.status, 401, r)
                self.assertEqual(r.json()["state"], "failed")
                self.assertTrue(r.json().get("message"), r)
                self.assertEqual(r.cookies, [], r)
                # The fail delay (100 ms here) is part of every failure.
                self.assertGreaterEqual(r.elapsed, 0.09)
                bodies.add(r.body)
                self.d.wait_for_log(
                    r"failed.*HG_USER=%s\b.*HG_REASON=%s\b" % (user, reason),
                    after=mark)
        self.assertEqual(len(bodies), 1, bodies)
        log = self.d.log_text()
        self.assertNotIn(WRONG_PASSWORD, log)
        self.assertNotIn("secret", log)
        # The daemon still signs people in.
        self.c.login("alice", "secret")

    def test_tokens_rotate(self):
        t1 = self.c.login("alice", "secret")
        t2 = self.c.login("alice", "secret")
        self.assertNotEqual(t1, t2)
        for t in (t1, t2):
            r = self.c.session(t)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["user"], "alice")

    def test_logout(self):
        token = self.c.login()
        other = self.c.login()
        mark = self.d.log_mark()
        r = self.c.logout(token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Clear-Site-Data"), '"cookies"')
        cleared = [parse_cookie(v) for v in r.cookies]
        cleared = [c for c in cleared if c[0] == COOKIE_NAME]
        self.assertEqual(len(cleared), 1, r.cookies)
        name, value, attrs = cleared[0]
        self.assertEqual(value, "")
        self.assertTrue(attrs.get("max-age") == "0" or "expires" in attrs,
                        r.cookies)
        self.assertEqual(attrs.get("path"), "/")

        r = self.c.session(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "session-ended",
                                    "reason": "logout"})
        r = self.c.ping(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "session-ended",
                                    "reason": "logout"})
        self.d.wait_for_log(r"Session [0-9a-f]+ of alice ended: logout",
                            after=mark)
        # The other session of the same user is not touched.
        self.assertEqual(self.c.session(other).status, 200)

    def test_cookies_never_issued(self):
        self.c.login()
        bad = [
            "%s=%s" % (COOKIE_NAME, hgtest.random_token()),
            "%s=%s" % (COOKIE_NAME, "short"),
            "%s=%s" % (COOKIE_NAME, "!" * 43),
            "%s=%s" % (COOKIE_NAME, hgtest.random_token() + "A"),
            "%s=" % COOKIE_NAME,
            "other=%s" % hgtest.random_token(),
            None,
        ]
        for cookie in bad:
            with self.subTest(cookie=cookie):
                for r in (self.c.session(None, cookie=cookie),
                          self.c.ping(None, cookie=cookie)):
                    self.assertEqual(r.status, 401, r)
                    self.assertEqual(r.json(), {"error": "no-session"})
                    self.assertEqual(r.cookies, [])

    def test_planted_cookie_does_not_hide_ours(self):
        # Another program on 127.0.0.1 (any port) may set a cookie of the
        # same name: every value is tried.
        token = self.c.login()
        planted = hgtest.random_token()
        for cookie in ("%s=%s; %s=%s" % (COOKIE_NAME, planted, COOKIE_NAME, token),
                       "%s=%s; %s=%s" % (COOKIE_NAME, token, COOKIE_NAME, planted),
                       "%s=junk; %s=%s" % (COOKIE_NAME, COOKIE_NAME, token)):
            with self.subTest(cookie=cookie):
                r = self.c.session(None, cookie=cookie)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["user"], "alice")

    def test_logout_without_session(self):
        r = self.c.post("/api/logout", {})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "no-session"})
        r = self.c.logout(hgtest.random_token())
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "no-session"})

    def test_login_replaces_the_browsers_session(self):
        old = self.c.login()
        mark = self.d.log_mark()
        r = self.c.login_response("alice", "secret", token=old)
        self.assertEqual(r.status, 200, r)
        new = self.assert_session_cookie(r)
        self.assertNotEqual(new, old)
        self.assertEqual(self.c.session(new).status, 200)
        r = self.c.session(old)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "session-ended", "reason": "replaced"})
        self.d.wait_for_log(r"ended: replaced", after=mark)

    def test_pages(self):
        r = self.c.get("/")
        self.assertEqual(r.status, 200, r)
        self.assertIn(LOGIN_MARKER, r.body)
        self.assertIn(LOGIN_MARKER, asset("login.html"))
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r.headers)
        self.assert_security_headers(r)

        token = self.c.login()
        r = self.c.get("/", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertIn(SESSION_MARKER, r.body)
        self.assertNotIn(LOGIN_MARKER, r.body)
        self.assertIn(SESSION_MARKER, asset("session.html"))
        self.assert_security_headers(r)

        # An ended session gets the login page again.
        self.assertEqual(self.c.logout(token).status, 200)
        r = self.c.get("/", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertIn(LOGIN_MARKER, r.body)

        for name in ("style.css", "login.js", "session.js", "strings.js"):
            with self.subTest(asset=name):
                r = self.c.get("/assets/" + name)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, asset(name))
                self.assert_security_headers(r)

    def test_head_of_page(self):
        r = self.c.request("HEAD", "/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")


if __name__ == "__main__":
    hgtest.main()
