"""Fixtures of hourglass's system tests: a real Debian booted with
systemd-nspawn, hourglass installed in it as the README's Install section
says, driven from the host (Python standard library only).

One container per test file (one meson test): `main()` boots it before the
file's tests run and powers it off after them, whatever happened. Tests of
a file share the container; each restarts hourglassd with the configuration
it needs (`machine().hourglass.start(...)`) and makes its own users, so the
order of tests does not matter.

  the root     debootstrap (minbase) of the host's Debian release from
               Debian's package mirror as the host's apt sources name it,
               upgraded from the release's -updates/-security suites and
               with the product's runtime libraries (found with ldd +
               dpkg -S on the built files) installed by chroot apt-get;
               cached in $HG_SYSTEM_CACHE (default
               /var/cache/hourglass-system-test), rebuilt when the package
               list changes, topped up when a package is missing
  the build    `meson setup --prefix=/usr --sysconfdir=/etc` of the source
               tree in its own build directory ($HG_SYSTEM_BUILD_DIR),
               `meson install --destdir` into a fresh copy of the root
  a run        $HG_SYSTEM_RUNS/NAME/ (default /var/tmp/hourglass-system-test):
               root/ (the copy), nspawn.log (the console), state.json
               (owner, PIDs); deleted at the end
  the machine  systemd-nspawn --boot --register=no --keep-unit, sharing
               the host's network namespace (loopback included): the daemon
               gets a free port through a drop-in, and the tests speak HTTP
               to it from the host; commands run inside with nsenter

Nothing waits a fixed time: every wait polls a condition with a deadline.
Teardown powers the machine off (SIGRTMIN+4 to its PID 1) and kills what is
left by PID; if this process dies without tearing down, nspawn (which runs
in its own session with PR_SET_PDEATHSIG) powers the machine off, and the
next run deletes the stale copy.

Environment:
  HG_SOURCE_ROOT, HG_BUILD_ROOT   set by meson (defaults: this tree, build/)
  HG_SYSTEM_BUILD_DIR   the /usr build (default:
                        $HG_BUILD_ROOT/tests/system/prefix-usr)
  HG_SYSTEM_CACHE       the cached root's directory
  HG_SYSTEM_RUNS        where the per-run copies go
  HG_SYSTEM_KEEP=1      leave the machine running at the end and say how to
                        enter it and stop it
  HG_SYSTEM_REQUIRE=1   a missing prerequisite fails (exit 1), not skips (77)
"""


import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import hgmachine
import hgroot
from hgroot import REQUIRE, UNIT, Skip, log

# For the test files: hgsys is the one module they import.
User = hgmachine.User
format_entries = hgmachine.format_entries

sys.path.insert(0, os.path.join(hgroot.SOURCE_ROOT, "tests", "integration"))
import hgtest  # noqa: E402  (HTTP client, waits, configuration merge)

SKIP_EXIT = 77
DROPIN = "/etc/hourglass/hourglass.conf.d/50-system-test.conf"


# --- hourglassd in the machine -------------------------------------------------------------

