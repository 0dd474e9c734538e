/* The session registry: every live session, indexed by id and by the hash of
 * its cookie token, with its next deadline in one heap. It owns the
 * sessions' times and states; the front ends (HTTP, D-Bus) change them only
 * through these calls and hear about every change through listeners. */
#pragma once

#include <glib.h>

#include "hg-clock.h"
#include "hg-policy.h"
#include "hg-session.h"
#include "hg-state.h"

typedef struct HgRegistry HgRegistry;

typedef enum {
  HG_REGISTRY_EVENT_NEW,    /* created, already in the maps */
  HG_REGISTRY_EVENT_STATE,  /* active <-> warning, or what the warning is
                               of (HgVerdict.warning, .warn_level) */
  HG_REGISTRY_EVENT_TIMES,  /* activity or liveness moved its deadlines */
  HG_REGISTRY_EVENT_ENDED,  /* gone from the maps; reason in the session */
  HG_REGISTRY_EVENT_STAGE,  /* lock-then-terminate: hourglass locked it (its
                               idle limit came: the front locks the screen;
                               after a STATE) or it was unlocked; its
                               times' locked_at says which */
  HG_REGISTRY_EVENT_LIMITS, /* what a person can see of its limits changed:
                               more time granted, new limits from a reload,
                               someone waiting or no longer. Its deadlines
                               may have moved too (no TIMES follows) */
} HgRegistryEvent;

/* Called synchronously. A listener may call back into the registry (end
 * another session, say) but must not unsubscribe from within the call. */
typedef void (*HgRegistryListener)(HgRegistry *reg, HgSession *s,
                                   HgRegistryEvent event, void *userdata);

/* Told whenever the earliest deadline of all sessions changes (infinity
 * when none is due at all), so that one timer can follow it. */
typedef void (*HgDeadlineChanged)(HgRegistry *reg, hg_usec_t deadline,
                                  void *userdata);

typedef enum {
  HG_TOUCH_ALIVE = 1 << 0,    /* a sign of life: any authenticated request */
  HG_TOUCH_ACTIVITY = 1 << 1, /* input, dated by idle_sec */
} HgTouch;

HgRegistry *hg_registry_new(const HgClock *clock, const HgLimits *limits);
/* Drops every session without ending it (no events): end them first, with
 * hg_registry_end_all(), where ending matters. */
HgRegistry *hg_registry_free(HgRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgRegistry, hg_registry_free)

unsigned hg_registry_subscribe(HgRegistry *reg, HgRegistryListener listener,
                               void *userdata);
void hg_registry_unsubscribe(HgRegistry *reg, unsigned id);
void hg_registry_set_deadline_callback(HgRegistry *reg, HgDeadlineChanged cb,
                                       void *userdata);

const HgClock *hg_registry_get_clock(const HgRegistry *reg);
/* A session's limits come from its rule (its policy name): the resolver
 * fills them, false when there is no such rule (then, and without a
 * resolver, the fallback's apply). */
typedef bool (*HgLimitsResolver)(const char *policy, HgLimits *ret,
                                 void *userdata);
void hg_registry_set_resolver(HgRegistry *reg, HgLimitsResolver resolver,
                              void *userdata);
/* New fallback limits, and every session's limits resolved anew (a
 * reload): they apply at once to every session's next deadline; sessions
 * already past the new limits end now, the others are told LIMITS. */
void hg_registry_set_limits(HgRegistry *reg, const HgLimits *limits);

/* A new session's identity; see hg-session.h for each field. */
typedef struct {
  HgSessionSource source;
  const char *user;
  uid_t uid;
  const uint8_t *token_hash; /* NULL: no cookie (desktop sessions) */
  uid_t peer_uid;            /* web: HG_PEER_UID_UNKNOWN if not known */
  const char *logind_id;     /* desktop, else NULL */
  const char *policy;        /* the rule it matched, NULL: the fallback */
} HgSessionInit;

int hg_registry_create(HgRegistry *reg, const HgSessionInit *init,
                       HgSession **ret);

/* Takes back a session that a previous run of the daemon had (its state
 * file), with its id, times and state, and announces it as NEW (with
 * hg_session_is_restored()). It is not judged here: one whose time ran out
 * meanwhile ends, with its true reason, at the next
 * hg_registry_process(), once every front has taken its part back.
 * -EEXIST for an id or token already in use. */
int hg_registry_restore(HgRegistry *reg, const HgStateSession *rec,
                        HgSession **ret);

HgSession *hg_registry_lookup(const HgRegistry *reg, const char *id);
HgSession *
hg_registry_lookup_token(const HgRegistry *reg,
                         const uint8_t token_hash[HG_TOKEN_HASH_LEN]);
unsigned hg_registry_count(const HgRegistry *reg);
unsigned hg_registry_count_user(const HgRegistry *reg, const char *user);
/* A snapshot of the live sessions, each referenced, in no set order. */
GPtrArray *hg_registry_list(const HgRegistry *reg);

/* Records activity and/or a sign of life now. The session is judged at now
 * first: one whose time ran out is ended (and -ESTALE returned) before the
 * report could revive it. */
int hg_registry_touch(HgRegistry *reg, HgSession *s, HgTouch what,
                      int64_t idle_sec);

