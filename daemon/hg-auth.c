/* The daemon's side of the PAM helper; see hg-auth.h. A login object lives
 * as long as its owner holds it or its helper process has not been reaped,
 * whichever is longer: closing it early leaves it behind as the reaper. */
#include "hg-auth.h"

#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "config.h"
#include "hg-log.h"
#include "hg-macros.h"
#include "hg-helper-source.h"

/* PAM_TTY of web logins, for pam_access and pam_securetty rules. */
#define WEB_TTY "hourglass"
#define USER_MAX 256
/* More informational messages before one prompt are dropped. */
#define MESSAGES_MAX 32

typedef enum {
  STATE_HELPER,  /* waiting for the helper; the timeout runs */
  STATE_USER,    /* a PROMPT is out, waiting for hg_auth_answer() */
  STATE_SESSION, /* authenticated, the PAM session is open */
  STATE_DONE,    /* over or closed: only the reaping is left */
} State;

struct HgAuth {
  /* The owner's until hg_auth_close(), the helper's until it is reaped, and
   * one for each dispatch that may call back into the owner. */
  unsigned n_ref;
  HgAuthManager *manager; /* NULL after its shutdown */
  GList link;             /* in manager->logins */
  State state;
  bool closed;
  bool authenticated;
  bool killed; /* by us: its signal is no news */
  HgAuthCallback cb;
  void *userdata;
  int fd;
  pid_t pid; /* 0 once reaped */
  sd_event_source *io, *child, *timer;
  hg_usec_t timeout;
  hg_usec_t fail_delay;
  uint32_t n_wait;  /* answers the helper waits for */
  GArray *prompts;  /* HgAuthPrompt, texts owned */
  GArray *messages; /* HgAuthMessage, texts owned */
  char *account;    /* what the helper said the user resolved to */
  GStrv groups;     /* what it said the user's groups are */
};

struct HgAuthManager {
  sd_event *event;
  char *service;
  uint32_t min_uid;
  char *helper_path;   /* NULL: the default */
  char *helper_socket; /* NULL: fork helpers */
  hg_usec_t timeout;
  GQueue logins; /* every login not freed yet */
  bool shut_down;
};

static void clear_prompt(void *p) { g_free((char *)((HgAuthPrompt *)p)->text); }
static void clear_message(void *p) {
  g_free((char *)((HgAuthMessage *)p)->text);
}

static void auth_free(HgAuth *a) {
  if (a->manager)
    g_queue_unlink(&a->manager->logins, &a->link);
  sd_event_source_disable_unref(a->io);
  a->fd = hg_close_nointr(a->fd);
  sd_event_source_disable_unref(a->timer);
  /* Owned by the source: killed and reaped if still there. */
  sd_event_source_disable_unref(a->child);
  g_array_unref(a->prompts);
  g_array_unref(a->messages);
  g_free(a->account);
  g_strfreev(a->groups);
  g_free(a);
}

static HgAuth *auth_ref(HgAuth *a) {
  a->n_ref++;
  return a;
}

static void auth_unref(HgAuth *a) {
  if (--a->n_ref == 0)
    auth_free(a);
}

static sd_event *auth_event(HgAuth *a) {
  return sd_event_source_get_event(a->timer);
}

static void arm_timer(HgAuth *a) {
  uint64_t now;
  int r;

  r = sd_event_now(auth_event(a), CLOCK_BOOTTIME, &now);
  if (r >= 0)
    r = sd_event_source_set_time(a->timer, hg_usec_add(now, a->timeout));
  if (r >= 0)
    r = sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
  /* -ESTALE: the loop has finished (shutdown); the manager's shutdown
   * waits for and kills the helpers itself. */
  if (r < 0 && r != -ESTALE)
    hg_log_errno(LOG_ERR, r, "Cannot arm the timeout of PAM helper %d",
                 (int)a->pid);
}

static void disarm_timer(HgAuth *a) {
  (void)sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
}

