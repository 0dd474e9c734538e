#!/usr/bin/python3
"""hourglass-agent against the real hourglassd: a private system bus with
python-dbusmock's logind and a desktop session registered by
pam_hourglass.so (hg-pamtest), and a private session bus with dbusmock's
notification daemon and an ad-hoc Mutter IdleMonitor (or ScreenSaver).
The agent runs as alice (uid 1001), as in her own desktop session: the
warning shows as a notification with a countdown in the words of what it
is of (idle, the lock, the absolute limit, a locked session), its action
extends the session or asks for more time (refused while someone waits,
with the daemon's reason), each lead time shows it again, input from the
idle monitor counts as activity, one agent per session bus, and it
survives the daemon restarting and a missing notification service. Every
process is killed by PID; waits are polls."""

import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import dbus  # noqa: E402

import hgbus  # noqa: E402
import hgtest  # noqa: E402

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
SESSION_IFACE = "org.hourglass1.Session"
LOGIND = "org.freedesktop.login1"
NOTIFY = "org.freedesktop.Notifications"
NOTIFY_PATH = "/org/freedesktop/Notifications"
MUTTER = "org.gnome.Mutter.IdleMonitor"
MUTTER_PATH = "/org/gnome/Mutter/IdleMonitor/Core"
SAVER = "org.freedesktop.ScreenSaver"
SAVER_PATH = "/org/freedesktop/ScreenSaver"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
ALICE = 1001
AGENT = os.path.join(hgtest.BUILD_ROOT, "agent", "hourglass-agent")
PAMTEST = os.path.join(hgtest.BUILD_ROOT, "tests", "desktop", "hg-pamtest")
MODULE = os.path.join(hgtest.BUILD_ROOT, "pam", "pam_hourglass.so")
PAM_ENV = "/usr/lib/x86_64-linux-gnu/security/pam_env.so"
PAM_DENY = "/usr/lib/x86_64-linux-gnu/security/pam_deny.so"
COUNTDOWN_RE = re.compile(r"\bin (\d+) (second|minute)s?\b")
SIGNED_OUT_RE = (r"^You will be signed out in \d+ (second|minute)s? unless "
                 r"you use the computer\.$")
SLACK = hgtest.SLACK


