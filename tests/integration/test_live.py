#!/usr/bin/python3
"""Live sessions: the event stream (events in order, hang-up noticed at
once, reloads survive, sendBeacon close), ended sessions that say why,
multi-step PAM in the login API (one-time code, expired password), login
throttling, the session limits, a slow PAM module that delays nobody else,
and shutdown with streams open."""

import json
import math
import signal
import socket
import threading
import time

import hgtest

LONG = {"WarnAfterSec": 60, "ExpireAfterSec": 120, "MaxSessionSec": 0}
SLACK = hgtest.SLACK


class Stream:
    """GET /api/events on a raw socket; events are read with deadlines."""

    def __init__(self, daemon, token, page="page-0001"):
        self.sock = socket.create_connection(("127.0.0.1", daemon.port),
                                             timeout=5)
        self.sock.sendall((
            "GET /api/events?page=%s HTTP/1.1\r\nHost: %s\r\n"
            "Cookie: hourglass_session=%s\r\nAccept: text/event-stream\r\n"
            "Sec-Fetch-Site: same-origin\r\n\r\n"
            % (page, daemon.host, token)).encode())
        self.buf = b""
        self.closed = False
        head = self._read_until(b"\r\n\r\n", 5)
        self.status = int(head.split(b" ")[1])
        self.headers = head.decode("latin-1").lower()

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        if not data:
            self.closed = True
        self.buf += data

    def _read_until(self, marker, timeout):
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError("no %r within %.1f s: %r"
                                     % (marker, timeout, self.buf[-300:]))
            self._fill(deadline)
        head, self.buf = self.buf.split(marker, 1)
        return head

    def events(self, count, timeout=5):
        """The next count events as (name, data): chunk framing and
        comments (keep-alives, retry) skipped."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            text = self._dechunked()
            for block in text.split("\n\n")[:-1]:
                name = data = None
                for line in block.split("\n"):
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                if name:
                    out.append((name, data))
            if len(out) >= count:
                break
            if self.closed or time.monotonic() > deadline:
                raise AssertionError("got %r, wanted %d events" % (out, count))
            self._fill(deadline)
        return out[:count]

    def _dechunked(self):
        """The event text received so far (chunk sizes removed); what was
        parsed stays in self.parsed so events() sees each once."""
        raw, text = self.buf, ""
        pos = 0
        while True:
            end = raw.find(b"\r\n", pos)
            if end < 0:
                break
            size = int(raw[pos:end] or b"0", 16)
            if len(raw) < end + 2 + size + 2:
                break
            text += raw[end + 2:end + 2 + size].decode()
            pos = end + 2 + size + 2
            if size == 0:
                self.closed = True
                break
        # Keep only what a complete event consumed.
        cut = text.rfind("\n\n")
        if cut < 0:
            return ""
        consumed = text[:cut + 2]
        rest = text[cut + 2:]
        self.buf = (("%x\r\n" % len(rest)).encode() + rest.encode() + b"\r\n"
                    if rest else b"") + raw[pos:]
        return consumed

    def wait_closed_by_server(self, timeout=5):
        deadline = time.monotonic() + timeout
        while not self.closed:
            if time.monotonic() > deadline:
                raise AssertionError("stream still open")
            self._fill(deadline)
            self._dechunked()

    def close(self):
        self.sock.close()


class LiveTest(hgtest.TestCase):
    def start(self, timeouts=None, **config):
        cfg = {"Timeouts": dict(LONG, **(timeouts or {}))}
        cfg.update(config)
        self.d = self.daemon(cfg)
        self.c = self.d.client()
        return self.d

    def stream(self, token, page="page-0001"):
        s = Stream(self.d, token, page)
        self.addCleanup(s.close)
        return s

    # -- the event stream --

    def test_stream_events_in_order(self):
        self.start({"WarnAfterSec": 1, "ExpireAfterSec": 3})
        token = self.c.login()
        s = self.stream(token)
        self.assertEqual(s.status, 200)
        self.assertIn("content-type: text/event-stream", s.headers)
        [(name, data)] = s.events(1)
        self.assertEqual(name, "active")
        self.assertEqual(data["user"], "alice")
        [(name, data)] = s.events(1, timeout=1 + SLACK)
        self.assertEqual(name, "warning")
        self.assertIn(data["expire_in_sec"], (1, 2))
        self.assertEqual(self.c.ping(token).status, 200)
        self.assertEqual(s.events(1, timeout=SLACK)[0][0], "active")
        self.assertEqual(s.events(1, timeout=1 + SLACK)[0][0], "warning")
        self.assertEqual(s.events(1, timeout=2 + SLACK),
                         [("ended", {"reason": "idle-timeout"})])
        s.wait_closed_by_server()

    def test_stream_needs_a_session_and_a_page(self):
        self.start()
        token = self.c.login()
        r = self.c.get("/api/events?page=x", token=token)
        self.assertEqual(r.status, 400)
        r = self.c.get("/api/events?page=page-0001",
                       token=hgtest.random_token())
        self.assertEqual(r.json(), {"error": "no-session"})

    def test_closed_browser_noticed(self):
        self.start({"CloseAfterSec": 2})
        token = self.c.login()
        s = self.stream(token)
        s.events(1)
        # Longer than the grace, without a request: the open stream keeps it.
        hgtest.assert_stays(lambda: "ended:" not in self.d.log_text(), 2.5,
                            "the session lives while its stream is open")
        self.assertEqual(self.c.session(token).status, 200)
        start = time.monotonic()
        s.close()  # the browser goes away
        self.d.wait_for_log(r"ended: browser-closed", timeout=2 + SLACK)
        took = time.monotonic() - start
        hgtest.note("ended %.2f s after the hang-up (CloseAfterSec=2; the "
                    "next keep-alive would be 25 s away)" % took)
        self.assertGreaterEqual(took, 2.0)
        self.assertLess(took, 2 + SLACK)
        self.assertEqual(self.c.session(token).json()["reason"],
                         "browser-closed")

    def test_reload_is_not_a_close(self):
        self.start({"CloseAfterSec": 2})
        token = self.c.login()
        for i in range(4):  # four page loads, each a new stream
            s = self.stream(token, "page-%04d" % i)
            s.events(1)
            self.assertEqual(self.c.get("/", token=token).status, 200)
            s.close()
            # The gap of a reload (no stream, no request): nothing ends.
            hgtest.assert_stays(lambda: "ended:" not in self.d.log_text(),
                                0.5, "the session lives between two loads")
        self.assertEqual(self.c.session(token).status, 200)

    def test_beacon_close(self):
        self.start({"CloseAfterSec": 1})
        token = self.c.login()
        s = self.stream(token, "page-beacon")
        s.events(1)
        r = self.c.post("/api/close", {"page": "page-beacon"}, token=token,
                        sec_fetch_site="same-origin")
        self.assertEqual(r.json(), {"closed": 1})
        s.wait_closed_by_server()
        self.d.wait_for_log(r"ended: browser-closed", timeout=1 + SLACK)

    def test_ended_reasons(self):
        self.start()
        first = self.c.login()
        # A new login from the same browser (its cookie) replaces it.
        second = self.c.login(token=first)
        self.assertEqual(self.c.session(first).json(),
                         {"error": "session-ended", "reason": "replaced"})
        self.assertEqual(self.c.logout(second).status, 200)
        self.assertEqual(self.c.session(second).json()["reason"], "logout")
        self.assertEqual(self.c.session(hgtest.random_token()).json(),
                         {"error": "no-session"})

    def test_helper_gone_after_login(self):
        # The PAM session's keeper dies (an admin killed it): the web
        # session goes on, with nothing left to close at its end.
        self.start()
        token = self.c.login()
        [helper] = self.d.wait_for_helpers(1)
        hgtest.kill_pid(helper, signal.SIGTERM)
        self.d.wait_for_log(r"PAM helper of session \w+ exited early")
        self.assertEqual(self.c.session(token).status, 200)
        self.assertEqual(self.c.logout(token).status, 200)

    def test_shutdown_with_streams_open(self):
        d = self.start()
        token = self.c.login()
        s = self.stream(token)
        s.events(1)
        d.stop(timeout=8)
        self.assertEqual(s.events(1), [("ended", {"reason": "shutdown"})])


class ConversationTest(hgtest.TestCase):
    def start(self, *args, **config):
        """pam_hgtest for every call, with args (mode=otp, expired...)."""
        cfg = {"Timeouts": LONG}
        cfg.update(config)
        self.d = self.daemon(cfg, start=False)
        line = " ".join([hgtest.pam_module(), "password=secret",
                         "log=" + self.d.pam_log_path] + list(args))
        self.d.add_service("hgtest", "".join(
            "%s required %s\n" % (kind, line)
            for kind in ("auth", "account", "password", "session")))
        self.d.config["Pam"]["Service"] = "hgtest"
        self.d.start()
        self.c = self.d.client()

    def test_one_time_code(self):
        self.start("mode=otp", "code=424242")
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 200, r)
        step = r.json()
        self.assertEqual(step["state"], "prompt")
        self.assertEqual(step["prompts"],
                         [{"echo": True, "text": "One-time code: "}])
        self.assertIn({"kind": "info", "text": "A code was sent to you."},
                      step["messages"])
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["424242"]})
        self.assertEqual(r.json()["state"], "authenticated")
        self.assertTrue(hgtest.session_token(r))
        # A wrong code fails like any failure; the conversation is spent.
        step = self.c.login_response("alice", "secret").json()
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["000000"]})
        self.assertEqual((r.status, r.json()["state"]), (401, "failed"))
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["424242"]})
        self.assertEqual(r.status, 401)

    def test_wrong_answer_count_is_refused(self):
        self.start("mode=otp", "code=1")
        step = self.c.login_response("alice", "secret").json()
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["1", "2"]})
        self.assertEqual(r.status, 400)
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": "1"})
        self.assertEqual(r.status, 400)

    def test_expired_password_changed(self):
        self.start("expired", "new=fresh-one")
        step = self.c.login_response("alice", "secret").json()
        self.assertEqual(step["prompts"], [{"echo": False,
                                            "text": "New password: "}])
        step = self.c.post("/api/login", {"conversation": step["conversation"],
                                          "answers": ["fresh-one"]}).json()
        self.assertEqual(step["prompts"], [{"echo": False,
                                            "text": "Retype new password: "}])
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["fresh-one"]})
        self.assertEqual(r.json()["state"], "authenticated")
        self.assertNotIn("fresh-one", self.d.log_text())

    def test_expired_password_mismatch_fails(self):
        self.start("expired", "new=fresh-one")
        step = self.c.login_response("alice", "secret").json()
        step = self.c.post("/api/login", {"conversation": step["conversation"],
                                          "answers": ["fresh-one"]}).json()
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["other"]})
        self.assertEqual((r.status, r.json()["state"]), (401, "failed"))
        self.d.wait_for_log(r"Web login of alice: failed: expired")

    def test_conversation_steps_expire(self):
        self.start("mode=otp", "code=1",
                   Pam={"ConversationTimeoutSec": 5})
        step = self.c.login_response("alice", "secret").json()
        helpers = self.d.helper_pids()
        self.assertEqual(len(helpers), 1)
        self.d.wait_for_log(r"failed: conversation expired", timeout=5 + SLACK)
        self.assertGone(helpers)
        r = self.c.post("/api/login", {"conversation": step["conversation"],
                                       "answers": ["1"]})
        self.assertEqual(r.status, 401)


class AbuseTest(hgtest.TestCase):
    def start(self, **config):
        cfg = {"Timeouts": LONG}
        cfg.update(config)
        self.d = self.daemon(cfg)
        self.c = self.d.client()

    def test_backoff_per_user_name(self):
        self.start()
        for _ in range(3):
            self.assertEqual(self.c.login_response("alice", "bad").status, 401)
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.json(), {"error": "too-many-attempts"})
        wait = int(r.header("Retry-After"))
        self.assertGreaterEqual(wait, 1)
        self.assertLessEqual(wait, 60)
        refused = time.monotonic()
        # The same name in other letters is the same name.
        self.assertEqual(self.c.login_response("ALICE", "secret").status, 429)
        # Others are not slowed.
        self.assertEqual(self.c.login_response("lowuid", "x").status, 401)
        # Tried again and again (a refused try is no failure: it does not
        # lengthen the wait), it gets in once the wait is over.
        def let_in():
            r = self.c.login_response("alice", "secret")
            return r if r.status != 429 else None
        r = hgtest.wait_until(let_in, timeout=wait + SLACK, interval=0.1)
        hgtest.note("let in again %.2f s after the 429 (Retry-After: %d)"
                    % (time.monotonic() - refused, wait))
        self.assertEqual(r.status, 200, r)

    def test_failures_take_the_same_time(self):
        # A second of delay: a failure that skipped it, or paid it twice,
        # is a second off, more than a busy machine adds to a request.
        self.start(Pam={"FailDelayMSec": 1000})
        times = {}
        for user, password in (("alice", "bad"), ("nobody", "x"),
                               ("lowuid", "secret"), ("bob", "secret")):
            r = self.c.login_response(user, password)
            self.assertEqual(r.status, 401)
            times[user] = r.elapsed
        hgtest.note("failed logins answered after %s s (FailDelayMSec=1000)"
                    % ", ".join("%s %.3f" % kv for kv in sorted(times.items())))
        for user, t in times.items():
            self.assertGreaterEqual(t, 1.0, user)
            self.assertLess(t, 1.9, user)
        self.assertLess(max(times.values()) - min(times.values()), 0.9, times)

    def test_global_rate(self):
        # A burst of 4 s worth, then the refill (a token a second) only:
        # tried in a row until refused, no more get through than that,
        # however long the tries took.
        self.start(Limits={"LoginRatePerSec": 1})
        codes = []
        start = time.monotonic()
        while 429 not in codes and len(codes) < 40:
            codes.append(self.c.login_response("nobody%d" % len(codes),
                                               "x").status)
        elapsed = time.monotonic() - start
        self.assertEqual(codes[:4], [401] * 4)
        self.assertIn(429, codes)
        let_in = codes.index(429)
        hgtest.note("%d logins before the first 429, in %.2f s" % (let_in, elapsed))
        self.assertLessEqual(let_in, 4 + math.ceil(elapsed))

    def test_logins_in_progress_capped(self):
        self.d = self.daemon({"Timeouts": LONG,
                              "Limits": {"MaxLoginsInProgress": 1}},
                             start=False)
        self.d.hgtest_service("hgtest", "mode=otp", "code=1")
        self.d.config["Pam"]["Service"] = "hgtest"
        self.d.start()
        c = self.d.client()
        self.assertEqual(c.login_response("alice", "secret").json()["state"],
                         "prompt")
        r = c.login_response("alice", "secret")
        self.assertEqual((r.status, r.json()), (503, {"error": "busy"}))

    def test_session_limits(self):
        self.start(Limits={"MaxSessions": 2, "MaxSessionsPerUser": 1})
        alice = self.c.login("alice", "secret")
        r = self.c.login_response("alice", "secret")
        self.assertEqual((r.status, r.json()),
                         (503, {"error": "too-many-user-sessions"}))
        # From the browser that holds it: replaced, not refused.
        alice2 = self.c.login("alice", "secret", token=alice)
        self.assertEqual(self.c.session(alice).json()["reason"], "replaced")
        self.c.login("carol", "secret")
        r = self.c.login_response("carol", "secret")
        self.assertEqual(r.status, 503)
        self.assertEqual(self.c.session(alice2).status, 200)
        # Two PAM sessions open; the refused login's helper exits.
        self.d.wait_for_helpers(2)

    def test_slow_module_delays_nobody_else(self):
        # bob's PAM module hangs until the test lets it go; meanwhile
        # alice's requests are answered as usual.
        self.d = self.daemon({"Timeouts": LONG,
                              "Pam": {"HelperTimeoutSec": 60}}, start=False)
        hold = hgtest.Hold(self.d.tmp)
        self.d.hgtest_service("hgtest", hold.arg(), "only_user=bob",
                              password="secret")
        self.d.config["Pam"]["Service"] = "hgtest"
        self.d.start()
        c = self.d.client()
        alice = c.login("alice", "secret")
        done = []
        t = threading.Thread(target=lambda: done.append(
            c.login_response("bob", "secret").status), daemon=True)
        t.start()
        hgtest.wait_until(lambda: ("authenticate", "bob") in
                          [(call, user) for call, user, _ in self.d.pam_calls()],
                          message="bob's login never reached his module")
        worst = 0.0
        for _ in range(50):
            r = c.ping(alice)
            self.assertEqual(r.status, 200)
            worst = max(worst, r.elapsed)
        self.assertTrue(t.is_alive(), "bob's login was answered while his "
                        "module hung: %r" % done)
        hold.release()
        t.join(10)
        self.assertEqual(done, [200])
        hgtest.note("slowest of 50 pings while bob's module hung: %.3f s"
                    % worst)
        # A ping that waited on the module would wait for ever here.
        self.assertLess(worst, SLACK, "a ping waited on bob's PAM module")


if __name__ == "__main__":
    hgtest.main()
