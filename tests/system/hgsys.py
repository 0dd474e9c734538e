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
  HG_SYSTEM_BUILD_DIR   the /usr build (default: $HG_BUILD_ROOT/system-tier)
  HG_SYSTEM_CACHE       the cached root's directory
  HG_SYSTEM_RUNS        where the per-run copies go
  HG_SYSTEM_KEEP=1      leave the machine running at the end and say how to
                        enter it and stop it
  HG_SYSTEM_REQUIRE=1   a missing prerequisite fails (exit 1), not skips (77)
"""

import ctypes
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HG_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(HERE)))
BUILD_ROOT = os.path.abspath(os.environ.get(
    "HG_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build")))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))
import hgtest  # noqa: E402  (HTTP client, waits)

SYSTEM_BUILD_DIR = os.environ.get("HG_SYSTEM_BUILD_DIR",
                                  os.path.join(BUILD_ROOT, "system-tier"))
CACHE_DIR = os.environ.get("HG_SYSTEM_CACHE", "/var/cache/hourglass-system-test")
RUNS_DIR = os.environ.get("HG_SYSTEM_RUNS", "/var/tmp/hourglass-system-test")
KEEP = os.environ.get("HG_SYSTEM_KEEP") == "1"
REQUIRE = os.environ.get("HG_SYSTEM_REQUIRE") == "1"

# What the root holds besides the product's runtime libraries: an init, a
# bus, logind and pam_systemd, account tools, su/login, ps/pgrep, script.
# Changing this list rebuilds the cache; EXTRA_PACKAGES are only added to it.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "libpam-systemd", "passwd",
                 "login", "procps", "util-linux", "bsdutils"]
EXTRA_PACKAGES = []
CACHE_FORMAT = 1
SKIP_EXIT = 77
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DROPIN = "/etc/hourglass/hourglass.conf.d/50-system-test.conf"
UNIT = "hourglassd.service"


class Skip(Exception):
    """The tier cannot run here; the message says why."""


def log(message):
    sys.stderr.write("hgsys: %s\n" % message)
    sys.stderr.flush()


def run_host(args, timeout=600, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    r = subprocess.run(args, timeout=timeout, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s"
                           % (shlex.join(args), r.returncode,
                              (r.stdout or "")[-4000:]))
    return r


class Lock:
    """An exclusive flock on a file: one process builds, the others wait."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None


# --- prerequisites ------------------------------------------------------------

def check_prerequisites():
    if os.geteuid() != 0:
        raise Skip("system tests need root (debootstrap, systemd-nspawn, "
                   "nsenter); running as uid %d" % os.geteuid())
    missing = [p for p, tool in (("systemd-container", "systemd-nspawn"),
                                 ("debootstrap", "debootstrap"),
                                 ("util-linux", "nsenter"),
                                 ("meson", "meson"), ("ninja-build", "ninja"))
               if not shutil.which(tool)]
    if missing:
        raise Skip("missing packages: %s (tools/install-deps installs them)"
                   % " ".join(missing))
    if not os.path.exists("/sys/fs/cgroup") or not os.listdir("/sys/fs/cgroup"):
        raise Skip("no cgroup file system at /sys/fs/cgroup: systemd cannot "
                   "boot in a container here")


def host_release():
    """(codename, dpkg architecture) of the host."""
    codename = None
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    if not codename:
        raise Skip("/etc/os-release names no VERSION_CODENAME")
    arch = run_host(["dpkg", "--print-architecture"]).stdout.strip()
    return codename, arch


# --- the host's apt sources ------------------------------------------------------

