#!/usr/bin/python3
"""Policy rules end to end, against the real hourglassd on a private system
bus: a person's more time over D-Bus and from the page (granted, too
early, used up, refused while someone is waiting, each answer logged), an
operator's ExtendSession beside it, waiting and extensions kept across a
restart, Manager.ExplainPolicy (by user, by group, first match, drop-ins,
the fallback, bad questions), and hourglassd --check-config on rules that
can never match and on bad values."""

import os
import subprocess
import time

import dbus

import hgbus
import hgmanager
import hgtest

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
SESSION = "org.hourglass1.Session"
PATH = "/org/hourglass1"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INVALID = "org.freedesktop.DBus.Error.InvalidArgs"
REFUSED = "org.hourglass1.Error.MoreTimeRefused"
ALICE, BOB, CAROL, ADMINS = 1001, 1002, 1003, 1500  # tests/data
SLACK = hgtest.SLACK
# The bus gives boot-time instants as wall-clock ones, each converted at
# the time of its call: the same instant may differ by a few µs.
JITTER = 1000

# alice and bob may ask twice for 3 s more within the last 6 s of their
# 12 s; carol has the fallback (no more time), lowuid a rule without an
# absolute limit. The idle limits stay out of the way.
LIMIT, LEAD, EXTEND = 12, 6, 3
MORE_TIME = {
    "DBus": {"AdminGroup": "kiosk-admins"},
    "Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120},
    "Pam": {"MinUid": 0},
    "Policy patrons": {"MatchUser": "alice;bob", "MaxSessionSec": LIMIT,
                       "WarnBeforeSec": LEAD, "ExtendBySec": EXTEND,
                       "MaxExtensions": 2},
    "Policy endless": {"MatchUser": "lowuid", "MaxSessionSec": 0,
                       "ExtendBySec": 60, "MaxExtensions": 1},
}


class BusFixture(hgtest.TestCase):
    """A private system bus and hourglassd on it."""

    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)
        self.rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(self.rec.close)

    def start(self, config=None, daemon_class=hgbus.BusDaemon, **kw):
        d = daemon_class(bus=self.bus, config=config,
                         name=self._testMethodName, **kw)
        self.addCleanup(self._finish_daemon, d)
        d.start()
        self.bus.wait_for_name(NAME)
        self.d, self.c = d, d.client()
        return d

    def manager(self):
        return dbus.Interface(self.bus.conn.get_object(NAME, PATH), MANAGER)

    def props(self, path):
        obj = self.bus.conn.get_object(NAME, path)
        return hgbus._plain(obj.GetAll(SESSION,
                                       dbus_interface=dbus.PROPERTIES_IFACE))

    def manager_props(self):
        obj = self.bus.conn.get_object(NAME, PATH)
        return hgbus._plain(obj.GetAll(MANAGER,
                                       dbus_interface=dbus.PROPERTIES_IFACE))

    def login(self, user="alice"):
        token = self.c.login(user, "secret")
        state = self.c.session(token).json()
        [sid] = [str(s[0]) for s in self.manager().ListSessions()
                 if str(s[1]) == user]
        return token, sid, str(self.manager().GetSession(sid)), state

    def call(self, uid, method, *args, groups=None, sig=None, path=PATH,
             iface=MANAGER):
        return self.bus.call_as(uid, NAME, path, iface, method,
                                sig if sig is not None else "s" * len(args),
                                args, groups=groups)

    def ask(self, uid, sid):
        """RequestMoreTime as uid: ("ok", [limit_at, left]) or an error."""
        return self.call(uid, "RequestMoreTime", sid)

    def warnings_of(self, sid):
        return [s for s in self.rec.matching("SessionWarning")
                if s[3][0] == sid]

    def wait_for_limit_warning(self, sid, path, count, timeout):
        """The count-th SessionWarning of sid, which is of its limit."""
        hgtest.wait_until(lambda: len(self.warnings_of(sid)) >= count,
                          timeout, message="no warning %d of %s: %r"
                          % (count, sid, self.rec.signals))
        self.assertEqual(self.props(path)["Warning"], "limit")
        return self.warnings_of(sid)[count - 1]