static void kill_helper(HgAuth *a) {
  int r;

  if (a->pid == 0 || a->killed)
    return;
  a->killed = true;
  r = sd_event_source_send_child_signal(a->child, SIGKILL, NULL, 0);
  if (r < 0 && r != -ESRCH)
    hg_log_errno(LOG_ERR, r, "Cannot kill PAM helper %d", (int)a->pid);
}

static void clear_pending(HgAuth *a) {
  g_array_set_size(a->prompts, 0);
  g_array_set_size(a->messages, 0);
}

/* Stops talking to the helper; it sees EOF, closes PAM and exits, and
 * gets the timeout to do so. */
static void stop(HgAuth *a) {
  a->state = STATE_DONE;
  a->io = sd_event_source_disable_unref(a->io);
  a->fd = hg_close_nointr(a->fd);
  clear_pending(a);
  if (a->pid != 0)
    arm_timer(a);
  else
    disarm_timer(a);
}

static void emit(HgAuth *a, const HgAuthEvent *ev) {
  if (!a->closed && a->cb)
    a->cb(a, ev, a->userdata);
}

/* The login failed, or its session ended: told once. */
static void finish(HgAuth *a, HgAuthFailure failure) {
  HgAuthEvent ev = {.type = HG_AUTH_ENDED};

  if (a->state == STATE_DONE)
    return;
  stop(a);
  if (!a->authenticated) {
    ev.type = HG_AUTH_FAILURE;
    ev.failure = failure;
    ev.fail_delay = a->fail_delay;
    ev.account = a->account;
  }
  emit(a, &ev);
}

static int add_prompt(HgAuth *a, const HgProtoMsg *m) {
  HgAuthPrompt p = {.echo = m->type == HG_PROTO_PROMPT_ECHO_ON,
                    .text = g_strdup(m->text)};

  if (a->prompts->len >= HG_PROTO_MAX_PROMPTS) {
    g_free((char *)p.text);
    return -EPROTO;
  }
  g_array_append_val(a->prompts, p);
  return 0;
}

static void add_message(HgAuth *a, const HgProtoMsg *m) {
  HgAuthMessage msg = {.error = m->type == HG_PROTO_ERROR};

  if (a->messages->len >= MESSAGES_MAX)
    return;
  msg.text = g_strdup(m->text);
  g_array_append_val(a->messages, msg);
}

static void fill_pending(HgAuth *a, HgAuthEvent *ev) {
  ev->prompts = (const HgAuthPrompt *)(void *)a->prompts->data;
  ev->n_prompts = a->prompts->len;
  ev->messages = (const HgAuthMessage *)(void *)a->messages->data;
  ev->n_messages = a->messages->len;
}

static int on_wait(HgAuth *a, uint32_t count) {
  HgAuthEvent ev = {.type = HG_AUTH_PROMPT};

  if (count != a->prompts->len)
    return -EPROTO;
  a->state = STATE_USER;
  a->n_wait = count;
  disarm_timer(a);
  fill_pending(a, &ev);
  emit(a, &ev);
  clear_pending(a);
  return 0;
}

static int on_result_ok(HgAuth *a, const HgProtoMsg *m) {
  static const char *const none[] = {NULL};
  HgAuthEvent ev = {.type = HG_AUTH_SUCCESS, .user = m->text, .uid = m->uid};

  ev.groups = a->groups ? (const char *const *)a->groups : none;

  if (a->prompts->len > 0)
    return -EPROTO;
  a->state = STATE_SESSION;
  a->authenticated = true;
  disarm_timer(a);
  fill_pending(a, &ev);
  emit(a, &ev);
  clear_pending(a);
  return 0;
}

/* Once the session is open, only its end is news. */
static int handle_session_message(HgAuth *a, const HgProtoMsg *m) {
  if (m->type == HG_PROTO_INFO || m->type == HG_PROTO_ERROR)
    return 0; /* a closing module talking: nobody listens any more */
  if (m->type != HG_PROTO_CLOSED)
    return -EPROTO;
  finish(a, HG_AUTH_FAILURE_INTERNAL);
  return 0;
}

