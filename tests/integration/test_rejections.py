#!/usr/bin/python3
"""What the HTTP front refuses: foreign Host and Origin values, cross-site
API calls, non-JSON bodies, oversized bodies (declared, chunked and lying),
unknown routes and methods, and WebRoot paths that try to leave WebRoot."""

import json
import os
import select
import socket
import subprocess
import time

import hgtest

ASSETS = os.path.join(hgtest.SOURCE_ROOT, "web", "assets")
SECRET = b"TOP-SECRET-f00d-not-for-the-web"
SLACK = hgtest.SLACK
WEBROOT_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
STYLE_OVERRIDE = b"/* hourglass test: WebRoot style override */\nbody{}\n"
LOGIN_OVERRIDE = b"<!DOCTYPE html><title>kiosk login override</title>\n"


def asset(name):
    with open(os.path.join(ASSETS, name), "rb") as f:
        return f.read()


class GateTest(hgtest.TestCase):
    """Host, Origin, Sec-Fetch-Site and Content-Type."""

    @classmethod
    def setUpClass(cls):
        cls.d = hgtest.Daemon({"Http": {"AllowedHosts": "kiosk.example:{port};kiosk2.example"}},
                              name="gate")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            cls.d.close()

    def setUp(self):
        self.assertTrue(self.d.alive(), "the daemon died in an earlier test")
        self.c = self.d.client()
        self.port = self.d.port

    def assert_error(self, r, status, error):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json(), {"error": error}, r)
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_foreign_host(self):
        hosts = ["evil.example:%d" % self.port, "evil.example",
                 "127.0.0.1:%d" % (self.port + 1), "localhost",
                 "127.0.0.2:%d" % self.port, "kiosk.example",
                 "kiosk.example:%d" % (self.port + 1),
                 "127.0.0.1:%d.evil.example" % self.port, ""]
        for host in hosts:
            with self.subTest(host=host):
                self.assert_error(self.c.get("/", host=host), 403,
                                  "host-not-allowed")
                self.assert_error(self.c.get("/api/session", host=host), 403,
                                  "host-not-allowed")
                self.assert_error(self.c.post("/api/login",
                                              {"user": "alice", "password": "secret"},
                                              host=host), 403, "host-not-allowed")
                self.assert_error(self.c.get("/assets/style.css", host=host),
                                  403, "host-not-allowed")

    def test_missing_host(self):
        r = self.c.get("/", host=None)
        self.assertIn(r.status, (400, 403), r)

    def test_allowed_hosts(self):
        hosts = ["127.0.0.1:%d" % self.port, "localhost:%d" % self.port,
                 "[::1]:%d" % self.port, "kiosk.example:%d" % self.port,
                 "kiosk2.example"]
        for host in hosts:
            with self.subTest(host=host):
                c = self.d.client(host=host)
                r = c.get("/")
                self.assertEqual(r.status, 200, r)
                token = c.login("alice", "secret")
                r = c.session(token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(c.logout(token).status, 200)

    def test_post_needs_our_origin(self):
        token = self.c.login()
        host = self.d.host
        origins = [None, "", "null", "http://127.0.0.1:%d" % (self.port + 1),
                   "https://" + host, "http://evil.example:%d" % self.port,
                   "http://" + host + "/", "http://localhost:%d" % self.port,
                   "http://" + host + ".evil.example", "HTTP://" + host + "x"]
        routes = [("/api/login", {"user": "alice", "password": "secret"}),
                  ("/api/ping", {"idle": 0}), ("/api/logout", {})]
        for origin in origins:
            for path, body in routes:
                with self.subTest(origin=origin, path=path):
                    r = self.c.post(path, body, origin=origin, token=token)
                    self.assert_error(r, 403, "origin-not-allowed")
                    self.assertEqual(r.cookies, [])
        # Refused logouts did not end the session.
        self.assertEqual(self.c.session(token).status, 200)
        # Origin follows the Host the request came with.
        c = self.d.client(host="localhost:%d" % self.port)
        self.assertEqual(c.ping(token).status, 200)
        self.assert_error(c.ping(token, origin="http://" + host), 403,
                          "origin-not-allowed")
        self.c.logout(token)

    def test_sec_fetch_site(self):
        token = self.c.login()
        for value in ("cross-site", "same-site", "none"):
            with self.subTest(value=value):
                self.assert_error(self.c.session(token, sec_fetch_site=value),
                                  403, "cross-site")
                self.assert_error(self.c.ping(token, sec_fetch_site=value),
                                  403, "cross-site")
                self.assert_error(self.c.login_response(
                    "alice", "secret", sec_fetch_site=value), 403, "cross-site")
        for value in ("same-origin", None):
            with self.subTest(value=value):
                self.assertEqual(self.c.session(token, sec_fetch_site=value).status, 200)
                self.assertEqual(self.c.ping(token, sec_fetch_site=value).status, 200)
        # Pages may be opened from anywhere: typing the address, a link.
        for value in ("none", "cross-site"):
            with self.subTest(page=value):
                self.assertEqual(self.c.get("/", sec_fetch_site=value).status, 200)
        self.c.logout(token)

    def test_json_only(self):
        body = json.dumps({"user": "alice", "password": "secret"})
        for ctype in ("text/plain", "text/plain;charset=UTF-8",
                      "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=x", "application/jsonx",
                      "application/json-patch+json", "", None):
            with self.subTest(content_type=ctype):
                r = self.c.post("/api/login", body=body, content_type=ctype)
                self.assert_error(r, 415, "json-required")
        for ctype in ("application/json; charset=utf-8", "Application/JSON"):
            with self.subTest(content_type=ctype):
                r = self.c.post("/api/login", body=body, content_type=ctype)
                self.assertEqual(r.status, 200, r)
                self.c.logout(hgtest.session_token(r))

    def test_bad_json(self):
        token = self.c.login()
        bodies = [b"", b"{", b"not json", b"[]", b'"text"', b"1", b"null",
                  b'[{"user":"alice","password":"secret"}]', b"\xff\xfe{}"]
        for body in bodies:
            for path in ("/api/login", "/api/ping", "/api/logout"):
                with self.subTest(body=body, path=path):
                    r = self.c.post(path, body=body, token=token)
                    self.assertEqual(r.status, 400, r)
                    self.assertIn("error", r.json())
        self.assertEqual(self.c.session(token).status, 200)
        self.c.logout(token)

    def test_not_found(self):
        for path in ("/nope", "/index.html", "/api/nope", "/api", "/api/",
                     "/assets/nope.css", "/assets/", "/login.html",
                     "/session.html", "/api/login/x"):
            with self.subTest(path=path):
                self.assert_error(self.c.get(path), 404, "not-found")
        self.assert_error(self.c.post("/api/nope", {}), 404, "not-found")

    def test_wrong_method(self):
        cases = [("GET", "/api/login", "POST"), ("GET", "/api/ping", "POST"),
                 ("GET", "/api/logout", "POST"), ("PUT", "/api/ping", "POST"),
                 ("DELETE", "/api/session", "GET"),
                 ("POST", "/api/session", "GET"), ("DELETE", "/", "GET"),
                 ("PUT", "/", "GET"), ("POST", "/", "GET"),
                 ("OPTIONS", "/api/login", "POST"),
                 ("DELETE", "/assets/style.css", "GET")]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                body = b"{}" if method == "POST" else None
                r = self.c.request(method, path, body=body)
                self.assert_error(r, 405, "method-not-allowed")
                allowed = [m.strip() for m in (r.header("Allow") or "").split(",")]
                self.assertIn(allow, allowed, r.headers)
                self.assertNotIn(method, allowed)

    def test_still_alive(self):
        self.assertTrue(self.d.alive())
        self.assertEqual(self.c.get("/").status, 200)


class BodySizeTest(hgtest.TestCase):
    """Bodies over 4096 bytes: refused at once, and the server stays up."""

    def setUp(self):
        self.d = self.daemon()
        self.c = self.d.client()
        self.port = self.d.port

    def head(self, path="/api/login", extra=""):
        host = self.d.host
        return ("POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: http://%s\r\n"
                "Content-Type: application/json\r\n%s\r\n"
                % (path, host, host, extra)).encode()

    def login_body(self, size):
        base = {"user": "alice", "password": "secret", "pad": ""}
        pad = size - len(json.dumps(base, separators=(",", ":")))
        base["pad"] = "x" * pad
        body = json.dumps(base, separators=(",", ":")).encode()
        self.assertEqual(len(body), size)
        return body

    def assert_too_large(self, r):
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json(), {"error": "body-too-large"})

    def test_limit_is_4096(self):
        r = self.c.post("/api/login", body=self.login_body(4096))
        self.assertEqual(r.status, 200, r)
        r = self.c.post("/api/login", body=self.login_body(4097))
        self.assert_too_large(r)

    def test_declared_length_refused_before_the_body(self):
        # Only the headers: the answer must not wait for 10 MB.
        for length in ("4097", "10485760", "99999999999999999999999"):
            with self.subTest(length=length):
                r = self.c.raw(self.head(extra="Content-Length: %s\r\n" % length),
                               read_timeout=2 * SLACK)
                self.assertIn(r.status, (413, 400), r)
                if length != "99999999999999999999999":
                    self.assert_too_large(r)
                # Not when the body would have come (never: 30 s, the
                # connection timeout).
                self.assertLess(r.elapsed, SLACK)

    def test_chunked_without_length(self):
        chunk = b"x" * 1024
        pieces = [self.head(extra="Transfer-Encoding: chunked\r\n"),
                  b'400\r\n' + b'{"user":"alice","password":"secret","pad":"'
                  + chunk[:1024 - 43] + b'\r\n']
        pieces += [b"400\r\n" + chunk + b"\r\n"] * 8
        pieces += [b'2\r\n"}\r\n', b"0\r\n\r\n"]
        r = self.c.raw(pieces, read_timeout=2 * SLACK)
        self.assert_too_large(r)
        self.assertLess(r.elapsed, SLACK)
        # A big stream: refused, and quickly.
        pieces = [self.head(extra="Transfer-Encoding: chunked\r\n")]
        pieces += [b"1000\r\n" + b"y" * 4096 + b"\r\n"] * 256
        pieces += [b"0\r\n\r\n"]
        r = self.c.raw(pieces, read_timeout=2 * SLACK)
        self.assert_too_large(r)
        hgtest.note("a 1 MiB chunked body refused in %.3f s" % r.elapsed)
        self.assertLess(r.elapsed, SLACK)
        # A small chunked body is fine.
        body = b'{"user":"alice","password":"secret"}'
        r = self.c.raw([self.head(extra="Transfer-Encoding: chunked\r\n"),
                        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)])
        self.assertEqual(r.status, 200, r)

    def test_endless_chunked_stream_cut_short(self):
        # Over the cap and never ending: the server must say no (413) or
        # hang up soon, not swallow the stream for as long as it flows.
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            s.sendall(self.head(extra="Transfer-Encoding: chunked\r\n"))
            chunk = b"1000\r\n" + b"z" * 4096 + b"\r\n"
            start = time.monotonic()
            s.setblocking(False)
            answer = b""
            closed = False
            # Sends whenever the socket takes more, reads whenever the
            # server says something; for twice as long as it may take.
            while not closed:
                left = start + 2 * SLACK - time.monotonic()
                if left <= 0:
                    break
                readable, writable, _ = select.select([s], [s], [], left)
                if writable:
                    try:
                        s.send(chunk)
                    except BlockingIOError:
                        pass
                    except (BrokenPipeError, ConnectionResetError):
                        closed = True
                if readable:
                    try:
                        data = s.recv(65536)
                        if not data:
                            closed = True
                        answer += data
                        if b"\r\n\r\n" in answer:
                            break
                    except BlockingIOError:
                        pass
                    except ConnectionResetError:
                        closed = True
            elapsed = time.monotonic() - start
        finally:
            s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 413") or (closed and not answer),
                        "after %.1f s of an over-limit chunked body: answer %r, "
                        "closed %r" % (elapsed, answer[:100], closed))
        hgtest.note("an endless chunked body cut short after %.3f s" % elapsed)
        self.assertLess(elapsed, SLACK)
        self.assertTrue(self.d.alive())
        self.assertEqual(self.c.get("/").status, 200)

    def test_lying_length_does_not_block_others(self):
        # Declares 100 bytes, sends 10 and stalls: that connection waits,
        # everybody else is served.
        stalled = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(self.head(extra="Content-Length: 100\r\n") + b'{"user":"a')
            stalled.append(s)
        try:
            start = time.monotonic()
            token = self.c.login()
            self.assertEqual(self.c.session(token).status, 200)
            self.assertEqual(self.c.get("/").status, 200)
            # Not after the stalled ones (30 s, their connection timeout).
            self.assertLess(time.monotonic() - start, SLACK)
        finally:
            for s in stalled:
                s.close()
        self.assertEqual(self.c.get("/").status, 200)

    def test_huge_headers(self):
        # Headers past the connection's memory: refused at once (431),
        # whatever their size, and the server stays up.
        for n in (40000, 100000):
            for name, value in (("Cookie", "hourglass_session=" + "A" * n),
                                ("X-Big", "b" * n)):
                with self.subTest(header=name, size=n):
                    r = self.c.get("/api/session", headers=[(name, value)],
                                   timeout=5)
                    self.assertEqual(r.status, 431, r)
                    self.assertLess(r.elapsed, SLACK)
        self.assertTrue(self.d.alive())
        self.assertEqual(self.c.get("/").status, 200)

    def test_alive_after_all(self):
        self.c.raw(self.head(extra="Content-Length: 5000\r\n") + b"x" * 5000)
        self.c.raw([self.head(extra="Transfer-Encoding: chunked\r\n"),
                    b"zz\r\nbroken\r\n"], read_timeout=5)
        self.assertTrue(self.d.alive())
        self.assertEqual(self.c.get("/").status, 200)
        self.c.login()