class MoreTimeTest(BusFixture):
    def test_more_time_over_dbus(self):
        self.start(MORE_TIME)
        token, sid, path, _ = self.login("alice")
        p = self.props(path)
        self.assertEqual((p["Policy"], p["Extensions"], p["ExtensionsLeft"]),
                         ("patrons", 0, 2))
        self.assertAlmostEqual(p["LimitAt"] - p["Created"], LIMIT * 1e6,
                               delta=0.5e6)
        limit_at = p["LimitAt"]

        # Too early: before the first warning of the limit.
        self.assertLess(time.time() * 1e6, limit_at - LEAD * 1e6 - 1e6,
                        "the machine is too slow for this test's timing")
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertIn("only in the last %d s" % LEAD, answer[2])
        self.d.wait_for_log(r"Session %s of alice: more time asked for over "
                            r"D-Bus, refused: More time can be asked for only "
                            r"in the last %d s" % (sid, LEAD))
        # Only the person asks: not another user, not even root.
        for uid, groups in ((BOB, None), (0, None), (BOB, [ADMINS])):
            self.assertEqual(self.call(uid, "RequestMoreTime", sid,
                                       groups=groups)[1], DENIED)
        # The operator's extension is another thing: it moves no limit and
        # takes none of the person's.
        self.assertEqual(self.call(0, "ExtendSession", sid)[0], "ok")
        self.d.wait_for_log(r"Session %s of alice extended over D-Bus by "
                            r"uid 0" % sid)
        p = self.props(path)
        self.assertEqual((p["Extensions"], p["ExtensionsLeft"]), (0, 2))
        self.assertAlmostEqual(p["LimitAt"], limit_at, delta=JITTER)

        # Within the warning: granted, ExtendBySec more, logged.
        warn = self.wait_for_limit_warning(sid, path, 1, LIMIT - LEAD + SLACK)
        self.assertLessEqual(warn[3][2], LEAD)
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[0], "ok", answer)
        new_limit, left = answer[1]
        self.assertEqual(left, 1)
        self.assertAlmostEqual(new_limit - limit_at, EXTEND * 1e6, delta=0.2e6)
        p = self.props(path)
        self.assertAlmostEqual(p["LimitAt"], new_limit, delta=0.2e6)
        self.assertEqual((p["Extensions"], p["ExtensionsLeft"]), (1, 1))
        self.assertEqual(p["Warning"], "")
        self.d.wait_for_log(r"Session %s of alice: %d s more, asked for over "
                            r"D-Bus \(extension 1 of 2\)" % (sid, EXTEND))
        limit_at = p["LimitAt"]

        # The limit is now more than the lead time away: too early again.
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertIn("only in the last", answer[2])

        # Warned again, and the second (last) extension through the
        # Session object.
        self.wait_for_limit_warning(sid, path, 2, EXTEND + SLACK)
        answer = self.call(ALICE, "RequestMoreTime", path=path, iface=SESSION)
        self.assertEqual(answer[0], "ok", answer)
        self.assertEqual(answer[1][1], 0)
        self.assertAlmostEqual(answer[1][0] - limit_at, EXTEND * 1e6,
                               delta=0.2e6)
        limit_at = self.props(path)["LimitAt"]

        # Used up.
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertEqual(answer[2],
                         "All 2 extensions of this session are used")
        self.d.wait_for_log(r"refused: All 2 extensions of this session are "
                            r"used")
        p = self.props(path)
        self.assertEqual((p["Extensions"], p["ExtensionsLeft"]), (2, 0))
        self.assertAlmostEqual(p["LimitAt"], limit_at, delta=JITTER)

        # The operator can still keep it from going idle, never past its
        # limit: it ends at LimitAt, as max-age.
        self.assertEqual(self.call(BOB, "ExtendSession", sid,
                                   groups=[ADMINS])[0], "ok")
        p = self.props(path)
        self.assertEqual(p["Extensions"], 2)
        self.assertAlmostEqual(p["LimitAt"], limit_at, delta=JITTER)
        self.assertLessEqual(p["ExpiresAt"], limit_at + JITTER)
        removed = self.rec.wait_for(
            "SessionRemoved", lambda s: s[3][0] == sid,
            timeout=max(0, limit_at / 1e6 - time.time()) + SLACK)
        ended = time.time()
        self.assertEqual(removed[3][2], "max-age")
        hgtest.note("ended %.2f s after its LimitAt"
                    % (ended - limit_at / 1e6))
        self.assertGreater(ended, limit_at / 1e6 - 0.5)
        self.assertEqual(self.c.session(token).json()["reason"], "max-age")

    def test_more_time_on_the_page(self):
        self.start(MORE_TIME)
        token, sid, path, state = self.login("alice")
        self.assertEqual((state["extensions_left"], state["extend_by_sec"],
                          state["warning"], state["waiting"]),
                         (2, EXTEND, "", False))
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()),
                         (409, {"error": "more-time-refused",
                                "reason": "too-early"}))
        self.d.wait_for_log(r"Session %s of alice: more time asked for on the "
                            r"page, refused" % sid)

        # The page sees the warning of the limit and asks: granted.
        state = hgtest.wait_until(
            lambda: (lambda s: s if s["warning"] == "limit" else None)(
                self.c.session(token).json()), LIMIT - LEAD + SLACK)
        self.assertEqual(state["state"], "warning")
        self.assertLessEqual(state["limit_in_sec"], LEAD)
        limit_at = self.props(path)["LimitAt"]
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual(r.status, 200, r)
        granted = r.json()
        self.assertEqual((granted["extensions_left"], granted["warning"]),
                         (1, ""))
        self.assertGreater(granted["limit_in_sec"], LEAD)
        self.assertAlmostEqual(self.props(path)["LimitAt"] - limit_at,
                               EXTEND * 1e6, delta=0.2e6)
        self.d.wait_for_log(r"Session %s of alice: %d s more, asked for on "
                            r"the page \(extension 1 of 2\)" % (sid, EXTEND))
        self.assertEqual(self.c.post("/api/more-time", {},
                                     token=token).json()["reason"],
                         "too-early")

        # The second, then none left.
        hgtest.wait_until(
            lambda: self.c.session(token).json()["warning"] == "limit",
            EXTEND + SLACK)
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()["extensions_left"]), (200, 0))
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()),
                         (409, {"error": "more-time-refused",
                                "reason": "used-up"}))

        # The policy's own answers: none offered, no limit to move.
        for user, reason in (("carol", "not-offered"), ("lowuid", "no-limit")):
            with self.subTest(user=user):
                other = self.c.login(user, "secret")
                r = self.c.post("/api/more-time", {}, token=other)
                self.assertEqual((r.status, r.json()),
                                 (409, {"error": "more-time-refused",
                                        "reason": reason}))
        # An ended session is told so.
        self.assertEqual(self.c.logout(token).status, 200)
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()["error"]),
                         (401, "session-ended"))

    def test_waiting_refuses_more_time(self):
        self.start(MORE_TIME)
        token, sid, path, _ = self.login("alice")
        self.assertFalse(self.manager_props()["Waiting"])
        # Only root and the admin group say someone is waiting.
        self.assertEqual(self.call(BOB, "SetWaiting", True, sig="b")[1],
                         DENIED)
        self.assertEqual(self.call(BOB, "SetWaiting", True, sig="b",
                                   groups=[ADMINS])[0], "ok")
        changed = self.rec.wait_for(
            "PropertiesChanged", lambda s: s[3][0] == MANAGER, path=PATH)
        self.assertIn("Waiting", changed[3][1].keys() | set(changed[3][2]))
        self.assertTrue(self.manager_props()["Waiting"])
        self.d.wait_for_log(r"Someone is waiting for this machine \(set over "
                            r"D-Bus by uid %d\)" % BOB)
        self.assertTrue(self.c.session(token).json()["waiting"])

        # Within the warning, both ways refused, with the reason.
        self.wait_for_limit_warning(sid, path, 1, LIMIT - LEAD + SLACK)
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertEqual(answer[2], "Someone is waiting for this machine: no "
                         "more time can be given")
        self.d.wait_for_log(r"Session %s of alice: more time asked for over "
                            r"D-Bus, refused: Someone is waiting" % sid)
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()),
                         (409, {"error": "more-time-refused",
                                "reason": "waiting"}))
        self.assertEqual(self.props(path)["Extensions"], 0)

        # No one waits any more: granted.
        self.assertEqual(self.call(0, "SetWaiting", False, sig="b")[0], "ok")
        self.assertFalse(self.manager_props()["Waiting"])
        self.d.wait_for_log(r"No one is waiting any more")
        r = self.c.post("/api/more-time", {}, token=token)
        self.assertEqual((r.status, r.json()["extensions_left"]), (200, 1), r)
        self.assertFalse(r.json()["waiting"])


