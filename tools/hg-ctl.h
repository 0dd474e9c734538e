/* hourglassctl's pieces: the bus connection and the one place where D-Bus
 * errors become words (hg-ctl-bus.c), what people and scripts read
 * (hg-ctl-output.c), the signal monitor (hg-ctl-monitor.c), the caller's
 * own session (hg-ctl-self.c), extending (hg-ctl-extend.c), policy
 * explanations (hg-ctl-policy.c), someone waiting (hg-ctl-waiting.c) and
 * the daily allowance (hg-ctl-allowance.c). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "hg-bus-names.h"
#include "hg-time.h"

/* The exit statuses hourglassctl(1) documents. */
enum {
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILURE = 1,
  CTL_EXIT_USAGE = 2,
};

/* Which way "extend" goes (hg-ctl-extend.c has the rule for AUTO). */
typedef enum {
  CTL_EXTEND_AUTO,
  CTL_EXTEND_OWN,      /* --own: RequestMoreTime */
  CTL_EXTEND_OPERATOR, /* --operator: ExtendSession */
} CtlExtendPath;

/* Options that belong to one command; CtlOptions.given says which were on
 * the command line. */
enum {
  CTL_OPT_SOURCE = 1u << 0,
  CTL_OPT_SEAT = 1u << 1,
  CTL_OPT_SERVICE = 1u << 2,
  CTL_OPT_OWN = 1u << 3,
  CTL_OPT_OPERATOR = 1u << 4,
  CTL_OPT_GRANT = 1u << 5,
};

typedef struct {
  bool json;
  bool legend;
  hg_usec_t timeout; /* of every method call */
  unsigned given;    /* CTL_OPT_* */
  /* policy explain: NULL when not given (source: both, web and desktop) */
  const char *source, *seat, *service;
  CtlExtendPath extend_path;
  uint32_t grant_sec; /* allowance --grant: 1 to 86400 */
} CtlOptions;

/* What a call was for: an AccessDenied is explained in these terms. */
typedef enum {
  CTL_OP_READ,
  CTL_OP_TERMINATE,
  CTL_OP_EXTEND,
  CTL_OP_MORE_TIME,
  CTL_OP_WAITING,
  CTL_OP_READ_ALLOWANCE,
  CTL_OP_GRANT,
} CtlOp;

/* One entry of a session's IdleSources. */
typedef struct {
  char *name;
  char *method;
  hg_usec_t last; /* µs since the epoch, 0: nothing reported yet */
} CtlIdleSource;

/* One session's properties (org.hourglass1.Session), times in µs since the
 * epoch, 0 where the daemon sends none. */
typedef struct {
  char *path;
  char *id;
  char *user;
  char *source;
  char *state;
  hg_usec_t created;
  hg_usec_t last_activity;
  hg_usec_t warn_at;
  hg_usec_t expires_at;
  GPtrArray *idle_sources; /* CtlIdleSource; NULL from an older daemon */
  bool has_idle_known;     /* the daemon sent IdleKnown */
  bool idle_known;
  /* What a daemon with policies adds; an older one sends none of it
   * (strings NULL, numbers not in seen). */
  char *logind_session;
  char *policy; /* "" for the fallback */
  char *action; /* "" for a web session */
  char *warning;
  char *stage;
  hg_usec_t lock_at;
  hg_usec_t limit_at;
  uint32_t extensions;
  uint32_t extensions_left;
  /* The session's own limits, seconds (its rule's, else the fallback's). */
  uint32_t warn_after_sec;
  uint32_t expire_after_sec;
  uint32_t max_session_sec; /* 0: no absolute limit */
  unsigned seen;            /* CTL_SEEN_*: the numbers above the daemon sent */
} CtlSession;

