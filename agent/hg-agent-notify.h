/* The warning as a desktop notification (org.freedesktop.Notifications on
 * the session bus): one notification at a time, updated in place, closed
 * when it is no longer true; and one-off notes beside it (the answer to
 * a request). A missing notification service is logged once and tried
 * again at the next warning. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct Notifier Notifier;

/* A person chose the action key of the warning. */
typedef void (*NotifierActionFunc)(const char *key, void *userdata);

/* What the warning shows: plain text, and one action or none. */
typedef struct {
  const char *summary;
  const char *body;
  const char *action;       /* its key, NULL for none */
  const char *action_label; /* what the button says */
} NotifierText;

int notifier_new(sd_bus *bus, NotifierActionFunc on_action, void *userdata,
                 Notifier **ret);

/* Closes a notification still on screen (without waiting for an answer). */
Notifier *notifier_free(Notifier *n);

/* Shows the text, replacing what is shown. Does nothing more in an
 * episode (until the next notifier_alert() or notifier_withdraw()) once
 * the service failed or the person closed the notification: a countdown
 * step is no news. */
void notifier_show(Notifier *n, const NotifierText *t);

/* As notifier_show(), for news (a new warning, the next lead time): shown
 * again even where the person closed the last one, or the service failed. */
void notifier_alert(Notifier *n, const NotifierText *t);

/* Takes the notification away, and ends the episode. */
void notifier_withdraw(Notifier *n);

/* A note of its own beside the warning, which the server expires as it
 * likes; not followed any further. */
void notifier_tell(Notifier *n, const char *summary, const char *body);

static inline void notifier_freep(Notifier **n) { notifier_free(*n); }
