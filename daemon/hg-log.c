/* Journal or stderr logging; see hg-log.h. */
#include "hg-log.h"

#include "hg-journal.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

static HgLogTarget log_target = HG_LOG_TARGET_STDERR;
static int max_priority = LOG_INFO;

void hg_log_open(HgLogTarget target) {
  if (target == HG_LOG_TARGET_AUTO)
    target =
        hg_stderr_is_journal() ? HG_LOG_TARGET_JOURNAL : HG_LOG_TARGET_STDERR;
  log_target = target;
}

void hg_log_set_max_priority(int priority) { max_priority = priority; }

static int priority_from_string(const char *s) {
  static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                      "warning", "notice", "info", "debug"};
  for (int i = 0; i < (int)HG_ELEMENTSOF(names); i++)
    if (g_ascii_strcasecmp(s, names[i]) == 0)
      return i;
  return -1;
}

void hg_log_open_from_environment(void) {
  const char *t = getenv("HOURGLASS_LOG"), *l = getenv("HOURGLASS_LOG_LEVEL");
  HgLogTarget target = HG_LOG_TARGET_AUTO;
  int prio;

  if (t && strcmp(t, "stderr") == 0)
    target = HG_LOG_TARGET_STDERR;
  else if (t && strcmp(t, "journal") == 0)
    target = HG_LOG_TARGET_JOURNAL;
  hg_log_open(target);
  if (l && (prio = priority_from_string(l)) >= 0)
    hg_log_set_max_priority(prio);
}

static void log_journal(int priority, const char *const *fields,
                        const char *message) {
  g_autofree char *prio = g_strdup_printf("PRIORITY=%d", priority);
  g_autofree char *msg = g_strconcat("MESSAGE=", message, NULL);
  struct iovec iov[32];
  size_t n = 0;

  iov[n++] = (struct iovec){msg, strlen(msg)};
  iov[n++] = (struct iovec){prio, strlen(prio)};
  iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=hourglassd", 28};
  for (size_t i = 0; fields && fields[i] && n < HG_ELEMENTSOF(iov); i++)
    iov[n++] = (struct iovec){(char *)fields[i], strlen(fields[i])};
  if (sd_journal_sendv(iov, (int)n) < 0)
    fprintf(stderr, "%s\n", message);
}

/* Plain lines: the fields follow the message, control characters escaped so
 * that no value can forge a log line. */
static void log_stderr(int priority, const char *const *fields,
                       const char *message) {
  g_autoptr(GString) line = g_string_new(NULL);
  g_autofree char *escaped = g_strescape(message, "\"");

  g_string_append_printf(line, "<%d>hourglassd: %s", priority, escaped);
  for (size_t i = 0; fields && fields[i]; i++) {
    g_autofree char *f = g_strescape(fields[i], "\"");
    g_string_append_printf(line, "%s%s", i == 0 ? " [" : " ", f);
  }
  if (fields && fields[0])
    g_string_append_c(line, ']');
  g_string_append_c(line, '\n');
  fputs(line->str, stderr);
}

void hg_logv_fields(int priority, const char *const *fields, const char *fmt,
                    va_list ap) {
  g_autofree char *message = NULL;
  int saved = errno;

  if (priority > max_priority)
    return;
  message = g_strdup_vprintf(fmt, ap);
  if (log_target == HG_LOG_TARGET_JOURNAL)
    log_journal(priority, fields, message);
  else
    log_stderr(priority, fields, message);
  errno = saved;
}

void hg_log_fields(int priority, const char *const *fields, const char *fmt,
                   ...) {
  va_list ap;

  va_start(ap, fmt);
  hg_logv_fields(priority, fields, fmt, ap);
  va_end(ap);
}

int hg_log_errno(int priority, int err, const char *fmt, ...) {
  g_autofree char *message = NULL;
  va_list ap;

  va_start(ap, fmt);
  message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  hg_log_fields(priority, NULL, "%s: %s", message, g_strerror(-err));
  return err;
}

bool hg_log_limit_pass(HgLogLimit *l, unsigned *ret_quiet) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);

  if (l->last != 0 && now - l->last < l->interval) {
    l->quiet++;
    return false;
  }
  *ret_quiet = l->quiet;
  l->quiet = 0;
  l->last = now;
  return true;
}
