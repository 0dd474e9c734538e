/* hourglass-pam-helper: runs one PAM transaction for hourglassd, from
 * pam_authenticate to pam_close_session, outside the daemon's loop. It
 * talks to the daemon over the socket on fd 3 (see hg-proto.h) and stays
 * alive while the session is open; EOF, SIGTERM or SIGHUP end it.
 *
 * Started two ways: forked by a root daemon, with its settings as
 * arguments; or by systemd for each connection to hourglass-pam.socket
 * (--socket-activated), for the unprivileged daemon, which then sends the
 * settings (SETUP) first. Either way it bounds its own time: a PAM module
 * that hangs is ended by SIGALRM, whoever started the helper. */
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "hg-helper-conv.h"
#include "hg-macros.h"
#include "hg-proto.h"

#define PROGRAM "hourglass-pam-helper"
#define EXIT_USAGE 2
#define DEFAULT_TIMEOUT_SEC 30
#define GROUPS_MAX 1024
#define MAX_TIMEOUT_SEC 600
/* LOGIN_NAME_MAX; longer names cannot be real. */
#define USER_MAX 256

typedef struct {
  const char *service;
  const char *rhost;
  const char *tty;
  uid_t min_uid;
  unsigned timeout_sec;
  bool socket_activated;
} Args;

typedef struct {
  HgHelperConv conv;
  pam_handle_t *pamh;
  int pam_status; /* for pam_end */
  char user[USER_MAX + 1];
  uid_t uid;
  gid_t gid;
  int signal_fd;
} Helper;

static bool is_service_name(const char *s) {
  size_t n = strlen(s);

  if (n == 0 || n > 64 || s[0] == '.')
    return false;
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._-") == n;
}

/* Printable ASCII without spaces, as host names, addresses and tty names
 * are. */
static bool is_token(const char *s, size_t max) {
  size_t n = strlen(s);

  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= ' ' || s[i] > '~')
      return false;
  return true;
}

static bool parse_uid(const char *s, uid_t *ret) {
  unsigned long long v = 0;
  size_t n = strlen(s);

  if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
    return false;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (unsigned)(s[i] - '0');
  if (v >= (uid_t)-1) /* (uid_t)-1 means "no uid" to the kernel */
    return false;
  *ret = (uid_t)v;
  return true;
}

static bool set_once(const char **slot, const char *value) {
  if (*slot)
    return false;
  *slot = value;
  return true;
}

static bool parse_timeout(const char *s, unsigned *ret) {
  uid_t v;

  if (!s) {
    *ret = DEFAULT_TIMEOUT_SEC;
    return true;
  }
  if (!parse_uid(s, &v) || v == 0 || v > MAX_TIMEOUT_SEC)
    return false;
  *ret = (unsigned)v;
  return true;
}

/* The settings, from the command line or from SETUP: the same checks. */
static bool check_args(const char *service, const char *min_uid,
                       const char *rhost, const char *tty, const char *timeout,
                       Args *ret) {
  if (!service || !min_uid || !rhost || !tty)
    return false;
  if (!is_service_name(service) || !parse_uid(min_uid, &ret->min_uid) ||
      !is_token(rhost, 255) || !is_token(tty, 64) ||
      !parse_timeout(timeout, &ret->timeout_sec))
    return false;
  ret->service = service;
  ret->rhost = rhost;
  ret->tty = tty;
  return true;
}

