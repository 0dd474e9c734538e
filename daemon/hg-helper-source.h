/* Where a PAM helper comes from, the one seam between the two ways to run
 * PAM for another user: forked here, which needs root (the daemon without
 * systemd: the demo, the tests), or started by systemd as root for each
 * connection to hourglass-pam.socket (the unprivileged daemon), which is
 * then told its settings first (SETUP). Either way the caller gets a
 * connected SOCK_SEQPACKET socket speaking hg-proto.h, non-blocking on its
 * side, and the child's pid when the helper is ours. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

typedef struct {
  const char *service; /* PAM service */
  uint32_t min_uid;
  const char *rhost;
  const char *tty;
  unsigned timeout_sec; /* the helper's own bound (alarm) */
} HgHelperArgs;

/* Forks and executes the helper at path. 0, or -errno (logged). */
int hg_helper_fork(const char *path, const HgHelperArgs *args, int *ret_fd,
                   pid_t *ret_pid);

/* Connects to the helper socket at socket_path and sends SETUP. 0, or
 * -errno (logged). */
int hg_helper_connect(const char *socket_path, const HgHelperArgs *args,
                      int *ret_fd);