class Agent:
    """hourglass-agent as alice, its stderr in a file."""

    def __init__(self, test, args=("--verbose",), env=None):
        self.log_path = os.path.join(test.tmp, "agent-%d.log"
                                     % len(test.agents))
        with open(self.log_path, "ab") as log:
            self.proc = hgtest.spawn(
                ["setpriv", "--reuid=%d" % ALICE, "--regid=%d" % ALICE,
                 "--clear-groups", AGENT] + list(args),
                env=env if env is not None else test.agent_env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def mark(self):
        return len(self.log())

    def wait_for_log(self, regex, timeout=5.0, after=0):
        pattern = re.compile(regex)

        def found():
            self.check_alive()
            return pattern.search(self.log(), after)
        try:
            return hgtest.wait_until(found, timeout)
        except AssertionError:
            raise AssertionError("no agent line matching %r within %.1f s; "
                                 "log:\n%s" % (regex, timeout,
                                               self.log())) from None

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise AssertionError("hourglass-agent exited with %r; log:\n%s"
                                 % (self.proc.returncode, self.log()))

    def stop(self, timeout=10.0):
        """SIGTERM: exits 0, with no sanitizer report."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("hourglass-agent ignored SIGTERM; log:\n%s"
                                 % self.log())
        hgtest.stop_process(self.proc)
        if code != 0:
            raise AssertionError("hourglass-agent exited with %r; log:\n%s"
                                 % (code, self.log()))
        m = hgtest.SANITIZER_RE.search(self.log())
        if m:
            raise AssertionError("sanitizer report:\n%s" % self.log())

    def kill(self):
        hgtest.stop_process(self.proc, signal.SIGKILL)


class AgentTest(hgtest.TestCase):
    notifications = True
    idle_monitor = "mutter"

    def setUp(self):
        self.agents = []
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.tmp = self.bus.tmp  # removed with the bus
        _, self.logind = self.bus.logind()
        self.logind.AddSession("c1", "seat0", dbus.UInt32(ALICE), "alice",
                               True)
        self.sbus = hgbus.SessionBus()
        self.addCleanup(self.sbus.close)
        self.notify = None
        if self.notifications:
            self.start_notifications()
        if self.idle_monitor == "mutter":
            self.mutter = self.start_mutter()
        elif self.idle_monitor == "screensaver":
            self.saver = self.start_screensaver()
        self.pam_dir = os.path.join(self.tmp, "pam.d")
        os.mkdir(self.pam_dir)
        self.write_pam_service()

    # -- the system side --

    def write_pam_service(self):
        env_file = os.path.join(self.tmp, "env")
        with open(env_file, "w") as f:
            f.write("XDG_SESSION_ID=c1\n")
        with open(os.path.join(self.pam_dir, "hg-desktop"), "w") as f:
            f.write("session required %s readenv=1 envfile=%s "
                    "conffile=/dev/null\n" % (PAM_ENV, env_file))
            f.write("session required %s\n" % MODULE)
        with open(os.path.join(self.pam_dir, "other"), "w") as f:
            f.write("session required %s\n" % PAM_DENY)

    def start_daemon(self, warn=2, expire=6, max_session=0, idle=None,
                     policy=None):
        """policy: the keys of a rule [Policy lab] for desktop sessions."""
        config = {"Timeouts": {"WarnAfterSec": warn, "ExpireAfterSec": expire,
                               "MaxSessionSec": max_session},
                  "Desktop": {"Action": "terminate"}}
        if idle:
            config["Idle"] = idle
        if policy:
            config["Policy lab"] = dict(policy, MatchSource="desktop")
        d = hgbus.BusDaemon(self.bus, config=config, name=self._testMethodName)
        self.addCleanup(self._finish_daemon, d)
        d.start()
        self.bus.wait_for_name(NAME)
        return d

    def register(self):
        """pam_hourglass.so registers logind session c1; returns our id."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LD_", "PAM_", "NSS_", "DBUS_"))}
        env.update(self.bus.env())
        env.update({"LD_PRELOAD": ":".join(
                        p for p in hgtest.preload().split(":")
                        if "nss_wrapper" not in p),
                    "PAM_WRAPPER": "1",
                    "PAM_WRAPPER_SERVICE_DIR": self.pam_dir})
        if hgtest.SANITIZE != "none":
            env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["ASAN_OPTIONS"] = "detect_leaks=0"
        known = set(self.desktop_ids())
        out = subprocess.run([PAMTEST, "hg-desktop", "alice", "open"],
                             env=env, capture_output=True, text=True,
                             timeout=20)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        [sid] = hgtest.wait_until(
            lambda: [s for s in self.desktop_ids() if s not in known], 5)
        return sid

    def manager(self):
        return dbus.Interface(
            self.bus.conn.get_object(NAME, "/org/hourglass1"), MANAGER)

    def desktop_ids(self):
        return [str(s[0]) for s in self.manager().ListSessions()
                if s[2] == "desktop"]

    def props(self, sid):
        path = self.manager().GetSession(sid)
        return self.bus.conn.get_object(NAME, path).GetAll(
            SESSION_IFACE, dbus_interface=dbus.PROPERTIES_IFACE)

    def state(self, sid):
        try:
            return str(self.props(sid)["State"])
        except dbus.exceptions.DBusException:
            return None

    def set_idle(self, idle):
        obj = self.bus.mock_object(LOGIND,
                                   "/org/freedesktop/login1/session/c1")
        obj.UpdateProperties("org.freedesktop.login1.Session", {
            "IdleHint": dbus.Boolean(idle),
            "IdleSinceHint": dbus.UInt64(int(time.time() * 1e6))})

    # -- the session side --

    def start_notifications(self):
        self.sbus.start_mock(["--template", "notification_daemon"], NOTIFY)
        self.notify = self.sbus.mock_object(NOTIFY, NOTIFY_PATH)

    def start_mutter(self):
        self.sbus.start_mock([MUTTER, MUTTER_PATH, MUTTER], MUTTER)
        mock = self.sbus.mock_object(MUTTER, MUTTER_PATH)
        mock.AddMethod("", "AddUserActiveWatch", "", "u",
                       "self.last_watch = getattr(self, 'last_watch', 0) + 1\n"
                       "ret = dbus.UInt32(self.last_watch)")
        mock.AddMethod("", "AddIdleWatch", "t", "u", "ret = dbus.UInt32(999)")
        mock.AddMethod("", "RemoveWatch", "u", "", "")
        # Idle for long unless a test says otherwise (input_at).
        mock.AddMethod("", "GetIdletime", "", "t",
                       "since = getattr(self, 'input_at', 0)\n"
                       "ret = dbus.UInt64(int((time.time() - since) * 1000)"
                       " if since else 3600000)")
        mock.AddMethod("", "TestInput", "", "",
                       "self.input_at = time.time()")
        return mock

    def start_screensaver(self):
        """GetSessionIdleTime counts from the last TestInput(), as a real
        screen saver counts from the last input (100 s before start)."""
        self.sbus.start_mock([SAVER, SAVER_PATH, SAVER], SAVER)
        mock = self.sbus.mock_object(SAVER, SAVER_PATH)
        mock.AddMethod("", "TestInput", "", "",
                       "self.input_at = time.time()")
        mock.AddMethod("", "GetSessionIdleTime", "", "u",
                       "since = getattr(self, 'input_at', %f)\n"
                       "ret = dbus.UInt32(int(time.time() - since))"
                       % (time.time() - 100))
        return mock

    def agent_env(self, **extra):
        preload = [p for p in hgtest.preload().split(":")
                   if "nss_wrapper" in p or "asan" in p]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "LD_PRELOAD": ":".join(preload),
               "NSS_WRAPPER_PASSWD": os.path.join(hgtest.DATA_DIR, "passwd"),
               "NSS_WRAPPER_GROUP": os.path.join(hgtest.DATA_DIR, "group"),
               "XDG_SESSION_ID": "c1"}
        env.update(self.bus.env())
        env.update(self.sbus.env())
        if hgtest.SANITIZE != "none":
            env["NSS_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["ASAN_OPTIONS"] = ("detect_leaks=1:halt_on_error=1:"
                                   "exitcode=66:print_summary=1")
            env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def start_agent(self, **kw):
        agent = Agent(self, **kw)
        self.agents.append(agent)
        self.addCleanup(self._finish_agent, agent)
        return agent

    def _finish_agent(self, agent):
        try:
            agent.stop()
        except BaseException:
            agent.kill()
            raise
        finally:
            if self._failed():
                sys.stderr.write("\n--- %s: agent log:\n%s\n---\n"
                                 % (self.id(), agent.log()))

    def following(self, sid, agent, after=0):
        agent.wait_for_log(r"Following session %s " % sid, after=after)

    def watch_armed(self, agent, after=0):
        """The id of the next user-active watch the agent holds."""
        m = agent.wait_for_log(r"user-active watch (\d+) armed", after=after)
        return int(m.group(1))

    def fire_watch(self, watch_id):
        self.mutter.EmitSignal("", "WatchFired", "u", [dbus.UInt32(watch_id)])

    def calls(self, method, mock=None):
        mock = mock or self.notify
        return [[hgbus._plain(a) for a in args]
                for _, args in mock.GetMethodCalls(method)]

    def wait_notify(self, pred=lambda args: True, timeout=8.0):
        """The first Notify call whose arguments satisfy pred."""
        def found():
            hits = [c for c in self.calls("Notify") if pred(c)]
            return hits[0] if hits else None
        try:
            return hgtest.wait_until(found, timeout)
        except AssertionError:
            raise AssertionError("no such Notify within %.1f s: %r"
                                 % (timeout, self.calls("Notify"))) from None

    def wait_notify_after(self, seen, timeout=8.0):
        """The first Notify call after the first seen ones."""
        calls = hgtest.wait_until(
            lambda: self.calls("Notify")[seen:], timeout,
            message="no Notify after the first %d" % seen)
        return calls[0]

    def wait_closed(self, nid, timeout=5.0):
        hgtest.wait_until(lambda: [nid] in self.calls("CloseNotification"),
                          timeout, message="notification %d not withdrawn: %r"
                          % (nid, self.calls("CloseNotification")))

    def shown_id(self, agent, after=0):
        return int(agent.wait_for_log(r"Notification (\d+) shown",
                                      after=after).group(1))

    def assertCountdown(self, args):
        app, replaces, icon, summary, body, actions, hints, timeout = args
        self.assertEqual(app, "hourglass")
        self.assertRegex(body, COUNTDOWN_RE)
        self.assertEqual(hints.get("urgency"), 2)  # critical
        self.assertEqual(timeout, 0)
        return int(COUNTDOWN_RE.search(body).group(1))