enum {
  CTL_SEEN_LOCK_AT = 1u << 0,
  CTL_SEEN_LIMIT_AT = 1u << 1,
  CTL_SEEN_EXTENSIONS = 1u << 2,
  CTL_SEEN_EXTENSIONS_LEFT = 1u << 3,
  CTL_SEEN_WARN_AFTER = 1u << 4,
  CTL_SEEN_EXPIRE_AFTER = 1u << 5,
  CTL_SEEN_MAX_SESSION = 1u << 6,
};

void ctl_session_clear(CtlSession *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CtlSession, ctl_session_clear)

/* hg-ctl-bus.c */
bool ctl_session_id_is_valid(const char *id);
int ctl_bus_open(const CtlOptions *o, sd_bus **ret_bus);
/* One line on stderr; what names the session id or user name the call was
 * about (NULL: none). Returns a negative errno. */
int ctl_log_error(const CtlOptions *o, CtlOp op, const char *what,
                  const sd_bus_error *error, int r);
/* A method call to hourglassd without auto-start, for the caller to fill
 * and send. */
int ctl_new_call(sd_bus *bus, const char *path, const char *iface,
                 const char *method, sd_bus_message **ret_m);
int ctl_new_manager_call(sd_bus *bus, const char *method,
                         sd_bus_message **ret_m);
int ctl_call_manager(sd_bus *bus, const char *method, const char *id,
                     sd_bus_error *error, sd_bus_message **ret_reply);
int ctl_session_read(sd_bus *bus, const char *path, CtlSession *s,
                     sd_bus_error *error);
/* GetSession, then every property of the session. */
int ctl_session_get(sd_bus *bus, const char *id, CtlSession *s,
                    sd_bus_error *error);

/* hg-ctl-output.c */
#define CTL_DURATION_MAX 24
#define CTL_TIMESTAMP_MAX 64
const char *ctl_format_duration(char buf[static CTL_DURATION_MAX],
                                uint64_t sec);
const char *ctl_format_timestamp(char buf[static CTL_TIMESTAMP_MAX],
                                 hg_usec_t usec);
char *ctl_printable(const char *s);
void ctl_json_string(GString *out, const char *s);
void ctl_json_session(GString *out, const CtlSession *s, hg_usec_t now);
int ctl_print_table(const CtlSession *sessions, size_t n, hg_usec_t now,
                    bool legend);
int ctl_print_status(const CtlSession *s, hg_usec_t now);
int ctl_write_out(const GString *text);

/* hg-ctl-monitor.c */
int ctl_monitor(sd_bus *bus, const CtlOptions *o);

/* hg-ctl-self.c: the caller is the user named by NSS for the effective
 * uid, the uid the bus sees. */
int ctl_self_name(char **ret_name);
bool ctl_session_is_own(const CtlSession *s, const char *self_name);
/* The id of the caller's own session; errors are reported on stderr. */
int ctl_self_session(sd_bus *bus, const CtlOptions *o, char **ret_id);

/* hg-ctl-extend.c */
int ctl_extend(sd_bus *bus, const CtlOptions *o, const char *id);

/* hg-ctl-policy.c */
bool ctl_policy_source_is_valid(const char *source);
int ctl_policy_explain(sd_bus *bus, const CtlOptions *o, const char *user);

/* hg-ctl-waiting.c: "on" 1, "off" 0, else -EINVAL. */
int ctl_waiting_parse(const char *arg);
int ctl_waiting_show(sd_bus *bus, const CtlOptions *o);
int ctl_waiting_set(sd_bus *bus, const CtlOptions *o, bool waiting);

/* hg-ctl-allowance.c: a grant is 1 to 86400 seconds, digits only; else
 * -EINVAL. */
int ctl_allowance_parse_grant(const char *arg, uint32_t *ret);
int ctl_allowance_show(sd_bus *bus, const CtlOptions *o, const char *user);
/* GrantAllowance of o->grant_sec; prints what was granted today in all. */
int ctl_allowance_grant(sd_bus *bus, const CtlOptions *o, const char *user);
