/* Logging: structured journal entries when stderr goes to the journal (or
 * when asked), plain lines on stderr otherwise. Fields are "KEY=value"
 * strings such as HG_SESSION=, HG_USER=, HG_REASON=; never a password, a
 * token or a cookie. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

#include "hg-macros.h"
#include "hg-time.h"

typedef enum {
  HG_LOG_TARGET_AUTO, /* journal if stderr is connected to it */
  HG_LOG_TARGET_STDERR,
  HG_LOG_TARGET_JOURNAL,
} HgLogTarget;

void hg_log_open(HgLogTarget target);
/* Messages above this syslog priority are dropped (LOG_DEBUG shows all). */
void hg_log_set_max_priority(int priority);
/* HOURGLASS_LOG=stderr|journal|auto and HOURGLASS_LOG_LEVEL=debug|info|... */
void hg_log_open_from_environment(void);

/* fields: NULL-terminated "KEY=value" strings, or NULL. */
void hg_log_fields(int priority, const char *const *fields, const char *fmt,
                   ...) _printf_(3, 4);
void hg_logv_fields(int priority, const char *const *fields, const char *fmt,
                    va_list ap) _printf_(3, 0);

#define hg_log(prio, ...) hg_log_fields((prio), NULL, __VA_ARGS__)
#define hg_debug(...) hg_log(LOG_DEBUG, __VA_ARGS__)
#define hg_info(...) hg_log(LOG_INFO, __VA_ARGS__)
#define hg_notice(...) hg_log(LOG_NOTICE, __VA_ARGS__)
#define hg_warning(...) hg_log(LOG_WARNING, __VA_ARGS__)
#define hg_err(...) hg_log(LOG_ERR, __VA_ARGS__)

/* A line that a peer can provoke at will: at most one per interval. */
typedef struct {
  hg_usec_t interval;
  hg_usec_t last; /* CLOCK_MONOTONIC; 0: never */
  unsigned quiet; /* lines held back since the last one */
} HgLogLimit;

#define HG_LOG_LIMIT_INIT(usec) ((HgLogLimit){.interval = (usec)})

/* true when a line may go out now; *ret_quiet then tells how many were
 * held back before it. */
bool hg_log_limit_pass(HgLogLimit *l, unsigned *ret_quiet);

/* Logs err (a negative errno) with the message and returns it unchanged. */
int hg_log_errno(int priority, int err, const char *fmt, ...) _printf_(3, 4);