class WarningTest(AgentTest):
    def test_warning_is_shown_and_its_action_extends(self):
        self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.set_idle(True)
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, 2 + SLACK)
        args = self.wait_notify()
        self.assertLessEqual(self.assertCountdown(args), 5)
        self.assertEqual(args[3], "You will be signed out soon")
        self.assertRegex(args[4], SIGNED_OUT_RE)
        self.assertEqual(args[5], ["extend", "Stay signed in"])
        self.assertTrue(args[6].get("resident"))
        nid = self.shown_id(agent)
        old_expiry = int(self.props(sid)["ExpiresAt"])
        before = int(self.props(sid)["LastActivity"])
        # The person chooses "Stay signed in".
        self.notify.EmitSignal(NOTIFY, "ActionInvoked", "us",
                               [dbus.UInt32(nid), "extend"])
        hgtest.wait_until(lambda: self.state(sid) == "active", SLACK)
        self.wait_closed(nid)
        self.assertGreater(int(self.props(sid)["LastActivity"]), before)
        # Until past the old expiry, the session stays.
        hgtest.assert_stays(
            lambda: sid in self.desktop_ids() and
            not [s for s in rec.matching("SessionRemoved") if s[3][0] == sid],
            max(0.0, (old_expiry + 500000) / 1e6 - time.time()),
            "the extended session outlives its old expiry")

    def test_countdown_updates_in_place_and_goes_with_the_session(self):
        # Warned with 8 s left: "10 seconds" until 5 s are left, three
        # seconds for the agent to show it.
        self.start_daemon(warn=1, expire=9)
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        self.set_idle(True)
        first = self.wait_notify()
        self.assertEqual(first[1], 0)  # a new notification
        self.assertEqual(self.assertCountdown(first), 10)
        nid = self.shown_id(agent)
        update = self.wait_notify(lambda c: c[1] == nid)
        self.assertEqual(self.assertCountdown(update), 5)
        # Idle to the end: ended, and the notification goes with it.
        agent.wait_for_log(r"No longer following session %s: it ended "
                           r"\(idle-timeout\)" % sid, timeout=5 + SLACK)
        self.wait_closed(nid)
        self.assertEqual(len(self.calls("Notify")), 2)

    def test_absolute_limit_is_announced_without_the_action(self):
        # Busy (logind, where a desktop sets the hint: not idle), so only
        # MaxSessionSec runs: warned at created + 6 - (4 - 2) s, which no
        # activity can push back.
        self.start_daemon(warn=2, expire=4, max_session=6)
        sid = self.register()
        self.set_idle(False)
        agent = self.start_agent()
        self.following(sid, agent)
        args = self.wait_notify()
        self.assertRegex(args[3], r"^Your session ends at \d\d:\d\d$")
        self.assertRegex(args[4], r"^Your session ends in \d+ seconds, at "
                                  r"its time limit\. Save your work\.$")
        self.assertEqual(args[5], [])  # no extensions in this policy
        agent.wait_for_log(r"Session %s: warning \(limit;" % sid)

    def test_agent_started_during_a_warning_shows_it_until_stopped(self):
        # Ten seconds of warning: the agent starts within it.
        self.start_daemon(warn=2, expire=12)
        sid = self.register()
        self.set_idle(True)
        hgtest.wait_until(lambda: self.state(sid) == "warning", 2 + SLACK)
        agent = self.start_agent()
        self.following(sid, agent)
        self.assertCountdown(self.wait_notify())
        # Stopped meanwhile (the session ends, SIGTERM): no warning left
        # behind on screen.
        nid = self.shown_id(agent)
        agent.stop()
        self.wait_closed(nid)

    def test_second_instance_exits_quietly(self):
        self.start_daemon()
        sid = self.register()
        first = self.start_agent()
        self.following(sid, first)
        second = Agent(self, args=())
        self.agents.append(second)
        try:
            self.assertEqual(second.proc.wait(5), 0)
        finally:
            second.kill()
        self.assertEqual(second.log(), "")
        self.assertTrue(first.alive())

    def run_agent(self, **env):
        return subprocess.run(
            ["setpriv", "--reuid=%d" % ALICE, "--regid=%d" % ALICE,
             "--clear-groups", AGENT],
            env=self.agent_env(**env), capture_output=True, text=True,
            timeout=10)

    def test_without_a_session_id_it_says_why(self):
        # Without the variable the agent asks logind (GNOME does not pass
        # it on): only where logind knows no session for it does it fail.
        with open("/proc/self/cgroup") as f:
            if "/session-" in f.read() or \
                    os.path.exists("/run/systemd/users/%d" % ALICE):
                self.skipTest("logind knows a session of this process")
        out = self.run_agent(XDG_SESSION_ID=None)
        self.assertEqual(out.returncode, 1)
        self.assertIn("XDG_SESSION_ID is not set", out.stderr)
        self.assertFalse(hgtest.SANITIZER_RE.search(out.stderr), out.stderr)
        out = self.run_agent(XDG_SESSION_ID="../c1")
        self.assertEqual(out.returncode, 1)
        self.assertIn("not a logind session id", out.stderr)


