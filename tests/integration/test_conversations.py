#!/usr/bin/python3
"""Multi-step PAM conversations racing the end of their helper: an answer
that arrives after the helper died (a crashing module) gets the failure's
answer, and the daemon goes on."""

import hgtest


class ConversationRaceTest(hgtest.TestCase):
    def test_answer_after_the_helper_died(self):
        # A long fail delay: the failed login lingers until its answer.
        d = self.daemon(start=False, config={"Pam": {"FailDelayMSec": 3000}})
        service = d.hgtest_service("hgtest", "mode=otp", "code=424242")
        d.write_config({"Pam": {"Service": service}})
        d.start()
        c = d.client()
        r = c.login_response("alice", "secret")
        self.assertEqual(r.json()["state"], "prompt", r)
        conversation = r.json()["conversation"]
        (helper,) = d.helper_pids()
        mark = d.log_mark()
        hgtest.kill_pid(helper)
        d.wait_for_log(r"PAM helper %d died of signal" % helper, after=mark)
        r = c.post("/api/login", {"conversation": conversation,
                                  "answers": ["424242"]})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["state"], "failed")
        self.assertTrue(d.alive(), "the daemon crashed")
        self.assertEqual(c.get("/").status, 200)


if __name__ == "__main__":
    hgtest.main()
