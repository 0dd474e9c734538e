"""Fixtures of hourglass's integration tests (Python standard library only).

A `Daemon` runs the real hourglassd from the build tree in a fresh temporary
directory: its own configuration (test defaults merged with what a test
asks for), its own pam_wrapper service directory (tests/data/pam.d plus
services for the test module pam_hgtest.so), fake users from nss_wrapper,
and its log (stderr, debug level) in a file. `Client` speaks HTTP to it with
every header under the test's control.

The only timers of the Python tests are here: wait_until() waits for a
condition with a deadline, assert_stays() says that nothing happens for a
bounded time. Nothing sleeps a fixed time to let something happen.
Deadlines are what is configured plus SLACK (a loaded 2-core machine, an
ASan build); a latency worth knowing is printed with note().

Every process a test starts goes through spawn() (or is a Daemon): killed
by PID and reaped when the run ends, however it ends (a failure, an
exception, SIGTERM or SIGHUP from meson's timeout), and the PAM helpers of
a daemon with it.

Environment (meson sets it, see meson.build; defaults for a run by hand):
  HG_BUILD_ROOT       build directory (default: <source>/build)
  HG_SOURCE_ROOT      source directory (default: two levels above this file)
  HG_TEST_PRELOAD     LD_PRELOAD for the daemon, ':'-separated; under ASan
                      the sanitizer runtime comes first
  HG_TEST_SANITIZE    meson's b_sanitize ('none', 'address,undefined', ...)
  HG_TEST_PAM_MODULE  full path of pam_hgtest.so
  HG_TEST_KEEP=1      keep every temporary directory (else only a failed
                      test's)
"""

import atexit
import ctypes
import errno
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SOURCE_ROOT = os.environ.get(
    "HG_SOURCE_ROOT",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD_ROOT = os.path.abspath(
    os.environ.get("HG_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build")))
DATA_DIR = os.path.join(SOURCE_ROOT, "tests", "data")
DAEMON = os.path.join(BUILD_ROOT, "daemon", "hourglassd")
HELPER_NAME = "hourglass-pam-helper"
COOKIE_NAME = "hourglass_session"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer")

_live_daemons = []
_live_procs = []

# Room on top of a configured time for a loaded 2-core machine or an ASan
# build: deadlines are the configured time plus this. What a test measures
# it prints (note()); it never asserts a tight bound on it.
SLACK = 5.0