class WebRootTest(hgtest.TestCase):
    """[Http] WebRoot overrides files, never serves anything outside it."""

    def setUp(self):
        self.top = None
        d = self.daemon({"Http": {"WebRoot": "{tmp}/webroot",
                                  "WebRootCsp": WEBROOT_CSP}}, start=False)
        root = os.path.join(d.tmp, "webroot")
        os.makedirs(os.path.join(root, "assets"))
        os.makedirs(os.path.join(d.tmp, "outside"))
        with open(os.path.join(root, "assets", "style.css"), "wb") as f:
            f.write(STYLE_OVERRIDE)
        with open(os.path.join(root, "login.html"), "wb") as f:
            f.write(LOGIN_OVERRIDE)
        # Files a traversal would reach.
        for path in ("secret.txt", "outside/secret.txt", "webroot/x",
                     "webroot/secret.css"):
            with open(os.path.join(d.tmp, path), "wb") as f:
                f.write(SECRET)
        os.symlink(os.path.join(d.tmp, "secret.txt"),
                   os.path.join(root, "assets", "link.css"))
        os.symlink("../../secret.txt", os.path.join(root, "assets", "rel.css"))
        os.symlink(os.path.join(d.tmp, "outside"),
                   os.path.join(root, "assets", "dir"))
        os.symlink(os.path.join(d.tmp, "secret.txt"),
                   os.path.join(root, "session.html"))
        self.d = d.start()
        self.c = d.client()

    def test_override_served_with_webroot_csp(self):
        r = self.c.get("/assets/style.css")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, STYLE_OVERRIDE)
        self.assertEqual(r.header("Content-Security-Policy"), WEBROOT_CSP)
        self.assertTrue(r.header("Content-Type").startswith("text/css"))
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        r = self.c.get("/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, LOGIN_OVERRIDE)
        self.assertEqual(r.header("Content-Security-Policy"), WEBROOT_CSP)

    def test_missing_file_falls_back_to_builtin(self):
        for name in ("login.js", "session.js", "strings.js"):
            with self.subTest(name=name):
                r = self.c.get("/assets/" + name)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, asset(name))
                self.assertNotIn("unsafe-inline", r.header("Content-Security-Policy"))

    def test_traversal_refused(self):
        paths = ["/assets/../x", "/assets/../secret.css",
                 "/assets/../../secret.txt", "/assets/%2e%2e/x",
                 "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/%2E%2E/x",
                 "/assets/..%2fx", "/assets/..%2f..%2fsecret.txt",
                 "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/assets//x",
                 "/assets/./../secret.css", "/assets/%00x", "/assets/x%00.css", "/assets/..\\x",
                 "/../secret.txt", "/%2e%2e/secret.txt",
                 "/assets/" + "a/" * 200 + "x"]
        for path in paths:
            with self.subTest(path=path):
                r = self.c.get(path)
                self.assertNotIn(SECRET, r.body)
                self.assertIn(r.status, (400, 404), r)
                if r.status == 404:
                    self.assertEqual(r.json(), {"error": "not-found"})

    def test_symlinks_refused(self):
        for path in ("/assets/link.css", "/assets/rel.css",
                     "/assets/dir/secret.txt"):
            with self.subTest(path=path):
                r = self.c.get(path)
                self.assertEqual(r.status, 404, r)
                self.assertNotIn(SECRET, r.body)
        # A symlinked page is refused too, not silently replaced.
        token = self.c.login()
        r = self.c.get("/", token=token)
        self.assertNotIn(SECRET, r.body)
        self.assertIn(r.status, (404, 500), r)
        self.assertTrue(self.d.alive())