class MoreTimeRestartTest(BusFixture):
    """Someone waiting, and the extensions a person was given, outlive
    hourglassd (hgmanager.py stands in for systemd)."""

    def waiting_file(self):
        return os.path.join(self.d.runtime_dir, "sessions", ".waiting")

    def state_text(self, sid):
        return hgtest._read(os.path.join(self.d.runtime_dir, "sessions",
                                         sid)) or ""

    def restart(self):
        self.d.crash()
        hgtest.wait_until(lambda: not self.bus.has_owner(NAME), SLACK)
        self.d.restart()
        self.d.wait_ready()
        self.bus.wait_for_name(NAME)

    def test_waiting_and_extensions_survive_a_restart(self):
        config = hgtest.merge_config(MORE_TIME, {
            "Policy patrons": {"MaxExtensions": 1}})
        self.start(config, daemon_class=hgmanager.ManagedDaemon)
        self.d.wait_ready()
        token, sid, path, _ = self.login("alice")
        self.assertEqual(self.call(0, "SetWaiting", True, sig="b")[0], "ok")
        hgtest.wait_until(lambda: os.path.exists(self.waiting_file()), SLACK)

        self.restart()
        self.assertTrue(self.manager_props()["Waiting"])
        self.d.wait_for_log(r"Session %s of alice taken back" % sid)
        self.wait_for_limit_warning(sid, path, 1, LIMIT - LEAD + SLACK)
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertIn("Someone is waiting", answer[2])

        self.assertEqual(self.call(0, "SetWaiting", False, sig="b")[0], "ok")
        hgtest.wait_until(lambda: not os.path.exists(self.waiting_file()),
                          SLACK)
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[0], "ok", answer)
        limit_at = answer[1][0]
        # The state file has it (written at most a second later).
        text = hgtest.wait_until(
            lambda: (lambda t: t if "N_EXTENDED=1\n" in t else None)(
                self.state_text(sid)), 1 + SLACK)
        self.assertRegex(text, r"\nEXTENDED=%d\n" % (EXTEND * 1000000))

        self.restart()
        self.assertFalse(self.manager_props()["Waiting"])
        p = self.props(path)
        self.assertEqual((p["Policy"], p["Extensions"], p["ExtensionsLeft"]),
                         ("patrons", 1, 0))
        self.assertAlmostEqual(p["LimitAt"], limit_at, delta=0.5e6)
        answer = self.ask(ALICE, sid)
        self.assertEqual(answer[:2], ("error", REFUSED), answer)
        self.assertIn("All 1 extensions", answer[2])
        self.assertEqual(self.c.session(token).status, 200)


