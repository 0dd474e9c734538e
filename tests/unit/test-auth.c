/* The PAM helper and its client end to end, under pam_wrapper (passwords
 * from tests/data/passdb through pam_matrix) and nss_wrapper (accounts
 * from tests/data/passwd), plus misbehaving stand-ins for the helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "hg-auth.h"
#include "hg-spawn.h"
#include "test-poll.h"

#define SERVICE "hourglass-test"
#define DEADLINE_SEC 20
#define DEADLINE (DEADLINE_SEC * HG_USEC_PER_SEC)

typedef struct {
  HgAuthEventType type;
  char *prompts;  /* "off:TEXT;on:TEXT;" */
  char *messages; /* "info:TEXT;error:TEXT;" */
  char *user;
  uid_t uid;
  HgAuthFailure failure;
  hg_usec_t fail_delay;
  hg_usec_t when;
} Recorded;

typedef struct {
  sd_event *event;
  HgAuthManager *manager;
  GArray *events;     /* Recorded */
  const char *answer; /* the callback answers prompts with it */
  bool close_in_callback;
} Fixture;

static HgAuthSettings settings(const char *helper_path, hg_usec_t timeout) {
  return (HgAuthSettings){.service = SERVICE,
                          .min_uid = 1000,
                          .helper_path = helper_path,
                          .timeout = timeout};
}

static void clear_recorded(void *p) {
  Recorded *r = p;
  g_free(r->prompts);
  g_free(r->messages);
  g_free(r->user);
}

static char *join_prompts(const HgAuthEvent *ev) {
  GString *s = g_string_new(NULL);

  for (size_t i = 0; i < ev->n_prompts; i++)
    g_string_append_printf(s, "%s:%s;", ev->prompts[i].echo ? "on" : "off",
                           ev->prompts[i].text);
  return g_string_free(s, false);
}

static char *join_messages(const HgAuthEvent *ev) {
  GString *s = g_string_new(NULL);

  for (size_t i = 0; i < ev->n_messages; i++)
    g_string_append_printf(s, "%s:%s;",
                           ev->messages[i].error ? "error" : "info",
                           ev->messages[i].text);
  return g_string_free(s, false);
}

static void on_event(HgAuth *a, const HgAuthEvent *ev, void *userdata) {
  Fixture *fx = userdata;
  Recorded r = {.type = ev->type,
                .prompts = join_prompts(ev),
                .messages = join_messages(ev),
                .user = g_strdup(ev->user),
                .uid = ev->uid,
                .failure = ev->failure,
                .fail_delay = ev->fail_delay,
                .when = hg_now(CLOCK_MONOTONIC)};

  g_array_append_val(fx->events, r);
  if (fx->close_in_callback) {
    hg_auth_close(a);
  } else if (ev->type == HG_AUTH_PROMPT && fx->answer) {
    char *answers[] = {(char *)fx->answer};
    assert_int_equal(hg_auth_answer(a, answers, 1), 0);
  }
}

static const Recorded *event_at(Fixture *fx, unsigned i) {
  assert_true(i < fx->events->len);
  return &g_array_index(fx->events, Recorded, i);
}

static int setup(void **state) {
  Fixture *fx = g_new0(Fixture, 1);
  HgAuthSettings s = settings(NULL, 10 * HG_USEC_PER_SEC);

  assert_int_equal(sd_event_new(&fx->event), 0);
  assert_int_equal(hg_auth_manager_new(fx->event, &s, &fx->manager), 0);
  fx->events = g_array_new(false, true, sizeof(Recorded));
  g_array_set_clear_func(fx->events, clear_recorded);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  Fixture *fx = *state;

  hg_auth_manager_free(fx->manager);
  g_array_unref(fx->events);
  sd_event_unref(fx->event);
  g_free(fx);
  return 0;
}

typedef bool (*Condition)(Fixture *fx, const void *arg);

/* Runs the loop until cond holds; fails the test at the deadline. */
static void run_until(Fixture *fx, Condition cond, const void *arg) {
  hg_usec_t deadline = hg_now(CLOCK_MONOTONIC) + DEADLINE;

  while (!cond(fx, arg)) {
    assert_true(hg_now(CLOCK_MONOTONIC) < deadline);
    assert_true(sd_event_run(fx->event, 100 * HG_USEC_PER_MSEC) >= 0);
  }
}