class InputTest(AgentTest):
    def test_idle_monitor_input_is_activity_and_clears_the_warning(self):
        self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        watch = self.watch_armed(agent)
        self.set_idle(True)
        # Idle as far as the daemon knows: a warning time is set.
        hgtest.wait_until(lambda: self.props(sid)["WarnAt"], SLACK)
        before = int(self.props(sid)["LastActivity"])
        mark = agent.mark()
        self.fire_watch(watch)
        hgtest.wait_until(
            lambda: int(self.props(sid)["LastActivity"]) > before, 5,
            message="the input did not reach hourglassd")
        agent.wait_for_log(r"Reported input 0 s ago", after=mark)
        # Idle again: the warning, and input clears it at once.
        self.wait_notify()
        nid = self.shown_id(agent)
        watch = self.watch_armed(agent, after=mark)
        self.assertEqual(self.state(sid), "warning")
        mark = agent.mark()
        self.fire_watch(watch)
        hgtest.wait_until(lambda: self.state(sid) == "active", SLACK)
        self.wait_closed(nid)
        # Re-armed at once while the warning was up; stopped, the agent
        # gives that watch back.
        watch = self.watch_armed(agent, after=mark)
        agent.stop()
        hgtest.wait_until(
            lambda: [watch] in self.calls("RemoveWatch", self.mutter), 5)

    def test_input_in_the_pause_is_reported_with_its_time(self):
        self.start_daemon(warn=8, expire=12)
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        self.fire_watch(self.watch_armed(agent))
        mark = agent.mark()
        # Typed 2 s into the pause after that report: no watch fires, the
        # idle time read after the pause tells.
        time.sleep(2)  # the person's pace
        self.sbus.conn.get_object(MUTTER, MUTTER_PATH).TestInput(
            dbus_interface=MUTTER)
        agent.wait_for_log(r"Mutter: input \d+ ms ago", timeout=8,
                           after=mark)
        agent.wait_for_log(r"Reported input [0-5] s ago", after=mark)

    def test_foreign_uids_cannot_report_activity(self):
        self.start_daemon()
        sid = self.register()
        args = [sid, 0]
        for uid in (1002, 0):
            result = self.bus.call_as(uid, NAME, "/org/hourglass1", MANAGER,
                                      "ReportActivity", "su", args)
            self.assertEqual(list(result[:2]), ["error", ACCESS_DENIED], uid)
        self.assertEqual(self.bus.call_as(ALICE, NAME, "/org/hourglass1",
                                          MANAGER, "ReportActivity", "su",
                                          args)[0], "ok")


