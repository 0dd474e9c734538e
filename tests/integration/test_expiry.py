#!/usr/bin/python3
"""Session ends in real time: idle timeout, the warning window, pings that
keep a session alive or date its activity back, the absolute limit, the
browser-close rule, and configuration reloads (SIGHUP) that shorten the
timeouts or are refused. Second-scale timeouts; every wait has a deadline."""

import signal
import time

import hgtest

ENDED = {"error": "session-ended"}
SHORT = {"WarnAfterSec": 1, "ExpireAfterSec": 2, "MaxSessionSec": 0}


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
                            timeout=5)
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 1.8)
        self.assertLess(elapsed, 3.5)
        self.assert_ended(token, "idle-timeout")
        r = self.c.ping(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), dict(ENDED, reason="idle-timeout"))
        self.assert_pam_closed(helper)
        self.assertEqual(self.d.helper_pids(), [])

    def test_warning_window(self):
        self.start(SHORT)
        token, _, start = self.login()

        def warned():
            r = self.c.session(token)
            self.assertEqual(r.status, 200, "ended before any warning: %r" % r)
            return r.json() if r.json()["state"] == "warning" else None
        state = hgtest.wait_until(warned, timeout=3)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 2.0)
        self.assertEqual(state["user"], "alice")
        self.assertEqual(state["warn_in_sec"], 0)
        self.assertIn(state["expire_in_sec"], (0, 1))
        self.assertGreaterEqual(state["idle_sec"], 0)
        self.assertEqual(state["warn_after_sec"], 1)
        self.assertEqual(state["expire_after_sec"], 2)
        # Activity during the warning returns the session to active.
        r = self.c.ping(token, 0)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "active")
        self.assertEqual(r.json()["idle_sec"], 0)

    def test_pings_keep_it_alive(self):
        self.start(SHORT)
        token, helper, start = self.login()
        while time.monotonic() - start < 3.0:
            last_ping = time.monotonic()
            r = self.c.ping(token, 0)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["state"], "active")
            time.sleep(0.5)
        r = self.c.session(token)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(hgtest.pid_running(helper))
        # Without pings it ends 2 s after the last one.
        hgtest.wait_until(lambda: self.c.session(token).status == 401, timeout=4)
        self.assertGreater(time.monotonic() - last_ping, 1.9)
        self.assertLess(time.monotonic() - last_ping, 3.0)
        self.assert_ended(token, "idle-timeout")

    def test_idle_dates_activity_back(self):
        self.start({"WarnAfterSec": 10, "ExpireAfterSec": 20, "MaxSessionSec": 0})
        token, _, start = self.login()
        time.sleep(max(0, start + 2.5 - time.monotonic()))
        r = self.c.ping(token, 1)  # activity 1 s ago, 1.5 s after login
        self.assertEqual(r.status, 200, r)
        state = r.json()
        self.assertEqual(state["idle_sec"], 1)
        self.assertEqual(state["warn_in_sec"], 9)
        self.assertEqual(state["expire_in_sec"], 19)
        # Never earlier than the last known activity.
        r = self.c.ping(token, 3600)
        self.assertEqual(r.json()["idle_sec"], 1)
        # Never in the future.
        r = self.c.ping(token, -30)
        self.assertEqual(r.json()["idle_sec"], 0)
        self.assertEqual(r.json()["expire_in_sec"], 20)
        # GET /api/session is not activity.
        time.sleep(1.1)
        r = self.c.session(token)
        self.assertEqual(r.json()["idle_sec"], 1)
        for bad in ({}, {"idle": "5"}, {"idle": None}, {"idle": [1]},
                    {"idle": True}):
            with self.subTest(body=bad):
                r = self.c.post("/api/ping", bad, token=token)
                self.assertEqual(r.status, 400, r)
        self.assertEqual(self.c.session(token).status, 200)

    def test_max_age_despite_pings(self):
        self.start({"WarnAfterSec": 1, "ExpireAfterSec": 2, "MaxSessionSec": 3})
        mark = self.d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        ended = None
        while time.monotonic() - start < 5.0:
            r = self.c.ping(token, 0)
            if r.status != 200:
                ended = r
                break
            # The absolute limit shows as a warning in its last second.
            time.sleep(0.25)
        elapsed = time.monotonic() - start
        self.assertIsNotNone(ended, "the session outlived MaxSessionSec=3")
        self.assertEqual(ended.status, 401, ended)
        self.assertEqual(ended.json(), dict(ENDED, reason="max-age"))
        self.assertGreater(elapsed, 2.8)
        self.assertLess(elapsed, 4.0)
        self.d.wait_for_log(r"Session %s of alice ended: max-age" % sid)
        self.assert_pam_closed(helper)

    def test_browser_closed(self):
        self.start({"WarnAfterSec": 60, "ExpireAfterSec": 120,
                    "CloseAfterSec": 1})
        mark = self.d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        self.d.wait_for_log(r"Session %s of alice ended: browser-closed" % sid,
                            timeout=4)
        self.assertGreater(time.monotonic() - start, 0.9)
        self.assert_ended(token, "browser-closed")
        self.assert_pam_closed(helper)

    def test_reload_shortens_timeout(self):
        d = self.start({"WarnAfterSec": 10, "ExpireAfterSec": 20,
                        "MaxSessionSec": 0})
        mark = d.log_mark()
        token, helper, start = self.login()
        sid = self.session_id(mark)
        time.sleep(max(0, start + 2.5 - time.monotonic()))
        self.assertEqual(self.c.session(token).status, 200)
        d.write_config({"Timeouts": {"WarnAfterSec": 1, "ExpireAfterSec": 2}})
        mark = d.log_mark()
        reload_at = time.monotonic()
        d.signal(signal.SIGHUP)
        d.wait_for_log(r"Configuration reloaded", after=mark)
        d.wait_for_log(r"Session %s of alice ended: idle-timeout" % sid,
                       after=mark, timeout=2)
        self.assertLess(time.monotonic() - reload_at, 1.0)
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