static int handle_message(HgAuth *a, const HgProtoMsg *m) {
  if (a->state == STATE_SESSION)
    return handle_session_message(a, m);
  if (a->state != STATE_HELPER)
    return -EPROTO;

  switch (m->type) {
  case HG_PROTO_PROMPT_ECHO_OFF:
  case HG_PROTO_PROMPT_ECHO_ON:
    return add_prompt(a, m);
  case HG_PROTO_INFO:
  case HG_PROTO_ERROR:
    add_message(a, m);
    return 0;
  case HG_PROTO_WAIT:
    return on_wait(a, m->count);
  case HG_PROTO_FAIL_DELAY:
    a->fail_delay = HG_MAX(a->fail_delay, m->usec);
    return 0;
  case HG_PROTO_ACCOUNT:
    g_free(a->account);
    a->account = g_strndup(m->text, m->text_len);
    return 0;
  case HG_PROTO_GROUPS:
    g_strfreev(a->groups);
    a->groups = m->text_len ? g_strsplit(m->text, "\n", -1) : g_new0(char *, 1);
    return 0;
  case HG_PROTO_RESULT_OK:
    return on_result_ok(a, m);
  case HG_PROTO_RESULT_FAIL:
    finish(a, m->failure);
    return 0;
  case HG_PROTO_START:
  case HG_PROTO_SETUP:
  case HG_PROTO_ANSWER:
  case HG_PROTO_CLOSED:
    break;
  }
  return -EPROTO;
}

/* A helper that breaks the protocol is not trusted to end cleanly. */
static void protocol_error(HgAuth *a, int err, const HgProtoMsg *m) {
  const char *type = m ? hg_proto_type_to_string(m->type) : NULL;

  hg_log_errno(LOG_WARNING, err, "PAM helper %d broke the protocol (%s)",
               (int)a->pid, type ? type : "bad message");
  kill_helper(a);
  finish(a, HG_AUTH_FAILURE_INTERNAL);
}

/* Handles what the helper sent until its socket is empty or closed. */
static void drain(HgAuth *a) {
  while (a->fd >= 0) {
    HgProtoBuf buf;
    HgProtoMsg m;
    int r;

    r = hg_proto_recv_msg(a->fd, &buf, &m, true);
    if (r == -EAGAIN)
      return;
    if (r == -EMSGSIZE || r == -EBADMSG) {
      protocol_error(a, r, NULL);
    } else if (r <= 0) {
      /* Hung up: exiting, or crashed; the reaper tells which. */
      finish(a, HG_AUTH_FAILURE_INTERNAL);
    } else if ((r = handle_message(a, &m)) < 0) {
      protocol_error(a, r, &m);
    }
  }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
  HgAuth *a = auth_ref(userdata);

  drain(a);
  auth_unref(a);
  return 0;
}

static void log_exit(HgAuth *a, const siginfo_t *si) {
  if (si->si_code == CLD_EXITED && si->si_status == 127)
    hg_warning("PAM helper %d could not be executed", (int)a->pid);
  else if (si->si_code == CLD_EXITED)
    hg_debug("PAM helper %d exited with status %d", (int)a->pid, si->si_status);
  else if (a->killed)
    hg_debug("PAM helper %d killed", (int)a->pid);
  else
    hg_warning("PAM helper %d died of signal %s", (int)a->pid,
               strsignal(si->si_status));
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
  HgAuth *a = auth_ref(userdata);

  log_exit(a, si);
  a->pid = 0;
  disarm_timer(a);
  drain(a); /* what it said before it went still counts */
  finish(a, HG_AUTH_FAILURE_INTERNAL);
  auth_unref(a); /* the helper's reference */
  auth_unref(a);
  return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
  HgAuth *a = auth_ref(userdata);

  if (a->state == STATE_DONE)
    hg_warning("PAM helper %d did not exit in time, killing it", (int)a->pid);
  else
    hg_warning("PAM helper %d did not answer in time, killing it", (int)a->pid);
  kill_helper(a);
  finish(a, HG_AUTH_FAILURE_INTERNAL);
  auth_unref(a);
  return 0;
}