static bool has_events(Fixture *fx, const void *n) {
  return fx->events->len >= *(const unsigned *)n;
}

static bool has_helpers(Fixture *fx, const void *n) {
  return hg_auth_manager_helpers(fx->manager) == *(const unsigned *)n;
}

static bool is_reaped(Fixture *fx, const void *a) {
  return hg_auth_get_pid(a) == 0;
}

static const Recorded *wait_event(Fixture *fx, unsigned i) {
  unsigned n = i + 1;
  run_until(fx, has_events, &n);
  return event_at(fx, i);
}

static void wait_helpers(Fixture *fx, unsigned n) {
  run_until(fx, has_helpers, &n);
}

typedef struct {
  pid_t pid;
  siginfo_t si;
} Exit;

static bool exited(void *p) {
  Exit *e = p;

  e->si = (siginfo_t){0};
  assert_int_equal(
      waitid(P_PID, (id_t)e->pid, &e->si, WEXITED | WNOHANG | WNOWAIT), 0);
  return e->si.si_pid == e->pid;
}

/* How pid ended, read without reaping it (its reaper is the loop, which
 * does not run meanwhile). */
static siginfo_t peek_exit(pid_t pid) {
  Exit e = {.pid = pid};

  assert_true(test_poll_until(exited, &e, DEADLINE_SEC));
  return e.si;
}

static void assert_exited(pid_t pid, int status) {
  siginfo_t si = peek_exit(pid);

  assert_int_equal(si.si_code, CLD_EXITED);
  assert_int_equal(si.si_status, status);
}

static HgAuth *start(Fixture *fx, const char *user) {
  HgAuth *a = NULL;

  assert_int_equal(
      hg_auth_start(fx->manager, user, "127.0.0.1", on_event, fx, &a), 0);
  assert_non_null(a);
  assert_true(hg_auth_get_pid(a) > 0);
  return a;
}

static void answer(HgAuth *a, const char *text) {
  char *answers[] = {(char *)text};
  assert_int_equal(hg_auth_answer(a, answers, 1), 0);
}

static void assert_password_prompt(const Recorded *r) {
  assert_int_equal(r->type, HG_AUTH_PROMPT);
  assert_string_equal(r->prompts, "off:Password: ;");
  assert_string_equal(r->messages, "");
}

/* A full login, its session, and the end of it from our side: the helper
 * closes the PAM session and exits 0, and nothing is told after close. */
static void test_success_then_close(void **state) {
  Fixture *fx = *state;
  HgAuth *a = start(fx, "alice");
  const Recorded *r;
  pid_t pid;

  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 1);
  assert_password_prompt(wait_event(fx, 0));
  answer(a, "secret");
  r = wait_event(fx, 1);
  assert_int_equal(r->type, HG_AUTH_SUCCESS);
  assert_string_equal(r->user, "alice");
  assert_int_equal(r->uid, 1001);
  assert_string_equal(r->messages, "info:Authentication succeeded;");
  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 0);
  assert_int_equal(hg_auth_manager_helpers(fx->manager), 1);

  pid = hg_auth_get_pid(a);
  hg_auth_close(a);
  assert_exited(pid, 0);
  wait_helpers(fx, 0);
  assert_int_equal(fx->events->len, 2);
}

/* Answered from within the callback; then the helper is told to end
 * (SIGTERM, as systemd would at shutdown): it closes the session and the
 * login hears ENDED. */
static void test_success_then_sigterm(void **state) {
  Fixture *fx = *state;
  HgAuth *a;

  fx->answer = "secret";
  a = start(fx, "alice");
  assert_int_equal(wait_event(fx, 1)->type, HG_AUTH_SUCCESS);
  assert_int_equal(kill(hg_auth_get_pid(a), SIGTERM), 0);
  assert_int_equal(wait_event(fx, 2)->type, HG_AUTH_ENDED);
  run_until(fx, is_reaped, a);
  assert_int_equal(hg_auth_answer(a, NULL, 0), -EBUSY);
  hg_auth_close(a);
  assert_int_equal(fx->events->len, 3);
}