static bool parse_args(int argc, char **argv, Args *ret) {
  static const struct option options[] = {
      {"service", required_argument, NULL, 's'},
      {"min-uid", required_argument, NULL, 'u'},
      {"rhost", required_argument, NULL, 'r'},
      {"tty", required_argument, NULL, 't'},
      {"timeout", required_argument, NULL, 'T'},
      {"socket-activated", no_argument, NULL, 'S'},
      {},
  };
  const char *service = NULL, *min_uid = NULL, *rhost = NULL, *tty = NULL;
  const char *timeout = NULL;
  int c;

  opterr = 0;
  while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
    const char **slot = c == 's'   ? &service
                        : c == 'u' ? &min_uid
                        : c == 'r' ? &rhost
                        : c == 't' ? &tty
                        : c == 'T' ? &timeout
                                   : NULL;
    if (c == 'S' && !ret->socket_activated) {
      ret->socket_activated = true;
      continue;
    }
    if (!slot || !set_once(slot, optarg))
      return false;
  }
  if (optind != argc)
    return false;
  /* Socket-activated: everything comes in SETUP, nothing on the line. */
  if (ret->socket_activated)
    return !service && !min_uid && !rhost && !tty && !timeout;
  return check_args(service, min_uid, rhost, tty, timeout, ret);
}

/* SETUP's "key=value" lines, into args (pointing into text). */
static int parse_setup(char *text, Args *args) {
  const char *service = NULL, *min_uid = NULL, *rhost = NULL, *tty = NULL;
  const char *timeout = NULL;
  char *save = NULL;

  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    const char **slot;

    if (!eq)
      return -EBADMSG;
    *eq = '\0';
    slot = strcmp(line, "service") == 0   ? &service
           : strcmp(line, "min-uid") == 0 ? &min_uid
           : strcmp(line, "rhost") == 0   ? &rhost
           : strcmp(line, "tty") == 0     ? &tty
           : strcmp(line, "timeout") == 0 ? &timeout
                                          : NULL;
    if (!slot || !set_once(slot, eq + 1))
      return -EBADMSG;
  }
  return check_args(service, min_uid, rhost, tty, timeout, args) ? 0 : -EBADMSG;
}

/* A socket-activated helper's settings, first on the socket. */
static int read_setup(int fd, HgProtoBuf *buf, Args *args) {
  HgProtoMsg m;
  int r;

  r = hg_proto_recv_msg(fd, buf, &m, false);
  if (r == 0)
    return -ECONNRESET;
  if (r < 0)
    return r;
  if (m.type != HG_PROTO_SETUP)
    return -EBADMSG;
  return parse_setup((char *)m.text, args);
}

