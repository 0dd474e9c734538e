#!/usr/bin/python3
"""The day's limits in real time: a sign-in outside the opening hours is
refused (403 with when it opens: before PAM when every rule is closed,
after PAM when the person's own rule is), a session ends at closing time
(reason closing-time, warned ahead), the daily allowance ends every
session of a person at once (two side by side count once: reason
allowance), and the next sign-in is refused until the next day (403 with
when it renews); the record is on disk.

The daemon's zone comes from TZ: a POSIX zone whose offset has seconds
puts the local minute's end a few seconds ahead, so that a schedule of
whole minutes closes soon without waiting up to a minute."""

import datetime
import os
import re
import time

import hgtest

SLACK = hgtest.SLACK
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def zone_with_minute_end_in(seconds):
    """(TZ, offset): a zone in which the current local minute ends in
    about seconds (10 to 69)."""
    now = time.time()
    offset = int((60 - seconds - now) % 60)
    return "HGT-0:00:%02d" % offset, offset


def local(offset, t=None):
    return datetime.datetime.fromtimestamp(
        (time.time() if t is None else t) + offset, datetime.timezone.utc)


def hhmm(minutes):
    return "%02d:%02d" % (minutes // 60, minutes % 60)


def next_utc_midnight():
    today = datetime.datetime.now(datetime.timezone.utc).date()
    tomorrow = today + datetime.timedelta(days=1)
    return int(datetime.datetime(tomorrow.year, tomorrow.month, tomorrow.day,
                                 tzinfo=datetime.timezone.utc).timestamp())


class AllowanceTest(hgtest.TestCase):
    def start(self, timeouts, env=None, config=None):
        cfg = {"Timeouts": dict({"WarnAfterSec": 60, "ExpireAfterSec": 120,
                                 "MaxSessionSec": 0}, **timeouts)}
        cfg.update(config or {})
        self.d = self.daemon(cfg, env=dict({"TZ": "UTC"}, **(env or {})))
        self.c = self.d.client()
        return self.d

    def assert_ended(self, token, reason):
        r = self.c.session(token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "session-ended", "reason": reason})

    def test_closed_for_everyone_before_pam(self):
        # Open two days from now only: closed now, for every rule.
        day = DAYS[(datetime.datetime.now(datetime.timezone.utc).weekday() + 2) % 7]
        self.start({"AllowedHours": "%s 10:00-11:00" % day})
        start = time.monotonic()
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 403, r)
        body = r.json()
        self.assertEqual(body["error"], "closed")
        self.assertIsInstance(body["reason"], str)
        opens = datetime.datetime.fromtimestamp(body["opens_at"],
                                                datetime.timezone.utc)
        self.assertEqual((opens.strftime("%a"), opens.hour, opens.minute,
                          opens.second), (day, 10, 0, 0))
        self.assertGreater(body["opens_at"], time.time() + 86400)
        # Answered at once, without PAM (FailDelayMSec does not apply).
        self.assertLess(time.monotonic() - start, 1.0 + SLACK)
        self.assertEqual(self.d.pam_calls(), [])
        self.assertEqual(self.d.helper_pids(), [])
        self.d.wait_for_log(r"Web login of alice: refused: closed")
        # The same for a name no one has: it tells nothing about anyone.
        r = self.c.login_response("nobody-here", "x")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["error"], "closed")

    def test_closed_for_the_persons_rule_after_pam(self):
        # Closed in the fallback; kiosk-admins (alice) may always.
        day = DAYS[(datetime.datetime.now(datetime.timezone.utc).weekday() + 2) % 7]
        self.start({"AllowedHours": "%s 10:00-11:00" % day},
                   config={"Policy staff": {"MatchGroup": "kiosk-admins",
                                            "AllowedHours": ""}})
        r = self.c.login_response("carol", "secret")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "closed")
        self.assertIn("opens_at", r.json())
        # PAM ran (authenticated, session opened) and closed it again.
        self.d.wait_for_pam_call("close_session", "carol")
        self.d.wait_for_log(r"Web login of carol: refused: closed")
        token = self.c.login("alice", "secret")
        self.assertEqual(self.c.session(token).json()["limit_reason"], "")
        # A wrong password is still the failure every failure is.
        r = self.c.login_response("carol", "wrong")
        self.assertEqual(r.status, 401)

    def test_session_ends_at_closing_time(self):
        tz, offset = zone_with_minute_end_in(15)
        now = local(offset)
        minute = now.hour * 60 + now.minute
        hours = "%s %s-%s" % (DAYS[now.weekday()], hhmm(minute),
                              hhmm(minute + 1))
        closes_at = time.time() + (60 - now.second - now.microsecond / 1e6)
        self.start({"AllowedHours": hours, "WarnBeforeSec": "4"},
                   env={"TZ": tz})
        mark = self.d.log_mark()
        token = self.c.login("alice", "secret")
        state = self.c.session(token).json()
        self.assertEqual(state["limit_reason"], "closing-time")
        self.assertAlmostEqual(state["closes_in_sec"], closes_at - time.time(),
                               delta=2)
        self.assertEqual(state["allowance_left_sec"], -1)

        def warned():
            r = self.c.session(token)
            self.assertEqual(r.status, 200, "ended before any warning: %r" % r)
            return r.json() if r.json()["state"] == "warning" else None
        state = hgtest.wait_until(warned, timeout=closes_at - time.time() + SLACK)
        self.assertEqual(state["warning"], "closing-time")
        self.assertGreaterEqual(time.time(), closes_at - 4 - 0.5)
        self.d.wait_for_log(r"Session [0-9a-f]+ of alice ended: closing-time",
                            timeout=closes_at - time.time() + SLACK, after=mark)
        hgtest.note("closing-time logged %.2f s after the closing time"
                    % (time.time() - closes_at))
        self.assertGreaterEqual(time.time(), closes_at - 0.1)
        self.assert_ended(token, "closing-time")
        self.d.wait_for_pam_call("close_session", "alice")
        # And now it is closed: the sign-in is refused, opening next week.
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "closed")
        self.assertAlmostEqual(r.json()["opens_at"],
                               closes_at - 60 + 7 * 86400, delta=2)

    def test_allowance_counts_parallel_sessions_once(self):
        state_dir = os.path.join(self.scratch_dir(), "state")
        os.mkdir(state_dir)
        self.start({"DailyAllowanceSec": 4, "WarnBeforeSec": "2"},
                   env={"STATE_DIRECTORY": state_dir})
        self.d.wait_for_log(r"Daily allowance kept in .*allowance: written "
                            r"at most once a minute .* a crash loses at most "
                            r"a minute")
        mark = self.d.log_mark()
        start = time.monotonic()
        first = self.c.login("alice", "secret")
        second = self.c.login("alice", "secret")  # another browser
        state = self.c.session(second).json()
        self.assertEqual(state["limit_reason"], "allowance")
        self.assertIn(state["allowance_left_sec"], (3, 4))
        def both_ended():
            return len(re.findall(r"Session [0-9a-f]+ of alice ended: "
                                  r"allowance", self.d.log_text()[mark:])) == 2
        hgtest.wait_until(both_ended, timeout=4 + SLACK)
        elapsed = time.monotonic() - start
        hgtest.note("both sessions ended by the allowance %.2f s after the "
                    "first sign-in (DailyAllowanceSec=4)" % elapsed)
        # Counted once: four seconds for both, not two each.
        self.assertGreaterEqual(elapsed, 4.0 - 0.2)
        self.assert_ended(first, "allowance")
        self.assert_ended(second, "allowance")
        # Nothing left: refused until the next day, after PAM.
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "allowance-used")
        self.assertEqual(r.json()["renews_at"], next_utc_midnight())
        # Another person still may.
        self.c.logout(self.c.login("carol", "secret"))
        # The record: today's, with the time used.
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        path = os.path.join(state_dir, "allowance", day, "alice")
        record = dict(line.split("=", 1) for line in
                      open(path).read().splitlines())
        self.assertEqual(record["USER"], "alice")
        self.assertGreaterEqual(int(record["USED_USEC"]), 4000000)
        self.assertLess(int(record["USED_USEC"]), (4 + SLACK) * 1000000)
        self.assertEqual(record["OPEN"], "0")
        hgtest.note("record size %d bytes" % os.path.getsize(path))

    def test_restart_keeps_the_days_use(self):
        state_dir = os.path.join(self.scratch_dir(), "state")
        os.mkdir(state_dir)
        self.start({"DailyAllowanceSec": 3},
                   env={"STATE_DIRECTORY": state_dir})
        token = self.c.login("alice", "secret")
        self.d.wait_for_log(r"of alice ended: allowance", timeout=3 + SLACK)
        self.assert_ended(token, "allowance")
        self.d.stop()
        self.d.start()
        self.c = self.d.client()
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "allowance-used")


if __name__ == "__main__":
    hgtest.main()