static const Recorded *login_failure(Fixture *fx, const char *user,
                                     const char *password) {
  HgAuth *a;
  const Recorded *r;

  fx->answer = password;
  a = start(fx, user);
  assert_password_prompt(wait_event(fx, 0));
  r = wait_event(fx, 1);
  assert_int_equal(r->type, HG_AUTH_FAILURE);
  /* PAM's words never come with a failure. */
  assert_string_equal(r->messages, "");
  run_until(fx, is_reaped, a);
  hg_auth_close(a);
  assert_int_equal(fx->events->len, 2);
  return event_at(fx, 1);
}

/* pam_faildelay asks for 4 s (± 50 %): the daemon is told at once and
 * applies it; the helper must not sleep. */
static void test_wrong_password(void **state) {
  Fixture *fx = *state;
  const Recorded *r = login_failure(fx, "alice", "wrong");

  assert_int_equal(r->failure, HG_AUTH_FAILURE_AUTH);
  assert_true(r->fail_delay >= 2 * HG_USEC_PER_SEC - 1000);
  assert_true(r->fail_delay <= 6 * HG_USEC_PER_SEC + 1000);
  assert_true(r->when - event_at(fx, 0)->when < r->fail_delay);
}

static void test_unknown_user(void **state) {
  Fixture *fx = *state;
  assert_int_equal(login_failure(fx, "nobody", "secret")->failure,
                   HG_AUTH_FAILURE_AUTH);
}

static void test_uid_too_low(void **state) {
  Fixture *fx = *state;
  assert_int_equal(login_failure(fx, "lowuid", "secret")->failure,
                   HG_AUTH_FAILURE_UID);
}

/* PAM knows the account, NSS does not. */
static void test_unknown_to_nss(void **state) {
  Fixture *fx = *state;
  assert_int_equal(login_failure(fx, "ghost", "secret")->failure,
                   HG_AUTH_FAILURE_UID);
}

/* pam_matrix lets bob authenticate, but his account is for another
 * service. */
static void test_account_refused(void **state) {
  Fixture *fx = *state;
  const Recorded *r = login_failure(fx, "bob", "secret");

  assert_int_equal(r->failure, HG_AUTH_FAILURE_ACCOUNT);
  assert_int_equal(r->fail_delay, 0); /* authentication itself succeeded */
}

static void test_helper_killed(void **state) {
  Fixture *fx = *state;
  HgAuth *a = start(fx, "alice");
  const Recorded *r;

  assert_password_prompt(wait_event(fx, 0));
  assert_int_equal(kill(hg_auth_get_pid(a), SIGKILL), 0);
  r = wait_event(fx, 1);
  assert_int_equal(r->type, HG_AUTH_FAILURE);
  assert_int_equal(r->failure, HG_AUTH_FAILURE_INTERNAL);
  run_until(fx, is_reaped, a);
  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 0);
  hg_auth_close(a);
}

static void use_fake_helper(Fixture *fx, const char *mode, hg_usec_t timeout) {
  HgAuthSettings s = settings(HG_TEST_FAKE_HELPER, timeout);

  assert_int_equal(hg_auth_manager_set_settings(fx->manager, &s), 0);
  assert_int_equal(setenv("HOURGLASS_TEST_FAKE_HELPER", mode, 1), 0);
}

/* A helper that never answers is killed when the timeout runs out. */
static void test_helper_hangs(void **state) {
  Fixture *fx = *state;
  hg_usec_t t0 = hg_now(CLOCK_MONOTONIC);
  const Recorded *r;
  HgAuth *a;

  use_fake_helper(fx, "hang", 300 * HG_USEC_PER_MSEC);
  a = start(fx, "alice");
  r = wait_event(fx, 0);
  assert_int_equal(r->type, HG_AUTH_FAILURE);
  assert_int_equal(r->failure, HG_AUTH_FAILURE_INTERNAL);
  assert_true(r->when - t0 >= 300 * HG_USEC_PER_MSEC);
  run_until(fx, is_reaped, a);
  hg_auth_close(a);
  assert_int_equal(fx->events->len, 1);
}