def _deb822_stanzas(text):
    stanza, key = {}, None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
        elif line[0] in " \t" and key:
            stanza[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            stanza[key] = value.strip()


def _source_entries():
    """(uri, suite, components) of every enabled 'deb' entry of apt's
    sources, in apt's order."""
    paths = ["/etc/apt/sources.list"]
    d = "/etc/apt/sources.list.d"
    if os.path.isdir(d):
        paths += [os.path.join(d, n) for n in sorted(os.listdir(d))
                  if n.endswith((".list", ".sources"))]
    for path in paths:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for s in _deb822_stanzas(text):
                if s.get("enabled", "yes").lower() == "no":
                    continue
                if "deb" not in s.get("types", "").split():
                    continue
                for uri in s.get("uris", "").split():
                    for suite in s.get("suites", "").split():
                        yield uri, suite, s.get("components", "").split()
        else:
            for line in text.splitlines():
                line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0])
                words = line.split()
                if len(words) >= 4 and words[0] == "deb":
                    yield words[1], words[2], words[3:]


def debian_sources(codename):
    """The host's entries for the release's own suites (CODENAME,
    CODENAME-updates, CODENAME-security) with 'main': [(uri, suite)].
    Third-party repositories name other suites and are left out."""
    wanted = (codename, codename + "-updates", codename + "-security")
    out = []
    for uri, suite, components in _source_entries():
        if suite in wanted and "main" in components and \
                uri.startswith(("http://", "https://")) and (uri, suite) not in out:
            out.append((uri.rstrip("/"), suite))
    return out


def mirror_reachable(uri, suite, timeout=15):
    url = "%s/dists/%s/InRelease" % (uri, suite)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"),
                                    timeout=timeout):
            return None
    except (urllib.error.URLError, OSError) as e:
        return str(getattr(e, "reason", e))


# --- the cached root -------------------------------------------------------------

