/* hourglass-agent's log: one line per event on stderr, which the journal
 * collects when the agent runs under systemd --user or a session manager. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "hg-macros.h"

/* Decides the format once: "<N>" priority prefixes when stderr is the
 * journal's stream, "hourglass-agent: " otherwise. Debug lines only when
 * verbose. */
void agent_log_open(bool verbose);

_printf_(2, 3) void agent_log(int priority, const char *format, ...);

/* Logs with ": <strerror>" appended; returns r (a negative errno). */
_printf_(3, 4) int agent_log_errno(int priority, int r, const char *format,
                                   ...);

#define agent_debug(...) agent_log(LOG_DEBUG, __VA_ARGS__)
#define agent_info(...) agent_log(LOG_INFO, __VA_ARGS__)
#define agent_warning(...) agent_log(LOG_WARNING, __VA_ARGS__)
