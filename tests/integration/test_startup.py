#!/usr/bin/python3
"""Start-up failures: the daemon says what went wrong in its log and exits
with status 1, never with a crash."""

import socket
import subprocess

import hgtest


class StartupTest(hgtest.TestCase):
    def run_daemon(self, d, timeout=15.0):
        d.write_config()
        with open(d.log_path, "ab") as log:
            proc = subprocess.run(
                [hgtest.DAEMON, "--config", d.config_path],
                env=d.environment(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, cwd=d.tmp, timeout=timeout)
        return proc.returncode

    def test_port_in_use(self):
        """A listen address another program holds: one clear line naming
        it, exit status 1, no crash on the way out."""
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            d = hgtest.Daemon({"Http": {"Listen": "127.0.0.1:%d" % port}},
                              name="busy-port")
            self.addCleanup(d.close)
            code = self.run_daemon(d)
        log = d.log_text()
        self.assertEqual(code, 1, log)
        self.assertIn("Cannot listen on 127.0.0.1:%d: Address already in use"
                      % port, log)
        self.assertIn("not starting", log)
        d.check_sanitizers()

    def test_second_listener_in_use(self):
        """The first address starts, the second is taken: the first one is
        stopped again cleanly."""
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            d = hgtest.Daemon(
                {"Http": {"Listen": "127.0.0.1:{port};127.0.0.1:%d" % port}},
                name="busy-second")
            self.addCleanup(d.close)
            d.port = hgtest.free_port()
            code = self.run_daemon(d)
        log = d.log_text()
        self.assertEqual(code, 1, log)
        self.assertIn("Cannot listen on 127.0.0.1:%d" % port, log)
        d.check_sanitizers()


if __name__ == "__main__":
    hgtest.main()
