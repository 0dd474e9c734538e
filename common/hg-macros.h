/* Small GLib-free helpers shared by the daemon, the PAM helper and the PAM
 * module: ownership attributes in the systemd style, array sizes, bounds. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HG_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _hidden_ __attribute__((visibility("hidden")))

/* Hand ownership over: returns the pointer and clears the variable so the
 * cleanup attribute no longer frees it. */
#define TAKE_PTR(p)                                                            \
  ({                                                                           \
    __typeof__(p) _p_ = (p);                                                   \
    (p) = NULL;                                                                \
    _p_;                                                                       \
  })

#define TAKE_FD(fd)                                                            \
  ({                                                                           \
    int _fd_ = (fd);                                                           \
    (fd) = -1;                                                                 \
    _fd_;                                                                      \
  })

static inline void hg_freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(hg_freep)

/* Closes the descriptor, keeping errno as it was: cleanups run on error
 * paths whose errno the caller still wants to read. */
static inline int hg_close_nointr(int fd) {
  if (fd >= 0) {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return -1;
}

static inline void hg_closep(int *fd) { *fd = hg_close_nointr(*fd); }
#define _cleanup_close_ _cleanup_(hg_closep)

/* Secret buffers: wipe, then free. */
static inline void hg_erase_and_free(char *s) {
  if (s) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}
static inline void hg_erase_and_freep(char **s) { hg_erase_and_free(*s); }
#define _cleanup_erase_free_ _cleanup_(hg_erase_and_freep)

/* A positive errno from a failed call, or EIO when the call left none: keeps
 * "return -errno" from ever returning 0 on a failure. */
static inline int hg_errno_or_eio(void) { return errno > 0 ? errno : EIO; }
#define HG_NEG_ERRNO() (-hg_errno_or_eio())

#define HG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HG_MAX(a, b) ((a) > (b) ? (a) : (b))
