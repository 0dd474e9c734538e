/* pam_hgtest: a PAM module for hourglass's integration tests, driven by its
 * arguments (the service file says how it behaves for that test):
 *
 *   password=X     authenticate succeeds only if the answer to a hidden
 *                  "Password: " prompt is X
 *   sleep=MS       authenticate first sleeps MS milliseconds (a hung LDAP)
 *   crash          authenticate dies of SIGSEGV (a broken module)
 *   only_user=U    sleep and crash apply to user U only; others just check
 *                  the password
 *   log=PATH       every call appends "<call> user=<name> pid=<pid>" to PATH,
 *                  so tests can see a PAM session being opened and closed
 *   mode=M         how authenticate checks the person; "password" (the
 *                  default) is the only one so far: new ones go into the
 *                  modes table below
 *
 * account, setcred, chauthtok, open_session and close_session succeed
 * (and are logged). Linked with
 * libpam only; not installed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#define PASSWORD_PROMPT "Password: "

typedef struct Options Options;

/* One way of checking the person, after the common steps (sleep, crash). */
typedef int (*AuthMode)(pam_handle_t *pamh, const Options *o);

struct Options {
  const char *password; /* NULL: no password is right */
  const char *only_user;
  const char *log_path;
  long sleep_ms;
  bool crash;
  AuthMode mode;
};

static int auth_password(pam_handle_t *pamh, const Options *o);

static const struct {
  const char *name;
  AuthMode func;
} modes[] = {
    {"password", auth_password},
};

static bool parse_ms(const char *s, long *ret) {
  char *end = NULL;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 3600 * 1000)
    return false;
  *ret = v;
  return true;
}

static AuthMode find_mode(const char *name) {
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
    if (strcmp(modes[i].name, name) == 0)
      return modes[i].func;
  return NULL;
}

/* false on an argument this module does not know: a typo in a test's
 * service file must not pass as "no option". */
static bool parse_options(int argc, const char **argv, Options *o) {
  *o = (Options){.mode = auth_password};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];

    if (strncmp(a, "password=", 9) == 0)
      o->password = a + 9;
    else if (strncmp(a, "only_user=", 10) == 0)
      o->only_user = a + 10;
    else if (strncmp(a, "log=", 4) == 0)
      o->log_path = a + 4;
    else if (strncmp(a, "sleep=", 6) == 0) {
      if (!parse_ms(a + 6, &o->sleep_ms))
        return false;
    } else if (strcmp(a, "crash") == 0)
      o->crash = true;
    else if (strncmp(a, "mode=", 5) == 0) {
      if (!(o->mode = find_mode(a + 5)))
        return false;
    } else
      return false;
  }
  return true;
}

static const char *user_of(pam_handle_t *pamh) {
  const void *item = NULL;

  if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || !item)
    return "";
  return item;
}

/* One line per call, written at once (O_APPEND): several helpers may log
 * to the same file. */
static void log_call(pam_handle_t *pamh, const Options *o, const char *call) {
  char line[512];
  int fd, n;

  if (!o->log_path)
    return;
  n = snprintf(line, sizeof(line), "%s user=%s pid=%ld\n", call, user_of(pamh),
               (long)getpid());
  if (n <= 0 || (size_t)n >= sizeof(line))
    return;
  fd = open(o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  if (write(fd, line, (size_t)n) != n) {
    /* Nothing to do: the test that reads the log will say what is missing. */
  }
  close(fd);
}

static void sleep_ms(long ms) {
  struct timespec left = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};

  while (nanosleep(&left, &left) < 0 && errno == EINTR)
    ;
}

/* A real crash, not a sanitizer's report of one: the default action. */
static void crash(void) {
  signal(SIGSEGV, SIG_DFL);
  raise(SIGSEGV);
  abort();
}

static int ask(pam_handle_t *pamh, int style, const char *text,
               char **ret_answer) {
  const struct pam_conv *conv = NULL;
  const struct pam_message msg = {.msg_style = style, .msg = text};
  const struct pam_message *msgs[] = {&msg};
  struct pam_response *resp = NULL;
  int r;

  r = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
  if (r != PAM_SUCCESS || !conv || !conv->conv)
    return PAM_CONV_ERR;
  r = conv->conv(1, msgs, &resp, conv->appdata_ptr);
  if (r != PAM_SUCCESS)
    return r;
  if (!resp || !resp[0].resp) {
    free(resp);
    return PAM_CONV_ERR;
  }
  *ret_answer = resp[0].resp;
  free(resp);
  return PAM_SUCCESS;
}

static int auth_password(pam_handle_t *pamh, const Options *o) {
  char *answer = NULL;
  bool right;
  int r;

  r = ask(pamh, PAM_PROMPT_ECHO_OFF, PASSWORD_PROMPT, &answer);
  if (r != PAM_SUCCESS)
    return r;
  right = o->password && strcmp(answer, o->password) == 0;
  memset(answer, 0, strlen(answer));
  free(answer);
  return right ? PAM_SUCCESS : PAM_AUTH_ERR;
}

static bool applies_to(pam_handle_t *pamh, const Options *o) {
  return !o->only_user || strcmp(o->only_user, user_of(pamh)) == 0;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv) {
  Options o;

  if (!parse_options(argc, argv, &o))
    return PAM_SERVICE_ERR;
  log_call(pamh, &o, "authenticate");
  if (applies_to(pamh, &o)) {
    if (o.sleep_ms > 0)
      sleep_ms(o.sleep_ms);
    if (o.crash)
      crash();
  }
  return o.mode(pamh, &o);
}

/* The other calls only succeed, and leave a trace when asked to. */
static int succeed(pam_handle_t *pamh, int argc, const char **argv,
                   const char *call) {
  Options o;

  if (!parse_options(argc, argv, &o))
    return PAM_SERVICE_ERR;
  log_call(pamh, &o, call);
  return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
                              const char **argv) {
  return succeed(pamh, argc, argv, "setcred");
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                const char **argv) {
  return succeed(pamh, argc, argv, "acct_mgmt");
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
                                const char **argv) {
  return succeed(pamh, argc, argv, "chauthtok");
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv) {
  return succeed(pamh, argc, argv, "open_session");
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                    const char **argv) {
  return succeed(pamh, argc, argv, "close_session");
}
