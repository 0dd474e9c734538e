"""A stand-in for systemd's hourglass-pam.socket (ListenSequentialPacket=,
Accept=yes): a listening SOCK_SEQPACKET socket whose every connection gets
a fresh hourglass-pam-helper --socket-activated with the connection as
fd 3, as systemd starts hourglass-pam@.service. The helpers are this
process's children, not the daemon's. The real units are tested in the
system tier."""

import os
import signal
import socket
import subprocess
import sys
import threading

import hgtest

HELPER = os.path.join(hgtest.BUILD_ROOT, "pam", "hourglass-pam-helper")
STUB = r"""
import os, sys
fd = int(os.environ.pop("HG_ACTIVATOR_FD"))
if fd != 3:
    os.dup2(fd, 3, inheritable=True)
    os.close(fd)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
"""


class Activator:
    def __init__(self, tmp, env, args=("--socket-activated",)):
        self.path = os.path.join(tmp, "pam.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.env = env
        self.args = list(args)
        self.helpers = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            env = dict(self.env, HG_ACTIVATOR_FD=str(conn.fileno()))
            proc = hgtest.spawn(
                [sys.executable, "-c", STUB, HELPER] + self.args, env=env,
                pass_fds=(conn.fileno(),), stdin=subprocess.DEVNULL)
            conn.close()
            with self.lock:
                self.helpers.append(proc)

    def procs(self):
        with self.lock:
            return list(self.helpers)

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()
        for proc in self.procs():
            hgtest.stop_process(proc, signal.SIGKILL)
