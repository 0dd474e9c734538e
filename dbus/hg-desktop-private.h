/* What hg-desktop.c (registration, logind, the end) and
 * hg-desktop-idle.c (the session's idle sources) share. */
#pragma once

#include "hg-desktop.h"
#include "hg-inhibit.h"
#include "hg-logind.h"

/* One managed logind session. */
typedef struct {
  char *logind_id;
  char *user;
  uid_t uid;
  char *session_id;  /* ours; NULL while locked at its end */
  bool locked_by_us; /* re-armed when logind says it is unlocked */
  char *policy;      /* the rule it matched at sign-in, NULL: fallback */

  /* What logind says of it. */
  bool graphical;       /* Type x11, wayland, mir (or one logind adds) */
  char *tty;            /* non-graphical sessions: their tty, or NULL */
  int idle;             /* its idle hint, -1 before logind's first word */
  hg_usec_t idle_since; /* CLOCK_BOOTTIME, 0 when logind has none */
  bool hinted;          /* someone sets that hint: it tells idleness */

  /* The other idle sources. */
  hg_usec_t tty_input;     /* the last input read off the tty, 0 none yet */
  int tty_error;           /* the last read's -errno, 0 when it worked */
  char *agent_method;      /* how the agent sees input, NULL without agent */
  char **agent_inhibitors; /* org.freedesktop.ScreenSaver locks it sees */
  sd_bus_track *agent;     /* the agent that reports, to see it go */
  sd_event_source *check;  /* "no working idle source", said once */
  HgDesktop *owner;
} Desk;

struct HgDesktop {
  sd_bus *bus;
  sd_event *event;
  HgRegistry *reg;
  const HgConfig *config;
  HgLogind *logind;
  HgInhibit *inhibit;
  GHashTable *by_logind;  /* logind id -> Desk */
  GHashTable *by_session; /* our session id -> Desk (borrowed) */
  GHashTable *pending;    /* Pending registrations */
  unsigned listener;
  char *seat_session; /* the seat's active logind session */
  int seat_idle;
};

/* hg-desktop-idle.c */

/* Sets up what follows idle sources for every desk (the registry's probe,
 * logind's idle locks). */
int desk_idle_setup(HgDesktop *d);
void desk_idle_teardown(HgDesktop *d);
void desk_idle_reload(HgDesktop *d);

/* A desk got its (new) session: read its tty, say later if nothing can
 * tell its idleness, apply what is known. */
void desk_idle_begin(HgDesktop *d, Desk *k);
/* Its session ended: what its agent said goes with it. */
void desk_idle_end(Desk *k);
/* logind's idle hint of the desk, first read or changed. */
void desk_idle_logind(HgDesktop *d, Desk *k, bool idle, hg_usec_t since);
/* Busy or not, inhibited or not: what the sources say, applied to the
 * session. */
void desk_idle_apply(HgDesktop *d, Desk *k);
/* Whether any source can tell the desk's idleness. */
bool desk_idle_known(HgDesktop *d, const Desk *k);
