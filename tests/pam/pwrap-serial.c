/* pwrap-serial.so: a test-only companion of pam_wrapper, preloaded after
 * it. pam_wrapper's constructor picks a free /tmp/pam.X directory by
 * lstat() and then mkdir(), with nothing between: two processes that
 * start at the same instant (two tests' PAM helpers on a busy machine)
 * pick the same one, and one of them exits with "Failed to create
 * pam_wrapper config dir ... File exists". This constructor runs first,
 * takes a machine-wide lock and runs pam_wrapper's own initialisation
 * under it; pam_wrapper's constructor then finds itself done. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_PATH "/tmp/.hg-pam-wrapper.lock"

__attribute__((constructor)) static void pwrap_serial_init(void) {
  void (*init)(void);
  int fd;

  *(void **)&init = dlsym(RTLD_DEFAULT, "pwrap_constructor");
  if (!init)
    return;
  fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd >= 0) {
    (void)fchmod(fd, 0666); /* tests run daemons and tools as other users */
    while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
      ;
  }
  init();
  if (fd >= 0)
    close(fd);
}