static bool is_socket(int fd) {
  struct stat st;

  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A user name from the daemon: 0, or -EBADMSG for anything but START with
 * a plausible name, -ECONNRESET when the daemon went away first. */
static int read_start(Helper *h) {
  HgProtoBuf buf;
  HgProtoMsg m;
  int r;

  r = hg_proto_recv_msg(h->conv.fd, &buf, &m, false);
  if (r == 0)
    return -ECONNRESET;
  if (r < 0)
    return r;
  if (m.type != HG_PROTO_START || m.text_len > USER_MAX)
    return -EBADMSG;
  for (size_t i = 0; i < m.text_len; i++)
    if ((unsigned char)m.text[i] < ' ' || m.text[i] == 0x7f)
      return -EBADMSG;
  memcpy(h->user, m.text, m.text_len + 1);
  return 0;
}

/* The one translation of PAM results into failure reasons: errors of the
 * machinery are internal, everything else is what the step refused. */
static HgAuthFailure failure_from_pam(int pam_status, HgAuthFailure step) {
  switch (pam_status) {
  case PAM_BUF_ERR:
  case PAM_CONV_ERR:
  case PAM_ABORT:
  case PAM_SYSTEM_ERR:
  case PAM_SERVICE_ERR:
  case PAM_MODULE_UNKNOWN:
  case PAM_SYMBOL_ERR:
    return HG_AUTH_FAILURE_INTERNAL;
  default:
    return step;
  }
}

static int fail(Helper *h, int pam_status, HgAuthFailure failure,
                HgAuthFailure *ret_failure) {
  h->pam_status = pam_status;
  *ret_failure = failure_from_pam(pam_status, failure);
  return pam_status;
}

static int start_pam(Helper *h, const Args *args) {
  const struct pam_conv conv = {hg_helper_conv, &h->conv};
  int r;

  r = pam_start(args->service, h->user, &conv, &h->pamh);
  if (r != PAM_SUCCESS)
    return r;
  r = pam_set_item(h->pamh, PAM_RHOST, args->rhost);
  if (r == PAM_SUCCESS)
    r = pam_set_item(h->pamh, PAM_TTY, args->tty);
  if (r == PAM_SUCCESS)
    r = pam_set_item(h->pamh, PAM_FAIL_DELAY,
                     (const void *)hg_helper_fail_delay);
  return r;
}

/* pam_acct_mgmt, and the change of an expired password it may ask for. */
static int check_account(Helper *h, HgAuthFailure *ret_failure) {
  int r = pam_acct_mgmt(h->pamh, PAM_DISALLOW_NULL_AUTHTOK);

  if (r == PAM_NEW_AUTHTOK_REQD) {
    r = pam_chauthtok(h->pamh, PAM_CHANGE_EXPIRED_AUTHTOK);
    if (r != PAM_SUCCESS)
      return fail(h, r, HG_AUTH_FAILURE_EXPIRED, ret_failure);
    return PAM_SUCCESS;
  }
  if (r != PAM_SUCCESS)
    return fail(h, r, HG_AUTH_FAILURE_ACCOUNT, ret_failure);
  return PAM_SUCCESS;
}

/* getpwnam_r with a buffer that grows as needed: 0 with *pw pointing into
 * *mem, -ENOENT when there is no such user, else -errno. */
static int resolve(const char *name, struct passwd *pw, char **mem) {
  struct passwd *found = NULL;
  size_t size = 1024;
  int r;

  for (;;) {
    free(*mem);
    *mem = malloc(size);
    if (!*mem)
      return -ENOMEM;
    r = getpwnam_r(name, pw, *mem, size, &found);
    if (r != ERANGE || size >= 1024 * 1024)
      break;
    size *= 2;
  }
  /* Some NSS modules say "no such user" with an error (POSIX allows it). */
  if (r == 0 ? !found : r == ENOENT || r == ESRCH)
    return -ENOENT;
  return r == 0 ? 0 : -r;
}

static bool sendable_name(const char *name) {
  return strlen(name) <= USER_MAX && hg_proto_text_valid(name, strlen(name));
}

/* The user PAM settled on (modules may rename it), else the name typed. */
static const char *pam_user(Helper *h) {
  const void *item = NULL;

  if (h->pamh && pam_get_item(h->pamh, PAM_USER, &item) == PAM_SUCCESS &&
      item && *(const char *)item)
    return item;
  return h->user;
}

/* Looks up the user PAM settled on and keeps the NSS spelling of the name,
 * which is the one sessions are counted by. */
static int lookup_user(Helper *h, uid_t min_uid, HgAuthFailure *ret_failure) {
  _cleanup_free_ char *mem = NULL;
  struct passwd pw;
  int r;

  if (!h->pamh || pam_user(h) == h->user)
    return fail(h, PAM_SYSTEM_ERR, HG_AUTH_FAILURE_INTERNAL, ret_failure);
  r = resolve(pam_user(h), &pw, &mem);
  if (r == -ENOENT)
    return fail(h, PAM_USER_UNKNOWN, HG_AUTH_FAILURE_UID, ret_failure);
  if (r < 0)
    return fail(h, r == -ENOMEM ? PAM_BUF_ERR : PAM_SYSTEM_ERR,
                HG_AUTH_FAILURE_INTERNAL, ret_failure);
  if (pw.pw_uid < min_uid)
    return fail(h, PAM_PERM_DENIED, HG_AUTH_FAILURE_UID, ret_failure);
  if (!sendable_name(pw.pw_name))
    return fail(h, PAM_SYSTEM_ERR, HG_AUTH_FAILURE_INTERNAL, ret_failure);
  strcpy(h->user, pw.pw_name);
  h->uid = pw.pw_uid;
  h->gid = pw.pw_gid;
  return PAM_SUCCESS;
}

/* The names of the user's groups, for the daemon's policy rules: resolved
 * here, where NSS may take its time. Groups without a name are left out;
 * a list that does not fit one message is cut (a rule on a group past it
 * does not match: never more rights, only the fallback's limits). */
static void tell_groups(Helper *h) {
  gid_t gids[GROUPS_MAX];
  int n = GROUPS_MAX;
  char text[HG_PROTO_MAX_TEXT + 1] = "";
  size_t len = 0;

  if (getgrouplist(h->user, h->gid, gids, &n) < 0)
    n = GROUPS_MAX;
  for (int i = 0; i < n; i++) {
    struct group gr, *found = NULL;
    char buf[4096];
    size_t add;

    if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &found) != 0 || !found ||
        !sendable_name(gr.gr_name))
      continue;
    add = strlen(gr.gr_name) + (len > 0);
    if (len + add > HG_PROTO_MAX_TEXT)
      break;
    if (len > 0)
      text[len++] = '\n';
    strcpy(text + len, gr.gr_name);
    len += strlen(gr.gr_name);
  }
  (void)hg_proto_send(h->conv.fd,
                      &(HgProtoMsg){.type = HG_PROTO_GROUPS, .text = text});
}