class ScreenSaverInhibitTest(AgentTest):
    """--serve-screensaver: a kiosk's browser inhibits the screen saver
    while a video plays; within InhibitMaxSec that holds the warning off."""

    def inhibit_proxy(self):
        return dbus.Interface(self.sbus.conn.get_object(SAVER, SAVER_PATH),
                              SAVER)

    def test_inhibition_holds_off_the_warning_until_inhibit_max(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start_daemon(warn=2, expire=5, idle={"InhibitMaxSec": 4})
        sid = self.register()
        agent = self.start_agent(args=("--verbose", "--serve-screensaver"))
        agent.wait_for_log(r"Serving org\.freedesktop\.ScreenSaver's "
                           r"inhibitions")
        self.following(sid, agent)
        hgtest.wait_until(lambda: [s for s in self.props(sid)["IdleSources"]
                                   if s[0] == "agent"], 5)
        # The browser starts a video: the person stops touching anything.
        cookie = self.inhibit_proxy().Inhibit("Chromium", "video playing")
        start = time.monotonic()
        hgtest.wait_until(lambda: [
            s for s in hgbus._plain(self.props(sid)["IdleSources"])
            if s[:2] == ["inhibitor",
                         "org.freedesktop.ScreenSaver: Chromium"]], 3)
        warn = rec.wait_for("SessionWarning", lambda s: s[3][0] == sid, 9)
        delay = time.monotonic() - start
        sys.stderr.write("# screensaver inhibitor: last input to warning "
                         "%.1f s (InhibitMaxSec=4, WarnAfterSec=2)\n" % delay)
        self.assertGreater(delay, 4 + 2 - 1.5)
        self.assertIsNotNone(warn)
        # The video stops: the lock goes, with its holder's word.
        self.inhibit_proxy().UnInhibit(cookie)
        hgtest.wait_until(lambda: not [
            s for s in self.props(sid)["IdleSources"]
            if s[0] == "inhibitor"], 3)

    def test_inhibition_ends_with_its_connection(self):
        self.start_daemon(warn=30, expire=60, idle={"InhibitMaxSec": 600})
        sid = self.register()
        agent = self.start_agent(args=("--verbose", "--serve-screensaver"))
        self.following(sid, agent)
        conn = dbus.bus.BusConnection(self.sbus.address)
        dbus.Interface(conn.get_object(SAVER, SAVER_PATH), SAVER).Inhibit(
            "mpv", "film")
        hgtest.wait_until(lambda: [s for s in self.props(sid)["IdleSources"]
                                   if s[0] == "inhibitor"], 3)
        conn.close()
        agent.wait_for_log(r"inhibition \d+ of mpv ended")
        hgtest.wait_until(lambda: not [
            s for s in self.props(sid)["IdleSources"]
            if s[0] == "inhibitor"], 3)


class PolicyWarningTest(AgentTest):
    """The words follow what the session's rule and state say (Warning,
    Action, Stage, LimitAt, ExtensionsLeft), and "More time" asks the
    daemon. Desktop sessions match [Policy lab]."""

    # Busy (logind: not idle), so only the absolute limit runs: warned 15 s
    # before MaxSessionSec, with two extensions of a minute to ask for.
    LIMIT = {"MaxSessionSec": 20, "WarnBeforeSec": 15, "ExtendBySec": 60,
             "MaxExtensions": 2}

    def invoke(self, nid, key):
        self.notify.EmitSignal(NOTIFY, "ActionInvoked", "us",
                               [dbus.UInt32(nid), key])

    def limit_warning(self, waiting=False):
        """A session of rule lab and an agent in UTC, in its limit warning:
        (sid, agent, the Notify's arguments, the notification's id).
        waiting: someone waits for the machine (Manager.SetWaiting)."""
        self.start_daemon(warn=30, expire=60, policy=self.LIMIT)
        if waiting:
            self.manager().SetWaiting(True)
        sid = self.register()
        self.set_idle(False)
        agent = self.start_agent(env=self.agent_env(TZ="UTC"))
        self.following(sid, agent)
        self.assertEqual(self.props(sid)["Policy"], "lab")
        args = self.wait_notify(lambda c: c[5], timeout=5 + SLACK)
        return sid, agent, args, self.shown_id(agent)

    def test_idle_warning_before_a_lock_then_the_locked_stage(self):
        # Idle: warned at 2 s, locked at 5 s; locked: warned 3 s before
        # LockedMaxSec runs out, 8 s after the lock.
        self.start_daemon(policy={"Action": "lock-then-terminate",
                                  "WarnAfterSec": 2, "ExpireAfterSec": 5,
                                  "LockedMaxSec": 8})
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        self.set_idle(True)
        idle = self.wait_notify(timeout=2 + SLACK)
        self.assertEqual(idle[3], "The screen will lock soon")
        self.assertRegex(idle[4], r"^The screen will lock in \d+ seconds "
                                  r"unless you use the computer\.$")
        self.assertEqual(idle[5], ["extend", "Keep it unlocked"])
        hgtest.wait_until(lambda: self.props(sid)["Stage"] == "locked",
                          3 + SLACK)
        self.assertEqual(hgbus._plain(self.logind.GetMethodCalls(
            "LockSession"))[0][1], ["c1"])
        locked = self.wait_notify(lambda c: "unless unlocked" in c[4],
                                  timeout=5 + SLACK)
        self.assertRegex(locked[4], r"^The session will be signed out in "
                                    r"\d+ seconds unless unlocked\.$")
        self.assertEqual(locked[5], [])  # the lock screen is in the way
        agent.wait_for_log(r"Session %s: warning \(locked; stage locked\)"
                           % sid)
        agent.wait_for_log(r"No longer following session %s: it ended "
                           r"\(locked-timeout\)" % sid, timeout=3 + SLACK)

    def test_more_time_is_offered_and_granted(self):
        sid, agent, args, nid = self.limit_warning()
        before = self.props(sid)
        self.assertEqual((before["State"], before["Warning"],
                          before["ExtensionsLeft"]), ("warning", "limit", 2))
        self.assertEqual(args[3], "Your session ends at %s" % time.strftime(
            "%H:%M", time.gmtime(before["LimitAt"] // 1000000)))
        self.assertIn("(2 extensions left)", args[4])
        self.assertEqual(args[5], ["more-time", "More time"])
        self.invoke(nid, "more-time")
        agent.wait_for_log(r"Session %s: more time granted, the limit is at "
                           r"\d\d:\d\d now, 1 extension left" % sid)
        # A minute more: out of the warning, which goes.
        hgtest.wait_until(lambda: self.state(sid) == "active", SLACK)
        self.wait_closed(nid)
        after = self.props(sid)
        self.assertEqual((after["Extensions"], after["ExtensionsLeft"]),
                         (1, 1))
        self.assertAlmostEqual(after["LimitAt"] - before["LimitAt"], 60e6,
                               delta=0.5e6)

    def test_more_time_refused_while_someone_waits(self):
        sid, agent, args, nid = self.limit_warning(waiting=True)
        self.assertEqual(args[5], ["more-time", "More time"])
        self.invoke(nid, "more-time")
        note = self.wait_notify(
            lambda c: c[3] == "No more time for this session")
        self.assertEqual(note[1], 0)  # beside the warning, not over it
        self.assertRegex(note[4], r"^Someone is waiting for this machine")
        agent.wait_for_log(r"more time refused: Someone is waiting")
        # Nothing changed: still warned, both extensions left, the warning
        # still on screen.
        p = self.props(sid)
        self.assertEqual((p["State"], p["ExtensionsLeft"]), ("warning", 2))
        self.assertNotIn([nid], self.calls("CloseNotification"))

    def test_each_lead_time_shows_the_warning_again(self):
        # Warned 12 s and 6 s before the limit; no more time to offer.
        self.start_daemon(warn=30, expire=60,
                          policy={"MaxSessionSec": 16,
                                  "WarnBeforeSec": "12;6"})
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        sid = self.register()
        self.set_idle(False)
        agent = self.start_agent()
        self.following(sid, agent)
        first = self.wait_notify(timeout=4 + SLACK)
        self.assertRegex(first[3], r"^Your session ends at ")
        self.assertEqual(first[5], [])
        nid = self.shown_id(agent)
        # The person closes it: the countdown does not bring it back...
        self.notify.EmitSignal(NOTIFY, "NotificationClosed", "uu",
                               [dbus.UInt32(nid), dbus.UInt32(2)])
        agent.wait_for_log(r"Notification %d closed \(reason 2\)" % nid)
        seen = len(self.calls("Notify"))
        # ...the next lead time does, as a new notification.
        rec.wait_for("SessionWarning", lambda s: s[3][0] == sid and
                     s[3][2] <= 6, 6 + SLACK)
        again = self.wait_notify_after(seen)
        self.assertEqual(again[1], 0)
        self.assertLessEqual(self.assertCountdown(again), 10)
        agent.wait_for_log(r"Session %s: warning \(limit; stage active\), "
                           r"[0-6] s left" % sid)


class RestartTest(AgentTest):
    def test_agent_follows_a_restarted_daemon(self):
        d = self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        mark = agent.mark()
        d.stop()
        agent.wait_for_log(r"No longer following session %s" % sid,
                           after=mark)
        self.start_daemon()
        agent.wait_for_log(r"hourglassd is on the system bus", after=mark)
        new_sid = self.register()
        self.assertNotEqual(new_sid, sid)
        self.following(new_sid, agent, after=mark)
        self.notify.ClearCalls()
        self.set_idle(True)
        self.assertCountdown(self.wait_notify())
        self.assertTrue(agent.alive())


class NoNotificationServiceTest(AgentTest):
    notifications = False

    def test_goes_on_without_and_tries_again(self):
        self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        watch = self.watch_armed(agent)
        self.set_idle(True)
        agent.wait_for_log(r"Cannot show the warning as a notification",
                           timeout=2 + SLACK)
        self.assertEqual(self.state(sid), "warning")
        # Input still counts.
        mark = agent.mark()
        self.fire_watch(watch)
        hgtest.wait_until(lambda: self.state(sid) == "active", SLACK)
        agent.wait_for_log(r"Session %s: warning over" % sid, after=mark)
        # The service is back by the next warning: it is shown.
        self.start_notifications()
        self.assertCountdown(self.wait_notify())
        self.assertTrue(agent.alive())


class ScreenSaverTest(AgentTest):
    idle_monitor = "screensaver"

    def test_polled_idle_time_is_activity(self):
        self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        agent.wait_for_log(r"Input from org\.freedesktop\.ScreenSaver")
        self.set_idle(True)
        self.wait_notify()
        nid = self.shown_id(agent)
        mark = agent.mark()
        input_at = time.monotonic()
        self.sbus.conn.get_object(SAVER, SAVER_PATH).TestInput(
            dbus_interface=SAVER)
        hgtest.wait_until(lambda: self.state(sid) == "active", SLACK)
        m = agent.wait_for_log(r"ScreenSaver: input (\d+) s ago", after=mark)
        # Polled every second during the warning: the idle time it read is
        # at most the time since the input (whole seconds).
        self.assertLessEqual(int(m.group(1)), time.monotonic() - input_at + 1)
        self.wait_closed(nid)


class NoIdleMonitorTest(AgentTest):
    idle_monitor = None

    def test_warning_without_an_idle_monitor(self):
        self.start_daemon()
        sid = self.register()
        agent = self.start_agent()
        self.following(sid, agent)
        agent.wait_for_log(r"Input from nothing")
        self.set_idle(True)
        self.assertCountdown(self.wait_notify())


if __name__ == "__main__":
    hgtest.main()