class ReviewTest(hgtest.TestCase):
    """Findings of the security review that the gate and the routes fix."""

    def test_duplicate_host_is_refused_in_either_order(self):
        d = self.daemon()
        c = d.client(host=None)
        for hosts in ((d.host, "evil:1"), ("evil:1", d.host), (d.host, d.host)):
            with self.subTest(hosts=hosts):
                r = c.get("/", headers=[("Host", h) for h in hosts])
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json(), {"error": "duplicate-host"})

    def test_unknown_token_is_logged_without_the_token(self):
        d = self.daemon()
        # Ended tokens and requests without a cookie are not probes.
        live = d.client().login()
        d.client().logout(live)
        self.assertEqual(d.client().session(live).status, 401)
        self.assertEqual(d.client().get("/api/session").status, 401)
        token = hgtest.random_token()
        mark = d.log_mark()
        r = d.client().session(token)
        self.assertEqual(r.status, 401, r)
        d.wait_for_log(r"Request for /api/session with an unknown session "
                       r"token from uid %d" % os.geteuid(), after=mark)
        self.assertNotIn(token, d.log_text())
        self.assertEqual(d.log_text().count("unknown session token"), 1,
                         "only the unknown token was logged")
        # At most one such line a minute, whatever a prober sends.
        for _ in range(20):
            d.client().session(hgtest.random_token())
        self.assertEqual(d.client().get("/").status, 200)
        self.assertEqual(d.log_text().count("unknown session token"), 1)
    def test_cookie_is_good_only_from_the_uid_that_signed_in(self):
        """A page of another local user's server (another port of 127.0.0.1)
        is sent the cookie by the browser; replayed from that user's own
        process it is refused, and the session goes on."""
        if os.geteuid() != 0:
            self.skipTest("needs root: the replay runs as another uid")
        d = self.daemon()
        token = d.client().login()
        replay = (
            "import http.client, sys\n"
            "c = http.client.HTTPConnection('127.0.0.1', %d)\n"
            "c.request('GET', '/api/session', headers={'Host': %r,"
            " 'Cookie': 'hourglass_session=%s'})\n"
            "r = c.getresponse(); print(r.status, r.read().decode())\n"
            % (d.port, d.host, token))
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", "/usr/bin/python3", "-c",
                              replay], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.stdout.strip(),
                         '401 {"error":"no-session"}', out)
        d.wait_for_log(r"The session token of alice came from uid 65534, "
                       r"not from uid 0 that signed in: refused")
        self.assertNotIn(token, d.log_text())
        self.assertEqual(d.client().session(token).status, 200)


if __name__ == "__main__":
    hgtest.main()