# -- ExplainPolicy ----------------------------------------------------------

EXPLAIN = {
    "Timeouts": {"WarnAfterSec": 500, "ExpireAfterSec": 600},
    "Desktop": {"Action": "lock", "LockedMaxSec": 900},
    # alice is in kiosk-admins (tests/data/group): "admins" comes first.
    "Policy admins": {"MatchGroup": "kiosk-admins", "MaxSessionSec": 3600},
    "Policy alice": {"MatchUser": "alice", "MaxSessionSec": 60},
    "Policy bob-desk": {"MatchUser": "bob", "MatchSource": "desktop",
                        "MatchService": "gdm-password",
                        "Action": "lock-then-terminate",
                        "LockedMaxSec": 120},
    "Policy bob": {"MatchUser": "bob", "WarnBeforeSec": "600;60",
                   "ExtendBySec": 300, "MaxExtensions": 2},
    "Policy lab": {"MatchSeat": "seat1", "ExpireAfterSec": 900},
}
# A drop-in: a new rule after the main file's, and one changed in place.
DROPIN = "[Policy carol]\nMatchUser=carol\nCloseAfterSec=5\n\n" \
         "[Policy admins]\nMaxSessionSec=7200\n"


def header_line(path, name):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip() == "[Policy %s]" % name:
                return n
    raise AssertionError("no [Policy %s] in %s" % (name, path))


