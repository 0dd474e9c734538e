/* What the D-Bus modules share. */
#pragma once

#include "hg-bus.h"
#include "hg-desktop.h"
#include "hg-kiosk-reset.h"
#include "hg-policy-rules.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_creds, sd_bus_creds_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)

typedef struct HgBusPending HgBusPending;
typedef struct HgBusExplain HgBusExplain;

struct HgBus {
  sd_event *event;
  sd_bus *bus;
  HgRegistry *reg;
  const HgConfig *config;
  HgDaily *daily;
  unsigned listener;
  GHashTable *objects;          /* HgSession -> its Session object's data */
  GHashTable *dirty;            /* session ids whose times changed */
  sd_event_source *flush_timer; /* invalidates them, at most once a second */
  sd_bus_slot *manager_slot;
  sd_bus_slot *session_slot;
  sd_bus_slot *enumerator_slot;
  HgDesktop *desktop; /* NULL if logind cannot be followed */
  HgKioskReset *kiosk_reset;
  GHashTable *pending;  /* HgBusPending: calls waiting for their caller */
  GHashTable *explains; /* HgBusExplain: ExplainPolicy waiting for NSS */
  int64_t real_offset;  /* CLOCK_REALTIME - CLOCK_BOOTTIME, µs, as told */
  bool real_offset_set;
};

extern const sd_bus_vtable hg_bus_manager_vtable[];
extern const sd_bus_vtable hg_bus_session_vtable[];

/* Registers the fallback vtable and node enumerator of the sessions. */
int hg_bus_add_session_objects(HgBus *bus);
/* Drops what a Session object kept for an ended session. */
void hg_bus_forget_object(HgBus *bus, HgSession *s);

/* The object path of a session id (escaped). */
char *hg_bus_session_path(const char *id);

/* A CLOCK_BOOTTIME time as D-Bus gives times: wall-clock µs, 0 for
 * never (infinity). */
uint64_t hg_bus_realtime(HgBus *bus, hg_usec_t boottime);

/* Authorization (hg-bus-auth.c), on the credentials the bus took when the
 * caller connected: never from /proc, whose pid may be another process's
 * by now. */
typedef struct {
  uid_t uid;
  bool has_gids; /* false: the bus did not tell, no group counts */
  const uint32_t *gids;
  size_t n_gids;
} HgBusCaller;

typedef enum {
  HG_BUS_ALLOW_ADMIN,          /* root and [DBus] AdminGroup */
  HG_BUS_ALLOW_ADMIN_OR_OWNER, /* and the session's own user */
} HgBusAllow;

/* Continues a method call once the caller is known; caller is valid during
 * the call only. Its result answers m, as a method handler's would: >= 0
 * when it replied (or will), else an error set in error or an -errno. */
typedef int (*HgBusCallerThen)(HgBus *bus, sd_bus_message *m,
                               const HgBusCaller *caller, sd_bus_error *error);

/* Asks the bus who sent m, then calls then() with m rewound. Returns 1
 * (the answer comes later) or -errno. Pending questions belong to
 * bus->pending and die with it. */
int hg_bus_with_caller(HgBus *bus, sd_bus_message *m, HgBusCallerThen then);
void hg_bus_pending_free(HgBusPending *p);

/* 0, or a negative errno with AccessDenied set in error. s may be NULL for
 * HG_BUS_ALLOW_ADMIN. */
int hg_bus_check_caller(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, HgBusAllow allow,
                        HgSession *s, sd_bus_error *error);

/* The session an id names, or NoSuchSession / InvalidArgs in error. */
int hg_bus_find_session(HgBus *bus, const char *id, HgSession **ret,
                        sd_bus_error *error);

/* What Terminate and Extend do, shared by both interfaces. */
int hg_bus_terminate(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     HgSession *s, sd_bus_error *error);
int hg_bus_extend(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                  HgSession *s, sd_bus_error *error);

/* Who a call asks about: "s user, a{sv} who" (source, seat, service) read
 * from m, the user's groups looked up off the loop (NSS), then reply()
 * answers m with the rule matched on them. Returns 1 (the answer comes
 * later) or an error for m. */
typedef int (*HgBusWhoReply)(HgBus *bus, sd_bus_message *m,
                             const HgPolicyWho *who);
int hg_bus_ask_who(HgBus *bus, sd_bus_message *m, HgBusWhoReply reply,
                   sd_bus_error *error);

/* hg-bus-allowance.c: the day's limits on the bus: CheckAccount (may this
 * person sign in now), GetAllowance and GrantAllowance. */
int hg_bus_method_check_account(sd_bus_message *m, void *userdata,
                                sd_bus_error *error);
int hg_bus_method_get_allowance(sd_bus_message *m, void *userdata,
                                sd_bus_error *error);
int hg_bus_method_grant_allowance(sd_bus_message *m, void *userdata,
                                  sd_bus_error *error);

/* hg-bus-policy.c: ExplainPolicy, SetWaiting and Waiting, RequestMoreTime
 * (a person's more time: the session's own uid only; hg_bus_more_time()
 * serves both interfaces). */
int hg_bus_method_explain_policy(sd_bus_message *m, void *userdata,
                                 sd_bus_error *error);
void hg_bus_explain_free(HgBusExplain *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgBusExplain, hg_bus_explain_free)
int hg_bus_method_set_waiting(sd_bus_message *m, void *userdata,
                              sd_bus_error *error);
int hg_bus_get_waiting(sd_bus *sdbus, const char *path, const char *iface,
                       const char *property, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error);
int hg_bus_method_more_time(sd_bus_message *m, void *userdata,
                            sd_bus_error *error);
int hg_bus_more_time(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     HgSession *s, sd_bus_error *error);
