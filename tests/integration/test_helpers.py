#!/usr/bin/python3
"""The PAM helper processes: hung, crashing and killed helpers fail only
their own login; helpers close their PAM sessions when the daemon dies or
shuts down; MaxLoginsInProgress caps logins waiting in PAM. PAM behaviour
comes from the test module pam_hgtest.so (tests/pam): a hung module waits
on a FIFO (hgtest.Hold) until the test lets it go, or for ever."""

import re
import threading
import time

import hgtest

SLACK = hgtest.SLACK


class Background:
    """A request run in a thread, so the test can act while it waits."""

    def __init__(self, func, *args, **kw):
        self.result = None
        self.error = None
        self.started = time.monotonic()
        self.elapsed = None
        self.thread = threading.Thread(target=self._run, args=(func, args, kw),
                                       daemon=True)
        self.thread.start()

    def _run(self, func, args, kw):
        try:
            self.result = func(*args, **kw)
        except BaseException as e:  # reported by get()
            self.error = e
        self.elapsed = time.monotonic() - self.started

    def get(self, timeout=15.0):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("request still waiting after %.0f s" % timeout)
        if self.error:
            raise self.error
        return self.result


class HelperTest(hgtest.TestCase):
    def start(self, auth_args, pam=None, limits=None, hold=False):
        """The daemon with pam_hgtest (auth_args); with hold, its module
        also waits on self.hold (for the users of only_user=)."""
        d = self.daemon(start=False, config={"Pam": dict(pam or {}),
                                             "Limits": dict(limits or {})})
        if hold:
            self.hold = hgtest.Hold(d.tmp)
            auth_args = [self.hold.arg()] + list(auth_args)
        service = d.hgtest_service("hgtest", *auth_args)
        d.write_config({"Pam": {"Service": service}})
        self.d = d.start()
        self.c = d.client()
        # What every failure looks like (a user no special behaviour is
        # for: only_user keeps them to alice or bob).
        self.failed_body = self.c.login_response("carol", "wrong").body
        self.assertIn(b'"failed"', self.failed_body)
        # Its helper may still be exiting (slowly under ASan): it counts
        # as a login in progress until it is gone.
        hgtest.wait_until(lambda: not self.d.helper_pids(include_exited=True),
                          message="the failed login's helper did not exit")
        return d

    def assert_failed(self, r):
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.body, self.failed_body)
        self.assertEqual(r.cookies, [])

    def wait_in_module(self, user, seen=()):
        """The helper of user's next login is inside pam_sm_authenticate:
        its pid (a pid not in seen)."""
        def new_call():
            return [int(p) for c, u, p in self.d.pam_calls()
                    if c == "authenticate" and u == user and int(p) not in seen]
        return hgtest.wait_until(new_call, message="no authenticate call of %s"
                                 % user)[-1]

    def test_hung_helper_is_killed(self):
        # The module never answers.
        self.start(["only_user=alice"], pam={"HelperTimeoutSec": 1}, hold=True)
        mark = self.d.log_mark()
        login = Background(self.c.login_response, "alice", "secret")
        helper = self.wait_in_module("alice")
        self.assertIn(helper, self.d.helper_pids())
        r = login.get()
        self.assert_failed(r)
        # HelperTimeoutSec=1, then the fail delay (100 ms).
        hgtest.note("the hung login failed after %.2f s (HelperTimeoutSec=1)"
                    % login.elapsed)
        self.assertGreaterEqual(login.elapsed, 1.0)
        self.assertLess(login.elapsed, 1.1 + SLACK)
        self.assertGone([helper], timeout=SLACK)
        self.d.wait_for_log(r"PAM helper %d did not answer in time" % helper,
                            after=mark)
        self.d.wait_for_log(r"failed.*HG_USER=alice\b", after=mark)
        self.assertEqual(self.d.helper_pids(), [])

    def test_crashing_helper(self):
        self.start(["crash", "only_user=bob"])
        mark = self.d.log_mark()
        r = self.c.login_response("bob", "secret")
        self.assert_failed(r)
        helper = self.wait_in_module("bob")
        self.assertGone([helper])
        self.d.wait_for_log(r"PAM helper %d died of signal" % helper, after=mark)
        self.assertTrue(self.d.alive())
        # Others still sign in, bob still fails alike.
        token = self.c.login("alice", "secret")
        self.assertEqual(self.c.session(token).status, 200)
        self.assert_failed(self.c.login_response("bob", "secret"))
        self.assertEqual(self.c.session(token).status, 200)

    def test_killed_helper_fails_its_login_only(self):
        # bob's module hangs for good; HelperTimeoutSec is far away.
        self.start(["only_user=bob"], pam={"HelperTimeoutSec": 60}, hold=True)
        slow = Background(self.c.login_response, "bob", "secret")
        bob_helper = self.wait_in_module("bob")
        # Another login while bob's waits in PAM.
        start = time.monotonic()
        token = self.c.login("alice", "secret")
        hgtest.note("alice's login took %.3f s while bob's hung"
                    % (time.monotonic() - start))
        self.assertTrue(slow.thread.is_alive(), "bob's login did not wait")
        mark = self.d.log_mark()
        killed = time.monotonic()
        hgtest.kill_pid(bob_helper)
        r = slow.get()
        self.assert_failed(r)
        # Answered once its helper died, not at HelperTimeoutSec.
        self.assertLess(time.monotonic() - killed, SLACK,
                        "bob's login waited for the timeout")
        self.assertGone([bob_helper])
        self.d.wait_for_log(r"PAM helper %d died of signal" % bob_helper, after=mark)
        self.assertEqual(self.c.session(token).status, 200)
        self.assertEqual(len(self.d.helper_pids()), 1)  # alice's session
        token2 = self.c.login("alice", "secret")
        self.assertEqual(self.c.session(token2).status, 200)

    def open_two_sessions(self):
        t1 = self.c.login("alice", "secret")
        t2 = self.c.login("alice", "secret")
        helpers = self.d.wait_for_helpers(2)
        opened = self.d.wait_for_pam_call("open_session", "alice")
        self.assertEqual(sorted(opened), helpers)
        return (t1, t2), helpers

    def test_daemon_killed(self):
        self.start([])
        _, helpers = self.open_two_sessions()
        self.d.kill()
        # EOF on their sockets: close the PAM session, exit.
        self.assertGone(helpers, timeout=SLACK)
        def closed():
            pids = sorted(int(p) for c, _, p in self.d.pam_calls()
                          if c == "close_session")
            return pids == helpers
        hgtest.wait_until(closed, timeout=SLACK,
                          message="close_session not seen for %r: %r"
                          % (helpers, self.d.pam_calls()))
        self.assertEqual(self.d.all_helper_pids(), [])

    def test_clean_shutdown(self):
        self.start([])
        _, helpers = self.open_two_sessions()
        mark = self.d.log_mark()
        start = time.monotonic()
        self.d.stop(timeout=10)  # exit code 0, checked
        took = time.monotonic() - start
        hgtest.note("stopped in %.2f s with two sessions" % took)
        self.assertLess(took, SLACK)
        log = self.d.log_text()[mark:]
        self.assertEqual(len(re.findall(r"Session [0-9a-f]+ of alice ended: shutdown",
                                               log)), 2, log)
        self.assertGone(helpers, timeout=SLACK)
        closing = sorted(int(p) for c, u, p in self.d.pam_calls()
                         if c == "close_session")
        self.assertEqual(closing, helpers)
        self.assertEqual(self.d.all_helper_pids(), [])

    def test_clean_shutdown_logs_no_errors(self):
        # Ending sessions at shutdown is routine: nothing at error level or
        # worse (<0> to <3>) may be logged, or every restart pages someone.
        self.start([])
        self.open_two_sessions()
        mark = self.d.log_mark()
        self.d.stop(timeout=10)
        log = self.d.log_text()[mark:]
        errors = [line for line in log.splitlines()
                  if re.match(r"<[0-3]>hourglassd:", line)]
        self.assertEqual(errors, [], "error-level lines at a clean shutdown")

    def test_max_logins_in_progress(self):
        # bob's login waits in PAM until the test has tried alice's.
        self.start(["only_user=bob"], pam={"HelperTimeoutSec": 60},
                   limits={"MaxLoginsInProgress": 1}, hold=True)
        slow = Background(self.c.login_response, "bob", "secret")
        self.wait_in_module("bob")
        r = self.c.login_response("alice", "secret")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json(), {"error": "busy"})
        self.assertEqual(r.cookies, [])
        self.hold.release()
        r = slow.get()
        self.assertEqual(r.status, 200, r)
        # bob's login is done (his session holds a helper, which does not
        # count): alice gets in.
        token = self.c.login("alice", "secret")
        self.assertEqual(self.c.session(token).status, 200)


if __name__ == "__main__":
    hgtest.main()
