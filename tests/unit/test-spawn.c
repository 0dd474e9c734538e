/* Helper spawning: the environment allow-list, and a child that starts
 * clean although the parent blocks, ignores and leaks what a daemon does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hg-spawn.h"
#include "test-poll.h"

#define DEADLINE_SEC 10 /* a hung child must not hang the suite */

static pid_t spawned;

static void test_environment(void **state) {
  static const char *const in[] = {
      "PATH=/home/evil/bin",
      "HOME=/root",
      "LANG=de_DE.UTF-8",
      "LC_ALL=C.UTF-8",
      "LC_=bogus",
      "LD_PRELOAD=/usr/lib/libfoo.so",
      "LD_LIBRARY_PATH=/tmp",
      "PAM_WRAPPER=1",
      "PAM_WRAPPER_SERVICE_DIR=/srv/pam.d",
      "PAM_WRAPPERX=1",
      "PAM_MATRIX_PASSWD=/srv/passdb",
      "NSS_WRAPPER_PASSWD=/srv/passwd",
      "ASAN_OPTIONS=a=1",
      "UBSAN_OPTIONS=u=1",
      "LSAN_OPTIONS=l=1",
      "HOURGLASS_TEST_X=1",
      "HOURGLASS_TEST_=1",
      "HOURGLASS_PAM_HELPER=/tmp/evil",
      "NOTIFY_SOCKET=/run/systemd/notify",
      "LANG",
      "=LANG",
      NULL,
  };
  static const char *const want[] = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=de_DE.UTF-8",
      "LC_ALL=C.UTF-8",
      "LD_PRELOAD=/usr/lib/libfoo.so",
      "PAM_WRAPPER=1",
      "PAM_WRAPPER_SERVICE_DIR=/srv/pam.d",
      "PAM_MATRIX_PASSWD=/srv/passdb",
      "NSS_WRAPPER_PASSWD=/srv/passwd",
      "ASAN_OPTIONS=a=1",
      "UBSAN_OPTIONS=u=1",
      "LSAN_OPTIONS=l=1",
      "HOURGLASS_TEST_X=1",
      NULL,
  };
  g_auto(GStrv) env = hg_spawn_environment(in);
  g_auto(GStrv) empty = hg_spawn_environment(NULL);

  assert_int_equal(g_strv_length(env), g_strv_length((char **)want));
  for (size_t i = 0; want[i]; i++)
    assert_string_equal(env[i], want[i]);
  assert_int_equal(g_strv_length(empty), 1);
}

typedef struct {
  pid_t pid;
  int status;
} Child;

static bool reaped(void *p) {
  Child *c = p;
  pid_t r = waitpid(c->pid, &c->status, WNOHANG);

  assert_true(r == 0 || r == c->pid);
  return r == c->pid;
}

/* Exit status of pid, within the deadline. */
static int wait_exit(pid_t pid) {
  Child c = {.pid = pid};

  assert_true(test_poll_until(reaped, &c, DEADLINE_SEC));
  assert_true(WIFEXITED(c.status));
  return WEXITSTATUS(c.status);
}

static char *proc_file(pid_t pid, const char *name, size_t *len) {
  g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, name);
  char *text = NULL;

  assert_true(g_file_get_contents(path, &text, len, NULL));
  return text;
}

static bool asleep(void *p) {
  pid_t pid = *(pid_t *)p;
  g_autofree char *cmdline = proc_file(pid, "cmdline", NULL);
  g_autofree char *syscall_line = proc_file(pid, "syscall", NULL);
  long nr = strtol(syscall_line, NULL, 10);

  return strcmp(cmdline, "sleep") == 0 &&
         (nr == SYS_clock_nanosleep || nr == SYS_nanosleep);
}

/* Waits until pid is asleep in /bin/sleep: before, /proc shows our state (no
 * exec yet) or the loader's and locale's passing descriptors. */
static void wait_asleep(pid_t pid) {
  if (!test_poll_until(asleep, &pid, DEADLINE_SEC))
    fail_msg("the child did not get to sleep");
}

static void assert_status_line(const char *status, const char *key,
                               const char *want) {
  const char *line = strstr(status, key);

  assert_non_null(line);
  assert_memory_equal(line + strlen(key), want, strlen(want));
}

