#!/usr/bin/python3
"""Authorization over D-Bus must rest on what the bus itself took when the
caller connected, never on /proc of the pid that connected: that pid may
belong to another process by the time the call comes.

The attack: a process of an ordinary user connects, forks a child that
keeps the connection, and exits. Its pid is then reused by a member of the
admin group (or by root), and the child calls TerminateSession. Reading
the caller's groups (or uid) from /proc/<pid> at call time would find the
new process's and let it through.

The test forces the pid reuse through /proc/sys/kernel/ns_last_pid, which
needs a pid namespace of its own: as root, the file re-runs itself under
`unshare --pid --fork --mount-proc`, with the bus, the daemon and the
attacker all inside. Not root: skipped (exit 77)."""

import json
import os
import signal
import subprocess
import sys

import dbus

import hgbus
import hgtest

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
PATH = "/org/hourglass1"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"
ALICE, BOB, CAROL, ADMINS = 1001, 1002, 1003, 1500  # tests/data
INSIDE = "HG_TEST_PIDNS"


def reexec_in_pid_namespace():
    if os.environ.get(INSIDE) == "1":
        return
    if os.geteuid() != 0:
        print("# SKIP: needs root (a pid namespace of its own to force pid "
              "reuse)")
        sys.exit(77)
    env = dict(os.environ, **{INSIDE: "1"})
    try:
        proc = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc",
                               sys.executable] + sys.argv, env=env)
    except FileNotFoundError:
        print("# SKIP: unshare(1) is missing (util-linux)")
        sys.exit(77)
    sys.exit(proc.returncode)


def read_result(fd):
    with os.fdopen(fd) as f:
        text = f.read()
    return json.loads(text) if text else ["error", "no answer", ""]


class Stale:
    """A connection whose connecting process is gone: bob (no groups)
    connects, forks a keeper of the socket and exits."""

    def __init__(self, address):
        go_r, self.go_w = os.pipe()
        res_r, res_w = os.pipe()
        ready_r, ready_w = os.pipe()
        self.res_r = res_r
        self.connector = os.fork()
        if self.connector == 0:
            self._connector(address, go_r, res_w, ready_w)
        os.close(go_r)
        os.close(res_w)
        os.close(ready_w)
        # The keeper is ready once the connector has exited.
        with os.fdopen(ready_r) as f:
            self.keeper = int(f.read())
        os.waitpid(self.connector, 0)

    def _connector(self, address, go_r, res_w, ready_w):
        try:
            os.close(self.go_w)
            os.setgroups([])
            os.setgid(BOB)
            os.setuid(BOB)
            conn = dbus.bus.BusConnection(address)
            keeper = os.fork()
            if keeper == 0:
                os.close(ready_w)
                self._keeper(conn, go_r, res_w)
            os.write(ready_w, str(keeper).encode())
        finally:
            os._exit(0)

    @staticmethod
    def _keeper(conn, go_r, res_w):
        try:
            with os.fdopen(go_r) as f:
                sid = f.readline().strip()
            obj = conn.get_object(NAME, PATH, introspect=False)
            try:
                obj.TerminateSession(sid, dbus_interface=MANAGER, timeout=10)
                result = ["ok"]
            except dbus.exceptions.DBusException as e:
                result = ["error", e.get_dbus_name(), e.get_dbus_message()]
            os.write(res_w, json.dumps(result).encode())
        finally:
            os._exit(0)

    def call_terminate(self, sid):
        os.write(self.go_w, (sid + "\n").encode())
        os.close(self.go_w)
        result = read_result(self.res_r)
        os.waitpid(self.keeper, 0)
        return result


def take_pid(pid, uid=None, gid=None, groups=()):
    """A process with exactly this pid (free, in our pid namespace) that
    runs as uid/gid/groups and waits until killed."""
    ready_r, ready_w = os.pipe()
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    child = os.fork()
    if child == 0:
        try:
            os.setgroups(list(groups))
            if gid is not None:
                os.setgid(gid)
            if uid is not None:
                os.setuid(uid)
            os.write(ready_w, b"x")
            signal.pause()
        finally:
            os._exit(0)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    if child != pid:
        hgtest.kill_pid(child)
        os.waitpid(child, 0)
        raise AssertionError("pid %d was not reused (got %d)" % (pid, child))
    return child


class PidReuseTest(hgtest.TestCase):
    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.d = hgbus.BusDaemon(self.bus, config={
            "DBus": {"AdminGroup": "kiosk-admins"},
            "Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120}},
            name=self._testMethodName)
        self.addCleanup(self._finish_daemon, self.d)
        self.d.start()
        self.bus.wait_for_name(NAME)
        self.c = self.d.client()

    def session(self):
        token = self.c.login("alice", "secret")
        manager = dbus.Interface(self.bus.conn.get_object(NAME, PATH), MANAGER)
        (sid,) = [str(s[0]) for s in manager.ListSessions()]
        return token, sid

    def attack(self, **reuse_as):
        token, sid = self.session()
        stale = Stale(self.bus.address)
        holder = take_pid(stale.connector, **reuse_as)
        try:
            result = stale.call_terminate(sid)
        finally:
            hgtest.kill_pid(holder)
            os.waitpid(holder, 0)
        self.assertEqual(result[:2], ["error", DENIED], result)
        self.assertEqual(self.c.session(token).status, 200,
                         "the session survived")

    def test_pid_reused_by_admin_group_member(self):
        self.attack(uid=CAROL, gid=CAROL, groups=[ADMINS])

    def test_pid_reused_by_root(self):
        self.attack()

    def test_same_caller_with_its_own_groups_still_works(self):
        """The admin group still counts when the caller really is in it."""
        token, sid = self.session()
        self.assertEqual(self.bus.call_as(BOB, NAME, PATH, MANAGER,
                                          "TerminateSession", "s", [sid],
                                          groups=[ADMINS])[0], "ok")
        self.assertEqual(self.c.session(token).json()["reason"], "terminated")


if __name__ == "__main__":
    reexec_in_pid_namespace()
    hgtest.main()
