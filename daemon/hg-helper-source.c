/* Forked or socket-activated PAM helpers; see hg-helper-source.h. */
#include "hg-helper-source.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hg-log.h"
#include "hg-macros.h"
#include "hg-proto.h"
#include "hg-spawn.h"

static int set_nonblocking(int fd) {
  return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

int hg_helper_fork(const char *path, const HgHelperArgs *args, int *ret_fd,
                   pid_t *ret_pid) {
  g_autofree char *min_uid = g_strdup_printf("%" PRIu32, args->min_uid);
  g_autofree char *timeout = g_strdup_printf("%u", args->timeout_sec);
  g_auto(GStrv) env = hg_spawn_environment((const char *const *)environ);
  const char *argv[] = {path,      "--service", args->service, "--min-uid",
                        min_uid,   "--rhost",   args->rhost,   "--tty",
                        args->tty, "--timeout", timeout,       NULL};
  _cleanup_close_ int ours = -1, theirs = -1;
  int fds[2], r;

  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return hg_log_errno(LOG_ERR, -errno, "Cannot make a PAM helper socket");
  ours = fds[0];
  theirs = fds[1];
  /* Only our end: the helper reads blocking. */
  r = set_nonblocking(ours);
  if (r >= 0)
    r = hg_spawn(path, (char *const *)argv, env, theirs, HG_PROTO_HELPER_FD,
                 ret_pid);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot run the PAM helper %s", path);
  *ret_fd = TAKE_FD(ours);
  return 0;
}

int hg_helper_connect(const char *socket_path, const HgHelperArgs *args,
                      int *ret_fd) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  g_autofree char *setup = NULL;
  _cleanup_close_ int fd = -1;
  int r;

  if (strlen(socket_path) >= sizeof(sa.sun_path))
    return hg_log_errno(LOG_ERR, -ENAMETOOLONG, "Bad helper socket %s",
                        socket_path);
  strcpy(sa.sun_path, socket_path);
  fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return hg_log_errno(LOG_ERR, -errno, "Cannot make a PAM helper socket");
  /* A listening socket of the service manager: the connection is queued
   * at once, the helper started behind it. */
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return hg_log_errno(LOG_ERR, -errno, "Cannot reach the PAM helper at %s",
                        socket_path);
  setup = g_strdup_printf(
      "service=%s\nmin-uid=%" PRIu32 "\nrhost=%s\ntty=%s\ntimeout=%u",
      args->service, args->min_uid, args->rhost, args->tty, args->timeout_sec);
  r = set_nonblocking(fd);
  if (r >= 0)
    r = hg_proto_send(fd, &(HgProtoMsg){.type = HG_PROTO_SETUP, .text = setup});
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot set up the PAM helper at %s",
                        socket_path);
  *ret_fd = TAKE_FD(fd);
  return 0;
}
