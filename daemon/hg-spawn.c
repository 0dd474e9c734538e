/* vfork + exec of helpers with a clean slate; see hg-spawn.h. */
#include "hg-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool env_allowed(const char *entry) {
  static const char *const names[] = {
      "LANG",         "LD_PRELOAD",    "PAM_WRAPPER",
      "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
  };
  static const char *const prefixes[] = {
      "LC_", "PAM_WRAPPER_", "PAM_MATRIX_", "NSS_WRAPPER_", "HOURGLASS_TEST_",
  };
  size_t len = strcspn(entry, "=");

  if (entry[len] != '=' || len == 0)
    return false;
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    if (strlen(names[i]) == len && strncmp(entry, names[i], len) == 0)
      return true;
  for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
    if (len > strlen(prefixes[i]) &&
        strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return false;
}

char **hg_spawn_environment(const char *const *envp) {
  GPtrArray *env = g_ptr_array_new();

  g_ptr_array_add(env, g_strdup("PATH=" SAFE_PATH));
  for (size_t i = 0; envp && envp[i]; i++)
    if (env_allowed(envp[i]))
      g_ptr_array_add(env, g_strdup(envp[i]));
  g_ptr_array_add(env, NULL);
  return (char **)g_ptr_array_free(env, false);
}

static void close_from(int first, int max_fd) {
  if (close_range((unsigned)first, ~0U, 0) == 0)
    return;
  /* Kernels before 5.9: one close() per possible descriptor. */
  for (int fd = first; fd < max_fd; fd++)
    close(fd);
}

/* Runs in the vforked child, on the parent's memory: only system calls,
 * no allocation, no return, until exec. */
_Noreturn static void exec_child(const char *path, char *const argv[],
                                 char *const envp[], int fd, int target_fd,
                                 int max_fd) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigset_t none;

  /* Ignored signals stay ignored across exec, blocked ones stay blocked:
   * the daemon blocks SIGTERM and SIGCHLD and ignores SIGPIPE. */
  for (int sig = 1; sig < NSIG; sig++)
    (void)sigaction(sig, &dfl, NULL);
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
    _exit(127);

  if (fd == target_fd) {
    /* dup2() onto itself would leave FD_CLOEXEC set. */
    if (fcntl(fd, F_SETFD, 0) < 0)
      _exit(127);
  } else if (dup2(fd, target_fd) < 0) {
    _exit(127);
  }
  close_from(target_fd + 1, max_fd);
  if (setsid() < 0)
    _exit(127);
  execve(path, argv, envp);
  _exit(127);
}

/* vfork: the child borrows the daemon's memory until execve instead of
 * copying its page tables (fork costs ~9 ms with a thousand sessions,
 * mostly page faults, with the loop stalled); exec_child makes only system
 * calls and never returns. A function of its own, so that no caller's
 * variable lives in the frame the child shares. */
__attribute__((noinline)) static pid_t vfork_exec(const char *path,
                                                  char *const argv[],
                                                  char *const envp[], int fd,
                                                  int target_fd, int max_fd) {
  pid_t pid = vfork();

  if (pid == 0)
    exec_child(path, argv, envp, fd, target_fd, max_fd);
  return pid;
}

int hg_spawn(const char *path, char *const argv[], char *const envp[], int fd,
             int target_fd, pid_t *ret_pid) {
  struct rlimit rl;
  int max_fd = 65536;
  pid_t pid;

  if (target_fd <= STDERR_FILENO || fd < 0)
    return -EINVAL;
  /* Checked here, where the error can still be told: after fork it is
   * only an exit status. */
  if (access(path, X_OK) < 0)
    return -errno;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    max_fd = (int)MIN(rl.rlim_cur, (rlim_t)INT_MAX);

  pid = vfork_exec(path, argv, envp, fd, target_fd, max_fd);
  if (pid < 0)
    return -errno;
  *ret_pid = pid;
  return 0;
}