static bool is_user_name(const char *s) {
  size_t n = s ? strlen(s) : 0;

  if (n == 0 || n > USER_MAX || !hg_proto_text_valid(s, n))
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
      return false;
  return true;
}

static bool is_rhost(const char *s) {
  size_t n = s ? strlen(s) : 0;

  if (n == 0 || n > 255)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= ' ' || s[i] > '~')
      return false;
  return true;
}

/* Our own child: watched, reaped, killed when it does not answer. */
static int watch_child(HgAuth *a) {
  int r = sd_event_add_child(a->manager->event, &a->child, a->pid, WEXITED,
                             on_child, a);

  if (r < 0) {
    /* Nobody else will reap it. */
    (void)kill(a->pid, SIGKILL);
    (void)waitpid(a->pid, NULL, 0);
    a->pid = 0;
    return hg_log_errno(LOG_ERR, r, "Cannot watch the PAM helper");
  }
  (void)sd_event_source_set_child_process_own(a->child, true);
  (void)sd_event_source_set_description(a->child, "pam-helper");
  return 0;
}

/* A helper from systemd is not ours to kill: dropping the connection ends
 * it (and it bounds its own time). */
static int open_helper(HgAuth *a, const char *rhost) {
  HgAuthManager *m = a->manager;
  HgHelperArgs args = {
      .service = m->service,
      .min_uid = m->min_uid,
      .rhost = rhost,
      .tty = WEB_TTY,
      .timeout_sec = (unsigned)HG_MAX(hg_usec_to_sec_ceil(m->timeout), 1),
  };
  int r;

  if (m->helper_socket)
    return hg_helper_connect(m->helper_socket, &args, &a->fd);
  r = hg_helper_fork(m->helper_path ? m->helper_path
                                    : hg_auth_default_helper_path(),
                     &args, &a->fd, &a->pid);
  return r < 0 ? r : watch_child(a);
}

/* Helper, event sources, START. On failure the caller frees a, which
 * kills and reaps a helper already started. */
static int launch(HgAuth *a, const char *user, const char *rhost) {
  sd_event *e = a->manager->event;
  int r;

  r = sd_event_add_time(e, &a->timer, CLOCK_BOOTTIME, 0, 1, on_timeout, a);
  if (r < 0)
    return r;
  disarm_timer(a);
  r = open_helper(a, rhost);
  if (r < 0)
    return r;
  r = sd_event_add_io(e, &a->io, a->fd, EPOLLIN, on_io, a);
  if (r < 0)
    return r;
  r = hg_proto_send(a->fd, &(HgProtoMsg){.type = HG_PROTO_START, .text = user});
  if (r < 0)
    return r;
  arm_timer(a);
  return 0;
}

static HgAuth *auth_new(HgAuthManager *m, HgAuthCallback cb, void *userdata) {
  HgAuth *a = g_new0(HgAuth, 1);

  a->n_ref = 1;
  a->manager = m;
  a->link.data = a;
  a->fd = -1;
  a->cb = cb;
  a->userdata = userdata;
  a->timeout = m->timeout;
  a->prompts = g_array_new(false, false, sizeof(HgAuthPrompt));
  g_array_set_clear_func(a->prompts, clear_prompt);
  a->messages = g_array_new(false, false, sizeof(HgAuthMessage));
  g_array_set_clear_func(a->messages, clear_message);
  g_queue_push_tail_link(&m->logins, &a->link);
  return a;
}

