"""D-Bus fixtures of the integration tests: a private system bus (a
dbus-daemon of the test's own, resolving the fake users through
nss_wrapper) or session bus, python-dbusmock services on it, calls made as
other users (setpriv), and a recorder of signals. Every process is started
through hgtest.spawn() and killed by PID."""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

import hgtest

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
"""


def nss_env():
    return {
        "LD_PRELOAD": ":".join(p for p in hgtest.preload().split(":")
                               if "nss_wrapper" in p),
        "NSS_WRAPPER_PASSWD": os.path.join(hgtest.DATA_DIR, "passwd"),
        "NSS_WRAPPER_GROUP": os.path.join(hgtest.DATA_DIR, "group"),
    }


def read_line(fd, timeout=10.0):
    """The first line a child writes on the pipe fd, within timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError("no line within %.0f s (so far %r)"
                                 % (timeout, data))
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


class SystemBus:
    """A system-like bus of the test's own (SessionBus: a session one)."""

    KIND = "system"

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="hg-%s-bus-" % self.KIND)
        os.chmod(self.tmp, 0o711)  # reachable by callers of other uids
        sock_dir = os.path.join(self.tmp, "sock")
        os.mkdir(sock_dir)
        os.chmod(sock_dir, 0o711)
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF.format(dir=sock_dir).replace(
                "<type>system</type>", "<type>%s</type>" % self.KIND))
        self.mocks = []
        self._conn = None
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env.update(nss_env())
        try:
            self.proc = hgtest.spawn(
                ["dbus-daemon", "--config-file=" + conf, "--nofork",
                 "--print-address=%d" % write_fd],
                pass_fds=(write_fd,), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.close(write_fd)
        try:
            self.address = read_line(read_fd)
        except AssertionError:
            self.address = ""
        finally:
            os.close(read_fd)
        if not self.address:
            self.close()
            raise AssertionError("dbus-daemon gave no address")

    @property
    def conn(self):
        if self._conn is None:
            self._conn = dbus.bus.BusConnection(self.address)
        return self._conn

    def env(self):
        return {"DBUS_%s_BUS_ADDRESS" % self.KIND.upper(): self.address}

    def has_owner(self, name):
        return bool(self.conn.name_has_owner(name))

    def wait_for_name(self, name, timeout=10.0):
        hgtest.wait_until(lambda: self.has_owner(name), timeout,
                          message="%s did not appear on the bus" % name)

    def start_mock(self, args, name, timeout=10.0, log=None):
        """python3 -m dbusmock [--system] ARGS; waits for name. log: a file
        for the mock's own log (every call it gets, GetAll included)."""
        env = dict(os.environ)
        env.update(self.env())
        kind = ["--system"] if self.KIND == "system" else []
        logging = ["-l", log] if log else []
        proc = hgtest.spawn([PYTHON, "-m", "dbusmock"] + kind + logging + args,
                            env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        self.mocks.append(proc)
        try:
            self.wait_for_name(name, timeout)
        except AssertionError:
            self.stop_mock(proc)
            raise
        return proc

    def stop_mock(self, proc, name=None):
        hgtest.stop_process(proc, signal.SIGKILL)
        if proc in self.mocks:
            self.mocks.remove(proc)
        if name:
            hgtest.wait_until(lambda: not self.has_owner(name), 5.0)

    def logind(self, log=None):
        proc = self.start_mock(["--template", "logind"],
                               "org.freedesktop.login1", log=log)
        return proc, dbus.Interface(
            self.conn.get_object("org.freedesktop.login1",
                                 "/org/freedesktop/login1"),
            "org.freedesktop.DBus.Mock")

    def logind_session(self, logind, session_id, uid, user, seat="seat0",
                       service=None, **props):
        """A session of the logind mock with what a real one has that the
        template leaves out or fixes: its Seat (so; seat None: none, as an
        SSH login has) and its PAM Service (s), and any other properties
        (Type=, TTY=, ...). Set through org.freedesktop.DBus.Properties
        (the mock's UpdateProperties cannot take a struct)."""
        logind.AddSession(session_id, seat or "seat0", dbus.UInt32(uid), user,
                          True)
        obj = self.conn.get_object(
            "org.freedesktop.login1",
            "/org/freedesktop/login1/session/" + session_id)
        if seat is None:
            props["Seat"] = dbus.Struct(("", dbus.ObjectPath("/")),
                                        signature="so")
        if service is not None:
            props["Service"] = dbus.String(service)
        for name, value in props.items():
            obj.Set("org.freedesktop.login1.Session", name, value,
                    dbus_interface=dbus.PROPERTIES_IFACE)

    def mock_object(self, name, path):
        return dbus.Interface(self.conn.get_object(name, path),
                              "org.freedesktop.DBus.Mock")

    def call_as(self, uid, dest, path, iface, method, signature="", args=(),
                groups=None):
        """Calls a method as uid (and groups), in a child process; returns
        ("ok", result) or ("error", error name, message)."""
        cmd = []
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid]
            cmd += ["--groups=" + ",".join(map(str, groups))] if groups \
                else ["--clear-groups"]
        cmd += [PYTHON, os.path.join(HERE, "buscall.py"), self.address, dest,
                path, iface, method, signature, json.dumps(list(args))]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError("buscall failed: %s" % out.stderr)
        result = json.loads(out.stdout)
        return tuple(result)

    def stay_as(self, uid, dest, path, iface, method, signature="", args=()):
        """Calls a method as uid from a child that keeps its connection
        (until stop_staying()); returns (child, result)."""
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
               "--clear-groups", PYTHON, os.path.join(HERE, "buscall.py"),
               self.address, dest, path, iface, method, signature,
               json.dumps(list(args)), "stay"]
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        line = child.stdout.readline()
        if not line:
            child.kill()
            child.wait()
            raise AssertionError("buscall failed")
        return child, tuple(json.loads(line))

    @staticmethod
    def stop_staying(child):
        child.stdin.close()
        child.wait(10)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for proc in list(self.mocks):
            self.stop_mock(proc)
        if getattr(self, "proc", None) is not None:
            hgtest.stop_process(self.proc, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


class SessionBus(SystemBus):
    """A session-like bus of the test's own, reachable by other uids (an
    agent run as alice, mocks as root)."""

    KIND = "session"


class BusDaemon(hgtest.Daemon):
    """hourglassd on a test's bus."""

    def __init__(self, bus, **kw):
        self.bus = bus
        super().__init__(**kw)

    def environment(self):
        env = super().environment()
        env.update(self.bus.env())
        return env


class SignalRecorder:
    """Records signals matching a rule on a bus; poll with wait_for()."""

    def __init__(self, bus, **match):
        self.signals = []
        self.conn = dbus.bus.BusConnection(bus.address)
        self.conn.add_signal_receiver(self._on_signal, path_keyword="path",
                                      member_keyword="member",
                                      interface_keyword="interface", **match)

    def _on_signal(self, *args, path=None, member=None, interface=None):
        self.signals.append((interface, member, str(path),
                             [_plain(a) for a in args]))

    def pump(self):
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass

    def matching(self, member, path=None):
        self.pump()
        return [s for s in self.signals
                if s[1] == member and (path is None or s[2] == path)]

    def wait_for(self, member, pred=lambda s: True, timeout=5.0, path=None):
        def found():
            hits = [s for s in self.matching(member, path) if pred(s)]
            return hits[0] if hits else None
        try:
            return hgtest.wait_until(found, timeout, interval=0.01)
        except AssertionError:
            raise AssertionError("no %s signal within %.1f s; got %r"
                                 % (member, timeout, self.signals)) from None

    def close(self):
        self.conn.close()


def _plain(v):
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return str(v)
    if isinstance(v, (int, dbus.UInt64, dbus.UInt32, dbus.Int64)):
        return int(v)
    return v