class Hourglass:
    """The installed hourglassd.service, configured by a drop-in of the
    tests: a free port on the shared loopback, and whatever a test asks."""

    def __init__(self, machine):
        self.m = machine
        self.port = None
        self.config = {}

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def client(self, **kw):
        """An hgtest.Client speaking HTTP from the host to the daemon."""
        return hgtest.Client(self, **kw)

    @staticmethod
    def default_config():
        # The browser-close rule ends sessions that have no event stream:
        # off unless a test is about it. Everything else as installed.
        return {"Timeouts": {"CloseAfterSec": "0"}}

    def dropin_text(self, config):
        lines = ["# Written by the system tests (tests/system/hgsys.py)"]
        for group, keys in config.items():
            if keys:
                lines.append("[%s]" % group)
                lines += ["%s=%s" % (k, v) for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def configure(self, config=None, port=None):
        """Writes the drop-in: the defaults, config merged in, and the
        listen address on a free port (a new one unless given)."""
        self.port = port or hgtest.free_port()
        merged = hgtest.merge_config(self.default_config(), config)
        merged = hgtest.merge_config(
            merged, {"Http": {"Listen": "127.0.0.1:%d" % self.port}})
        self.config = merged
        self.m.write_file(DROPIN, self.dropin_text(merged))

    def start(self, config=None):
        """(Re)starts the unit with this configuration; returns self once
        systemctl start has returned (Type=notify: the daemon is ready)."""
        for _attempt in range(3):
            self.stop()  # also cancels an automatic restart (Restart=)
            self.configure(config)
            mark = self.m.cursor()
            # Tests start it often: never let the unit's start limit refuse.
            self.m.systemctl("reset-failed", UNIT, check=False)
            r = self.m.systemctl("start", UNIT, check=False)
            if r.returncode == 0:
                return self
            # The loopback is the host's: another program may have taken
            # the free port meanwhile. Then try another. And systemd 252
            # in a container may start the unit while the cgroup of its
            # last run is being removed ("Failed to attach to cgroup ...:
            # No such file or directory", step CGROUP, seen on a busy
            # machine): the unit's Restart= would recover; try again.
            if not [e for e in self.m.journal(after=mark) if
                    e.get("MESSAGE", "").startswith("Cannot listen on ") or
                    "Failed at step CGROUP" in str(e.get("MESSAGE", ""))]:
                break
        raise AssertionError("systemctl start %s failed (%d): %s\n%s"
                             % (UNIT, r.returncode, r.stderr,
                                self.m.diagnostics(after=mark)))

    def stop(self):
        self.m.systemctl("stop", UNIT)

    def reload(self):
        return self.m.systemctl("reload", UNIT, check=False)

    def show(self, *props):
        return self.m.show(UNIT, *props)

    def active(self):
        return self.show("ActiveState")["ActiveState"] == "active"

    def ctl(self, *args, user=None, check=False):
        """hourglassctl ARGS inside, as root or as user."""
        return self.m.run(["hourglassctl"] + list(args), user=user, check=check)

    def sessions(self, user=None):
        """hourglassctl --json list, as a list of dicts."""
        r = self.ctl("--json", "list", user=user, check=True)
        return json.loads(r.stdout)

    def session_ids(self):
        return {s["id"] for s in self.sessions()}

    def login(self, user, client=None):
        """Signs user in over HTTP; returns (token, session id)."""
        client = client or self.client()
        before = self.session_ids()
        token = client.login(user.name, user.password)
        new = self.session_ids() - before
        if len(new) != 1:
            raise AssertionError("expected one new session, have %r" % new)
        return token, new.pop()

    def bus_property(self, path, interface, name):
        """A property over the real bus (busctl), as its text value."""
        r = self.m.run(["busctl", "--system", "get-property", "org.hourglass1",
                        path, interface, name])
        return r.stdout.strip().split(" ", 1)[1]

    def manager_property(self, name):
        return self.bus_property("/org/hourglass1", "org.hourglass1.Manager", name)


class SystemMachine(hgmachine.Machine):
    """The machine, with a handle on its hourglassd."""

    def __init__(self, name):
        super().__init__(name)
        self.hourglass = Hourglass(self)


# --- tests ------------------------------------------------------------------------------

_machine = None


def pam_hourglass_in_login(m):
    """pam_hourglass.so in the session stack of /etc/pam.d/login, after
    pam_systemd (common-session), as the README's desktop section says."""
    stack = m.read_file("/etc/pam.d/login")
    if "pam_hourglass.so" not in stack:
        m.write_file("/etc/pam.d/login", stack.replace(
            "\n@include common-session\n",
            "\n@include common-session\nsession optional pam_hourglass.so\n"))


def machine():
    """The machine of this test file (booted by main())."""
    if _machine is None:
        raise RuntimeError("no machine: run the file through hgsys.main()")
    return _machine


class TestCase(unittest.TestCase):
    """A test on the file's machine: self.m is the Machine, self.hg its
    hourglassd, self.cursor the journal's position when the test began. A
    failing test prints the unit's status and the journal since then."""

    def setUp(self):
        self.m = machine()
        self.hg = self.m.hourglass
        self.cursor = self.m.cursor()

    def console_login(self, prefix):
        """A new user's console login (login -f on a pty, through
        /etc/pam.d/login), once hourglassd has registered it: (user, the
        ConsoleLogin, the hourglass session id). Killed at the end."""
        user = self.m.add_user(prefix)
        login = self.m.console_login(user)
        self.addCleanup(login.kill)
        login.ready()
        [s] = self.wait_until(lambda: [x for x in self.hg.sessions()
                                       if x["user"] == user.name], 10)
        return user, login, s["id"]

    def run(self, result=None):
        bad_before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > bad_before:
            try:
                text = self.m.diagnostics(after=getattr(self, "cursor", None))
            except Exception as e:  # the machine itself may be the problem
                text = "(no diagnostics: %s)" % e
            sys.stderr.write("\n=== %s failed; what the machine says:\n%s\n===\n"
                             % (self.id(), text))
        return out

    def wait_until(self, predicate, timeout=10, message=None, interval=0.1):
        return hgtest.wait_until(predicate, timeout=timeout, interval=interval,
                                 message=message)

    def journal(self, *matches, **kw):
        """Entries since the test began."""
        kw.setdefault("after", self.cursor)
        return self.m.journal(*matches, **kw)

    def wait_journal(self, predicate, **kw):
        kw.setdefault("after", self.cursor)
        return self.m.wait_journal(predicate, **kw)

    def wait_message(self, regex, timeout=10, **kw):
        """The first entry since the test began whose MESSAGE matches."""
        pattern = re.compile(regex)

        def found(entries):
            for e in entries:
                if isinstance(e.get("MESSAGE"), str) and pattern.search(e["MESSAGE"]):
                    return e
            return None
        return self.wait_journal(found, timeout=timeout,
                                 message="no journal message matching %r" % regex,
                                 **kw)


class Interrupted(KeyboardInterrupt):
    """SIGTERM (meson's timeout) or SIGHUP: unittest lets a
    KeyboardInterrupt through, and main() tears the machine down."""


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def main(name=None, before_boot=None):
    """Boots the file's machine, runs its tests, powers the machine off.
    Exit 77 (meson's skip) when the tier cannot run here, saying why.
    before_boot(machine), if given, runs once the root is ready (copied,
    hourglass installed; machine.root on the host) and before the boot."""
    global _machine
    name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    status = 1
    m = None
    try:
        try:
            m = SystemMachine(name)
            m.prepare()
        except Skip as e:
            sys.stdout.write("SKIP: the system tests cannot run here: %s\n" % e)
            if REQUIRE:
                sys.stdout.write("(HG_SYSTEM_REQUIRE=1: failing instead)\n")
            sys.stdout.flush()
            return 1 if REQUIRE else SKIP_EXIT
        if before_boot:
            before_boot(m)
        _machine = m.boot()
        t0 = time.monotonic()
        program = unittest.main(module="__main__", verbosity=2, exit=False,
                                argv=[sys.argv[0]] + sys.argv[1:])
        m.timings["tests"] = time.monotonic() - t0
        status = 0 if program.result.wasSuccessful() else 1
    except KeyboardInterrupt as e:
        log("interrupted (%s): tearing down" % (e or "SIGINT"))
        status = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        if m is not None:
            m.close()
            if m.pid1 and "poweroff" in m.timings:
                log("%s: tests %.1f s, power-off %.1f s"
                    % (m.name, m.timings.get("tests", 0), m.timings["poweroff"]))
    return status


# --- by hand --------------------------------------------------------------------------

def shell():
    """Boots a machine with hourglass installed (not started) and opens a
    shell inside; powers it off when the shell ends."""
    m = SystemMachine("shell").prepare().boot()
    try:
        log("in %s; hourglassd is installed, not started "
            "(systemctl start hourglassd). Exit the shell to power off." % m.name)
        subprocess.run(m.command(["/bin/bash", "-l"]),
                       env=dict(m.env(), TERM=os.environ.get("TERM", "xterm")))
    finally:
        m.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["shell"]:
        try:
            shell()
        except Skip as e:
            sys.exit("hgsys: cannot run here: %s" % e)
    elif sys.argv[1:] == ["sweep"]:
        hgroot.sweep_stale_runs()
    else:
        sys.exit("usage: hgsys.py shell|sweep")
