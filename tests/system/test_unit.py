#!/usr/bin/python3
"""hourglassd.service under the real systemd: a Type=notify start after
which the daemon answers at once, reloads (a bad drop-in keeps the
configuration in use, a good one takes effect, sessions go on), and a stop
that closes every PAM session before the daemon exits, with
Result=success and nothing left to kill."""

import re
import sys
import time

import hgsys

BAD_DROPIN = "/etc/hourglass/hourglass.conf.d/60-reload-test.conf"


class UnitTest(hgsys.TestCase):
    def test_start_is_notify_and_means_ready(self):
        self.hg.start()
        # No wait: with Type=notify, "systemctl start" returns once the
        # daemon said READY=1, so it must answer right now.
        r = self.hg.client().get("/api/session")
        self.assertEqual((r.status, r.json()), (401, {"error": "no-session"}))
        props = self.hg.show("Type", "ActiveState", "SubState", "StatusText",
                             "MainPID", "NotifyAccess", "WatchdogUSec")
        self.assertEqual(props["Type"], "notify")
        self.assertEqual((props["ActiveState"], props["SubState"]),
                         ("active", "running"))
        self.assertEqual(props["StatusText"], "Running")
        self.assertEqual(props["WatchdogUSec"], "30s")
        comm = self.m.read_file("/proc/%s/comm" % props["MainPID"]).strip()
        self.assertEqual(comm, "hourglassd")
        # It was listening before it said it was ready: its own line comes
        # before systemd's "Started".
        def is_started(e):
            return e.get("UNIT") == hgsys.UNIT and \
                e.get("JOB_TYPE") == "start" and e.get("JOB_RESULT") == "done"
        entries = self.wait_journal(
            lambda es: any(is_started(e) for e in es) and es)
        listening = [i for i, e in enumerate(entries)
                     if e.get("SYSLOG_IDENTIFIER") == "hourglassd" and
                     e.get("MESSAGE") == "Listening on http://%s/" % self.hg.host]
        started = [i for i, e in enumerate(entries) if is_started(e)]
        self.assertTrue(listening and started, hgsys.format_entries(entries))
        self.assertLess(listening[0], started[0])
        # The daemon's lines go to the journal natively (structured).
        self.assertTrue(any(e.get("SYSLOG_IDENTIFIER") == "hourglassd" and
                            e.get("_SYSTEMD_UNIT") == hgsys.UNIT and
                            e.get("_TRANSPORT") == "journal" for e in entries))

    def test_reload_with_a_bad_dropin_keeps_the_configuration(self):
        self.hg.start({"Timeouts": {"WarnAfterSec": "100",
                                    "ExpireAfterSec": "200"}})
        self.addCleanup(self.m.remove, BAD_DROPIN)
        user = self.m.add_user()
        client = self.hg.client()
        token, _ = self.hg.login(user, client)
        main_pid = self.hg.show("MainPID")["MainPID"]

        self.m.write_file(BAD_DROPIN, "[Timeouts]\nWarnAfterSec=soon\n")
        r = self.m.run(["hourglassd", "--check-config"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"60-reload-test\.conf.*WarnAfterSec.*soon|"
                         r"60-reload-test\.conf.*soon.*WarnAfterSec")
        mark = self.m.cursor()
        r = self.hg.reload()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_message(r"^Configuration not reloaded", after=mark)
        self.wait_until(lambda: self.hg.show("StatusText")["StatusText"] ==
                        "Running (reload failed, old configuration kept)",
                        message="status text after the refused reload: %r"
                        % self.hg.show("StatusText"))
        props = self.hg.show("ActiveState", "SubState", "MainPID")
        self.assertEqual(props, {"ActiveState": "active", "SubState": "running",
                                 "MainPID": main_pid})
        self.assertEqual(self.hg.manager_property("WarnAfterSec"), "100")
        r = client.session(token)
        self.assertEqual((r.status, r.json()["warn_after_sec"]), (200, 100))

        # A good drop-in is taken, and the session goes on.
        self.m.write_file(BAD_DROPIN, "[Timeouts]\nWarnAfterSec=150\n")
        mark = self.m.cursor()
        self.assertEqual(self.hg.reload().returncode, 0)
        self.wait_message(r"^Configuration reloaded from /etc/hourglass/"
                          r"hourglass\.conf", after=mark)
        self.wait_until(lambda: self.hg.show("StatusText")["StatusText"] ==
                        "Running")
        self.assertEqual(self.hg.manager_property("WarnAfterSec"), "150")
        r = client.session(token)
        self.assertEqual((r.status, r.json()["warn_after_sec"]), (200, 150))
        self.assertEqual(self.hg.show("MainPID")["MainPID"], main_pid)

    def test_stop_closes_every_pam_session(self):
        self.hg.start()
        users = [self.m.add_user() for _ in range(3)]
        ids = {self.hg.login(u)[1]: u for u in users}
        for u in users:
            self.wait_message(r"^pam_unix\(hourglass:session\): session opened "
                              r"for user %s\(uid=%d\)" % (u.name, u.uid))
        helpers = self.m.run(["pgrep", "-x", "hourglass-pam-h"]).stdout.split()
        self.assertEqual(len(helpers), 3, helpers)

        mark = self.m.cursor()
        t0 = time.monotonic()
        self.hg.stop()
        took = time.monotonic() - t0
        props = self.hg.show("ActiveState", "Result", "ExecMainStatus")
        self.assertEqual(props, {"ActiveState": "inactive", "Result": "success",
                                 "ExecMainStatus": "0"})
        self.assertLess(took, 10, "the stop took %.1f s" % took)
        entries = self.m.journal(after=mark)
        text = hgsys.format_entries(entries)
        stopped = [i for i, e in enumerate(entries)
                   if e.get("UNIT") == hgsys.UNIT and e.get("JOB_TYPE") == "stop"
                   and e.get("JOB_RESULT") == "done"]
        self.assertTrue(stopped, text)
        for sid, u in ids.items():
            closed = [i for i, e in enumerate(entries)
                      if e.get("SYSLOG_IDENTIFIER") == "hourglass-pam-helper" and
                      re.match(r"pam_unix\(hourglass:session\): session closed "
                               r"for user %s$" % u.name, e.get("MESSAGE", ""))]
            self.assertTrue(closed, "no 'session closed' for %s:\n%s"
                            % (u.name, text))
            # Closed by the helper itself, before the unit was down.
            self.assertLess(closed[0], stopped[0], text)
            self.assertTrue([e for e in entries if e.get("HG_SESSION") == sid and
                             e.get("HG_REASON") == "shutdown"], text)
        # Nothing was left for KillMode=mixed's SIGKILL.
        self.assertFalse([e for e in entries if e.get("UNIT") == hgsys.UNIT and
                          re.search(r"Killing process|SIGKILL|timed out",
                                    e.get("MESSAGE", ""))], text)
        r = self.m.run(["pgrep", "-x", "hourglass-pam-h"], check=False)
        self.assertEqual(r.stdout.split(), [])


if __name__ == "__main__":
    sys.exit(hgsys.main())
