/* What the D-Bus modules share. */
#pragma once

#include "hg-bus.h"
#include "hg-desktop.h"
#include "hg-kiosk-reset.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_creds, sd_bus_creds_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)

struct HgBus {
  sd_event *event;
  sd_bus *bus;
  HgRegistry *reg;
  const HgConfig *config;
  unsigned listener;
  GHashTable *objects;          /* HgSession -> its Session object's data */
  GHashTable *dirty;            /* session ids whose times changed */
  sd_event_source *flush_timer; /* invalidates them, at most once a second */
  sd_bus_slot *manager_slot;
  sd_bus_slot *session_slot;
  sd_bus_slot *enumerator_slot;
  HgDesktop *desktop; /* NULL if logind cannot be followed */
  HgKioskReset *kiosk_reset;
};

extern const sd_bus_vtable hg_bus_manager_vtable[];
extern const sd_bus_vtable hg_bus_session_vtable[];

/* Registers the fallback vtable and node enumerator of the sessions. */
int hg_bus_add_session_objects(HgBus *bus);
/* Drops what a Session object kept for an ended session. */
void hg_bus_forget_object(HgBus *bus, HgSession *s);

/* The object path of a session id (escaped). */
char *hg_bus_session_path(const char *id);

/* Authorization, on the caller's credentials. */
typedef enum {
  HG_BUS_ALLOW_ADMIN,          /* root and [DBus] AdminGroup */
  HG_BUS_ALLOW_ADMIN_OR_OWNER, /* and the session's own user */
} HgBusAllow;

/* 0, or a negative errno with AccessDenied set in error. s may be NULL for
 * HG_BUS_ALLOW_ADMIN. */
int hg_bus_check_caller(HgBus *bus, sd_bus_message *m, HgBusAllow allow,
                        HgSession *s, sd_bus_error *error);

/* The session an id names, or NoSuchSession / InvalidArgs in error. */
int hg_bus_find_session(HgBus *bus, const char *id, HgSession **ret,
                        sd_bus_error *error);

/* What Terminate and Extend do, shared by both interfaces. */
int hg_bus_terminate(HgBus *bus, sd_bus_message *m, HgSession *s,
                     sd_bus_error *error);
int hg_bus_extend(HgBus *bus, sd_bus_message *m, HgSession *s,
                  sd_bus_error *error);
