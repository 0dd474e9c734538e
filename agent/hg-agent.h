/* hourglass-agent: follows its own desktop session in hourglassd (system
 * bus) and, on the user's session bus, shows its warning and reports the
 * user's input. One Agent ties the pieces together in one sd-event loop:
 * the session (hg-agent-session.c), the warning on screen
 * (hg-agent-warning.c through hg-agent-notify.c, in the words of
 * hg-agent-wording.c), what the person asks for from it
 * (hg-agent-request.c), what it reports (hg-agent-report.c), the idle
 * methods (hg-agent-idle.c) and the screen saver inhibitions it may serve
 * (hg-agent-inhibit.c). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hg-agent-idle.h"
#include "hg-agent-inhibit.h"
#include "hg-agent-notify.h"
#include "hg-agent-wording.h"
#include "hg-bus-names.h"
#include "hg-time.h"

/* Reports of input: at most one per interval, unless a warning is shown. */
#define AGENT_REPORT_INTERVAL_USEC IDLE_REPORT_INTERVAL_USEC

typedef struct {
  sd_event *event;
  sd_bus *system; /* hourglassd */
  sd_bus *user;   /* the session bus: notifications, idle monitors */
  sd_bus_slot *user_gone;
  char *logind_id; /* $XDG_SESSION_ID, or logind's answer */
  char *user_name; /* ours, or NULL when NSS cannot tell */

  /* hourglassd and the session followed in it (id NULL while none). */
  char *daemon; /* unique name of org.hourglass1's owner */
  char *id;
  char *path;
  sd_bus_slot *matches[5];
  sd_bus_slot *state_match; /* PropertiesChanged of the session followed */
  sd_bus_slot *list_slot;   /* ListSessions */
  sd_bus_slot *adopt_slot;  /* the daemon's limits, when a session is found */
  /* WarnAfterSec, which the idle methods that poll are timed by: the
   * session's own (its rule's), else the Manager's fallback (a daemon
   * without the session's); 0 while unknown. */
  uint32_t daemon_warn_after;
  uint32_t session_warn_after;
  uint32_t warn_after;    /* the one the idle methods were given */
  sd_bus_slot *read_slot; /* the session's properties */
  bool read_alert;        /* what read_slot brings is news: alert */
  GPtrArray *probes;      /* LogindSession of candidate sessions */
  sd_bus_slot *report_slot;
  sd_bus_slot *source_slot; /* ReportIdleSource */
  bool source_again;        /* the method changed while it was on its way */
  sd_bus_slot *extend_slot;
  sd_bus_slot *more_time_slot;   /* RequestMoreTime */
  hg_usec_t last_report;         /* CLOCK_MONOTONIC */
  hg_usec_t pending_input;       /* input held back by the interval, 0 none */
  sd_event_source *report_timer; /* sends it when the interval is over */
  bool report_failure_logged;

  /* The warning on screen, from the facts last read. */
  bool warning;
  AgentFacts facts;
  hg_usec_t deadline; /* CLOCK_BOOTTIME: counts on in suspend, as hourglassd */
  sd_event_source *countdown;

  Notifier *notifier;
  IdleWatch *idle;
  Inhibitors *inhibitors; /* --serve-screensaver, else NULL */
} Agent;

/* hg-agent-session.c */

/* The session is gone (ended, or hourglassd restarted): its calls'
 * errors say nothing more. */
bool agent_error_is_gone(const sd_bus_error *e);

/* Subscribes to hourglassd's signals and looks for the session. */
int agent_session_start(Agent *a);
/* Drops every match and call in flight; may be called again. */
void agent_session_stop(Agent *a);
/* Reads the session's properties again, and with them shows or clears
 * the warning; alert: they bring news (a new warning, the next lead
 * time), shown again even where the last one was closed. */
void agent_session_read(Agent *a, bool alert);

/* hg-agent-request.c */

/* The person chose "Stay signed in": activity (Manager.ExtendSession). */
void agent_extend(Agent *a);
/* The person chose "More time" (Session.RequestMoreTime): granted, the
 * warning follows the new limit; refused, a note gives hourglassd's
 * reason. */
void agent_more_time(Agent *a);
/* Cancels the requests in flight. */
void agent_request_stop(Agent *a);

/* hg-agent-report.c */

/* Input idle_sec ago, for the session followed (if any): sent at most
 * once per AGENT_REPORT_INTERVAL_USEC, unless a warning is shown; input
 * within the interval is held back and sent when it is over, never lost. */
void agent_report_activity(Agent *a, uint32_t idle_sec);
/* Sends held-back input now (a warning came). */
void agent_flush_activity(Agent *a);
/* The session is no longer followed: nothing held back for it. */
void agent_report_reset(Agent *a);
/* Tells the daemon how input is seen (the idle method in use) and who
 * holds a screen saver inhibition, for the session followed; again
 * whenever either changes. */
void agent_report_idle_source(Agent *a);

/* hg-agent-warning.c */

/* a->facts say the session is warned: shows the warning in their words,
 * or moves its countdown. alert: as for agent_session_read(). */
void agent_warning_show(Agent *a, bool alert);
/* The warning is over (active again, or the session gone). */
void agent_warning_clear(Agent *a);
void agent_warning_stop(Agent *a);
