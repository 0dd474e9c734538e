#!/usr/bin/python3
"""Session ends in real time: idle timeout, the warning window, pings that
keep a session alive or date its activity back, the absolute limit, the
browser-close rule, and configuration reloads (SIGHUP) that shorten the
timeouts or are refused. Second-scale timeouts; every wait has a deadline.
Times are measured from a moment before their cause, so that their lower
bound (what is configured) holds on any machine; their upper bound is the
configured time plus hgtest.SLACK, and the figure is printed."""

import math
import signal
import time

import hgtest

ENDED = {"error": "session-ended"}
SHORT = {"WarnAfterSec": 1, "ExpireAfterSec": 2, "MaxSessionSec": 0}
SLACK = hgtest.SLACK


class ExpiryTest(hgtest.TestCase):
    def start(self, timeouts):
        self.d = self.daemon({"Timeouts": timeouts})
        self.c = self.d.client()
        return self.d

    def login(self):
        """A fresh session: (token, its helper's pid, login time)."""
        before = set(self.d.helper_pids())
        start = time.monotonic()
        token = self.c.login("alice", "secret")
        helpers = set(self.d.helper_pids()) - before
        self.assertEqual(len(helpers), 1, "one PAM helper keeps the session")
        return token, helpers.pop(), start

    def session_id(self, mark):
        m = self.d.wait_for_log(r"Session ([0-9a-f]+) of alice started", after=mark)
        return m.group(1)

    def idle_at_least(self, token, sec):
        """The server says sec seconds without activity (GET /api/session
        is not activity, so asking does not reset it); or the session
        ended. Returns the last answer."""
        def idle():
            r = self.c.session(token)
            return r if r.status != 200 or r.json()["idle_sec"] >= sec else None
        return hgtest.wait_until(idle, timeout=sec + SLACK,
                                 message="never %d s idle" % sec)

    def assert_ended(self, token, reason):
        r = self.c.session(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), dict(ENDED, reason=reason))

    def assert_pam_closed(self, helper):
        """The helper closed the PAM session and exited."""
        pids = self.d.wait_for_pam_call("close_session", "alice")
        self.assertIn(helper, pids)
        self.assertGone([helper])

    def test_idle_timeout(self):
        self.start(SHORT)
        mark = self.d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        self.assertEqual(self.c.session(token).json()["state"], "active")
        self.d.wait_for_log(r"Session %s of alice ended: idle-timeout" % sid,
                            timeout=2 + SLACK)
        elapsed = time.monotonic() - start
        hgtest.note("idle timeout logged %.2f s after the login started "
                    "(ExpireAfterSec=2)" % elapsed)
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertLess(elapsed, 2 + SLACK)
        self.assert_ended(token, "idle-timeout")
        r = self.c.ping(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), dict(ENDED, reason="idle-timeout"))
        self.assert_pam_closed(helper)
        self.assertEqual(self.d.helper_pids(), [])

    def test_warning_window(self):
        # Four seconds of warning: room to see it, and to answer it.
        self.start({"WarnAfterSec": 1, "ExpireAfterSec": 5, "MaxSessionSec": 0})
        token, _, start = self.login()
        logged_in = time.monotonic()
        asked = []

        def warned():
            asked.append(time.monotonic())
            r = self.c.session(token)
            self.assertEqual(r.status, 200, "ended before any warning: %r" % r)
            return r.json() if r.json()["state"] == "warning" else None
        state = hgtest.wait_until(warned, timeout=1 + SLACK)
        answered = time.monotonic()
        elapsed = answered - start
        hgtest.note("warning seen %.2f s after the login started "
                    "(WarnAfterSec=1)" % elapsed)
        self.assertGreaterEqual(elapsed, 1.0)
        self.assertEqual(state["user"], "alice")
        self.assertEqual(state["warn_in_sec"], 0)
        # The session began between start and logged_in, the state was
        # taken between the last question and its answer.
        self.assertIn(state["expire_in_sec"], range(
            math.ceil(5 - (answered - start)),
            math.ceil(5 - (asked[-1] - logged_in)) + 1))
        self.assertGreaterEqual(state["idle_sec"], 1)
        self.assertEqual(state["warn_after_sec"], 1)
        self.assertEqual(state["expire_after_sec"], 5)
        # Activity during the warning returns the session to active.
        r = self.c.ping(token, 0)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "active")
        self.assertEqual(r.json()["idle_sec"], 0)

    def test_pings_keep_it_alive(self):
        # A ping each time the server has counted a second of idleness,
        # for longer than ExpireAfterSec (3 s): two seconds of room each.
        self.start({"WarnAfterSec": 1, "ExpireAfterSec": 3, "MaxSessionSec": 0})
        token, helper, start = self.login()
        pings = 0
        while time.monotonic() - start < 4.0:
            last_ping = time.monotonic()
            r = self.c.ping(token, 0)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["state"], "active")
            pings += 1
            r = self.idle_at_least(token, 1)
            self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(pings, 2)
        r = self.c.session(token)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(hgtest.pid_running(helper))
        # Without pings it ends 3 s after the last one.
        hgtest.wait_until(lambda: self.c.session(token).status == 401,
                          timeout=3 + SLACK)
        after = time.monotonic() - last_ping
        hgtest.note("ended %.2f s after the last ping (ExpireAfterSec=3)"
                    % after)
        self.assertGreaterEqual(after, 3.0)
        self.assertLess(after, 3 + SLACK)
        self.assert_ended(token, "idle-timeout")

    def test_idle_dates_activity_back(self):
        self.start({"WarnAfterSec": 10, "ExpireAfterSec": 20, "MaxSessionSec": 0})
        token, _, start = self.login()
        # Two seconds without activity (the server counts whole seconds
        # down: at least two have passed).
        self.idle_at_least(token, 2)
        first_sent = time.monotonic()
        r = self.c.ping(token, 1)  # activity 1 s ago, a second after login
        first_done = time.monotonic()
        self.assertEqual(r.status, 200, r)
        state = r.json()
        self.assertEqual(state["idle_sec"], 1)
        self.assertEqual(state["warn_in_sec"], 9)
        self.assertEqual(state["expire_in_sec"], 19)
        # Never earlier than the last known activity: still that one, a
        # second before the first ping plus the time since.
        sent = time.monotonic()
        r = self.c.ping(token, 3600)
        done = time.monotonic()
        self.assertIn(r.json()["idle_sec"],
                      range(int(1 + sent - first_done),
                            int(1 + done - first_sent) + 1))
        # Never in the future.
        r = self.c.ping(token, -30)
        self.assertEqual(r.json()["idle_sec"], 0)
        self.assertEqual(r.json()["expire_in_sec"], 20)
        # GET /api/session is not activity: asked again and again, it
        # reaches a second of idleness.
        r = self.idle_at_least(token, 1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["idle_sec"], 1)
        for bad in ({}, {"idle": "5"}, {"idle": None}, {"idle": [1]},
                    {"idle": True}):
            with self.subTest(body=bad):
                r = self.c.post("/api/ping", bad, token=token)
                self.assertEqual(r.status, 400, r)
        self.assertEqual(self.c.session(token).status, 200)

    def test_max_age_despite_pings(self):
        # Pinged each time the server has counted a second of idleness
        # (two seconds before the idle limit): only MaxSessionSec ends it.
        self.start({"WarnAfterSec": 1, "ExpireAfterSec": 3, "MaxSessionSec": 4})
        mark = self.d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        ended = None
        states = set()
        while time.monotonic() - start < 4 + SLACK:
            r = self.c.ping(token, 0)
            if r.status != 200:
                ended = r
                break
            # The absolute limit shows as a warning in its last
            # ExpireAfterSec - WarnAfterSec seconds, activity or not.
            states.add(r.json()["state"])
            r = self.idle_at_least(token, 1)
            if r.status != 200:
                ended = r
                break
        elapsed = time.monotonic() - start
        hgtest.note("max-age end seen %.2f s after the login started "
                    "(MaxSessionSec=4)" % elapsed)
        self.assertIsNotNone(ended, "the session outlived MaxSessionSec=4")
        self.assertEqual(ended.status, 401, ended)
        self.assertEqual(ended.json(), dict(ENDED, reason="max-age"))
        self.assertGreaterEqual(elapsed, 4.0)
        self.assertLess(elapsed, 4 + SLACK)
        self.assertIn("active", states)
        self.d.wait_for_log(r"Session %s of alice ended: max-age" % sid)
        self.assert_pam_closed(helper)

    def test_browser_closed(self):
        self.start({"WarnAfterSec": 60, "ExpireAfterSec": 120,
                    "CloseAfterSec": 1})
        mark = self.d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        self.d.wait_for_log(r"Session %s of alice ended: browser-closed" % sid,
                            timeout=1 + SLACK)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assert_ended(token, "browser-closed")
        self.assert_pam_closed(helper)

    def test_reload_shortens_timeout(self):
        d = self.start({"WarnAfterSec": 10, "ExpireAfterSec": 20,
                        "MaxSessionSec": 0})
        mark = d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        # Idle past the new limit already (the old one is 17 s away).
        r = self.idle_at_least(token, 2)
        self.assertEqual(r.status, 200, r)
        d.write_config({"Timeouts": {"WarnAfterSec": 1, "ExpireAfterSec": 2}})
        mark = d.log_mark()
        reload_at = time.monotonic()
        d.signal(signal.SIGHUP)
        d.wait_for_log(r"Configuration reloaded", after=mark, timeout=SLACK)
        d.wait_for_log(r"Session %s of alice ended: idle-timeout" % sid,
                       after=mark, timeout=SLACK)
        took = time.monotonic() - reload_at
        hgtest.note("ended %.2f s after SIGHUP" % took)
        # At once, not at the old limit.
        self.assertLess(took, SLACK)
        self.assert_ended(token, "idle-timeout")
        self.assert_pam_closed(helper)
        # New sessions get the new limits.
        token = self.c.login()
        state = self.c.session(token).json()
        self.assertEqual(state["warn_after_sec"], 1)
        self.assertEqual(state["expire_after_sec"], 2)

    def test_bad_reload_keeps_old_config(self):
        d = self.start({"WarnAfterSec": 10, "ExpireAfterSec": 20})
        token, helper, _ = self.login()
        bad_configs = [
            d.config_text().replace("ExpireAfterSec=20", "ExpireAfterSec=banana"),
            d.config_text() + "\n[Timeouts]\nNoSuchKey=1\n",
            d.config_text().replace("ExpireAfterSec=20", "ExpireAfterSec=5")
                           .replace("WarnAfterSec=10", "WarnAfterSec=7") + "[Nope]\nX=1\n",
            "this is not a key file\n",
        ]
        good = d.config_text()
        for text in bad_configs:
            with self.subTest(config=text[-40:]):
                d.write_config(text=text)
                mark = d.log_mark()
                d.signal(signal.SIGHUP)
                d.wait_for_log(r"Configuration not reloaded", after=mark)
                self.assertTrue(d.alive())
                r = self.c.session(token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["warn_after_sec"], 10)
                self.assertEqual(r.json()["expire_after_sec"], 20)
        self.assertIn("banana", d.log_text())
        # Still serving, old limits, and a good file is taken again.
        token2 = self.c.login()
        self.assertEqual(self.c.session(token2).json()["expire_after_sec"], 20)
        d.write_config(text=good.replace("ExpireAfterSec=20", "ExpireAfterSec=30"))
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_for_log(r"Configuration reloaded", after=mark)
        self.assertEqual(self.c.session(token).json()["expire_after_sec"], 30)
        self.assertTrue(hgtest.pid_running(helper))


if __name__ == "__main__":
    hgtest.main()