class ExplainTest(BusFixture):
    def setUp(self):
        super().setUp()
        d = hgbus.BusDaemon(self.bus, config=EXPLAIN,
                            name=self._testMethodName)
        self.addCleanup(self._finish_daemon, d)
        os.mkdir(d.config_path + ".d")
        self.dropin = os.path.join(d.config_path + ".d", "50-carol.conf")
        with open(self.dropin, "w") as f:
            f.write(DROPIN)
        d.start()
        self.bus.wait_for_name(NAME)
        self.d = d

    def explain(self, user, **who):
        options = {k: dbus.String(v) for k, v in who.items()}
        policy, path, line, groups, limits = self.manager().ExplainPolicy(
            user, dbus.Dictionary(options, signature="sv"))
        return (str(policy), str(path), int(line), hgbus._plain(groups),
                hgbus._plain(limits))

    def explain_error(self, user, options):
        try:
            self.manager().ExplainPolicy(user, options)
        except dbus.exceptions.DBusException as e:
            return e.get_dbus_name(), e.get_dbus_message()
        raise AssertionError("ExplainPolicy(%r, %r) did not fail"
                             % (user, options))

    def test_rules_by_user_group_and_order(self):
        main = self.d.config_path
        # By group, and the first match wins over alice's own rule; the
        # drop-in changed the rule where it stands.
        policy, path, line, groups, limits = self.explain("alice")
        self.assertEqual((policy, path, line),
                         ("admins", main, header_line(main, "admins")))
        self.assertEqual(sorted(groups), ["alice", "kiosk-admins"])
        self.assertEqual(limits["MaxSessionSec"], 7200)
        self.assertEqual((limits["WarnAfterSec"], limits["ExpireAfterSec"]),
                         (500, 600))
        # By user, and by source and PAM service.
        policy, path, line, groups, limits = self.explain("bob")
        self.assertEqual((policy, line), ("bob", header_line(main, "bob")))
        self.assertEqual(groups, ["bob"])
        self.assertEqual((limits["WarnBeforeSec"], limits["ExtendBySec"],
                          limits["MaxExtensions"], limits["MaxSessionSec"],
                          limits["Action"]),
                         ([600, 60], 300, 2, 28800, "lock"))
        policy, _, _, _, limits = self.explain(
            "bob", source="desktop", service="gdm-password")
        self.assertEqual((policy, limits["Action"], limits["LockedMaxSec"]),
                         ("bob-desk", "lock-then-terminate", 120))
        self.assertEqual(self.explain("bob", source="desktop",
                                      service="sshd")[0], "bob")
        # The rule of a drop-in, and a seat's rule before it.
        policy, path, line, _, limits = self.explain("carol")
        self.assertEqual((policy, path, line),
                         ("carol", self.dropin, 1))
        self.assertEqual(limits["CloseAfterSec"], 5)
        self.assertEqual(self.explain("carol", source="desktop",
                                      seat="seat1")[0], "lab")

    def test_fallback(self):
        # lowuid matches no rule: [Timeouts] and [Desktop].
        policy, path, line, groups, limits = self.explain(
            "lowuid", source="desktop", seat="seat0", service="login")
        self.assertEqual((policy, path, line, groups),
                         ("", self.d.config_path, 0, ["lowuid"]))
        self.assertEqual(limits, {
            "WarnAfterSec": 500, "ExpireAfterSec": 600, "MaxSessionSec": 28800,
            "CloseAfterSec": 0, "InhibitMaxSec": 0, "Action": "lock",
            "LockedMaxSec": 900, "ExtendBySec": 0, "MaxExtensions": 0,
            "WarnBeforeSec": [], "DailyAllowanceSec": 0, "AllowedHours": ""})

    def test_bad_questions(self):
        empty = dbus.Dictionary({}, signature="sv")
        self.assertEqual(self.explain_error("nosuchuser", empty),
                         ("org.hourglass1.Error.NoSuchUser",
                          "No user nosuchuser"))
        self.assertEqual(self.explain_error("", empty)[0], INVALID)
        cases = [
            ({"colour": dbus.String("red")},
             "Unknown option colour: source, seat or service"),
            ({"source": dbus.String("tablet")},
             "source must be web or desktop"),
            ({"seat": dbus.UInt32(1)},
             "Options are source, seat and service, each a string"),
            ({"service": dbus.String("")}, "Not a service name"),
        ]
        for options, message in cases:
            with self.subTest(options=options):
                self.assertEqual(
                    self.explain_error("alice", dbus.Dictionary(
                        options, signature="sv")), (INVALID, message))
        # Still answering.
        self.assertEqual(self.explain("alice")[0], "admins")