/* A packet that is no message: the helper is not trusted any further. */
static void test_helper_breaks_protocol(void **state) {
  Fixture *fx = *state;
  HgAuth *a;

  use_fake_helper(fx, "garbage", 10 * HG_USEC_PER_SEC);
  a = start(fx, "alice");
  assert_int_equal(wait_event(fx, 0)->type, HG_AUTH_FAILURE);
  assert_int_equal(event_at(fx, 0)->failure, HG_AUTH_FAILURE_INTERNAL);
  run_until(fx, is_reaped, a);
  hg_auth_close(a);
  unsetenv("HOURGLASS_TEST_FAKE_HELPER");
}

/* The person walked away from the prompt: the helper ends (status 1,
 * nothing was authenticated) and nobody hears of it. */
static void test_close_at_prompt(void **state) {
  Fixture *fx = *state;
  HgAuth *a = start(fx, "alice");
  pid_t pid;

  assert_password_prompt(wait_event(fx, 0));
  pid = hg_auth_get_pid(a);
  hg_auth_close(a);
  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 1);
  assert_exited(pid, 1);
  wait_helpers(fx, 0);
  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 0);
  assert_int_equal(fx->events->len, 1);
}

static void test_close_in_callback(void **state) {
  Fixture *fx = *state;

  fx->close_in_callback = true;
  start(fx, "alice");
  assert_password_prompt(wait_event(fx, 0));
  wait_helpers(fx, 0);
  assert_int_equal(fx->events->len, 1);
}

static void test_refusals(void **state) {
  Fixture *fx = *state;
  HgAuthSettings bad = settings(NULL, 0);
  HgAuthSettings missing = settings("/nonexistent/helper", HG_USEC_PER_SEC);
  char *two[] = {(char *)"secret", (char *)"secret"};
  char *not_utf8[] = {(char *)"\xff"};
  HgAuth *a = NULL;

  assert_int_equal(hg_auth_start(fx->manager, "", "::1", on_event, fx, &a),
                   -EINVAL);
  assert_int_equal(
      hg_auth_start(fx->manager, "al\nice", "::1", on_event, fx, &a), -EINVAL);
  assert_int_equal(hg_auth_start(fx->manager, "alice", "1 2", on_event, fx, &a),
                   -EINVAL);
  assert_int_equal(hg_auth_manager_set_settings(fx->manager, &bad), -EINVAL);
  bad = settings(NULL, HG_USEC_PER_SEC);
  bad.service = "";
  assert_int_equal(hg_auth_manager_set_settings(fx->manager, &bad), -EINVAL);

  a = start(fx, "alice");
  assert_int_equal(hg_auth_answer(a, two, 1), -EBUSY); /* no prompt yet */
  assert_password_prompt(wait_event(fx, 0));
  assert_int_equal(hg_auth_answer(a, two, 2), -EINVAL);
  assert_int_equal(hg_auth_answer(a, not_utf8, 1), -EINVAL);
  answer(a, "secret");
  assert_int_equal(hg_auth_answer(a, two, 1), -EBUSY); /* answered */
  assert_int_equal(wait_event(fx, 1)->type, HG_AUTH_SUCCESS);
  hg_auth_close(a);

  assert_int_equal(hg_auth_manager_set_settings(fx->manager, &missing), 0);
  assert_int_equal(hg_auth_start(fx->manager, "alice", "::1", on_event, fx, &a),
                   -ENOENT);
  wait_helpers(fx, 0);
}

/* Shutdown with one session open and one login at its prompt: both
 * helpers end by themselves, well before the wait runs out. */
static void test_shutdown(void **state) {
  Fixture *fx = *state;
  HgAuth *a = start(fx, "alice"), *b = start(fx, "alice");
  hg_usec_t t0;

  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 2);
  assert_password_prompt(wait_event(fx, 0));
  assert_password_prompt(wait_event(fx, 1));
  answer(a, "secret");
  assert_int_equal(wait_event(fx, 2)->type, HG_AUTH_SUCCESS);
  assert_int_equal(hg_auth_manager_in_progress(fx->manager), 1);

  t0 = hg_now(CLOCK_MONOTONIC);
  hg_auth_manager_shutdown(fx->manager, DEADLINE);
  assert_true(hg_now(CLOCK_MONOTONIC) - t0 < DEADLINE / 2);
  assert_int_equal(hg_auth_manager_helpers(fx->manager), 0);
  assert_int_equal(hg_auth_get_pid(a), 0);
  assert_int_equal(hg_auth_get_pid(b), 0);
  assert_int_equal(hg_auth_answer(b, NULL, 0), -EBUSY);
  assert_int_equal(hg_auth_start(fx->manager, "alice", "::1", on_event, fx, &a),
                   -ESHUTDOWN);
  hg_auth_close(a);
  hg_auth_close(b);
  assert_int_equal(sd_event_run(fx->event, 0), 0);
  assert_int_equal(fx->events->len, 3);
}