int hg_auth_adopt(HgAuthManager *m, int fd, HgAuthCallback cb, void *userdata,
                  HgAuth **ret) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  HgAuth *a;
  int r;

  /* A helper that died while we were away has left a hung-up socket. */
  if (m->shut_down || poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLERR))) {
    close(fd);
    return m->shut_down ? -ESHUTDOWN : -EPIPE;
  }
  a = auth_new(m, cb, userdata);
  a->fd = fd;
  a->state = STATE_SESSION;
  a->authenticated = true;
  r = fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
  if (r >= 0)
    r = sd_event_add_time(m->event, &a->timer, CLOCK_BOOTTIME, 0, 1, on_timeout,
                          a);
  if (r >= 0) {
    disarm_timer(a);
    r = sd_event_add_io(m->event, &a->io, a->fd, EPOLLIN, on_io, a);
  }
  if (r < 0) {
    auth_free(a);
    return r;
  }
  *ret = a;
  return 0;
}

int hg_auth_start(HgAuthManager *m, const char *user, const char *rhost,
                  HgAuthCallback cb, void *userdata, HgAuth **ret) {
  HgAuth *a;
  int r;

  if (m->shut_down)
    return -ESHUTDOWN;
  if (!is_user_name(user) || !is_rhost(rhost))
    return -EINVAL;

  a = auth_new(m, cb, userdata);
  r = launch(a, user, rhost);
  if (r < 0) {
    auth_free(a);
    return r;
  }
  auth_ref(a); /* the helper's, dropped when it is reaped */
  *ret = a;
  return 0;
}

int hg_auth_answer(HgAuth *a, char *const *answers, size_t n) {
  int r;

  if (!a || a->closed || a->state != STATE_USER)
    return -EBUSY;
  if (n != a->n_wait)
    return -EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!answers[i] || strlen(answers[i]) > HG_PROTO_MAX_TEXT ||
        !hg_proto_text_valid(answers[i], strlen(answers[i])))
      return -EINVAL;

  a->state = STATE_HELPER;
  arm_timer(a);
  for (size_t i = 0; i < n; i++) {
    r = hg_proto_send(
        a->fd, &(HgProtoMsg){.type = HG_PROTO_ANSWER, .text = answers[i]});
    if (r < 0)
      return r; /* the helper is gone: its hang-up ends the login */
  }
  return 0;
}

HgAuth *hg_auth_close(HgAuth *a) {
  if (!a)
    return NULL;
  g_return_val_if_fail(!a->closed, NULL);
  a->closed = true;
  a->cb = NULL;
  if (a->state != STATE_DONE)
    stop(a);
  auth_unref(a);
  return NULL;
}

pid_t hg_auth_get_pid(const HgAuth *a) { return a->pid; }
int hg_auth_get_fd(const HgAuth *a) { return a->fd; }
void hg_auth_set_userdata(HgAuth *a, void *userdata) { a->userdata = userdata; }

static bool running_from_build_tree(void) {
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);

  return exe && g_str_has_prefix(exe, HG_BUILD_ROOT "/");
}

const char *hg_auth_default_helper_path(void) {
  const char *e = getenv("HOURGLASS_PAM_HELPER");

  if (e && *e)
    return e;
  if (running_from_build_tree())
    return HG_BUILD_ROOT "/pam/hourglass-pam-helper";
  return HG_LIBEXECDIR "/hourglass/hourglass-pam-helper";
}

int hg_auth_manager_new(sd_event *event, const HgAuthSettings *settings,
                        HgAuthManager **ret) {
  HgAuthManager *m = g_new0(HgAuthManager, 1);
  int r;

  m->event = sd_event_ref(event);
  g_queue_init(&m->logins);
  r = hg_auth_manager_set_settings(m, settings);
  if (r < 0) {
    hg_auth_manager_free(m);
    return r;
  }
  *ret = m;
  return 0;
}

int hg_auth_manager_set_settings(HgAuthManager *m,
                                 const HgAuthSettings *settings) {
  if (!settings->service || !*settings->service || settings->timeout == 0 ||
      settings->timeout == HG_USEC_INFINITY)
    return -EINVAL;
  g_free(m->service);
  m->service = g_strdup(settings->service);
  g_free(m->helper_path);
  m->helper_path = g_strdup(settings->helper_path);
  g_free(m->helper_socket);
  m->helper_socket = g_strdup(settings->helper_socket);
  m->min_uid = settings->min_uid;
  m->timeout = settings->timeout;
  return 0;
}