# -- --check-config ---------------------------------------------------------

class CheckConfigTest(hgtest.TestCase):
    def check(self, text, dropins=None):
        d = hgtest.Daemon(name=self._testMethodName)
        self.addCleanup(d.close)
        with open(d.config_path, "w") as f:
            f.write(text)
        for name, body in (dropins or {}).items():
            os.makedirs(d.config_path + ".d", exist_ok=True)
            with open(os.path.join(d.config_path + ".d", name), "w") as f:
                f.write(body)
        out = subprocess.run([hgtest.DAEMON, "--check-config", "--config",
                              d.config_path], env=d.environment(),
                             capture_output=True, text=True, timeout=30)
        m = hgtest.SANITIZER_RE.search(out.stderr)
        self.assertIsNone(m, out.stderr)
        return out.returncode, out.stdout, out.stderr, d.config_path

    def test_rule_that_can_never_match(self):
        code, out, err, path = self.check(
            "[Policy everyone]\nMaxSessionSec=3600\n\n"
            "[Policy staff]\nMatchGroup=kiosk-admins\n\n"
            "[Policy pair]\nMatchUser=alice;bob\n\n"
            "[Policy ghost]\nMatchUser=nosuchuser\n",
            {"10-late.conf": "[Policy late]\nMatchSource=web\n"})
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "%s: configuration OK (5 policy rules, "
                         "5 warnings)\n" % path)
        dropin = os.path.join(path + ".d", "10-late.conf")
        for name, file, line in (("staff", path, 4), ("pair", path, 7),
                                 ("ghost", path, 10), ("late", dropin, 1)):
            self.assertIn("warning: %s:%d: [Policy %s] can never match: "
                          "[Policy everyone] (%s:1) comes first and matches "
                          "everyone it would\n" % (file, line, name, path),
                          err)
        self.assertIn("warning: %s:10: [Policy ghost] MatchUser=nosuchuser: "
                      "no such user (yet)\n" % path, err)

    def test_narrower_rule_after_a_wider_one(self):
        code, out, err, path = self.check(
            "[Policy pair]\nMatchUser=alice;bob\n\n"
            "[Policy alice-web]\nMatchUser=alice\nMatchSource=web\n\n"
            "[Policy desktop]\nMatchSource=desktop\n\n"
            "[Policy sshd]\nMatchSource=desktop\nMatchService=sshd\n")
        self.assertEqual(code, 0, err)
        self.assertIn("[Policy alice-web] can never match: [Policy pair]",
                      err)
        self.assertIn("[Policy sshd] can never match: [Policy desktop]", err)
        self.assertNotIn("[Policy desktop] can never match", err)
        self.assertIn("(4 policy rules, 2 warnings)", out)

    def test_rules_that_can_match(self):
        code, out, err, path = self.check(
            "[Policy alice]\nMatchUser=alice\n\n"
            "[Policy pair]\nMatchUser=alice;bob\n\n"
            "[Policy staff]\nMatchGroup=kiosk-admins\n\n"
            "[Policy everyone]\nMaxSessionSec=3600\n")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "%s: configuration OK (4 policy rules, "
                         "0 warnings)\n" % path)

    def test_bad_values_name_file_key_and_value(self):
        bad = {
            "MaxSessionSec": ("forever",
                              "must be a whole number from 0 to 2678400"),
            "MatchSource": ("tablet", "must be web or desktop"),
            "Action": ("sleep",
                       "must be terminate, lock or lock-then-terminate"),
            "WarnBeforeSec": ("60;600",
                              "must go from the longest lead time down"),
            "LockedMaxSec": ("0", "must be a whole number from 1 to 604800"),
            "MatchUser": ("al ice",
                          "\"al ice\" is not a name (letters, digits, "
                          "\"_.-@\\\")"),
            "Colour": ("red", "unknown key"),
        }
        text = "[Policy x]\n" + "".join("%s=%s\n" % (k, v)
                                        for k, (v, _) in bad.items())
        text += "\n[Policy bad name!]\nMaxSessionSec=1\n"
        text += "\n[Policy tight]\nWarnAfterSec=700\n"
        code, out, err, path = self.check(text)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(out, "")
        for key, (value, why) in bad.items():
            with self.subTest(key=key):
                self.assertIn("%s: [Policy x] %s=%s: %s\n"
                              % (path, key, value.replace("\\", "\\\\"), why),
                              err)
        self.assertIn("%s: [Policy bad name!]: a policy's name is" % path, err)
        self.assertIn("%s:%d: [Policy tight]: WarnAfterSec must be less than "
                      "ExpireAfterSec" % (path, text.count("\n", 0, text.index(
                          "[Policy tight]")) + 1), err)
        self.assertIn("hourglassd: configuration refused (%d errors)"
                      % (len(bad) + 2), err)

    def test_fallback_mistakes_are_its_own(self):
        # What is wrong in [Timeouts] is said there, once; the rules that
        # take it are not blamed for it.
        rules = ("\n[Policy a]\nMatchUser=alice\n\n"
                 "[Policy b]\nMatchUser=bob\nExtendBySec=60\n")
        code, out, err, path = self.check(
            "[Timeouts]\nMaxExtensions=2\n" + rules)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(err, "%s: [Timeouts] MaxExtensions=2: needs "
                         "ExtendBySec\nhourglassd: configuration refused "
                         "(1 error)\n" % path)
        code, out, err, path = self.check(
            "[Timeouts]\nWarnAfterSec=700\n" + rules)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(err, "%s: [Timeouts] WarnAfterSec=700: must be less "
                         "than ExpireAfterSec=600 (built-in default)\n"
                         "hourglassd: configuration refused (1 error)\n"
                         % path)
        # Given in [Timeouts] together, they are sound.
        code, out, err, path = self.check(
            "[Timeouts]\nMaxExtensions=2\nExtendBySec=300\n" + rules)
        self.assertEqual((code, err), (0, ""))

    def test_the_daemon_says_so_at_start(self):
        d = self.daemon({"Policy everyone": {"MaxSessionSec": 3600},
                         "Policy staff": {"MatchGroup": "kiosk-admins"}})
        d.wait_for_log(r"\[Policy staff\] can never match: \[Policy "
                       r"everyone\]")
        d.write_config({"Policy staff": {"MaxSessionSec": "soon"}})
        out = subprocess.run([hgtest.DAEMON, "--config", d.config_path],
                             env=d.environment(), capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("%s: [Policy staff] MaxSessionSec=soon: must be a whole "
                      "number" % d.config_path, out.stderr)
        self.assertIn("Configuration refused, not starting", out.stderr)


if __name__ == "__main__":
    hgtest.main()