/* A helper that will not end is killed when the shutdown wait is over. */
static void test_shutdown_kills(void **state) {
  Fixture *fx = *state;
  hg_usec_t t0, took;

  use_fake_helper(fx, "hang", 10 * HG_USEC_PER_SEC);
  hg_auth_close(start(fx, "alice"));
  t0 = hg_now(CLOCK_MONOTONIC);
  hg_auth_manager_shutdown(fx->manager, 200 * HG_USEC_PER_MSEC);
  took = hg_now(CLOCK_MONOTONIC) - t0;
  assert_true(took >= 200 * HG_USEC_PER_MSEC);
  assert_true(took < DEADLINE / 2);
  assert_int_equal(hg_auth_manager_helpers(fx->manager), 0);
  assert_int_equal(fx->events->len, 0);
}

/* The helper run by hand, as the daemon would, until the daemon "dies":
 * its socket closes without anyone reaping or signalling the helper. */
static pid_t spawn_helper(int *ret_fd) {
  const char *argv[] = {
      HG_TEST_PAM_HELPER, "--service", SERVICE, "--min-uid", "1000",
      "--rhost",          "::1",       "--tty", "test",      NULL};
  g_auto(GStrv) env = hg_spawn_environment((const char *const *)environ);
  int fds[2];
  pid_t pid;

  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds),
                   0);
  assert_int_equal(hg_spawn(HG_TEST_PAM_HELPER, (char *const *)argv, env,
                            fds[1], HG_PROTO_HELPER_FD, &pid),
                   0);
  close(fds[1]);
  *ret_fd = fds[0];
  return pid;
}

static HgProtoType recv_type(int fd) {
  HgProtoBuf buf;
  HgProtoMsg m;

  assert_int_equal(hg_proto_recv_msg(fd, &buf, &m, false), 1);
  return m.type;
}

static void send_text(int fd, HgProtoType type, const char *text) {
  assert_int_equal(hg_proto_send(fd, &(HgProtoMsg){.type = type, .text = text}),
                   0);
}

