#!/usr/bin/python3
"""hourglass-agent on real display servers, with the real hourglassd on a
private system bus (see test_agent.py): an X server (Xvfb) whose input
comes from xdotool (XTEST), through the IDLETIME counter's alarms and,
with SYNC turned off, MIT-SCREEN-SAVER; and sway in headless mode
(WLR_BACKENDS=headless, WLR_RENDERER=pixman) whose input comes from wtype
(a virtual keyboard), through the compositor's idle protocol. Input keeps
the session active; without it the warning comes WarnAfterSec after the
last input (the "#" lines give the delay), and input clears it; so too
under a [Policy] rule far shorter than the fallback, which MIT-SCREEN-SAVER
polls by (the session's WarnAfterSec, not the Manager's). Every
process is killed by its PID; waits are polls with deadlines."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import hgbus  # noqa: E402
import hgtest  # noqa: E402
from test_agent import ALICE, AgentTest  # noqa: E402

# The agent reports input at most every 5 s while nothing is on screen:
# the warning must come later than that.
WARN, EXPIRE = 8, 12


def note(text):
    sys.stderr.write("# %s\n" % text)


class Xvfb:
    """An X server of the test's own; any local client may connect."""

    def __init__(self, *extra):
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-ac",
             "-screen", "0", "640x480x24"] + list(extra),
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            self.close()
            raise AssertionError("Xvfb gave no display")
        self.display = ":" + number
        self.x = 0

    def env(self):
        return {"DISPLAY": self.display}

    def input(self):
        """A mouse move through XTEST, as a person's would be."""
        self.x = (self.x + 7) % 600
        subprocess.run(["xdotool", "mousemove", str(self.x + 10), "20"],
                       env=dict(os.environ, DISPLAY=self.display),
                       check=True, timeout=10)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Sway:
    """sway in headless mode as alice, with a runtime directory of hers."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="hg-sway-")
        os.chown(self.tmp, ALICE, ALICE)
        os.chmod(self.tmp, 0o700)
        self.config = os.path.join(self.tmp, "config")
        with open(self.config, "w") as f:
            f.write("output HEADLESS-1 resolution 640x480\n")
        self.log = open(os.path.join(self.tmp, "sway.log"), "wb")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=%d" % ALICE, "--regid=%d" % ALICE,
             "--clear-groups", "sway", "-c", self.config],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                 "HOME": self.tmp, "XDG_RUNTIME_DIR": self.tmp,
                 "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman",
                 "WLR_LIBINPUT_NO_DEVICES": "1"},
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        try:
            self.display = hgtest.wait_until(self._socket, 15,
                                             message="sway did not start")
        except AssertionError:
            self.close()
            raise

    def _socket(self):
        if self.proc.poll() is not None:
            raise AssertionError("sway exited: %s" % self.log_text())
        names = [n for n in os.listdir(self.tmp)
                 if n.startswith("wayland-") and not n.endswith(".lock")]
        return names[0] if names else None

    def log_text(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def env(self):
        return {"WAYLAND_DISPLAY": self.display, "XDG_RUNTIME_DIR": self.tmp}

    def input(self):
        """A key typed on a virtual keyboard (zwp_virtual_keyboard_v1)."""
        subprocess.run(["setpriv", "--reuid=%d" % ALICE, "--regid=%d" % ALICE,
                        "--clear-groups", "wtype", "-k", "Shift_L"],
                       env=dict(os.environ, **self.env()), check=True,
                       timeout=10, capture_output=True)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class DisplayTest(AgentTest):
    """No idle monitor on the session bus: the display server is the
    source."""

    idle_monitor = None
    method = None    # what the daemon should hear: "x11-sync"...
    log_words = None  # what the agent says it uses
    args = ("--verbose",)

    def server(self):
        raise NotImplementedError

    def run_session(self, kind, rule=False):
        """rule: the limits are a [Policy] rule's, far shorter than the
        fallback's (the Manager's), which a polled method must not go by."""
        server = self.server()
        self.addCleanup(server.close)
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        if rule:
            self.start_daemon(warn=20 * WARN, expire=20 * EXPIRE, policy={
                "WarnAfterSec": WARN, "ExpireAfterSec": EXPIRE})
        else:
            self.start_daemon(warn=WARN, expire=EXPIRE)
        sid = self.register()
        agent = self.start_agent(args=self.args,
                                 env=self.agent_env(**server.env()))
        self.following(sid, agent)
        agent.wait_for_log(r"Input from %s" % self.log_words)
        if rule:
            self.assertEqual(self.props(sid)["WarnAfterSec"], WARN)
            agent.wait_for_log(r"before WarnAfterSec=%d s \(the session's\)"
                               % WARN)
        hgtest.wait_until(lambda: [s for s in self.props(sid)["IdleSources"]
                                   if s[0] == "agent" and s[1] == self.method],
                          5, message="the daemon did not hear the method")
        self.assertTrue(self.props(sid)["IdleKnown"])
        # Someone at it, every second, past WarnAfterSec twice: active.
        end = time.monotonic() + 2 * WARN
        while time.monotonic() < end:
            server.input()
            last_input = time.monotonic()
            time.sleep(1)  # the person's pace
            self.assertFalse(rec.matching("SessionWarning"),
                             "warned while in use")
        # Nobody: the warning, WarnAfterSec after the last input.
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, WARN + 4)
        delay = time.monotonic() - last_input
        note("%s: last input to warning %.1f s (WarnAfterSec=%d)"
             % (kind, delay, WARN))
        self.assertGreater(delay, WARN - 2)
        self.assertLess(delay, WARN + 2)
        nid = self.shown_id(agent)
        # Input clears it.
        start = time.monotonic()
        server.input()
        hgtest.wait_until(lambda: self.state(sid) == "active", 3)
        note("%s: input to active again %.2f s"
             % (kind, time.monotonic() - start))
        self.wait_closed(nid)
        # And nobody again: warned and ended.
        rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid,
                     EXPIRE + 4)
        return agent


def xvfb(test, *extra):
    if not shutil.which("Xvfb") or not shutil.which("xdotool"):
        test.skipTest("Xvfb or xdotool not installed")
    return Xvfb(*extra)


class X11SyncTest(DisplayTest):
    method = "x11-sync"
    log_words = r"the X server's IDLETIME counter"

    def server(self):
        return xvfb(self)

    def test_input_keeps_active_silence_warns(self):
        self.run_session("x11 IDLETIME alarm")


class X11ScreenSaverTest(DisplayTest):
    """An X server without IDLETIME: Xvfb cannot turn SYNC off, so the
    agent is told to use MIT-SCREEN-SAVER alone."""

    method = "x11-screensaver"
    log_words = r"the X server's MIT-SCREEN-SAVER idle time"
    args = ("--verbose", "--idle-method=x11-screensaver")

    def server(self):
        return xvfb(self)

    def test_input_keeps_active_silence_warns(self):
        self.run_session("x11 MIT-SCREEN-SAVER")

    def test_a_rule_shorter_than_the_fallback(self):
        """Polled on the session's WarnAfterSec, not the Manager's 20
        times longer one: input is seen in time, the warning on time."""
        self.run_session("x11 MIT-SCREEN-SAVER, a rule's limits", rule=True)


class SwayTest(DisplayTest):
    method = "kde-idle"  # sway 1.7 (Debian 12) has no ext-idle-notify-v1
    log_words = r"the compositor's (org_kde_kwin_idle|ext-idle-notify-v1)"

    def server(self):
        if not shutil.which("sway") or not shutil.which("wtype"):
            self.skipTest("sway or wtype not installed")
        return Sway()

    def test_input_keeps_active_silence_warns(self):
        self.run_session("sway headless")


if __name__ == "__main__":
    hgtest.main()
