/* pam_hgtest: a PAM module for hourglass's integration tests, driven by its
 * arguments (the service file says how it behaves for that test):
 *
 *   password=X     authenticate succeeds only if the answer to a hidden
 *                  "Password: " prompt is X
 *   hold=PATH      authenticate first waits until it reads a byte from the
 *                  FIFO at PATH (a hung LDAP, for as long as the test says:
 *                  forever if it says nothing)
 *   crash          authenticate dies of SIGSEGV (a broken module)
 *   only_user=U    hold and crash apply to user U only; others just check
 *                  the password
 *   log=PATH       every call appends "<call> user=<name> pid=<pid>" to PATH,
 *                  so tests can see a PAM session being opened and closed
 *   mode=M         how authenticate checks the person: "password" (the
 *                  default), or "otp": the password, then an information
 *                  message and a visible "One-time code: " prompt in one
 *                  conversation call, right only if the answer is code=C
 *   code=C         the one-time code of mode=otp
 *   expired        account management says the password has expired
 *                  (PAM_NEW_AUTHTOK_REQD) until chauthtok has run; chauthtok
 *                  asks "New password: " and "Retype new password: " in two
 *                  calls and succeeds if both are new=N
 *   new=N          the new password of "expired"
 *
 * Otherwise account, setcred, chauthtok, open_session and close_session
 * succeed (and are logged). Linked with libpam only; not installed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#define PASSWORD_PROMPT "Password: "

typedef struct Options Options;

/* One way of checking the person, after the common steps (sleep, crash). */
typedef int (*AuthMode)(pam_handle_t *pamh, const Options *o);

struct Options {
  const char *password; /* NULL: no password is right */
  const char *code;     /* mode=otp */
  const char *new_password;
  bool expired;
  const char *only_user;
  const char *log_path;
  const char *hold_path;
  bool crash;
  AuthMode mode;
};

static int auth_password(pam_handle_t *pamh, const Options *o);
static int auth_otp(pam_handle_t *pamh, const Options *o);

static const struct {
  const char *name;
  AuthMode func;
} modes[] = {
    {"password", auth_password},
    {"otp", auth_otp},
};

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
    else if (strncmp(a, "hold=", 5) == 0)
      o->hold_path = a + 5;
    else if (strcmp(a, "crash") == 0)
      o->crash = true;
    else if (strncmp(a, "code=", 5) == 0)
      o->code = a + 5;
    else if (strncmp(a, "new=", 4) == 0)
      o->new_password = a + 4;
    else if (strcmp(a, "expired") == 0)
      o->expired = true;
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

/* Opening a FIFO for reading waits for its writer; reading waits for its
 * byte (or its close). Until then this helper hangs, as on a dead server. */
static void hold(const char *path) {
  char byte;
  int fd;

  while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (fd < 0)
    return;
  while (read(fd, &byte, 1) < 0 && errno == EINTR)
    ;
  close(fd);
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

static bool answer_is(char *answer, const char *right) {
  bool ok = right && strcmp(answer, right) == 0;

  memset(answer, 0, strlen(answer));
  free(answer);
  return ok;
}

/* An information message and a prompt in one conversation call, as OTP
 * modules do. */
static int ask_code(pam_handle_t *pamh, char **ret_answer) {
  const struct pam_conv *conv = NULL;
  const struct pam_message info = {PAM_TEXT_INFO, "A code was sent to you."};
  const struct pam_message prompt = {PAM_PROMPT_ECHO_ON, "One-time code: "};
  const struct pam_message *msgs[] = {&info, &prompt};
  struct pam_response *resp = NULL;
  int r;

  r = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
  if (r != PAM_SUCCESS || !conv || !conv->conv)
    return PAM_CONV_ERR;
  r = conv->conv(2, msgs, &resp, conv->appdata_ptr);
  if (r != PAM_SUCCESS)
    return r;
  if (!resp || !resp[1].resp) {
    if (resp)
      free(resp[0].resp);
    free(resp);
    return PAM_CONV_ERR;
  }
  free(resp[0].resp);
  *ret_answer = resp[1].resp;
  free(resp);
  return PAM_SUCCESS;
}

static int auth_otp(pam_handle_t *pamh, const Options *o) {
  char *answer = NULL;
  int r = auth_password(pamh, o);

  if (r != PAM_SUCCESS)
    return r;
  r = ask_code(pamh, &answer);
  if (r != PAM_SUCCESS)
    return r;
  return answer_is(answer, o->code) ? PAM_SUCCESS : PAM_AUTH_ERR;
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
    if (o.hold_path)
      hold(o.hold_path);
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

/* "expired": until chauthtok ran in this transaction (pam data). */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                const char **argv) {
  const void *changed = NULL;
  Options o;

  if (!parse_options(argc, argv, &o))
    return PAM_SERVICE_ERR;
  log_call(pamh, &o, "acct_mgmt");
  if (o.expired &&
      pam_get_data(pamh, "hgtest-changed", &changed) != PAM_SUCCESS)
    return PAM_NEW_AUTHTOK_REQD;
  return PAM_SUCCESS;
}

/* The new password twice, in two calls; both must be new=N. */
static int change_password(pam_handle_t *pamh, const Options *o) {
  char *first = NULL, *second = NULL;
  bool same, right;
  int r;

  r = ask(pamh, PAM_PROMPT_ECHO_OFF, "New password: ", &first);
  if (r != PAM_SUCCESS)
    return r;
  r = ask(pamh, PAM_PROMPT_ECHO_OFF, "Retype new password: ", &second);
  if (r != PAM_SUCCESS) {
    answer_is(first, NULL);
    return r;
  }
  same = strcmp(first, second) == 0;
  answer_is(second, NULL);
  right = answer_is(first, o->new_password);
  if (!same || !right)
    return PAM_AUTHTOK_ERR;
  return pam_set_data(pamh, "hgtest-changed", (void *)"yes", NULL);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
                                const char **argv) {
  Options o;

  if (!parse_options(argc, argv, &o))
    return PAM_SERVICE_ERR;
  /* PAM calls chauthtok twice: a preliminary check, then the update. */
  if (flags & PAM_PRELIM_CHECK)
    return PAM_SUCCESS;
  log_call(pamh, &o, "chauthtok");
  if (!o.expired)
    return PAM_SUCCESS;
  return change_password(pamh, &o);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv) {
  return succeed(pamh, argc, argv, "open_session");
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                    const char **argv) {
  return succeed(pamh, argc, argv, "close_session");
}
