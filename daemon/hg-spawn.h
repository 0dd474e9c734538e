/* Starting helper programs from the daemon with a clean slate: whatever
 * the daemon blocked, ignored or opened, the child starts with the default
 * signal mask and dispositions, no descriptors but 0-2 and the one handed
 * over, a session of its own and an environment built from an allow-list. */
#pragma once

#include <sys/types.h>

/* What a helper may inherit of envp: LANG and LC_*, and what tests and
 * the demo need to reach through a helper (LD_PRELOAD, PAM_WRAPPER*,
 * PAM_MATRIX_*, NSS_WRAPPER_*, the sanitizer options, HOURGLASS_TEST_*),
 * plus a fixed PATH. A NULL-terminated array for g_strfreev(). */
char **hg_spawn_environment(const char *const *envp);

/* Forks and executes path with argv and envp; the child finds fd at
 * target_fd (above 2). Returns 0 and the pid, or -errno when the program is
 * not executable or the fork failed; a later exec failure shows as exit
 * status 127. The caller reaps the child. */
int hg_spawn(const char *path, char *const argv[], char *const envp[], int fd,
             int target_fd, pid_t *ret_pid);