/* After a failure: the account the name stands for, so that the daemon
 * throttles "ALICE" and "alice@realm" as the alice they are. The daemon
 * never shows it. Nothing when the name resolves to no one. */
static void tell_account(Helper *h) {
  _cleanup_free_ char *mem = NULL;
  const char *name = pam_user(h);
  struct passwd pw;

  if (!*name || resolve(name, &pw, &mem) < 0 || !sendable_name(pw.pw_name))
    return;
  (void)hg_proto_send(
      h->conv.fd, &(HgProtoMsg){.type = HG_PROTO_ACCOUNT, .text = pw.pw_name});
}

/* From here on a SIGTERM or SIGHUP must not kill us before the session is
 * closed again: they wait in a signalfd, read once the session is open. */
static int catch_end_signals(Helper *h) {
  sigset_t mask;

  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    return -errno;
  h->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  return h->signal_fd < 0 ? -errno : 0;
}

static int open_session(Helper *h, HgAuthFailure *ret_failure) {
  int r;

  if (catch_end_signals(h) < 0)
    return fail(h, PAM_SYSTEM_ERR, HG_AUTH_FAILURE_INTERNAL, ret_failure);
  r = pam_setcred(h->pamh, PAM_ESTABLISH_CRED);
  if (r != PAM_SUCCESS)
    return fail(h, r, HG_AUTH_FAILURE_ACCOUNT, ret_failure);
  r = pam_open_session(h->pamh, 0);
  if (r != PAM_SUCCESS) {
    (void)pam_setcred(h->pamh, PAM_DELETE_CRED);
    return fail(h, r, HG_AUTH_FAILURE_ACCOUNT, ret_failure);
  }
  return PAM_SUCCESS;
}

/* Everything up to an open session. PAM_SUCCESS, or a PAM error with the
 * reason in *ret_failure. */
static int login(Helper *h, const Args *args, HgAuthFailure *ret_failure) {
  int r;

  r = start_pam(h, args);
  if (r != PAM_SUCCESS)
    return fail(h, r, HG_AUTH_FAILURE_INTERNAL, ret_failure);
  r = pam_authenticate(h->pamh, PAM_DISALLOW_NULL_AUTHTOK);
  if (r != PAM_SUCCESS)
    return fail(h, r, HG_AUTH_FAILURE_AUTH, ret_failure);
  r = check_account(h, ret_failure);
  if (r == PAM_SUCCESS)
    r = lookup_user(h, args->min_uid, ret_failure);
  if (r == PAM_SUCCESS)
    r = open_session(h, ret_failure);
  return r;
}