unsigned hg_auth_manager_in_progress(const HgAuthManager *m) {
  unsigned n = 0;

  for (GList *l = m->logins.head; l; l = l->next) {
    const HgAuth *a = l->data;
    n += a->pid != 0 && !a->authenticated;
  }
  return n;
}

unsigned hg_auth_manager_helpers(const HgAuthManager *m) {
  unsigned n = 0;

  for (GList *l = m->logins.head; l; l = l->next)
    n += ((const HgAuth *)l->data)->pid != 0;
  return n;
}

static bool helper_exited(const HgAuth *a) {
  siginfo_t si = {0};

  /* WNOWAIT: the zombie stays for its event source to reap. */
  if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
    return true;
  return si.si_pid != 0;
}

/* Waits, blocking and at most until deadline, for one more helper to exit.
 * Returns false when none is left running. Without a pidfd for each (old
 * kernels, valgrind) it looks again every 10 ms. */
static bool wait_for_one_helper(HgAuthManager *m, hg_usec_t deadline) {
  g_autofree struct pollfd *p = g_new0(struct pollfd, m->logins.length + 1);
  hg_usec_t now = hg_now(CLOCK_MONOTONIC), timeout;
  unsigned running = 0;
  nfds_t n = 0;

  for (GList *l = m->logins.head; l; l = l->next) {
    const HgAuth *a = l->data;
    int fd;

    if (a->pid == 0 || helper_exited(a))
      continue;
    running++;
    fd = sd_event_source_get_child_pidfd(a->child);
    if (fd >= 0)
      p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
  }
  if (running == 0 || now >= deadline)
    return false;
  timeout = deadline - now;
  if (n < running)
    timeout = HG_MIN(timeout, 10 * HG_USEC_PER_MSEC);
  (void)poll(p, n, (int)HG_MIN((timeout + 999) / 1000, INT_MAX));
  return true;
}

void hg_auth_manager_shutdown(HgAuthManager *m, hg_usec_t max_wait) {
  hg_usec_t deadline;
  GList *l, *next;

  m->shut_down = true;
  for (l = m->logins.head; l; l = l->next) {
    HgAuth *a = l->data;
    a->cb = NULL;
    if (a->state != STATE_DONE)
      stop(a);
    disarm_timer(a);
  }
  deadline = hg_usec_add(hg_now(CLOCK_MONOTONIC), max_wait);
  while (max_wait > 0 && wait_for_one_helper(m, deadline))
    ;
  for (l = m->logins.head; l; l = next) {
    HgAuth *a = l->data;

    next = l->next;
    g_queue_unlink(&m->logins, l);
    a->manager = NULL;
    if (a->pid == 0)
      continue;
    /* The source owns the process: freeing it kills what is left and
     * reaps it. */
    a->child = sd_event_source_disable_unref(a->child);
    a->pid = 0;
    auth_unref(a);
  }
}

void hg_auth_manager_let_go(HgAuthManager *m) {
  for (GList *l = m->logins.head; l; l = l->next) {
    HgAuth *a = l->data;

    /* Freeing the source no longer kills the process. */
    if (a->authenticated && a->child)
      (void)sd_event_source_set_child_process_own(a->child, false);
  }
  hg_auth_manager_shutdown(m, 0);
}

HgAuthManager *hg_auth_manager_free(HgAuthManager *m) {
  if (!m)
    return NULL;
  if (!m->shut_down || m->logins.length > 0)
    hg_auth_manager_shutdown(m, 0);
  sd_event_unref(m->event);
  g_free(m->service);
  g_free(m->helper_path);
  g_free(m->helper_socket);
  g_free(m);
  return NULL;
}