static void assert_clean_child(pid_t pid) {
  static const char want_env[] =
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0"
      "LANG=C.UTF-8\0HOURGLASS_TEST_X=1\0";
  g_autofree char *status = proc_file(pid, "status", NULL);
  g_autofree char *stat = proc_file(pid, "stat", NULL);
  g_autofree char *fd3 = NULL, *fd_dir = NULL, *fd3_path = NULL;
  g_autofree char *env = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  unsigned n_fds = 0;
  size_t env_len;
  int sid = -1;

  assert_status_line(status, "\nSigBlk:", "\t0000000000000000\n");
  assert_status_line(status, "\nSigIgn:", "\t0000000000000000\n");
  /* Field 6 of stat, after the parenthesised command name. */
  assert_int_equal(sscanf(strrchr(stat, ')'), ") %*c %*d %*d %d", &sid), 1);
  assert_int_equal(sid, pid);

  env = proc_file(pid, "environ", &env_len);
  assert_int_equal(env_len, sizeof(want_env) - 1);
  assert_memory_equal(env, want_env, env_len);

  fd_dir = g_strdup_printf("/proc/%d/fd", (int)pid);
  dir = g_dir_open(fd_dir, 0, NULL);
  assert_non_null(dir);
  while ((name = g_dir_read_name(dir)))
    assert_true(atoi(name) <= 3 && ++n_fds <= 4);
  assert_int_equal(n_fds, 4);
  fd3_path = g_strconcat(fd_dir, "/3", NULL);
  fd3 = g_file_read_link(fd3_path, NULL);
  assert_true(g_str_has_prefix(fd3, "socket:"));
}

/* Spawns sleep with sock as fd 3 the way a daemon would: SIGTERM and
 * SIGCHLD blocked, SIGPIPE ignored, a stray descriptor open without
 * FD_CLOEXEC, secrets in the environment. */
static void spawn_and_check(int sock) {
  const char *envp[] = {"HOME=/root", "LANG=C.UTF-8", "HOURGLASS_TEST_X=1",
                        "SECRET=1", NULL};
  const char *argv[] = {"sleep", "30", NULL};
  g_auto(GStrv) env = hg_spawn_environment(envp);
  int stray = open("/dev/null", O_RDONLY);
  sigset_t mask, old;
  pid_t pid;

  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGCHLD);
  assert_int_equal(sigprocmask(SIG_BLOCK, &mask, &old), 0);
  signal(SIGPIPE, SIG_IGN);
  assert_true(stray >= 0);

  assert_int_equal(
      hg_spawn("/bin/sleep", (char *const *)argv, env, sock, 3, &pid), 0);
  close(stray);
  signal(SIGPIPE, SIG_DFL);
  assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);

  spawned = pid;
  wait_asleep(pid);
  assert_clean_child(pid);
  /* SIGTERM is not blocked in there: it ends the child. */
  assert_int_equal(kill(pid, SIGTERM), 0);
  assert_int_equal(waitpid(pid, NULL, 0), pid);
  spawned = 0;
}

/* A failed check leaves the child behind: kill it. */
static int kill_spawned(void **state) {
  if (spawned > 0) {
    kill(spawned, SIGKILL);
    waitpid(spawned, NULL, 0);
    spawned = 0;
  }
  return 0;
}

static void test_clean_child(void **state) {
  int fds[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds),
                   0);
  spawn_and_check(fds[1]);
  close(fds[0]);
  close(fds[1]);
}

/* The socket already at fd 3 with FD_CLOEXEC: dup2() onto itself would not
 * clear the flag, and the child would lose it at exec. */
static void test_fd_already_in_place(void **state) {
  int saved = fcntl(3, F_DUPFD_CLOEXEC, 10);
  int fds[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds),
                   0);
  assert_int_equal(dup2(fds[1], 3), 3);
  assert_int_equal(fcntl(3, F_SETFD, FD_CLOEXEC), 0);
  spawn_and_check(3);
  close(fds[0]);
  close(fds[1]);
  if (saved >= 0) {
    assert_int_equal(dup2(saved, 3), 3);
    assert_int_equal(fcntl(3, F_SETFD, FD_CLOEXEC), 0);
    close(saved);
  } else {
    close(3);
  }
}

static void test_errors(void **state) {
  const char *argv[] = {"x", NULL};
  char *env[] = {NULL};
  pid_t pid;
  int fds[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds),
                   0);
  assert_int_equal(hg_spawn("/nonexistent/helper", (char *const *)argv, env,
                            fds[1], 3, &pid),
                   -ENOENT);
  assert_int_equal(
      hg_spawn("/etc/passwd", (char *const *)argv, env, fds[1], 3, &pid),
      -EACCES);
  assert_int_equal(
      hg_spawn("/bin/true", (char *const *)argv, env, fds[1], 2, &pid),
      -EINVAL);
  /* A directory passes access(X_OK) and fails in execve: exit 127. */
  assert_int_equal(hg_spawn("/", (char *const *)argv, env, fds[1], 3, &pid), 0);
  assert_int_equal(wait_exit(pid), 127);
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_environment),
      cmocka_unit_test_teardown(test_clean_child, kill_spawned),
      cmocka_unit_test_teardown(test_fd_already_in_place, kill_spawned),
      cmocka_unit_test(test_errors),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
