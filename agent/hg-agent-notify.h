/* The warning as a desktop notification (org.freedesktop.Notifications on
 * the session bus): one notification at a time, updated in place, closed
 * when it is no longer true. A missing notification service is logged
 * once and tried again at the next warning. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#define AGENT_ACTION_EXTEND "extend"

typedef struct Notifier Notifier;

/* A person chose an action of the notification (AGENT_ACTION_EXTEND). */
typedef void (*NotifierActionFunc)(const char *key, void *userdata);

int notifier_new(sd_bus *bus, NotifierActionFunc on_action, void *userdata,
                 Notifier **ret);

/* Closes a notification still on screen (without waiting for an answer). */
Notifier *notifier_free(Notifier *n);

/* Shows the text, replacing what is shown; with_extend adds the "Stay
 * signed in" action. Does nothing more in an episode (until the next
 * notifier_withdraw()) once the service failed or the person closed the
 * notification. */
void notifier_show(Notifier *n, const char *summary, const char *body,
                   bool with_extend);

/* Takes the notification away, and ends the episode. */
void notifier_withdraw(Notifier *n);

static inline void notifier_freep(Notifier **n) { notifier_free(*n); }