/* Activity at a known instant (CLOCK_BOOTTIME), as a tty's atime dates
 * it: never later than now, never earlier than the last known activity.
 * Judged first like touch(). */
int hg_registry_touch_at(HgRegistry *reg, HgSession *s, hg_usec_t when);

/* The ends the day brings to a session (HgPolicyTimes.allowance_end and
 * .closing_at, CLOCK_BOOTTIME, 0: none), worked out by whoever keeps the
 * allowance and the hours (hg-daily.h). Asked at sign-in and restore
 * before the session is first judged, at every change of limits, and
 * whenever hg_registry_refresh_day_ends() says. */
typedef void (*HgDayEnds)(HgRegistry *reg, HgSession *s,
                          hg_usec_t *ret_allowance_end,
                          hg_usec_t *ret_closing_at, void *userdata);
void hg_registry_set_day_ends(HgRegistry *reg, HgDayEnds provider,
                              void *userdata);
/* Asks the provider again for the sessions of user (NULL: every session):
 * a day's end that moved by a second or more (less is the jitter of
 * reading two clocks) moves the session's deadlines at once, and a session
 * past its new end ends now. For a new day, a grant, a clock or zone
 * change. */
void hg_registry_refresh_day_ends(HgRegistry *reg, const char *user);

/* Called for a session whose deadline has come, before it is judged: a
 * source read only when asked (a tty's atime) reports its input now,
 * through hg_registry_touch_at(), so that a person typing is not warned.
 * Reports made from within the probe are applied without judging. */
typedef void (*HgDueProbe)(HgRegistry *reg, HgSession *s, void *userdata);
void hg_registry_set_due_probe(HgRegistry *reg, HgDueProbe probe,
                               void *userdata);

/* Holders keep a web session's page live (open event streams); when the
 * last one lets go, the browser-close grace starts. A hold owns a reference
 * to the session until its release. hold() fails with -ESTALE on a session
 * that has ended; only a successful hold is released. */
int hg_registry_hold(HgRegistry *reg, HgSession *s);
void hg_registry_release(HgRegistry *reg, HgSession *s);

/* Desktop input: while busy, only the absolute limit runs; going idle dates
 * the last activity at idle_since (CLOCK_BOOTTIME). */
int hg_registry_set_busy(HgRegistry *reg, HgSession *s, bool busy,
                         hg_usec_t idle_since);

/* An idle lock (logind's "idle" inhibitor, a ScreenSaver inhibition) is
 * held or released: while held it stands for activity up to the limits'
 * inhibit_max past the last activity (hg_policy_inhibit_released()). */
int hg_registry_set_inhibited(HgRegistry *reg, HgSession *s, bool inhibited);

/* Records what an input source said, for people and tools (no policy
 * effect): method NULL keeps the one known, when (CLOCK_BOOTTIME) moves
 * the last report only forward. forget_source() drops the source. */
void hg_registry_note_source(HgRegistry *reg, HgSession *s,
                             HgInputSource source, const char *method,
                             hg_usec_t when);
void hg_registry_forget_source(HgRegistry *reg, HgSession *s,
                               HgInputSource source);

/* A session hourglass locked (lock-then-terminate) was unlocked: that is
 * activity now, and idleness counts again (told as a STAGE). No-op if it
 * was not locked. */
int hg_registry_unlock(HgRegistry *reg, HgSession *s);

/* A person asks for more time on their absolute limit (ExtendBySec,
 * MaxExtensions). Granted only within the warnings before that limit,
 * while no one is waiting for the machine; asking counts as activity. */
typedef enum {
  HG_MORE_TIME_GRANTED,
  HG_MORE_TIME_NOT_OFFERED, /* its policy gives none */
  HG_MORE_TIME_NO_LIMIT,    /* no absolute limit to move */
  HG_MORE_TIME_USED_UP,     /* MaxExtensions given already */
  HG_MORE_TIME_TOO_EARLY,   /* before the first warning of that limit */
  HG_MORE_TIME_WAITING,     /* someone is waiting for this machine */
  HG_MORE_TIME_FIXED,       /* the end that comes first is closing time or
                               the day's allowance: no extension moves it */
} HgMoreTime;

/* 0 with the answer in *ret, -ESTALE for a session that has ended. A
 * grant is told as LIMITS, a refusal as TIMES (the activity). */
int hg_registry_more_time(HgRegistry *reg, HgSession *s, HgMoreTime *ret);

/* Someone is waiting for this machine (Manager.SetWaiting): a person's
 * extension is refused meanwhile. The callback hears of every change,
 * then every live session is told LIMITS. */
typedef void (*HgWaitingChanged)(HgRegistry *reg, bool waiting, void *userdata);
void hg_registry_set_waiting(HgRegistry *reg, bool waiting);
bool hg_registry_get_waiting(const HgRegistry *reg);
void hg_registry_set_waiting_callback(HgRegistry *reg, HgWaitingChanged cb,
                                      void *userdata);

void hg_registry_end(HgRegistry *reg, HgSession *s, HgEndReason reason);
void hg_registry_end_all(HgRegistry *reg, HgEndReason reason);

/* Judges every session whose deadline has come, in deadline order. */
void hg_registry_process(HgRegistry *reg);
hg_usec_t hg_registry_next_deadline(const HgRegistry *reg);