class RootCache:
    """A debootstrapped root of the host's release, with the product's
    runtime packages. `ensure(packages)` returns its path, building or
    topping it up under a lock; callers copy it while holding the lock."""

    def __init__(self):
        self.codename, self.arch = host_release()
        self.dir = os.path.join(CACHE_DIR, "%s-%s" % (self.codename, self.arch))
        self.root = os.path.join(self.dir, "root")
        self.stamp = os.path.join(self.dir, "cache.json")
        self.lock = Lock(self.dir + ".lock")
        self.sources = None

    def _stamp_ok(self):
        try:
            with open(self.stamp) as f:
                s = json.load(f)
        except (OSError, ValueError):
            return False
        return s.get("format") == CACHE_FORMAT and \
            s.get("base") == sorted(BASE_PACKAGES) and os.path.isdir(self.root)

    def _mirror(self):
        """The host's Debian sources, checked to answer; Skip otherwise."""
        if self.sources is None:
            sources = debian_sources(self.codename)
            main = [u for u, s in sources if s == self.codename]
            if not main:
                raise Skip("the host's apt sources name no Debian mirror for "
                           "'%s main'" % self.codename)
            why = mirror_reachable(main[0], self.codename)
            if why:
                raise Skip("Debian's package mirror (%s) does not answer: %s"
                           % (main[0], why))
            self.sources = sources
        return self.sources

    def chroot(self, root, args, timeout=900):
        """Runs args in root with /proc mounted in a private mount
        namespace (gone when the command ends)."""
        script = ('mount -t proc proc "$1/proc" && shift && '
                  'exec chroot "$@"')
        env = {"PATH": CONTAINER_PATH, "LANG": "C.UTF-8",
               "DEBIAN_FRONTEND": "noninteractive"}
        return run_host(["unshare", "--mount", "--propagation", "private",
                         "sh", "-c", script, "sh", root, root] + list(args),
                        timeout=timeout, env=env)

    def _apt(self, root, *args):
        return self.chroot(root, ["apt-get", "-q", "-y",
                                  "-o", "Dpkg::Options::=--force-confold"]
                           + list(args))

    def _write_sources(self, root):
        with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
            f.write("# Debian's package mirror, as the host's apt sources "
                    "name it (written by hgsys.py)\n")
            for uri, suite in self._mirror():
                f.write("deb %s %s main\n" % (uri, suite))

    def _build(self, packages):
        mirror = [u for u, s in self._mirror() if s == self.codename][0]
        new = self.root + ".new"
        shutil.rmtree(new, ignore_errors=True)
        started = time.monotonic()
        log("debootstrap %s (%s) into %s ..." % (self.codename, self.arch, new))
        args = ["debootstrap", "--variant=minbase", "--components=main",
                "--arch=" + self.arch,
                "--include=" + ",".join(sorted(set(BASE_PACKAGES + packages)))]
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        if os.path.exists(keyring):
            args.append("--keyring=" + keyring)
        r = run_host(args + [self.codename, new, mirror], check=False)
        if r.returncode != 0:
            tail = r.stdout[-3000:]
            try:
                with open(os.path.join(new, "debootstrap/debootstrap.log")) as f:
                    tail += "\n--- debootstrap.log:\n" + f.read()[-3000:]
            except OSError:
                pass
            shutil.rmtree(new, ignore_errors=True)
            raise RuntimeError("debootstrap failed (exit %d):\n%s"
                               % (r.returncode, tail))
        self._write_sources(new)
        self._apt(new, "update")
        self._apt(new, "upgrade")
        self._apt(new, "clean")
        # A persistent journal: a kept run can be read after power-off with
        # journalctl -D RUN/root/var/log/journal.
        os.makedirs(os.path.join(new, "var/log/journal"), exist_ok=True)
        with open(os.path.join(new, "etc/hostname"), "w") as f:
            f.write("hgsys\n")
        shutil.rmtree(self.root, ignore_errors=True)
        os.rename(new, self.root)
        with open(self.stamp, "w") as f:
            json.dump({"format": CACHE_FORMAT, "base": sorted(BASE_PACKAGES),
                       "codename": self.codename, "arch": self.arch,
                       "created": time.time()}, f)
        log("root built in %.1f s" % (time.monotonic() - started))

    def missing(self, packages):
        r = run_host(["chroot", self.root, "dpkg-query", "-W",
                      "-f=${Package} ${Status}\\n"] + packages, check=False)
        have = {line.split()[0] for line in r.stdout.splitlines()
                if line.endswith(" installed")}
        return [p for p in packages if p.split(":")[0] not in have]

    def ensure(self, packages):
        """Call with self.lock held."""
        packages = sorted(set(packages + EXTRA_PACKAGES))
        if not self._stamp_ok():
            self._build(packages)
        todo = self.missing(packages)
        if todo:
            log("adding %s to the cached root" % " ".join(todo))
            self._write_sources(self.root)
            self._apt(self.root, "update")
            self._apt(self.root, "install", "--no-install-recommends", *todo)
            self._apt(self.root, "clean")
        return self.root


# --- the product, built for /usr ----------------------------------------------------

