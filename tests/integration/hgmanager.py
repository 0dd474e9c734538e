"""A stand-in for systemd's side of a service, for the integration tests of
restarts: the notification socket (READY=1, FDSTORE=1 with FDNAME=,
FDSTOREREMOVE=1), a file descriptor store that outlives each run of the
daemon, and the start of the next run with the stored fds passed as
LISTEN_FDS/LISTEN_FDNAMES and a RUNTIME_DIRECTORY that persists. Like
systemd, stored fds that see POLLHUP are dropped. The real thing is tested
in the system tier."""

import array
import os
import select
import socket
import subprocess
import sys
import threading

import hgtest

# Exec'd in the child: puts the passed fds at 3, 4, ... in order, says its
# own pid, and becomes the daemon (same pid).
STUB = r"""
import fcntl, os, sys
fds = [int(x) for x in os.environ.pop("HG_MANAGER_FDS").split(",") if x]
# Out of the way first (above any target), then into place.
moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1000) for fd in fds]
for fd in fds:
    os.close(fd)
for i, fd in enumerate(moved):
    os.dup2(fd, 3 + i, inheritable=True)
    os.close(fd)
if fds:
    os.environ["LISTEN_FDS"] = str(len(fds))
    os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
"""


class FdStore:
    """The notification socket and what it was sent."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.fds = {}  # name -> fd
        self.messages = []
        self.lock = threading.Lock()
        # Like systemd, the store acts on a message as it comes (an
        # FDSTOREREMOVE must close its copy at once, or no EOF reaches the
        # helper).
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if r:
                self._receive()

    def _receive(self):
        fds = array.array("i")
        msg, anc, _, _ = self.sock.recvmsg(
            4096, socket.CMSG_SPACE(64 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        with self.lock:
            self._handle(msg.decode(), list(fds))

    def _handle(self, text, fds):
        fields = dict(line.split("=", 1) for line in text.split("\n")
                      if "=" in line)
        self.messages.append(fields)
        name = fields.get("FDNAME", "stored")
        if fields.get("FDSTORE") == "1":
            for fd in fds:
                self._drop(name)
                self.fds[name] = fd
            return
        for fd in fds:
            os.close(fd)
        if fields.get("FDSTOREREMOVE") == "1":
            self._drop(name)

    def _drop(self, name):
        fd = self.fds.pop(name, None)
        if fd is not None:
            os.close(fd)

    def drop_hung_up(self):
        with self.lock:
            self._drop_hung_up()

    def _drop_hung_up(self):
        for name, fd in list(self.fds.items()):
            p = select.poll()
            p.register(fd, select.POLLIN)
            if any(ev & (select.POLLHUP | select.POLLERR)
                   for _, ev in p.poll(0)):
                self._drop(name)

    def snapshot(self):
        """The stored fds, sorted by name, as (names, fds)."""
        with self.lock:
            names = sorted(self.fds)
            return names, [self.fds[n] for n in names]

    def close(self):
        self.done.set()
        self.thread.join()
        with self.lock:
            for name in list(self.fds):
                self._drop(name)
        self.sock.close()


class ManagedDaemon(hgtest.Daemon):
    """hourglassd started, restarted and stopped as systemd would."""

    def __init__(self, *args, bus=None, **kw):
        super().__init__(*args, **kw)
        self.bus = bus
        self.runtime_dir = os.path.join(self.tmp, "run")
        os.mkdir(self.runtime_dir, 0o700)
        self.store = FdStore(self.tmp)
        self.runs = 0
        self.ready_mark = 0

    def environment(self):
        env = super().environment()
        env["NOTIFY_SOCKET"] = self.store.path
        env["RUNTIME_DIRECTORY"] = self.runtime_dir
        if self.bus:
            env.update(self.bus.env())
        return env

    def _popen(self, log):
        self.store.drop_hung_up()
        names, fds = self.store.snapshot()
        env = self.environment()
        env["HG_MANAGER_FDS"] = ",".join(map(str, fds))
        if names:
            env["LISTEN_FDNAMES"] = ":".join(names)
        self.runs += 1
        return subprocess.Popen(
            [sys.executable, "-c", STUB, hgtest.DAEMON, "--config",
             self.config_path],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            cwd=self.tmp, pass_fds=fds)

    def wait_ready(self, timeout=15.0):
        """READY=1 of the current run."""
        hgtest.wait_until(
            lambda: any(m.get("READY") == "1" and i >= self.ready_mark
                        for i, m in enumerate(list(self.store.messages))),
            timeout, message="no READY=1 from hourglassd")
        self.ready_mark = len(self.store.messages)

    def crash(self):
        """SIGKILL, as a crash; the store keeps what it holds."""
        self.kill()

    def restart(self, timeout=15.0):
        """Starts the next run with what the store holds, on the same port."""
        self.start(timeout, same_port=True)

    def close(self):
        super().close()
        self.store.close()
