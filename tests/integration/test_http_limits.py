#!/usr/bin/python3
"""Hostile local clients against the HTTP front's connection budgets and
deadlines. Each test performs the attack itself: slowloris connections
that never finish their headers, a client that trickles a byte at a time,
many users together, and an attacker that leaves. The attacker runs as
uid 65534 (setpriv), the well-behaved client as the test's own uid; as
non-root, the tests that need two uids are skipped."""

import json
import os
import select
import signal
import socket
import subprocess
import time

import hgtest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
NOBODY = 65534


def ms(seconds):
    return "%.0f ms" % (seconds * 1000)


class Attacker:
    """slowclient.py as another user, killed by PID at the end."""

    def __init__(self, port, *args, uid=NOBODY):
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
               "--clear-groups", PYTHON, os.path.join(HERE, "slowclient.py"),
               str(port)] + [str(a) for a in args]
        self.proc = hgtest.spawn(cmd, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)

    def report(self, timeout=30.0):
        """The attacker's one line of figures, waited for with a deadline."""
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not readable:
            raise AssertionError("no report from the attacker in %.0f s"
                                 % timeout)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the attacker exited with %r"
                                 % self.proc.wait())
        return json.loads(line)

    def leave(self):
        """Exits as a crashed attacker would: every socket dropped."""
        self.proc.kill()
        self.proc.wait()

    def close(self):
        hgtest.stop_process(self.proc, signal.SIGKILL)
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()


def close_wait_sockets(port):
    """Connections to port whose peer has closed, as the kernel sees them."""
    out = subprocess.run(["ss", "-Htn", "state", "close-wait",
                          "( sport = :%d )" % port],
                         capture_output=True, text=True, check=True)
    return len(out.stdout.splitlines())


class LimitsTest(hgtest.TestCase):
    LIMITS = {"MaxConnections": 64, "MaxConnectionsPerPeer": 16}

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the attacker runs as another uid")
        self.d = self.daemon({"Limits": self.LIMITS,
                              "Http": {"RequestTimeoutSec": 3,
                                       "IdleTimeoutSec": 6}})
        self.c = self.d.client(timeout=10.0)

    def attacker(self, *args, **kw):
        a = Attacker(self.d.port, *args, **kw)
        self.addCleanup(a.close)
        return a

    def test_slowloris_cannot_take_every_connection(self):
        """400 unfinished requests of one user: 16 held, the rest refused at
        once; the other users are served meanwhile."""
        a = self.attacker("hold", 400, 400 - 16)
        self.assertEqual(a.report(), {"open": 16, "refused": 384})
        r = self.c.get("/")
        self.assertEqual(r.status, 200)
        token = self.c.login()
        self.assertEqual(self.c.ping(token).status, 200)
        print("# with 400 slowloris connections: GET / answered in %s"
              % ms(r.elapsed))
        self.d.wait_for_log(r"HTTP connection of uid %d refused" % NOBODY)

    def test_attacker_over_budget_gets_503_not_a_hang(self):
        a = self.attacker("hold", 16, 0)
        self.assertEqual(a.report(), {"open": 16, "refused": 0})
        self.assertEqual(self.c.get("/").status, 200, "another uid: room")
        # The same user's seventeenth connection: answered at once.
        b = self.attacker("hold", 1, 1)
        self.assertEqual(b.report(), {"open": 0, "refused": 1})

    def test_trickled_request_is_cut_at_the_request_deadline(self):
        """One byte every 0.2 s keeps MHD's inactivity timer happy; the
        whole request still has RequestTimeoutSec (3 s) to arrive."""
        a = self.attacker("trickle")
        report = a.report(timeout=60)
        self.assertGreaterEqual(report["cut_after"], 3.0, report)
        self.assertLess(report["cut_after"], 30.0, report)
        print("# trickled request cut after %.2f s (RequestTimeoutSec=3)"
              % report["cut_after"])

    def test_idle_connection_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.d.port)) as s:
            start = time.monotonic()
            s.settimeout(60)
            self.assertEqual(s.recv(1), b"", "closed without an answer")
            took = time.monotonic() - start
        self.assertGreaterEqual(took, 6.0)
        print("# idle connection closed after %.2f s (IdleTimeoutSec=6)" % took)

    def test_service_returns_when_the_attacker_leaves(self):
        """An attacker at the global limit leaves: its closed sockets are
        noticed at once and a new client is served."""
        self.d.write_config({"Limits": {"MaxConnections": 16}})
        self.d.signal(signal.SIGHUP)
        self.d.wait_for_log(r"Configuration reloaded")
        a = self.attacker("hold", 40, 40 - 16)
        self.assertEqual(a.report(), {"open": 16, "refused": 24})
        r = self.c.get("/")
        self.assertEqual(r.status, 503, "the table is full")
        self.assertEqual(r.json(), {"error": "busy"})
        a.leave()
        left = time.monotonic()
        hgtest.wait_until(lambda: self.c.get("/").status == 200, 10.0,
                          interval=0.05)
        back = time.monotonic() - left
        self.assertEqual(close_wait_sockets(self.d.port), 0)
        print("# service back %s after the attacker left" % ms(back))
        self.assertLess(back, 5.0)