def _compiler_file(name):
    """A library's full path as the C compiler finds it, or None."""
    try:
        out = subprocess.run(["cc", "-print-file-name=" + name],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    path = out.stdout.strip()
    return os.path.realpath(path) if path.startswith("/") else None


def _build_option(name):
    try:
        with open(os.path.join(BUILD_ROOT, "meson-info",
                               "intro-buildoptions.json")) as f:
            for opt in json.load(f):
                if opt["name"] == name:
                    return opt["value"]
    except (OSError, ValueError, KeyError):
        pass
    return None


SANITIZE = os.environ.get("HG_TEST_SANITIZE") or _build_option("b_sanitize") or "none"


def _default_preload():
    libs = []
    if "address" in SANITIZE:
        libs.append("libasan.so")
    libs += ["libpam_wrapper.so", "libnss_wrapper.so"]
    paths = [_compiler_file(lib) for lib in libs]
    if None in paths:
        raise RuntimeError("cannot find %s: install libpam-wrapper and "
                           "libnss-wrapper, or set HG_TEST_PRELOAD" % libs)
    # After pam_wrapper: it serializes pam_wrapper's start (tests/pam).
    serial = os.path.join(BUILD_ROOT, "tests/pam/pwrap-serial.so")
    if os.path.exists(serial):
        paths.append(serial)
    return ":".join(paths)


def preload():
    value = os.environ.get("HG_TEST_PRELOAD") or _default_preload()
    # ld.so takes ':' or ' '; normalize the compiler's ../.. paths.
    return ":".join(os.path.realpath(p) for p in re.split(r"[: ]+", value) if p)


def pam_module():
    path = os.environ.get("HG_TEST_PAM_MODULE") or os.path.join(
        BUILD_ROOT, "tests", "pam", "pam_hgtest.so")
    if not os.path.exists(path):
        raise RuntimeError("%s is missing: build the tests first" % path)
    return path


# --- processes ---------------------------------------------------------------

def _become_subreaper():
    """Helpers orphaned by a killed daemon become our children, so that a
    test can tell "exited" from "still running" and reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


_become_subreaper()


def _read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError as e:
        if e.errno in (errno.ESRCH, errno.ENOENT):
            return None
        raise


def proc_state(pid):
    """The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or None."""
    stat = _read("/proc/%d/stat" % pid)
    if not stat:
        return None
    return stat[stat.rindex(")") + 2]


def reap(pid):
    """Reaps pid if it is our exited child (orphans reparent to us)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def pid_running(pid):
    """True while pid exists and has not exited (a zombie has exited)."""
    reap(pid)
    state = proc_state(pid)
    return state is not None and state not in ("Z", "X")


def children_of(pid):
    kids = set()
    task_dir = "/proc/%d/task" % pid
    try:
        tasks = os.listdir(task_dir)
    except OSError:
        return kids
    for task in tasks:
        text = _read(os.path.join(task_dir, task, "children")) or ""
        kids.update(int(p) for p in text.split())
    return kids


def is_helper(pid):
    comm = (_read("/proc/%d/comm" % pid) or "").strip()
    return comm and HELPER_NAME.startswith(comm)


def _environ_has(pid, marker):
    env = _read("/proc/%d/environ" % pid, "rb")
    return env is not None and marker in env.split(b"\0")


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def spawn(args, **kw):
    """subprocess.Popen, registered: killed by PID and reaped when the run
    ends unless stopped before (stop_process())."""
    proc = subprocess.Popen(args, **kw)
    _live_procs.append(proc)
    return proc


def stop_process(proc, sig=signal.SIGTERM, timeout=10.0):
    """Ends a spawned process by PID: sig, SIGKILL after timeout seconds;
    reaped. Returns its exit status."""
    if proc.poll() is None:
        kill_pid(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in _live_procs:
        _live_procs.remove(proc)
    return proc.returncode


def _on_signal(signo, frame):
    # unittest lets KeyboardInterrupt through (SystemExit it would record
    # as one test's error, and go on): the run stops, the cleanups at exit
    # kill what is left.
    raise KeyboardInterrupt("signal %d" % signo)


if threading.current_thread() is threading.main_thread():
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(_sig) == signal.SIG_DFL:
            signal.signal(_sig, _on_signal)


def note(text):
    """A measurement for the test log: a '# ' line."""
    sys.stdout.write("# %s\n" % text)
    sys.stdout.flush()


def wait_until(predicate, timeout=5.0, interval=0.02, message=None):
    """Polls predicate until it returns something true, which is returned;
    fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or "condition not met within %.1f s: %r"
                                 % (timeout, predicate))
        time.sleep(interval)


def assert_stays(predicate, duration, message=None, interval=0.02):
    """'Nothing happens for duration seconds': predicate stays true all
    that time (checked every interval, and at the end); fails as soon as
    it is not. Returns its last value."""
    start = time.monotonic()
    end = start + duration
    while True:
        value = predicate()
        if not value:
            raise AssertionError("%s: broke after %.2f of %.2f s"
                                 % (message or repr(predicate),
                                    time.monotonic() - start, duration))
        now = time.monotonic()
        if now >= end:
            return value
        time.sleep(min(interval, end - now))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: get_all() for repeats
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        return self.headers.get(name)

    @property
    def cookies(self):
        """Every Set-Cookie value, in order."""
        return self.headers.get_all("Set-Cookie") or []

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


DEFAULT = object()  # "the usual value" where None means "no such header"


class Client:
    """HTTP requests to one daemon with explicit control of every header.
    Host defaults to the listen address, Origin (POST only) to http://Host,
    Content-Type (POST only) to application/json. Pass None to leave a
    header out, a value to set it."""

    def __init__(self, daemon, host=DEFAULT, timeout=10.0):
        self.daemon = daemon
        self.host = daemon.host if host is DEFAULT else host
        self.timeout = timeout

    def _headers(self, method, host, origin, content_type, cookie,
                 sec_fetch_site, token, headers):
        host = self.host if host is DEFAULT else host
        post = method == "POST"
        h = []
        if host is not None:
            h.append(("Host", host))
        if origin is DEFAULT:
            origin = "http://" + host if post and host is not None else None
        if origin is not None:
            h.append(("Origin", origin))
        if content_type is DEFAULT:
            content_type = "application/json" if post else None
        if content_type is not None:
            h.append(("Content-Type", content_type))
        if token is not None:
            h.append(("Cookie", "%s=%s" % (COOKIE_NAME, token)))
        if cookie is not None:
            h.append(("Cookie", cookie))
        if sec_fetch_site is not None:
            h.append(("Sec-Fetch-Site", sec_fetch_site))
        h.extend(headers or [])
        return h

    def request(self, method, path, body=None, json_body=DEFAULT, host=DEFAULT,
                origin=DEFAULT, content_type=DEFAULT, cookie=None, token=None,
                sec_fetch_site=None, headers=None, timeout=None):
        if json_body is not DEFAULT:
            body = json.dumps(json_body).encode()
        if isinstance(body, str):
            body = body.encode()
        hdrs = self._headers(method, host, origin, content_type, cookie,
                             sec_fetch_site, token, headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port,
                                          timeout=timeout or self.timeout)
        start = time.monotonic()
        try:
            conn.putrequest(method, path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in hdrs:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.msg, data,
                            time.monotonic() - start)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj=None, **kw):
        """POST obj as JSON (or body=... raw bytes)."""
        if obj is not None:
            kw["json_body"] = obj
        return self.request("POST", path, **kw)

    def raw(self, data, method="POST", timeout=None, read_timeout=None):
        """Sends bytes as they are (request line, headers, body, chunks,
        lies) and reads one response. Send errors after the server has
        answered (it may close early) are ignored."""
        sock = socket.create_connection(("127.0.0.1", self.daemon.port),
                                        timeout=timeout or self.timeout)
        start = time.monotonic()
        try:
            pieces = data if isinstance(data, (list, tuple)) else [data]
            for piece in pieces:
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
            if read_timeout is not None:
                sock.settimeout(read_timeout)
            resp = http.client.HTTPResponse(sock, method=method)
            resp.begin()
            body = resp.read()
            return Response(resp.status, resp.msg, body,
                            time.monotonic() - start)
        finally:
            sock.close()

    def login_response(self, user, password, **kw):
        return self.post("/api/login", {"user": user, "password": password},
                         **kw)

    def login(self, user="alice", password="secret", **kw):
        """Signs in; returns the session token from the cookie."""
        r = self.login_response(user, password, **kw)
        if r.status != 200:
            raise AssertionError("login of %s: %r" % (user, r))
        token = session_token(r)
        if not token:
            raise AssertionError("login of %s: no session cookie in %r"
                                 % (user, r.cookies))
        return token

    def session(self, token, **kw):
        return self.get("/api/session", token=token, **kw)

    def ping(self, token, idle=0, **kw):
        return self.post("/api/ping", {"idle": idle}, token=token, **kw)

    def logout(self, token, **kw):
        return self.post("/api/logout", {}, token=token, **kw)


def session_token(response):
    for c in response.cookies:
        m = re.match(r"^%s=([^;]*)" % COOKIE_NAME, c)
        if m and m.group(1):
            return m.group(1)
    return None


# --- the daemon --------------------------------------------------------------

def default_config():
    return {
        "Http": {"Listen": "127.0.0.1:{port}"},
        # HelperTimeoutSec stays at its default (30 s): a helper slowed by
        # a busy machine or ASan must not fail a login. Tests of hung
        # helpers set their own. Helpers are forked by the daemon, whoever
        # runs the tests (the socket side has its own tests).
        "Pam": {"Service": "hourglass-test", "FailDelayMSec": "100",
                "Helper": "fork"},
        # The browser-close rule ends sessions without requests: off unless
        # a test is about it.
        "Timeouts": {"CloseAfterSec": "0"},
        "Idle": {"Sources": "page"},
        # The global login brake is for its own tests: here many logins
        # come in a burst.
        "Limits": {"LoginRatePerSec": "1000"},
    }


def merge_config(base, updates):
    """Group by group, key by key; a value None removes the key."""
    out = {g: dict(keys) for g, keys in base.items()}
    for group, keys in (updates or {}).items():
        out.setdefault(group, {})
        for key, value in keys.items():
            if value is None:
                out[group].pop(key, None)
            else:
                out[group][key] = str(value)
    return out


class Daemon:
    """hourglassd in a temporary directory. Use as a context manager or
    call start()/stop(); close() (also at exit) kills whatever is left."""

    def __init__(self, config=None, services=None, name="hg", env=None):
        self.tmp = tempfile.mkdtemp(prefix="hg-it-%s-" % name)
        self.extra_env = dict(env or {})  # TZ, STATE_DIRECTORY, ...
        self.config = merge_config(default_config(), config)
        self.config_path = os.path.join(self.tmp, "hourglass.conf")
        self.log_path = os.path.join(self.tmp, "hourglassd.log")
        self.pam_log_path = os.path.join(self.tmp, "pam-calls.log")
        self.pam_dir = os.path.join(self.tmp, "pam.d")
        self.marker = ("HOURGLASS_TEST_RUN=" + self.tmp).encode()
        self.port = None
        self.proc = None
        self.returncode = None
        self.keep = os.environ.get("HG_TEST_KEEP") == "1"
        self.seen_helpers = set()
        try:
            self._setup_pam(services or {})
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        _live_daemons.append(self)

    # -- set-up --

    def _setup_pam(self, services):
        os.mkdir(self.pam_dir)
        for name in os.listdir(os.path.join(DATA_DIR, "pam.d")):
            shutil.copy(os.path.join(DATA_DIR, "pam.d", name), self.pam_dir)
        # pam_matrix checks the service name against tests/data/passdb, so
        # the tests keep the name hourglass-test; pam_hgtest joins its
        # session stack to record the PAM session's open and close.
        with open(os.path.join(self.pam_dir, "hourglass-test"), "a") as f:
            f.write("session  required %s log=%s\n"
                    % (pam_module(), self.pam_log_path))
        for name, text in services.items():
            self.add_service(name, text)

    def add_service(self, name, text):
        with open(os.path.join(self.pam_dir, name), "w") as f:
            f.write(text)

    def hgtest_service(self, name, *auth_args, password="secret"):
        """A service of pam_hgtest alone: auth with the given arguments
        (hold=FIFO, crash, only_user=U, ...), every call logged."""
        module = pam_module()
        log = "log=" + self.pam_log_path
        auth = " ".join(["password=" + password, log] + list(auth_args))
        self.add_service(name, (
            "auth     required %s %s\n"
            "account  required %s %s\n"
            "password required %s %s\n"
            "session  required %s %s\n") % (module, auth, module, log,
                                             module, log, module, log))
        return name

    def _format(self, value):
        return value.replace("{port}", str(self.port)).replace("{tmp}", self.tmp)

    def config_text(self, config=None):
        lines = []
        for group, keys in (config or self.config).items():
            if not keys:
                continue
            lines.append("[%s]" % group)
            lines += ["%s=%s" % (k, self._format(v)) for k, v in keys.items()]
            lines.append("")
        return "\n".join(lines)

    def write_config(self, updates=None, text=None):
        """Rewrites the config file: merged updates, or text as it is."""
        if updates is not None:
            self.config = merge_config(self.config, updates)
        with open(self.config_path, "w") as f:
            f.write(text if text is not None else self.config_text())

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LD_", "PAM_", "NSS_WRAPPER", "HOURGLASS_",
                                    "ASAN_", "UBSAN_", "LSAN_", "DBUS_",
                                    "STATE_DIRECTORY", "RUNTIME_DIRECTORY"))}
        env.update({
            "LD_PRELOAD": preload(),
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.pam_dir,
            "PAM_MATRIX_PASSWD": os.path.join(DATA_DIR, "passdb"),
            "NSS_WRAPPER_PASSWD": os.path.join(DATA_DIR, "passwd"),
            "NSS_WRAPPER_GROUP": os.path.join(DATA_DIR, "group"),
            "HOURGLASS_LOG": "stderr",
            "HOURGLASS_LOG_LEVEL": "debug",
            # Passed on to the helpers: how close() finds them all.
            "HOURGLASS_TEST_RUN": self.tmp,
            # Never the machine's own bus.
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + os.path.join(self.tmp, "no-bus"),
        })
        if SANITIZE != "none":
            # ASan refuses RTLD_DEEPBIND, which the wrappers use by default.
            env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["NSS_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["ASAN_OPTIONS"] = ("detect_leaks=1:halt_on_error=1:"
                                   "abort_on_error=0:exitcode=66:print_summary=1")
            env["UBSAN_OPTIONS"] = ("print_stacktrace=1:halt_on_error=1:"
                                    "exitcode=67")
            env["LSAN_OPTIONS"] = "print_suppressions=0"
        env.update({k: self._format(v) for k, v in self.extra_env.items()})
        return env

    # -- life --

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def client(self, **kw):
        return Client(self, **kw)

    def _popen(self, log):
        return subprocess.Popen(
            [DAEMON, "--config", self.config_path],
            env=self.environment(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=log, cwd=self.tmp)

    def start(self, timeout=15.0, same_port=False):
        """Starts the daemon on a free port (same_port: the one it had)."""
        fixed_listen = same_port or \
            "{port}" not in self.config["Http"].get("Listen", "")
        for _attempt in range(5):
            if not same_port:
                self.port = free_port()
            self.write_config()
            mark = self.log_mark()
            with open(self.log_path, "ab") as log:
                self.proc = self._popen(log)
            if self._wait_listening(timeout):
                return self
            if fixed_listen or "Cannot listen" not in self.log_text()[mark:]:
                break
            # Another program took the free port meanwhile: try another.
        raise AssertionError("hourglassd did not start (exit %r); log:\n%s"
                             % (self.proc.returncode, self.log_tail()))

    def _wait_listening(self, timeout):
        """True once the daemon takes connections; False if it exited or
        did not listen within timeout."""
        def listening_or_exited():
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                return "exited"
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=0.5).close()
                return "listening"
            except OSError:
                return None
        try:
            return wait_until(listening_or_exited, timeout) == "listening"
        except AssertionError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10.0, expect_code=0):
        """SIGTERM; the daemon must exit with expect_code within timeout,
        with no sanitizer report in its log."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
            raise AssertionError("hourglassd did not exit within %.0f s of "
                                 "SIGTERM (killed); log:\n%s"
                                 % (timeout, self.log_tail()))
        if self.returncode != expect_code:
            raise AssertionError("hourglassd exited with %r, expected %r; log:\n%s"
                                 % (self.returncode, expect_code, self.log_tail()))
        self.check_sanitizers()
        return self.returncode

    def kill(self):
        """SIGKILL, as a crash would: nothing of ours runs in the daemon."""
        if self.alive():
            self.proc.kill()
        self.returncode = self.proc.wait()
        return self.returncode

    def check_sanitizers(self):
        m = SANITIZER_RE.search(self.log_text())
        if m:
            raise AssertionError("sanitizer report in the log:\n%s"
                                 % self.log_text()[max(0, m.start() - 2000):m.start() + 6000])

    def close(self):
        """Kills the daemon and every helper it started (found by the
        marker in their environment), by PID."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.all_helper_pids():
            kill_pid(pid)
        for pid in self.all_helper_pids(include_exited=True):
            reap(pid)
        for pid in list(self.seen_helpers):
            reap(pid)
        if self in _live_daemons:
            _live_daemons.remove(self)
        if not self.keep and os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self.alive():
                self.stop()
        finally:
            if exc_type is not None:
                self.keep = True
            self.close()
        return False

    # -- the log --

    def log_text(self):
        return _read(self.log_path, "rb").decode("utf-8", "replace") \
            if os.path.exists(self.log_path) else ""

    def log_mark(self):
        """A position in the log: wait_for_log(after=mark) looks past it."""
        return len(self.log_text())

    def log_tail(self, chars=6000):
        return self.log_text()[-chars:]

    def wait_for_log(self, regex, timeout=5.0, after=0):
        pattern = re.compile(regex)

        def found():
            return pattern.search(self.log_text(), after)
        try:
            return wait_until(found, timeout)
        except AssertionError:
            raise AssertionError("no log line matching %r within %.1f s; log:\n%s"
                                 % (regex, timeout, self.log_tail())) from None

    def pam_calls(self):
        """Lines written by pam_hgtest: (call, user, pid)."""
        text = _read(self.pam_log_path) or ""
        return [tuple(re.match(r"(\S+) user=(\S*) pid=(\d+)", line).groups())
                for line in text.splitlines() if line]

    def wait_for_pam_call(self, call, user, timeout=5.0):
        def found():
            return [int(p) for c, u, p in self.pam_calls()
                    if c == call and u == user]
        return wait_until(found, timeout,
                          message="pam_hgtest did not see %s of %s: %r"
                          % (call, user, self.pam_calls()))

    # -- helpers --

    def helper_pids(self, include_exited=False):
        """The daemon's children that are PAM helpers (not yet exited)."""
        if not self.alive():
            return []
        pids = sorted(p for p in children_of(self.pid) if is_helper(p)
                      and (include_exited or pid_running(p)))
        self.seen_helpers.update(pids)
        return pids

    def all_helper_pids(self, include_exited=False):
        """Every helper this daemon started, orphans included."""
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if is_helper(pid) and _environ_has(pid, self.marker) and \
                    (include_exited or pid_running(pid)):
                pids.append(pid)
        self.seen_helpers.update(pids)
        return sorted(pids)

    def wait_for_helpers(self, count, timeout=5.0):
        return wait_until(lambda: len(self.helper_pids()) == count and
                          self.helper_pids(), timeout,
                          message="expected %d helpers, have %r"
                          % (count, self.helper_pids()))


@atexit.register
def _kill_everything():
    for d in list(_live_daemons):
        d.close()
    for proc in reversed(list(_live_procs)):
        stop_process(proc, signal.SIGKILL)


class TestCase(unittest.TestCase):
    """Starts daemons that are stopped (checked) and cleaned up after the
    test; a failed test keeps its temporary directory and prints its log."""

    def daemon(self, config=None, services=None, start=True, **kw):
        d = Daemon(config=config, services=services, name=self._testMethodName, **kw)
        self.addCleanup(self._finish_daemon, d)
        if start:
            d.start()
        return d

    def _failed(self):
        result = getattr(self, "_hg_result", None)
        if result is None:
            return False
        return len(result.failures) + len(result.errors) > self._hg_bad_before

    def run(self, result=None):
        if result is not None:
            self._hg_result = result
            self._hg_bad_before = len(result.failures) + len(result.errors)
        return super().run(result)

    def _finish_daemon(self, d):
        try:
            if d.alive():
                d.stop()
        except BaseException:
            d.keep = True
            raise
        finally:
            if self._failed() or d.keep:
                d.keep = True
                sys.stderr.write("\n--- %s: kept %s; daemon log tail:\n%s\n---\n"
                                 % (self.id(), d.tmp, d.log_tail()))
            d.close()

    def scratch_dir(self):
        """A temporary directory of this test's, removed after it unless it
        failed (then kept, and named)."""
        path = tempfile.mkdtemp(prefix="hg-%s-" % self._testMethodName)

        def remove():
            if self._failed() or os.environ.get("HG_TEST_KEEP") == "1":
                sys.stderr.write("\n--- %s: kept %s\n" % (self.id(), path))
            else:
                shutil.rmtree(path, ignore_errors=True)
        self.addCleanup(remove)
        return path

    def assertGone(self, pids, timeout=5.0):
        """Every pid exits (or is reaped) within timeout."""
        wait_until(lambda: not [p for p in pids if pid_running(p)], timeout,
                   message="still running after %.1f s: %r"
                   % (timeout, [p for p in pids if pid_running(p)]))


class Hold:
    """A FIFO for pam_hgtest's hold=PATH: its authenticate waits until
    release() (or forever: a hung module)."""

    def __init__(self, directory, name="hold"):
        self.path = os.path.join(directory, name)
        os.mkfifo(self.path, 0o600)

    def arg(self):
        return "hold=" + self.path

    def release(self, timeout=5.0):
        """Lets the module that waits on it go on (waiting for it to be
        there: it opens the FIFO after logging its call)."""
        def opened():
            try:
                return os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:  # no reader yet
                    return None
                raise
        fd = wait_until(opened, timeout,
                        message="no module waits on " + self.path)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)


def random_token():
    return secrets.token_urlsafe(32)[:43]


def main():
    unittest.main(verbosity=2, buffer=False)
