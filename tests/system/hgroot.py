"""The system tier's root and build: what the tier needs from the host,
the host's apt sources (Debian's package mirror), the cached debootstrap
root (RootCache), the product built for /usr (ProductBuild), and the
clean-up of runs whose owner died. See hgsys.py for the whole picture."""

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HG_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(HERE)))
BUILD_ROOT = os.path.abspath(os.environ.get(
    "HG_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build")))

SYSTEM_BUILD_DIR = os.environ.get("HG_SYSTEM_BUILD_DIR",
                                  os.path.join(BUILD_ROOT, "tests", "system",
                                               "prefix-usr"))
CACHE_DIR = os.environ.get("HG_SYSTEM_CACHE", "/var/cache/hourglass-system-test")
RUNS_DIR = os.environ.get("HG_SYSTEM_RUNS", "/var/tmp/hourglass-system-test")
KEEP = os.environ.get("HG_SYSTEM_KEEP") == "1"
REQUIRE = os.environ.get("HG_SYSTEM_REQUIRE") == "1"

# What the root holds besides the product's runtime libraries: an init, a
# bus, logind and pam_systemd, polkit (which decides what a daemon that is
# not root may ask of systemd and logind: the shipped rules), account
# tools, su/login, ps/pgrep, script. Changing this list rebuilds the cache;
# EXTRA_PACKAGES are only added to it.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "libpam-systemd", "polkitd",
                 "passwd", "login", "procps", "util-linux", "bsdutils"]
# The kiosk's test (test_kiosk.py): the compositor, its idle daemon, the
# browser, a font for it to draw text with, and the screenshot and typing
# tools that stand in for the person at the screen.
EXTRA_PACKAGES = ["sway", "swayidle", "chromium", "fonts-dejavu-core", "grim",
                  "wtype"]
CACHE_FORMAT = 1
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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


def private_dir(path):
    """A directory only root reads: copies of roots hold /etc/shadow."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    return path


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
        private_dir(CACHE_DIR)
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
        sources = self._mirror()
        mirror = [u for u, s in sources if s == self.codename][0]
        if any(u.startswith("https://") for u, _ in sources):
            packages = packages + ["ca-certificates"]  # apt inside, over TLS
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
            # debootstrap resolves no virtual package (chromium needs
            # dconf-service, which needs "dbus-session-bus"): it lays down
            # the base alone, apt adds the rest.
            self._build([])
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

def start_time(pid):
    """The start time of pid (/proc/PID/stat field 22), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _same_process(pid, start):
    return pid and start is not None and start_time(pid) == start


def _kill_recorded(state):
    for key in ("pid1", "nspawn"):
        pid, start = state.get(key), state.get(key + "_start")
        if _same_process(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def remove_tree(path):
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
            remove_tree(run_dir)
            continue
        if _same_process(state.get("owner"), state.get("owner_start")):
            continue
        if state.get("kept") and _same_process(state.get("pid1"),
                                               state.get("pid1_start")):
            continue
        log("removing the stale run %s" % run_dir)
        _kill_recorded(state)
        remove_tree(run_dir)
        remove_propagate_dir(name)


def remove_propagate_dir(name):
    # nspawn leaves an empty directory of the machine's name behind.
    try:
        os.rmdir(os.path.join("/run/systemd/nspawn/propagate", name))
    except OSError:
        pass