class ReserveTest(hgtest.TestCase):
    """Several users together fill the table's open places: what is left is
    for requests of live sessions."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the attackers run as other uids")
        # 16 places: 14 open, 2 in the reserve; 7 per user.
        self.d = self.daemon({"Limits": {"MaxConnections": 16,
                                         "MaxConnectionsPerPeer": 7},
                              "Http": {"RequestTimeoutSec": 30}})
        self.c = self.d.client(timeout=10.0)

    def test_live_session_gets_through(self):
        token = self.c.login()
        attackers = []
        for uid in (NOBODY, 1002):
            a = Attacker(self.d.port, "hold", 7, 0, uid=uid)
            self.addCleanup(a.close)
            attackers.append(a)
        for a in attackers:
            self.assertEqual(a.report(), {"open": 7, "refused": 0})
        r = self.c.get("/")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("Connection"), "close")
        r = self.c.ping(token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.c.session(token).status, 200)


class LoginLimitsTest(hgtest.TestCase):
    """Sign-in cannot be denied to everyone by one user (finding 3)."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the attacker runs as another uid")

    def attacker(self, d, *args):
        a = Attacker(d.port, *args)
        self.addCleanup(a.close)
        return a

    def test_held_conversations_are_bounded_per_peer(self):
        d = self.daemon(start=False, config={
            "Limits": {"MaxLoginsInProgress": 8,
                       "MaxLoginsInProgressPerPeer": 3}})
        service = d.hgtest_service("hgtest", "mode=otp", "code=424242")
        d.write_config({"Pam": {"Service": service}})
        d.start()
        a = self.attacker(d, "prompts", 8, "alice", "secret")
        self.assertEqual(a.report(), {"200 prompt": 3, "503": 5})
        # Another user still gets to the one-time code, and through.
        c = d.client()
        r = c.login_response("alice", "secret")
        self.assertEqual(r.json()["state"], "prompt", r)
        r = c.post("/api/login", {"conversation": r.json()["conversation"],
                                  "answers": ["424242"]})
        self.assertEqual(r.json()["state"], "authenticated", r)

    def test_flood_of_names_slows_only_its_sender(self):
        d = self.daemon({"Limits": {"LoginRatePerSec": 2},
                         "Pam": {"FailDelayMSec": 0}})
        a = self.attacker(d, "logins", 30)
        seen = a.report(timeout=60)
        self.assertGreater(seen.get("429", 0), 0, seen)
        token = d.client().login("alice", "secret")
        self.assertEqual(d.client().session(token).status, 200)

    def test_failures_of_another_peer_do_not_lock_out(self):
        """Another user fails in alice's name until the back-off caps; the
        person at the kiosk still signs in at once."""
        d = self.daemon({"Pam": {"FailDelayMSec": 0}})
        cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
               "--clear-groups", PYTHON, "-c",
               "import sys; sys.path.insert(0, %r); import slowclient\n"
               "print([slowclient.login(%d, 'alice', 'wrong') "
               "for _ in range(6)])" % (HERE, d.port)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertIn("429", out.stdout, out)
        token = d.client().login("alice", "secret")
        self.assertEqual(d.client().session(token).status, 200)


class HangupTest(hgtest.TestCase):
    def test_client_leaving_a_pending_login_is_noticed_at_once(self):
        """A request waiting for PAM is not polled by MHD: its socket is
        watched for hang-up, so the login is dropped when the client goes,
        not when the PAM module returns (30 s later here)."""
        d = self.daemon(start=False)
        hold = hgtest.Hold(d.tmp)  # never released: a hung module
        service = d.hgtest_service("hgtest", hold.arg(), "only_user=bob")
        d.write_config({"Pam": {"Service": service}})
        d.start()
        body = json.dumps({"user": "bob", "password": "secret"}).encode()
        with socket.create_connection(("127.0.0.1", d.port)) as s:
            s.sendall(b"POST /api/login HTTP/1.1\r\nHost: %s\r\n"
                      b"Origin: http://%s\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s"
                      % (d.host.encode(), d.host.encode(), len(body), body))
            hgtest.wait_until(lambda: any(c == "authenticate" and u == "bob"
                                          for c, u, p in d.pam_calls()),
                              10.0, message="no authenticate call")
            left = time.monotonic()
        d.wait_for_log(r"Web login of bob: the client left", timeout=10.0)
        print("# pending login dropped %s after the client left"
              % ms(time.monotonic() - left))
        # And the daemon serves on.
        self.assertEqual(d.client().get("/").status, 200)


if __name__ == "__main__":
    hgtest.main()