class ProductBuild:
    """The source tree configured as the README's Install section says, in
    a build directory of its own (the test build has another prefix)."""

    def __init__(self, path=SYSTEM_BUILD_DIR):
        self.path = path
        self.lock = Lock(path + ".lock")

    def build(self):
        """Call with self.lock held."""
        setup_log = self.path + ".setup.log"
        if not os.path.exists(os.path.join(self.path, "build.ninja")):
            shutil.rmtree(self.path, ignore_errors=True)
            with open(setup_log, "w") as f:
                r = subprocess.run(
                    ["meson", "setup", self.path, SOURCE_ROOT, "--prefix=/usr",
                     "--sysconfdir=/etc", "--buildtype=debugoptimized",
                     "-Dtests=false"], stdout=f, stderr=subprocess.STDOUT,
                    timeout=600)
            if r.returncode != 0:
                with open(setup_log) as f:
                    raise RuntimeError("meson setup of the /usr build failed:\n"
                                       + f.read()[-4000:])
        run_host(["ninja", "-C", self.path])

    def installed_files(self):
        r = run_host(["meson", "introspect", "--installed", self.path],
                     stderr=subprocess.DEVNULL)
        return json.loads(r.stdout)

    def runtime_packages(self):
        """Debian packages of the shared libraries the installed programs
        and modules load (ldd on the built files, dpkg -S on the host)."""
        libs = set()
        for built in self.installed_files():
            with open(built, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            out = run_host(["ldd", built], check=False).stdout
            libs.update(m.group(1) for m in re.finditer(r"=> (/\S+)", out))
        candidates = {}
        for lib in libs:
            real = os.path.realpath(lib)
            names = {lib, real}
            for n in list(names):  # merged /usr: dpkg knows one of the two
                names.add(n[4:] if n.startswith("/usr/") else "/usr" + n)
            candidates[lib] = names
        all_names = sorted(set().union(*candidates.values())) if candidates else []
        out = run_host(["dpkg", "-S"] + all_names, check=False,
                       stderr=subprocess.DEVNULL).stdout
        owner = {}
        for line in out.splitlines():  # "pkg:arch[, pkg2:arch]: /path"
            if ": /" in line and not line.startswith("diversion"):
                pkgs, path = line.split(": /", 1)
                owner["/" + path] = pkgs.split(",")[0].strip()
        packages = set()
        for lib, names in candidates.items():
            found = [owner[n] for n in names if n in owner]
            if not found:
                raise RuntimeError("no Debian package owns %s" % lib)
            packages.add(found[0].split(":")[0])
        return sorted(packages)

    def install(self, destdir):
        run_host(["meson", "install", "-C", self.path, "--no-rebuild",
                  "--quiet", "--destdir", destdir])


# --- runs: copies of the root, and their clean-up -------------------------------------

def _start_time(pid):
    """The start time of pid (/proc/PID/stat field 22), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _same_process(pid, start):
    return pid and start is not None and _start_time(pid) == start


def _kill_recorded(state):
    for key in ("pid1", "nspawn"):
        pid, start = state.get(key), state.get(key + "_start")
        if _same_process(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _remove_tree(path):
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)


def sweep_stale_runs():
    """Deletes the runs of test processes that are gone (killed before
    their teardown), killing their machines by PID first. A kept run stays
    while its machine runs."""
    if not os.path.isdir(RUNS_DIR):
        return
    for name in os.listdir(RUNS_DIR):
        run_dir = os.path.join(RUNS_DIR, name)
        try:
            with open(os.path.join(run_dir, "state.json")) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = None
        if state is None:
            # No state yet: being set up, or its owner died very early.
            if time.time() - os.stat(run_dir).st_mtime < 3600:
                continue
            _remove_tree(run_dir)
            continue
        if _same_process(state.get("owner"), state.get("owner_start")):
            continue
        if state.get("kept") and _same_process(state.get("pid1"),
                                               state.get("pid1_start")):
            continue
        log("removing the stale run %s" % run_dir)
        _kill_recorded(state)
        _remove_tree(run_dir)
        _remove_propagate_dir(name)


def _remove_propagate_dir(name):
    # nspawn leaves an empty directory of the machine's name behind.
    try:
        os.rmdir(os.path.join("/run/systemd/nspawn/propagate", name))
    except OSError:
        pass


# --- the machine ------------------------------------------------------------------

class User:
    def __init__(self, name, password, uid, gid):
        self.name, self.password, self.uid, self.gid = name, password, uid, gid

    def __repr__(self):
        return "<User %s uid=%d>" % (self.name, self.uid)


class Background:
    """A command started inside the machine and left running; its output
    goes to a file of the run."""

    def __init__(self, proc, log_path, args):
        self.proc, self.log_path, self.args = proc, log_path, args

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def write(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        """nsenter's child runs in the machine: kill it and what it
        started, then nsenter, by PID."""
        if self.proc.poll() is None:
            for pid in _descendants(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


def _children(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return kids


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        for kid in _children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


_libc = ctypes.CDLL(None, use_errno=True)
# hgtest makes its importer a child subreaper; here that would be wrong: a
# command killed inside the machine leaves a zombie that would be ours,
# and the machine's shutdown waits for every process of its namespace
# ("Waiting for process: N"). Let the host's init reap them.
_libc.prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _pdeathsig_term():
    """In nspawn before exec: SIGTERM when we die, which nspawn turns into
    its --kill-signal for the machine (an orderly power-off)."""
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class Machine:
    """A booted copy of the cached root with hourglass installed."""

    def __init__(self, name):
        self.name = re.sub(r"[^a-z0-9-]", "-", name.lower())[:40].strip("-")
        self.name = "hg-%s-%d" % (self.name, os.getpid())
        self.run_dir = os.path.join(RUNS_DIR, self.name)
        self.root = os.path.join(self.run_dir, "root")
        self.console_log = os.path.join(self.run_dir, "nspawn.log")
        self.nspawn = None
        self.pid1 = None
        self.background = []
        self.hourglass = Hourglass(self)
        self.timings = {}
        self._users = 0
        self._closed = False

    # -- boot and power-off --

    def _save_state(self, **extra):
        state = {"owner": os.getpid(), "owner_start": _start_time(os.getpid()),
                 "name": self.name, "kept": False}
        if self.nspawn:
            state.update(nspawn=self.nspawn.pid,
                         nspawn_start=_start_time(self.nspawn.pid))
        if self.pid1:
            state.update(pid1=self.pid1, pid1_start=_start_time(self.pid1))
        state.update(extra)
        tmp = os.path.join(self.run_dir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.rename(tmp, os.path.join(self.run_dir, "state.json"))

    def prepare(self):
        """The run's root: a copy of the cache with the build installed."""
        check_prerequisites()
        os.makedirs(RUNS_DIR, exist_ok=True)
        sweep_stale_runs()
        t0 = time.monotonic()
        build = ProductBuild()
        with build.lock:
            build.build()
            packages = build.runtime_packages()
        t1 = time.monotonic()
        cache = RootCache()
        os.makedirs(self.run_dir)
        self._save_state()
        with cache.lock:
            cached_root = cache.ensure(packages)
            t2 = time.monotonic()
            run_host(["cp", "-a", "--reflink=auto", cached_root, self.root])
        t3 = time.monotonic()
        with build.lock:
            build.install(self.root)
        t4 = time.monotonic()
        self.timings.update(build=t1 - t0, cache=t2 - t1, copy=t3 - t2,
                            install=t4 - t3)
        return self

    def boot(self, timeout=120):
        t0 = time.monotonic()
        args = ["systemd-nspawn", "--quiet", "--directory=" + self.root,
                "--boot", "--register=no", "--keep-unit",
                "--machine=" + self.name, "--link-journal=no",
                "--console=read-only", "--kill-signal=SIGRTMIN+4"]
        with open(self.console_log, "ab") as out:
            self.nspawn = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True,
                preexec_fn=None if KEEP else _pdeathsig_term)
        self._save_state()
        self.pid1 = hgtest.wait_until(self._find_pid1, timeout=30, interval=0.05,
                                      message="no systemd below nspawn within "
                                      "30 s:\n" + self.console_tail())
        self._save_state()
        state = hgtest.wait_until(self._booted, timeout=timeout, interval=0.1,
                                  message="the machine did not boot within "
                                  "%d s" % timeout)
        self.timings["boot"] = time.monotonic() - t0
        if state == "degraded":
            log("booted degraded; failed units:\n" +
                self.run(["systemctl", "--failed", "--no-pager"],
                         check=False).stdout)
        log("%s: build %.1f s, cached root %.1f s, copy %.1f s, install "
            "%.1f s, boot %.1f s (PID 1 is %d)"
            % (self.name, self.timings["build"], self.timings["cache"],
               self.timings["copy"], self.timings["install"],
               self.timings["boot"], self.pid1))
        return self

    def _find_pid1(self):
        if self.nspawn.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %d:\n%s"
                                 % (self.nspawn.returncode, self.console_tail()))
        for pid in _descendants(self.nspawn.pid):
            if _comm(pid) == "systemd":
                return pid
        return None

    def _booted(self):
        if self.nspawn.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %d:\n%s"
                                 % (self.nspawn.returncode, self.console_tail()))
        r = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def console_tail(self, chars=4000):
        try:
            with open(self.console_log, "rb") as f:
                return f.read()[-chars:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        """Powers off and deletes the run; kills by PID what does not go.
        With HG_SYSTEM_KEEP=1 leaves the machine running instead."""
        if self._closed:
            return
        self._closed = True
        for b in self.background:
            b.kill()
        if KEEP and self.pid1 and self.nspawn.poll() is None:
            self._save_state(kept=True)
            log("kept %s: root %s\n  a shell inside:  nsenter -t %d -a /bin/bash -l\n"
                "  power it off:    kill -RTMIN+4 %d   (the run directory is "
                "deleted by the next run after that)"
                % (self.name, self.run_dir, self.pid1, self.pid1))
            return
        t0 = time.monotonic()
        if self.nspawn is not None:
            if self.pid1 and _comm(self.pid1) == "systemd":
                try:
                    os.kill(self.pid1, signal.SIGRTMIN + 4)
                except ProcessLookupError:
                    pass
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                log("%s did not power off within 30 s: killing it; its "
                    "console:\n%s" % (self.name, self.console_tail(3000)))
                if self.pid1 and _comm(self.pid1) == "systemd":
                    os.kill(self.pid1, signal.SIGKILL)  # the whole namespace
                self.nspawn.kill()
                self.nspawn.wait(10)
        self.timings["poweroff"] = time.monotonic() - t0
        if self.timings["poweroff"] > 5:
            log("%s took %.1f s to power off; its console:\n%s"
                % (self.name, self.timings["poweroff"], self.console_tail(3000)))
        _remove_propagate_dir(self.name)
        _remove_tree(self.run_dir)

    # -- commands inside --

    def command(self, args, user=None):
        """The host command line that runs args inside the machine (as
        user: a User, a name or a uid; with its groups)."""
        if user is not None:
            who = user.name if isinstance(user, User) else str(user)
            args = ["setpriv", "--reuid=" + who, "--regid=" + who,
                    "--init-groups", "--"] + list(args)
        return ["nsenter", "-t", str(self.pid1), "-a", "--"] + list(args)

    def env(self):
        return {"PATH": CONTAINER_PATH, "LANG": "C.UTF-8", "HOME": "/root",
                "TERM": "dumb", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}

    def run(self, args, input=None, check=True, timeout=60, user=None):
        """Runs args inside; returns the CompletedProcess (text, stdout and
        stderr apart). check: fail the test on a non-zero exit."""
        cmd = self.command(args, user)
        try:
            r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                               timeout=timeout, env=self.env())
        except subprocess.TimeoutExpired as e:
            raise AssertionError("%s: no end within %d s" % (shlex.join(args),
                                                            timeout)) from e
        if check and r.returncode != 0:
            raise AssertionError("%s exited with %d\nstdout: %s\nstderr: %s"
                                 % (shlex.join(args), r.returncode, r.stdout,
                                    r.stderr))
        return r

    def sh(self, script, **kw):
        return self.run(["sh", "-ec", script], **kw)

    def spawn(self, args, user=None):
        """Starts args inside and returns at once (a Background); stdin is
        a pipe, the output a file. Killed at the end of the run."""
        n = len(self.background)
        log_path = os.path.join(self.run_dir, "background-%d.log" % n)
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(self.command(args, user),
                                    stdin=subprocess.PIPE, stdout=out,
                                    stderr=subprocess.STDOUT, env=self.env())
        b = Background(proc, log_path, args)
        self.background.append(b)
        return b

    def systemctl(self, *args, check=True, timeout=60):
        return self.run(["systemctl", "--no-pager"] + list(args), check=check,
                        timeout=timeout)

    def show(self, unit, *props):
        """systemctl show UNIT -p ... as a dict."""
        args = ["show", unit]
        for p in props:
            args += ["-p", p]
        out = self.systemctl(*args).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def write_file(self, path, text, mode="644"):
        """Writes a file inside (through the machine's own view of the
        paths: the root's symlinks never lead onto the host)."""
        self.run(["sh", "-ec", 'mkdir -p "$(dirname "$1")"; umask 077; '
                  'cat > "$1.tmp"; chmod "$2" "$1.tmp"; mv -f "$1.tmp" "$1"',
                  "sh", path, mode], input=text)

    def read_file(self, path):
        return self.run(["cat", path]).stdout

    def remove(self, path):
        self.run(["rm", "-f", path])

    # -- accounts --

    def add_user(self, prefix="user", password=None, groups=(), expired=False,
                 empty_password=False):
        """A fresh account (useradd -m, chpasswd): unique name, uid >= 1000."""
        self._users += 1
        name = "%s%d" % (prefix, self._users)
        if password is None and not empty_password:
            password = "Pw-%s-7q%d" % (name, os.getpid() % 1000)
        args = ["useradd", "--create-home", "--shell", "/bin/bash"]
        if groups:
            args += ["--groups", ",".join(groups)]
        self.run(args + [name])
        if empty_password:
            self.run(["passwd", "--delete", name])
            password = ""
        else:
            self.run(["chpasswd"], input="%s:%s\n" % (name, password))
        if expired:
            self.run(["chage", "--lastday", "0", name])
        uid = int(self.run(["id", "-u", name]).stdout)
        gid = int(self.run(["id", "-g", name]).stdout)
        return User(name, password, uid, gid)

    def add_group(self, name):
        self.run(["groupadd", "--force", name])
        return int(self.run(["getent", "group", name]).stdout.split(":")[2])

    # -- the journal --

    def journal(self, *matches, after=None, extra=()):
        """Entries of the current boot as dicts (journalctl -o json), after
        the cursor `after`, that have every FIELD=VALUE of matches. The
        matches are applied here: journalctl 252 returns nothing for a
        match with --after-cursor once the journal is split by user."""
        args = ["journalctl", "--boot", "--no-pager", "--output=json", "--quiet"]
        if after:
            args.append("--after-cursor=" + after)
        out = self.run(args + list(extra), check=False, timeout=60).stdout
        wanted = [m.split("=", 1) for m in matches]
        entries = []
        for line in out.splitlines():
            try:
                e = {k: _journal_value(v) for k, v in json.loads(line).items()}
            except ValueError:
                continue
            if all(e.get(k) == v for k, v in wanted):
                entries.append(e)
        return entries

    def cursor(self):
        """The cursor of the journal's last entry: journal(after=...) looks
        past it."""
        entries = self.journal(extra=["--lines=1"])
        return entries[-1]["__CURSOR"] if entries else None

    def wait_journal(self, predicate, after=None, timeout=10, message=None,
                     matches=()):
        """Waits until the entries after the cursor (with matches, as for
        journal()) satisfy predicate (a function of the list that returns
        something true, which is returned), or fails with the journal's
        tail."""
        seen = []

        def check():
            seen[:] = self.journal(*matches, after=after)
            return predicate(seen)
        try:
            return hgtest.wait_until(check, timeout=timeout, interval=0.2)
        except AssertionError:
            raise AssertionError("%s within %.0f s; journal:\n%s"
                                 % (message or "journal condition not met",
                                    timeout, format_entries(seen[-60:]))) from None

    def journal_text(self, after=None, lines=150):
        args = ["journalctl", "--boot", "--no-pager", "--output=short-precise",
                "--lines=%d" % lines]
        if after:
            args.append("--after-cursor=" + after)
        return self.run(args, check=False).stdout

    def diagnostics(self, after=None):
        """What a failing test prints: the unit's status, failed units, the
        journal since the test began."""
        parts = []
        for title, args in (
                ("systemctl status hourglassd",
                 ["systemctl", "status", "--no-pager", "--full", "--lines=0", UNIT]),
                ("systemctl --failed", ["systemctl", "--failed", "--no-pager"])):
            try:
                r = self.run(args, check=False, timeout=20)
                parts.append("--- %s:\n%s%s" % (title, r.stdout, r.stderr))
            except AssertionError as e:
                parts.append("--- %s: %s" % (title, e))
        try:
            parts.append("--- journal%s:\n%s" % (
                " since the test began" if after else "",
                self.journal_text(after=after)))
        except AssertionError as e:
            parts.append("--- journal: %s" % e)
        return "\n".join(parts)