/* Blocks until the daemon closes its end or a SIGTERM/SIGHUP comes. What
 * the daemon sends meanwhile has no meaning and is dropped. */
static void wait_for_end(Helper *h) {
  struct pollfd p[] = {{.fd = h->conv.fd, .events = POLLIN},
                       {.fd = h->signal_fd, .events = POLLIN}};
  HgProtoBuf buf;

  for (;;) {
    int r;

    if (poll(p, HG_ELEMENTSOF(p), -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (p[1].revents)
      return;
    if (p[0].revents & (POLLERR | POLLNVAL))
      return;
    r = hg_proto_recv(h->conv.fd, &buf, true);
    hg_proto_buf_wipe(&buf);
    if (r == 0 || (r < 0 && r != -EAGAIN && r != -EMSGSIZE))
      return;
  }
}

static void close_session(Helper *h) {
  int r = pam_close_session(h->pamh, 0);

  (void)pam_setcred(h->pamh, PAM_DELETE_CRED);
  /* The daemon may be gone already: nobody to tell then. */
  (void)hg_proto_send(h->conv.fd, &(HgProtoMsg){.type = HG_PROTO_CLOSED});
  h->pam_status = r;
}

static int run(const Args *args) {
  Helper h = {.conv.fd = HG_PROTO_HELPER_FD,
              .conv.timeout_sec = args->timeout_sec,
              .signal_fd = -1};
  HgAuthFailure failure = HG_AUTH_FAILURE_INTERNAL;
  int r;

  /* Up to an open session, and again for its close: bounded. */
  (void)alarm(args->timeout_sec);
  r = read_start(&h);
  if (r == -ECONNRESET)
    return EXIT_FAILURE;
  if (r < 0 || login(&h, args, &failure) != PAM_SUCCESS) {
    if (r >= 0)
      tell_account(&h);
    (void)hg_proto_send(h.conv.fd, &(HgProtoMsg){.type = HG_PROTO_RESULT_FAIL,
                                                 .failure = failure});
    if (h.pamh)
      pam_end(h.pamh, h.pam_status);
    return EXIT_FAILURE;
  }

  /* Sent or not, the session was opened and must be closed. */
  tell_groups(&h);
  (void)hg_proto_send(
      h.conv.fd,
      &(HgProtoMsg){.type = HG_PROTO_RESULT_OK, .text = h.user, .uid = h.uid});
  (void)alarm(0);
  wait_for_end(&h);
  (void)alarm(args->timeout_sec);
  close_session(&h);
  pam_end(h.pamh, h.pam_status);
  hg_close_nointr(h.signal_fd);
  return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
  Args args = {0};
  HgProtoBuf setup;
  int r;

  if (!parse_args(argc, argv, &args)) {
    fputs("usage: " PROGRAM " --service NAME --min-uid N --rhost ADDR "
          "--tty TTY [--timeout SEC]\n"
          "       " PROGRAM " --socket-activated\n",
          stderr);
    return EXIT_USAGE;
  }
  if (!is_socket(HG_PROTO_HELPER_FD)) {
    fputs(PROGRAM ": fd 3 is not a socket; hourglassd runs this program\n",
          stderr);
    return EXIT_USAGE;
  }
  if (args.socket_activated) {
    (void)alarm(DEFAULT_TIMEOUT_SEC);
    r = read_setup(HG_PROTO_HELPER_FD, &setup, &args);
    if (r < 0) {
      fprintf(stderr, PROGRAM ": no valid SETUP from hourglassd: %s\n",
              strerror(-r));
      return EXIT_FAILURE;
    }
  }
  /* PAM modules translate their prompts into the daemon's language. */
  setlocale(LC_ALL, "");
  return run(&args);
}
