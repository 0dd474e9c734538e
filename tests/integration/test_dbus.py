#!/usr/bin/python3
"""The D-Bus service org.hourglass1 on a private system bus: the documented
interfaces against live introspection, listing, properties, signals,
authorization by uid and admin group, Extend against the absolute limit,
logind as an idle source (seat activity, logind restarting), the kiosk
reset unit, and running web-only without a bus."""

import math
import os
import re
import signal
import time
import xml.etree.ElementTree as ET

import dbus

import hgbus
import hgtest

NAME = "org.hourglass1"
MANAGER = "org.hourglass1.Manager"
SESSION = "org.hourglass1.Session"
PATH = "/org/hourglass1"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"
ALICE, BOB, ADMINS = 1001, 1002, 1500  # tests/data/passwd and group
SLACK = hgtest.SLACK


class DBusTest(hgtest.TestCase):
    def setUp(self):
        self.bus = hgbus.SystemBus()
        self.addCleanup(self.bus.close)

    def start(self, config=None):
        base = {"DBus": {"AdminGroup": "kiosk-admins"},
                "Timeouts": {"WarnAfterSec": 60, "ExpireAfterSec": 120}}
        config = hgtest.merge_config(base, config)
        d = hgbus.BusDaemon(self.bus, config=config, name=self._testMethodName)
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

    def login(self, user="alice"):
        before = {s[0] for s in self.manager().ListSessions()}
        token = self.c.login(user, "secret")
        new = [s for s in self.manager().ListSessions() if s[0] not in before]
        self.assertEqual(len(new), 1)
        return token, str(new[0][0]), str(new[0][4])

    def call(self, uid, method, *args, groups=None, path=PATH, iface=MANAGER):
        sig = "s" * len(args)
        return self.bus.call_as(uid, NAME, path, iface, method, sig, args,
                                groups=groups)

    # -- the contract --

    def test_introspection_matches_xml(self):
        self.start()
        token, sid, path = self.login()
        for iface, obj_path in ((MANAGER, PATH), (SESSION, path)):
            with self.subTest(iface=iface):
                xml_path = os.path.join(hgtest.SOURCE_ROOT, "dbus",
                                        iface + ".xml")
                documented = describe(ET.parse(xml_path).getroot(), iface)
                live_xml = self.bus.conn.get_object(NAME, obj_path).Introspect(
                    dbus_interface="org.freedesktop.DBus.Introspectable")
                live = describe(ET.fromstring(str(live_xml)), iface)
                self.assertEqual(documented, live)

    def test_list_get_and_properties(self):
        self.start()
        token, sid, path = self.login()
        sessions = [hgbus._plain(s) for s in self.manager().ListSessions()]
        self.assertIn([sid, "alice", "web", "active", path], sessions)
        self.assertEqual(str(self.manager().GetSession(sid)), path)
        self.assertTrue(path.startswith("/org/hourglass1/session/"))
        p = self.props(path)
        self.assertEqual((p["Id"], p["User"], p["Source"], p["State"]),
                         (sid, "alice", "web", "active"))
        now = time.time() * 1e6
        self.assertLess(abs(p["Created"] - now), 5e6)
        self.assertGreaterEqual(p["LastActivity"], p["Created"])
        self.assertAlmostEqual(p["WarnAt"] - p["LastActivity"], 60e6, delta=1e6)
        self.assertAlmostEqual(p["ExpiresAt"] - p["LastActivity"], 120e6,
                               delta=1e6)
        # A web session's page reports; it has not pinged yet.
        self.assertTrue(p["IdleKnown"])
        self.assertEqual(p["IdleSources"], [])
        self.c.ping(token, idle=0)
        [[name, method, last]] = self.props(path)["IdleSources"]
        self.assertEqual((name, method), ("page", "client.js"))
        self.assertLess(abs(last - hgtest.time.time() * 1e6), 5e6)
        m = self.bus.conn.get_object(NAME, PATH)
        limits = hgbus._plain(m.GetAll(MANAGER,
                                       dbus_interface=dbus.PROPERTIES_IFACE))
        self.assertEqual(limits, {"WarnAfterSec": 60, "ExpireAfterSec": 120,
                                  "MaxSessionSec": 28800, "CloseAfterSec": 0,
                                  "InhibitMaxSec": 0, "Waiting": False})
        # The policy's side: the fallback, no lock, no extensions.
        self.assertEqual((p["Policy"], p["Action"], p["Warning"], p["Stage"],
                          p["LockAt"], p["Extensions"], p["ExtensionsLeft"]),
                         ("", "", "", "active", 0, 0, 0))
        self.assertAlmostEqual(p["LimitAt"] - p["Created"], 28800e6,
                               delta=1e6)
        # Tokens never appear on the bus.
        self.assertNotIn(token, repr(p))
        self.assertEqual(self.call(None, "GetSession", "0" * 32)[1],
                         "org.hourglass1.Error.NoSuchSession")
        self.assertEqual(self.call(None, "GetSession", "../x")[1],
                         "org.freedesktop.DBus.Error.InvalidArgs")

    def test_authorization(self):
        self.start()
        token, sid, path = self.login("alice")
        # Anyone may read.
        self.assertEqual(self.call(BOB, "ListSessions")[0], "ok")
        # Others may neither end nor extend it.
        self.assertEqual(self.call(BOB, "TerminateSession", sid)[1], DENIED)
        self.assertEqual(self.call(BOB, "ExtendSession", sid)[1], DENIED)
        self.assertEqual(self.call(BOB, "Extend", path=path, iface=SESSION)[1],
                         DENIED)
        self.assertEqual(self.call(BOB, "RegisterDesktopSession", "c1")[1],
                         DENIED)
        # Its own user may extend it, not terminate it.
        self.assertEqual(self.call(ALICE, "ExtendSession", sid)[0], "ok")
        self.assertEqual(self.call(ALICE, "Extend", path=path,
                                   iface=SESSION)[0], "ok")
        self.assertEqual(self.call(ALICE, "TerminateSession", sid)[1], DENIED)
        self.assertEqual(self.c.session(token).status, 200)
        # The admin group may.
        self.assertEqual(self.call(BOB, "TerminateSession", sid,
                                   groups=[ADMINS])[0], "ok")
        r = self.c.session(token)
        self.assertEqual(r.json(), {"error": "session-ended",
                                    "reason": "terminated"})
        self.d.wait_for_log(r"terminated over D-Bus by uid %d" % BOB)
        # Root may; through the Session object too.
        token, sid, path = self.login("alice")
        self.assertEqual(self.call(0, "Terminate", path=path,
                                   iface=SESSION)[0], "ok")
        self.assertEqual(self.c.session(token).status, 401)

    def test_report_activity_only_by_its_own_user(self):
        self.start()
        token, sid, path = self.login("alice")
        self.assertEqual(self.props(path)["LogindSession"], "")

        def report(uid, idle=0, groups=None):
            return self.bus.call_as(uid, NAME, PATH, MANAGER, "ReportActivity",
                                    "su", (sid, idle), groups=groups)
        self.assertEqual(report(BOB)[1], DENIED)
        self.assertEqual(report(BOB, groups=[ADMINS])[1], DENIED)
        self.assertEqual(report(0)[1], DENIED)
        before = self.props(path)["LastActivity"]
        # The clock has moved on from it (µs since the epoch).
        hgtest.wait_until(lambda: time.time() * 1e6 > before + 1000)
        self.assertEqual(report(ALICE)[0], "ok")
        self.assertGreater(self.props(path)["LastActivity"], before)
        self.assertEqual(self.bus.call_as(ALICE, NAME, PATH, MANAGER,
                                          "ReportActivity", "su",
                                          ("0" * 32, 0))[1],
                         "org.hourglass1.Error.NoSuchSession")

    def test_signals(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start({"Timeouts": {"WarnAfterSec": 1, "ExpireAfterSec": 3}})
        token, sid, path = self.login()
        new = rec.wait_for("SessionNew", lambda s: s[3][0] == sid)
        self.assertEqual(new[3], [sid, path])
        warn = rec.wait_for("SessionWarning", lambda s: s[3][0] == sid,
                            timeout=1 + SLACK)
        self.assertIn(warn[3][2], (1, 2))
        changed = rec.wait_for("PropertiesChanged", path=path)
        self.assertEqual(changed[3][:2], [SESSION, {"State": "warning",
                                                    "Warning": "idle",
                                                    "Stage": "active"}])
        # Activity: back to active, announced.
        self.assertEqual(self.c.ping(token).json()["state"], "active")
        rec.wait_for("PropertiesChanged",
                     lambda s: s[3][1] == {"State": "active", "Warning": "",
                                           "Stage": "active"}, path=path)
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid,
                               timeout=3 + SLACK)
        self.assertEqual(removed[3], [sid, path, "idle-timeout"])

    def test_shutdown_is_announced(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        d = self.start()
        token, sid, path = self.login()
        d.stop()
        removed = rec.wait_for("SessionRemoved", lambda s: s[3][0] == sid)
        self.assertEqual(removed[3], [sid, path, "shutdown"])

    def test_times_invalidate_at_most_once_a_second(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        self.start()
        login_start = time.monotonic()
        token, sid, path = self.login()
        start = time.monotonic()
        pings = 0
        while time.monotonic() - start < 1.5:
            self.assertEqual(self.c.ping(token).status, 200)
            pings += 1
        last_ping = time.monotonic()
        inval = rec.wait_for("PropertiesChanged",
                             lambda s: s[3][2], path=path, timeout=1 + SLACK)
        self.assertEqual(inval[3][1], {})
        self.assertEqual(sorted(inval[3][2]),
                         ["Action", "AllowanceLeft", "ClosesAt",
                          "ExpireAfterSec", "ExpiresAt", "Extensions",
                          "ExtensionsLeft", "IdleKnown", "IdleSources",
                          "LastActivity", "LimitAt", "LimitReason", "LockAt",
                          "MaxSessionSec", "WarnAfterSec", "WarnAt"])

        def invalidations():
            return len([s for s in rec.matching("PropertiesChanged", path)
                        if s[3][2]])
        # One a second at most while the times changed (from the login to
        # the last ping), and the last one within a second after: none
        # more, however many pings there were.
        most = math.ceil(last_ping - login_start) + 1
        hgtest.assert_stays(lambda: invalidations() <= most,
                            max(0.0, last_ping + 1.5 - time.monotonic()),
                            "invalidations are coalesced")
        hgtest.note("%d pings, %d invalidations (at most %d)"
                    % (pings, invalidations(), most))

    def test_session_limits_are_its_rules_and_follow_a_reload(self):
        rec = hgbus.SignalRecorder(self.bus, sender_keyword=None)
        self.addCleanup(rec.close)
        d = self.start({"Policy tight": {
            "MatchUser": "alice", "WarnAfterSec": 20, "ExpireAfterSec": 40,
            "MaxSessionSec": 3600}})

        def limits(path):
            p = self.props(path)
            return (p["WarnAfterSec"], p["ExpireAfterSec"], p["MaxSessionSec"])
        _, _, path = self.login("alice")
        _, _, carol = self.login("carol")
        self.assertEqual(self.props(path)["Policy"], "tight")
        self.assertEqual(limits(path), (20, 40, 3600))
        # The Manager's are the fallback's, and so are carol's.
        m = hgbus._plain(self.bus.conn.get_object(NAME, PATH).GetAll(
            MANAGER, dbus_interface=dbus.PROPERTIES_IFACE))
        self.assertEqual((m["WarnAfterSec"], m["ExpireAfterSec"],
                          m["MaxSessionSec"]), (60, 120, 28800))
        self.assertEqual(limits(carol), (60, 120, 28800))

        def invalidations():
            return [s for s in rec.matching("PropertiesChanged", path)
                    if "WarnAfterSec" in s[3][2]]
        # Nothing touches the sessions meanwhile: only the reload's counts.
        before = len(invalidations())
        d.write_config({"Policy tight": {"WarnAfterSec": 10,
                                         "ExpireAfterSec": 30,
                                         "MaxSessionSec": 0}})
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_for_log(r"Configuration reloaded", after=mark, timeout=SLACK)
        hgtest.wait_until(lambda: len(invalidations()) > before, 1 + SLACK,
                          message="the reload did not invalidate the limits")
        self.assertEqual(limits(path), (10, 30, 0))
        p = self.props(path)
        self.assertAlmostEqual(p["WarnAt"] - p["LastActivity"], 10e6,
                               delta=1e6)
        self.assertEqual(limits(carol), (60, 120, 28800))

    def test_extend_cannot_pass_the_absolute_limit(self):
        # Extended again and again (each call a process of its own, well
        # within the 3 s idle limit): only MaxSessionSec ends it.
        self.start({"Timeouts": {"WarnAfterSec": 1, "ExpireAfterSec": 3,
                                 "MaxSessionSec": 4}})
        start = time.monotonic()
        token, sid, path = self.login()
        while self.c.session(token).status == 200:
            self.call(0, "ExtendSession", sid)
            self.assertLess(time.monotonic() - start, 4 + SLACK)
        elapsed = time.monotonic() - start
        hgtest.note("ended %.2f s after the login started (MaxSessionSec=4)"
                    % elapsed)
        self.assertEqual(self.c.session(token).json()["reason"], "max-age")
        self.assertGreaterEqual(elapsed, 4.0)

    # -- logind --

    def following(self, log_path):
        """The daemon is done looking up logind session c1 in the logind
        mock that logs to log_path: it asked for it, and, if the mock knew
        it by then, read its properties (having subscribed to their
        changes first). A mock that did not know it yet (logind back on the
        bus before the test added the session) leaves the subscription of
        before, which follows the name, in place."""
        def done():
            with open(log_path) as f:
                text = f.read()
            asked = text.find('GetSession "c1"')
            if asked < 0:
                return False
            known = text.find('AddSession "c1"')
            return not 0 <= known < asked or re.search(
                r"GetAll /org/freedesktop/login1/session/c1 "
                r"org\.freedesktop\.login1\.Session", text)
        hgtest.wait_until(done, SLACK,
                          message="hourglassd did not look up logind session c1")

    def test_logind_seat_input_is_web_activity(self):
        log = os.path.join(self.bus.tmp, "logind-1.log")
        mock, logind = self.bus.logind(log=log)
        # The mock makes a new session the seat's active one.
        logind.AddSession("c1", "seat0", dbus.UInt32(ALICE), "alice", True)
        self.start({"Idle": {"Sources": "page;logind"}})
        token, sid, path = self.login()
        c1 = self.bus.mock_object("org.freedesktop.login1",
                                  "/org/freedesktop/login1/session/c1")

        def set_idle(idle):
            c1.UpdateProperties("org.freedesktop.login1.Session", {
                "IdleHint": dbus.Boolean(idle),
                "IdleSinceHint": dbus.UInt64(int(time.time() * 1e6))})

        def last_activity():
            return self.props(path)["LastActivity"]

        self.following(log)
        before = last_activity()
        set_idle(True)
        set_idle(False)  # input on the kiosk: one activity
        hgtest.wait_until(lambda: last_activity() > before, SLACK)

        # logind restarts: followed again.
        self.bus.stop_mock(mock, "org.freedesktop.login1")
        log = os.path.join(self.bus.tmp, "logind-2.log")
        mock, logind = self.bus.logind(log=log)
        logind.AddSession("c1", "seat0", dbus.UInt32(ALICE), "alice", True)
        self.d.wait_for_log("logind appeared on the bus")
        c1 = self.bus.mock_object("org.freedesktop.login1",
                                  "/org/freedesktop/login1/session/c1")
        self.following(log)
        before = last_activity()
        set_idle(True)
        set_idle(False)
        hgtest.wait_until(lambda: last_activity() > before, SLACK)

    def test_logind_absent(self):
        self.start({"Idle": {"Sources": "page;logind"}})
        token, sid, path = self.login()
        self.assertEqual(self.c.ping(token).status, 200)
        self.assertTrue(self.d.alive())

    # -- the kiosk's hook --

    def test_session_end_starts_the_reset_unit(self):
        self.bus.start_mock(["org.freedesktop.systemd1",
                             "/org/freedesktop/systemd1",
                             "org.freedesktop.systemd1.Manager"],
                            "org.freedesktop.systemd1")
        systemd = self.bus.mock_object("org.freedesktop.systemd1",
                                       "/org/freedesktop/systemd1")
        systemd.AddMethod("", "StartUnit", "ss", "o",
                          'ret = "/org/freedesktop/systemd1/job/1"')
        self.start()
        token, sid, path = self.login()
        self.assertEqual(self.c.logout(token).status, 200)

        def started():
            return [c for c in systemd.GetCalls() if c[1] == "StartUnit"]
        calls = hgtest.wait_until(started, 5)
        self.assertEqual([str(a) for a in calls[0][2]],
                         ["hourglass-session-end@%s.service" % sid, "replace"])

    def test_unit_missing_is_not_fatal(self):
        self.start()
        token, sid, path = self.login()
        self.assertEqual(self.c.logout(token).status, 200)
        self.d.wait_for_log("No session-end unit to start")
        self.assertEqual(self.c.login_response("alice", "secret").status, 200)

    def test_systemd_refusing_is_not_fatal(self):
        # dbusmock's systemd template knows no unit it was not given (and
        # cannot be given ours: '@' is not allowed in its object paths), so
        # its StartUnit fails: logged, never fatal.
        self.bus.start_mock(["--template", "systemd"],
                            "org.freedesktop.systemd1")
        self.start()
        token, sid, path = self.login()
        self.assertEqual(self.c.logout(token).status, 200)
        self.d.wait_for_log("Cannot start the session-end unit|"
                            "No session-end unit to start")
        self.assertEqual(self.c.login_response("alice", "secret").status, 200)


class NoBusTest(hgtest.TestCase):
    def test_web_only_without_a_bus(self):
        d = self.daemon()
        d.wait_for_log("No system bus .*running web-only")
        c = d.client()
        self.assertEqual(c.session(c.login()).status, 200)


def describe(root, iface):
    """An interface's members as comparable data."""
    for node in root.iter("interface"):
        if node.get("name") != iface:
            continue
        out = {}
        for m in node.findall("method"):
            out["method " + m.get("name")] = [
                (a.get("name"), a.get("type"), a.get("direction", "in"))
                for a in m.findall("arg")]
        for s in node.findall("signal"):
            out["signal " + s.get("name")] = [
                (a.get("name"), a.get("type")) for a in s.findall("arg")]
        for p in node.findall("property"):
            emits = [a.get("value") for a in p.findall("annotation")
                     if a.get("name") ==
                     "org.freedesktop.DBus.Property.EmitsChangedSignal"]
            out["property " + p.get("name")] = (p.get("type"), p.get("access"),
                                                emits[0] if emits else "true")
        return out
    raise AssertionError("no interface %s" % iface)


if __name__ == "__main__":
    hgtest.main()
