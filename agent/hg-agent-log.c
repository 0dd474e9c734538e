/* stderr logging with journal priorities; see hg-agent-log.h. */
#include "hg-agent-log.h"

#include "hg-journal.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>

static bool to_journal;
static int max_priority = LOG_INFO;

void agent_log_open(bool verbose) {
  /* Under systemd, journald reads "<N>" prefixes as the priority. */
  to_journal = hg_stderr_is_journal();
  max_priority = verbose ? LOG_DEBUG : LOG_INFO;
}

/* Text from the bus (error messages, ids) may hold anything: one line,
 * no control characters. */
static void make_printable(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = '?';
}

static void log_message(int priority, char *message) {
  make_printable(message);
  if (to_journal)
    fprintf(stderr, "<%d>%s\n", priority, message);
  else
    fprintf(stderr, "hourglass-agent: %s\n", message);
}

void agent_log(int priority, const char *format, ...) {
  g_autofree char *message = NULL;
  va_list ap;

  if (priority > max_priority)
    return;
  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  log_message(priority, message);
}

int agent_log_errno(int priority, int r, const char *format, ...) {
  g_autofree char *message = NULL, *line = NULL;
  va_list ap;

  if (priority > max_priority)
    return r;
  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  line = g_strdup_printf("%s: %s", message, g_strerror(r < 0 ? -r : r));
  log_message(priority, line);
  return r;
}
