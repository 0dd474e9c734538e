#!/usr/bin/python3
"""The other side of the helper seam: PAM helpers that the service manager
starts for each connection to the helper socket (socket activation, as the
unprivileged daemon uses them), with hgactivator.py standing in for
systemd. Sign-in, multi-step conversations, session open and close, and a
hung module ended by the helper's own time bound, not by the daemon."""

import signal

import hgactivator
import hgtest


class HelperSocketTest(hgtest.TestCase):
    def start(self, *auth_args, pam=None, hold=False):
        d = self.daemon(start=False, config={"Pam": dict(pam or {})})
        if hold:
            self.hold = hgtest.Hold(d.tmp)  # never released: a hung module
            auth_args = (self.hold.arg(),) + auth_args
        service = d.hgtest_service("hgtest", *auth_args)
        self.activator = hgactivator.Activator(d.tmp, d.environment())
        self.addCleanup(self.activator.close)
        d.write_config({"Pam": {"Service": service, "Helper": "socket",
                                "HelperSocket": self.activator.path}})
        d.start()
        d.wait_for_log(r"PAM helpers come from " + self.activator.path)
        self.d, self.c = d, d.client()
        return d

    def test_sign_in_and_out(self):
        self.start()
        token = self.c.login("alice", "secret")
        self.assertEqual(self.c.session(token).status, 200)
        (proc,) = self.activator.procs()
        # Not the daemon's child: the service manager's.
        self.assertEqual(self.d.helper_pids(), [])
        self.assertEqual(self.c.logout(token).status, 200)
        self.d.wait_for_pam_call("close_session", "alice")
        self.assertEqual(proc.wait(10), 0)
        r = self.c.login_response("alice", "wrong")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["state"], "failed")

    def test_one_time_code(self):
        self.start("mode=otp", "code=424242")
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.json()["state"], "prompt", r)
        r = self.c.post("/api/login", {"conversation": r.json()["conversation"],
                                       "answers": ["424242"]})
        self.assertEqual(r.json()["state"], "authenticated", r)

    def test_hung_module_is_ended_by_the_helper_itself(self):
        self.start("only_user=bob", pam={"HelperTimeoutSec": 2}, hold=True)
        r = self.c.login_response("bob", "secret")
        self.assertEqual(r.status, 401, r)
        (proc,) = self.activator.procs()
        # The daemon cannot kill what systemd started: the helper's alarm.
        self.assertEqual(proc.wait(10), -signal.SIGALRM)

    def test_daemon_killed_closes_the_sessions(self):
        self.start()
        self.c.login("alice", "secret")
        (proc,) = self.activator.procs()
        self.d.kill()
        self.assertEqual(proc.wait(10), 0)
        self.d.wait_for_pam_call("close_session", "alice")


class SetupTest(hgtest.TestCase):
    def test_a_helper_without_setup_gives_up(self):
        """A connection that is not the daemon's (no SETUP first)."""
        import socket
        d = self.daemon(start=False)
        activator = hgactivator.Activator(d.tmp, d.environment())
        self.addCleanup(activator.close)
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.connect(activator.path)
            s.send(b"\x01alice")  # START, without SETUP
            proc = hgtest.wait_until(activator.procs, 10)[0]
            self.assertEqual(proc.wait(10), 1)


if __name__ == "__main__":
    hgtest.main()
