/* The wall clock's changes; see hg-clock-watch.h. */
#include "hg-clock-watch.h"

#include <errno.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hg-log.h"
#include "hg-macros.h"

struct HgClockWatch {
  int fd;
  sd_event_source *source;
  HgClockChanged changed;
  void *userdata;
};

/* A timer that never expires but is cancelled by every setting of the
 * clock: read() then fails with ECANCELED, once. */
static int arm(int fd) {
  const time_t last = (time_t)((UINTMAX_C(1) << (sizeof(time_t) * 8 - 1)) - 1);
  struct itimerspec never = {.it_value = {.tv_sec = last}};

  if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &never,
                      NULL) < 0)
    return -errno;
  return 0;
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents,
                       void *userdata) {
  HgClockWatch *w = userdata;
  uint64_t expirations;
  ssize_t n = read(fd, &expirations, sizeof(expirations));
  int r;

  if (n < 0 && errno == EAGAIN)
    return 0;
  r = arm(fd);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot watch the wall clock again");
  hg_info("The wall clock was set: closing times and days are worked out "
          "again");
  w->changed(w->userdata);
  return 0;
}

int hg_clock_watch_new(sd_event *event, HgClockChanged changed, void *userdata,
                       HgClockWatch **ret) {
  g_autoptr(HgClockWatch) w = g_new0(HgClockWatch, 1);
  int r;

  w->changed = changed;
  w->userdata = userdata;
  w->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  if (w->fd < 0)
    return -errno;
  r = arm(w->fd);
  if (r < 0)
    return r;
  r = sd_event_add_io(event, &w->source, w->fd, EPOLLIN, on_readable, w);
  if (r < 0)
    return r;
  *ret = g_steal_pointer(&w);
  return 0;
}

HgClockWatch *hg_clock_watch_free(HgClockWatch *w) {
  if (!w)
    return NULL;
  sd_event_source_disable_unref(w->source);
  w->fd = hg_close_nointr(w->fd);
  g_free(w);
  return NULL;
}