static void test_daemon_gone(void **state) {
  pid_t pid;
  int fd;

  /* At the prompt: nothing to close, the helper gives up. */
  pid = spawn_helper(&fd);
  send_text(fd, HG_PROTO_START, "alice");
  assert_int_equal(recv_type(fd), HG_PROTO_PROMPT_ECHO_OFF);
  assert_int_equal(recv_type(fd), HG_PROTO_WAIT);
  close(fd);
  assert_exited(pid, 1);
  assert_int_equal(waitpid(pid, NULL, 0), pid);

  /* With the session open: the helper closes it and exits cleanly. */
  pid = spawn_helper(&fd);
  send_text(fd, HG_PROTO_START, "alice");
  assert_int_equal(recv_type(fd), HG_PROTO_PROMPT_ECHO_OFF);
  assert_int_equal(recv_type(fd), HG_PROTO_WAIT);
  send_text(fd, HG_PROTO_ANSWER, "secret");
  assert_int_equal(recv_type(fd), HG_PROTO_INFO);
  assert_int_equal(recv_type(fd), HG_PROTO_GROUPS);
  assert_int_equal(recv_type(fd), HG_PROTO_RESULT_OK);
  close(fd);
  assert_exited(pid, 0);
  assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A service whose account stack says carol's password has expired
 * (pam_hgexpired); written at run time, the module's path being the build
 * tree's. */
static char *expired_service_dir(void) {
  g_autofree char *dir = g_dir_make_tmp("hg-test-pam-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, SERVICE, NULL);
  g_autofree char *text = g_strdup_printf(
      "auth     required %s\n"
      "account  required %s\n"
      "account  required %s\n"
      "password required %s\n"
      "session  required %s\n",
      HG_TEST_PAM_MATRIX, HG_TEST_PAM_MATRIX, HG_TEST_PAM_EXPIRED,
      HG_TEST_PAM_EXPIRED, HG_TEST_PAM_MATRIX);

  assert_non_null(dir);
  assert_true(g_file_set_contents(path, text, -1, NULL));
  return g_steal_pointer(&dir);
}

static void remove_service_dir(char *dir) {
  g_autofree char *path = g_build_filename(dir, SERVICE, NULL);

  assert_int_equal(g_unlink(path), 0);
  assert_int_equal(g_rmdir(dir), 0);
  g_free(dir);
}

/* One conversation call with a message and two prompts, answered together;
 * wrong: the change fails, and so does the login. */
static void run_expired(Fixture *fx, const char *retyped) {
  g_autofree char *saved = g_strdup(getenv("PAM_WRAPPER_SERVICE_DIR"));
  char *dir = expired_service_dir();
  char *answers[] = {(char *)"new-secret", (char *)retyped};
  const Recorded *r;
  HgAuth *a;

  assert_int_equal(setenv("PAM_WRAPPER_SERVICE_DIR", dir, 1), 0);
  a = start(fx, "carol");
  assert_int_equal(setenv("PAM_WRAPPER_SERVICE_DIR", saved, 1), 0);

  assert_password_prompt(wait_event(fx, 0));
  answer(a, "secret");
  r = wait_event(fx, 1);
  assert_int_equal(r->type, HG_AUTH_PROMPT);
  assert_string_equal(r->prompts,
                      "off:New password: ;off:Retype new password: ;");
  assert_string_equal(r->messages, "info:Your password has expired.;");
  assert_int_equal(hg_auth_answer(a, answers, 1), -EINVAL);
  assert_int_equal(hg_auth_answer(a, answers, 2), 0);
  wait_event(fx, 2);
  hg_auth_close(a);
  wait_helpers(fx, 0);
  remove_service_dir(dir);
}

static void test_expired_password_changed(void **state) {
  Fixture *fx = *state;
  const Recorded *r;

  run_expired(fx, "new-secret");
  r = event_at(fx, 2);
  assert_int_equal(r->type, HG_AUTH_SUCCESS);
  assert_string_equal(r->user, "carol");
  assert_int_equal(r->uid, 1003);
}

static void test_expired_password_kept(void **state) {
  Fixture *fx = *state;
  const Recorded *r;

  run_expired(fx, "typo");
  r = event_at(fx, 2);
  assert_int_equal(r->type, HG_AUTH_FAILURE);
  assert_int_equal(r->failure, HG_AUTH_FAILURE_EXPIRED);
}

static void test_default_helper_path(void **state) {
  g_autofree char *saved = g_strdup(getenv("HOURGLASS_PAM_HELPER"));

  assert_int_equal(setenv("HOURGLASS_PAM_HELPER", "/opt/helper", 1), 0);
  assert_string_equal(hg_auth_default_helper_path(), "/opt/helper");
  assert_int_equal(unsetenv("HOURGLASS_PAM_HELPER"), 0);
  /* This test runs from the build tree. */
  assert_string_equal(hg_auth_default_helper_path(),
                      HG_BUILD_ROOT "/pam/hourglass-pam-helper");
  if (saved)
    assert_int_equal(setenv("HOURGLASS_PAM_HELPER", saved, 1), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_success_then_close, setup, teardown),
      cmocka_unit_test_setup_teardown(test_success_then_sigterm, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_user, setup, teardown),
      cmocka_unit_test_setup_teardown(test_uid_too_low, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_to_nss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_account_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_helper_killed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_helper_hangs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_helper_breaks_protocol, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_close_at_prompt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_in_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_kills, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expired_password_changed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_expired_password_kept, setup,
                                      teardown),
      cmocka_unit_test(test_daemon_gone),
      cmocka_unit_test(test_default_helper_path),
  };
  sigset_t mask;

  /* sd_event_add_child() needs SIGCHLD blocked, as hourglassd has it. */
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