def _journal_value(v):
    if isinstance(v, list) and v and all(isinstance(x, int) for x in v):
        return bytes(v).decode("utf-8", "replace")
    return v


def format_entries(entries):
    return "\n".join("%s %s[%s]: %s" % (
        e.get("__REALTIME_TIMESTAMP", ""), e.get("SYSLOG_IDENTIFIER", "?"),
        e.get("_PID", ""), e.get("MESSAGE", "")) for e in entries)


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
        self.stop()
        self.configure(config)
        # Tests start it often: never let the unit's start limit refuse.
        self.m.systemctl("reset-failed", UNIT, check=False)
        r = self.m.systemctl("start", UNIT, check=False)
        if r.returncode != 0:
            raise AssertionError("systemctl start %s failed (%d): %s\n%s"
                                 % (UNIT, r.returncode, r.stderr,
                                    self.m.diagnostics()))
        return self

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


# --- tests ------------------------------------------------------------------------------

_machine = None


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


class Interrupted(BaseException):
    pass


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def main(name=None):
    """Boots the file's machine, runs its tests, powers the machine off.
    Exit 77 (meson's skip) when the tier cannot run here, saying why."""
    global _machine
    name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    status = 1
    m = None
    try:
        try:
            m = Machine(name)
            m.prepare()
        except Skip as e:
            sys.stdout.write("SKIP: the system tests cannot run here: %s\n" % e)
            if REQUIRE:
                sys.stdout.write("(HG_SYSTEM_REQUIRE=1: failing instead)\n")
            sys.stdout.flush()
            if m is not None and os.path.isdir(m.run_dir):
                _remove_tree(m.run_dir)
            return 1 if REQUIRE else SKIP_EXIT
        _machine = m.boot()
        t0 = time.monotonic()
        program = unittest.main(module="__main__", verbosity=2, exit=False,
                                argv=[sys.argv[0]] + sys.argv[1:])
        m.timings["tests"] = time.monotonic() - t0
        status = 0 if program.result.wasSuccessful() else 1
    except (Interrupted, KeyboardInterrupt) as e:
        log("interrupted (%s): tearing down" % (e or "SIGINT"))
        status = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        if m is not None:
            m.close()
            if "poweroff" in m.timings:
                log("%s: tests %.1f s, power-off %.1f s"
                    % (m.name, m.timings.get("tests", 0), m.timings["poweroff"]))
    return status


# --- by hand --------------------------------------------------------------------------

def shell():
    """Boots a machine with hourglass installed (not started) and opens a
    shell inside; powers it off when the shell ends."""
    m = Machine("shell").prepare().boot()
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
        sweep_stale_runs()
    else:
        sys.exit("usage: hgsys.py shell|sweep")
