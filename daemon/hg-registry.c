/* The session registry; see hg-registry.h. */
#include "hg-registry.h"

#include <errno.h>

#include "hg-macros.h"
#include "hg-prioq.h"
#include "hg-secure.h"
#include "hg-session-private.h"

typedef struct {
  unsigned id;
  HgRegistryListener func;
  void *userdata;
} Listener;

struct HgRegistry {
  const HgClock *clock;
  HgLimits limits;

  GHashTable *by_id;    /* id -> HgSession (one reference) */
  GHashTable *by_token; /* &token_hash -> HgSession (borrowed) */
  GHashTable *per_user; /* user -> count, for MaxSessionsPerUser */
  HgPrioq *deadlines;

  GArray *listeners;
  unsigned last_listener_id;

  HgLimitsResolver resolver;
  void *resolver_userdata;

  HgDeadlineChanged deadline_cb;
  void *deadline_userdata;
  hg_usec_t announced_deadline;

  HgDayEnds day_ends;
  void *day_ends_userdata;

  HgDueProbe probe;
  void *probe_userdata;
  HgSession *probing; /* the session being probed, NULL outside a probe */

  bool waiting;
  HgWaitingChanged waiting_cb;
  void *waiting_userdata;
};

/* The token hash is already uniformly random: its first bytes are a good
 * hash, and the equality test runs in constant time. */
static guint token_hash_func(gconstpointer key) {
  guint h;

  memcpy(&h, key, sizeof(h));
  return h;
}

static gboolean token_equal_func(gconstpointer a, gconstpointer b) {
  return hg_memeq_consttime(a, b, HG_TOKEN_HASH_LEN);
}

static int compare_deadlines(const void *a, const void *b) {
  const HgSession *x = a, *y = b;

  if (x->verdict.next_deadline != y->verdict.next_deadline)
    return x->verdict.next_deadline < y->verdict.next_deadline ? -1 : 1;
  return 0;
}

HgRegistry *hg_registry_new(const HgClock *clock, const HgLimits *limits) {
  HgRegistry *reg = g_new0(HgRegistry, 1);

  reg->clock = clock;
  reg->limits = *limits;
  reg->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify)hg_session_unref);
  reg->by_token = g_hash_table_new(token_hash_func, token_equal_func);
  reg->per_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  reg->deadlines = hg_prioq_new(compare_deadlines);
  reg->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
  reg->announced_deadline = HG_USEC_INFINITY;
  return reg;
}

HgRegistry *hg_registry_free(HgRegistry *reg) {
  if (!reg)
    return NULL;
  hg_prioq_free(reg->deadlines);
  g_hash_table_destroy(reg->by_token);
  g_hash_table_destroy(reg->by_id);
  g_hash_table_destroy(reg->per_user);
  g_array_unref(reg->listeners);
  g_free(reg);
  return NULL;
}

unsigned hg_registry_subscribe(HgRegistry *reg, HgRegistryListener listener,
                               void *userdata) {
  Listener l = {++reg->last_listener_id, listener, userdata};

  g_array_append_val(reg->listeners, l);
  return l.id;
}

void hg_registry_unsubscribe(HgRegistry *reg, unsigned id) {
  for (guint i = 0; i < reg->listeners->len; i++)
    if (g_array_index(reg->listeners, Listener, i).id == id) {
      g_array_remove_index(reg->listeners, i);
      return;
    }
}

void hg_registry_set_deadline_callback(HgRegistry *reg, HgDeadlineChanged cb,
                                       void *userdata) {
  reg->deadline_cb = cb;
  reg->deadline_userdata = userdata;
  reg->announced_deadline = HG_USEC_INFINITY;
  if (cb)
    cb(reg, hg_registry_next_deadline(reg), userdata);
}

static void emit(HgRegistry *reg, HgSession *s, HgRegistryEvent event) {
  for (guint i = 0; i < reg->listeners->len; i++) {
    Listener *l = &g_array_index(reg->listeners, Listener, i);
    l->func(reg, s, event, l->userdata);
  }
}

hg_usec_t hg_registry_next_deadline(const HgRegistry *reg) {
  const HgSession *top = hg_prioq_peek(reg->deadlines);
  return top ? top->verdict.next_deadline : HG_USEC_INFINITY;
}

/* Every public call that may move a deadline ends here: the timer hears of
 * the earliest one only when it really changed. */
static void announce_deadline(HgRegistry *reg) {
  hg_usec_t d = hg_registry_next_deadline(reg);

  if (d == reg->announced_deadline || !reg->deadline_cb)
    return;
  reg->announced_deadline = d;
  reg->deadline_cb(reg, d, reg->deadline_userdata);
}

static void user_count_add(HgRegistry *reg, const char *user, int delta) {
  gpointer key, value;
  unsigned n = 0;

  if (g_hash_table_lookup_extended(reg->per_user, user, &key, &value))
    n = GPOINTER_TO_UINT(value);
  n += delta;
  if (n == 0)
    g_hash_table_remove(reg->per_user, user);
  else
    g_hash_table_replace(reg->per_user, g_strdup(user), GUINT_TO_POINTER(n));
}

/* Takes the session out of every index and tells the listeners why. */
static void end_session(HgRegistry *reg, HgSession *s, HgEndReason reason) {
  g_autoptr(HgSession) ref = hg_session_ref(s);

  if (s->deadline_idx != HG_PRIOQ_IDX_NULL)
    hg_prioq_remove(reg->deadlines, s, &s->deadline_idx);
  if (s->has_token)
    g_hash_table_remove(reg->by_token, s->token_hash);
  user_count_add(reg, s->user, -1);
  s->verdict.state = HG_SESSION_STATE_ENDED;
  s->verdict.reason = reason;
  s->verdict.next_deadline = HG_USEC_INFINITY;
  g_hash_table_remove(reg->by_id, s->id);
  emit(reg, s, HG_REGISTRY_EVENT_ENDED);
}

static bool warning_moved(const HgVerdict *a, const HgVerdict *b) {
  return a->state != b->state || a->warning != b->warning ||
         a->warn_level != b->warn_level;
}

/* Judges one session at now and files the verdict. Returns false when the
 * session ended. A lock that came is taken (locked_at), and told after
 * the state that follows. */
static bool evaluate(HgRegistry *reg, HgSession *s, hg_usec_t now) {
  HgVerdict old = s->verdict, v;
  bool locked = false;

  hg_policy_evaluate(&s->limits, &s->times, now, &v);
  if (v.lock_due) {
    s->times.locked_at = v.lock_at;
    locked = true;
    hg_policy_evaluate(&s->limits, &s->times, now, &v);
  }
  if (v.state == HG_SESSION_STATE_ENDED) {
    end_session(reg, s, v.reason);
    return false;
  }
  s->verdict = v;
  if (s->deadline_idx == HG_PRIOQ_IDX_NULL)
    hg_prioq_put(reg->deadlines, s, &s->deadline_idx);
  else
    hg_prioq_reshuffle(reg->deadlines, s, &s->deadline_idx);
  if (warning_moved(&old, &v))
    emit(reg, s, HG_REGISTRY_EVENT_STATE);
  if (locked && !hg_session_is_ended(s))
    emit(reg, s, HG_REGISTRY_EVENT_STAGE);
  return !hg_session_is_ended(s);
}

void hg_registry_set_due_probe(HgRegistry *reg, HgDueProbe probe,
                               void *userdata) {
  reg->probe = probe;
  reg->probe_userdata = userdata;
}

/* Sources read only when asked report now; what they report is applied by
 * the calls they make, which do not judge while probing (see below). */
static void run_probe(HgRegistry *reg, HgSession *s) {
  if (!reg->probe || reg->probing)
    return;
  reg->probing = s;
  reg->probe(reg, s, reg->probe_userdata);
  reg->probing = NULL;
}

/* A verdict holds until its next deadline: a session whose deadline has
 * come is judged before anything reported now may change its times, so that
 * a report arriving before the timer fired cannot revive it. Only the
 * sources that are asked at that very instant (the probe) still count, and
 * a report made from within the probe is applied as it is: the probe's
 * caller judges right after. */
static bool judge_if_due(HgRegistry *reg, HgSession *s, hg_usec_t now) {
  g_autoptr(HgSession) ref = NULL;

  if (now < s->verdict.next_deadline || reg->probing == s)
    return true;
  ref = hg_session_ref(s); /* what the probe reports may end it */
  run_probe(reg, s);
  if (hg_session_is_ended(s))
    return false;
  return now < s->verdict.next_deadline || evaluate(reg, s, now);
}

const HgClock *hg_registry_get_clock(const HgRegistry *reg) {
  return reg->clock;
}

/* A session's limits: its rule's, or the fallback's. */
static void resolve(HgRegistry *reg, HgSession *s) {
  if (!reg->resolver ||
      !reg->resolver(s->policy, &s->limits, reg->resolver_userdata))
    s->limits = reg->limits;
  /* A lock of a rule that no longer locks: idleness counts from it. */
  if (s->times.locked_at &&
      s->limits.action != HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE) {
    s->times.last_activity = HG_MAX(s->times.last_activity, s->times.locked_at);
    s->times.locked_at = 0;
  }
}

/* The day's ends as the provider says now (none without one). */
static void ask_day_ends(HgRegistry *reg, HgSession *s) {
  s->times.allowance_end = 0;
  s->times.closing_at = 0;
  if (reg->day_ends)
    reg->day_ends(reg, s, &s->times.allowance_end, &s->times.closing_at,
                  reg->day_ends_userdata);
}

void hg_registry_set_day_ends(HgRegistry *reg, HgDayEnds provider,
                              void *userdata) {
  reg->day_ends = provider;
  reg->day_ends_userdata = userdata;
}

static bool moved(hg_usec_t a, hg_usec_t b) {
  if (!a || !b)
    return a != b;
  return (a > b ? a - b : b - a) >= HG_USEC_PER_SEC;
}

/* One session's day ends asked again; judged first if it was due. */
static void refresh_one(HgRegistry *reg, HgSession *s, hg_usec_t now) {
  HgPolicyTimes old = s->times;

  if (hg_session_is_ended(s) || !judge_if_due(reg, s, now))
    return;
  ask_day_ends(reg, s);
  if (!moved(old.allowance_end, s->times.allowance_end) &&
      !moved(old.closing_at, s->times.closing_at)) {
    s->times.allowance_end = old.allowance_end;
    s->times.closing_at = old.closing_at;
    return;
  }
  if (evaluate(reg, s, now))
    emit(reg, s, HG_REGISTRY_EVENT_TIMES);
}

void hg_registry_refresh_day_ends(HgRegistry *reg, const char *user) {
  g_autoptr(GPtrArray) all = hg_registry_list(reg);
  hg_usec_t now = hg_clock_boottime(reg->clock);

  for (guint i = 0; i < all->len; i++) {
    HgSession *s = all->pdata[i];
    if (!user || strcmp(hg_session_get_user(s), user) == 0)
      refresh_one(reg, s, now);
  }
  announce_deadline(reg);
}

void hg_registry_set_resolver(HgRegistry *reg, HgLimitsResolver resolver,
                              void *userdata) {
  reg->resolver = resolver;
  reg->resolver_userdata = userdata;
}

void hg_registry_set_limits(HgRegistry *reg, const HgLimits *limits) {
  g_autoptr(GPtrArray) all = hg_registry_list(reg);
  hg_usec_t now = hg_clock_boottime(reg->clock);

  reg->limits = *limits;
  for (guint i = 0; i < all->len; i++) {
    HgSession *s = all->pdata[i];
    if (hg_session_is_ended(s))
      continue;
    resolve(reg, s);
    ask_day_ends(reg, s);
    if (evaluate(reg, s, now))
      emit(reg, s, HG_REGISTRY_EVENT_LIMITS);
  }
  announce_deadline(reg);
}

/* Files a new session in every index (taking its reference) and tells
 * the listeners. -EEXIST if its token is taken. */
static int insert(HgRegistry *reg, HgSession *s, const uint8_t *token_hash) {
  if (token_hash) {
    if (g_hash_table_contains(reg->by_token, token_hash)) {
      hg_session_unref(s);
      return -EEXIST;
    }
    memcpy(s->token_hash, token_hash, HG_TOKEN_HASH_LEN);
    s->has_token = true;
    g_hash_table_insert(reg->by_token, s->token_hash, s);
  }
  g_hash_table_insert(reg->by_id, s->id, s);
  user_count_add(reg, s->user, +1);
  hg_prioq_put(reg->deadlines, s, &s->deadline_idx);
  emit(reg, s, HG_REGISTRY_EVENT_NEW);
  announce_deadline(reg);
  return 0;
}

int hg_registry_create(HgRegistry *reg, const HgSessionInit *init,
                       HgSession **ret) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  HgSession *s = NULL;
  int r;

  g_return_val_if_fail(init->user && *init->user, -EINVAL);

  /* 128 random bits do not collide in practice; the loop makes sure. */
  for (int tries = 0; !s && tries < 4; tries++) {
    s = hg_session_new(init->source, init->user, init->uid, NULL, now);
    if (!s)
      return HG_NEG_ERRNO();
    if (g_hash_table_contains(reg->by_id, s->id))
      g_clear_pointer(&s, hg_session_unref);
  }
  if (!s)
    return -EEXIST;
  s->peer_uid = init->peer_uid;
  s->logind_id = g_strdup(init->logind_id);
  s->policy = g_strdup(init->policy);
  resolve(reg, s);
  ask_day_ends(reg, s);
  hg_policy_evaluate(&s->limits, &s->times, now, &s->verdict);
  /* Over before it began (no allowance left, closed): it is announced
   * like any session and ends at the first processing, so that every
   * front hears NEW before ENDED. */
  if (s->verdict.state == HG_SESSION_STATE_ENDED)
    s->verdict =
        (HgVerdict){.state = HG_SESSION_STATE_ACTIVE, .next_deadline = now};
  r = insert(reg, s, init->token_hash);
  if (r >= 0 && ret)
    *ret = s;
  return r;
}

int hg_registry_restore(HgRegistry *reg, const HgStateSession *rec,
                        HgSession **ret) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  HgSession *s;
  int r;

  if (g_hash_table_contains(reg->by_id, rec->id))
    return -EEXIST;
  s = hg_session_new(rec->source, rec->user, rec->uid, rec->id, now);
  s->times = rec->times;
  s->times.live = false;
  s->peer_uid = rec->peer_uid;
  s->logind_id = g_strdup(rec->logind_id);
  s->policy = g_strdup(rec->policy);
  s->restored = true;
  resolve(reg, s);
  ask_day_ends(reg, s);
  /* The state it had; the first hg_registry_process() judges it anew,
   * ending it then if its time ran out while the daemon was away. */
  s->verdict = (HgVerdict){.state = rec->state, .next_deadline = now};
  r = insert(reg, s, rec->has_token ? rec->token_hash : NULL);
  if (r >= 0 && ret)
    *ret = s;
  return r;
}

HgSession *hg_registry_lookup(const HgRegistry *reg, const char *id) {
  return id ? g_hash_table_lookup(reg->by_id, id) : NULL;
}

HgSession *
hg_registry_lookup_token(const HgRegistry *reg,
                         const uint8_t token_hash[HG_TOKEN_HASH_LEN]) {
  return g_hash_table_lookup(reg->by_token, token_hash);
}

unsigned hg_registry_count(const HgRegistry *reg) {
  return g_hash_table_size(reg->by_id);
}

unsigned hg_registry_count_user(const HgRegistry *reg, const char *user) {
  return GPOINTER_TO_UINT(g_hash_table_lookup(reg->per_user, user));
}

GPtrArray *hg_registry_list(const HgRegistry *reg) {
  GPtrArray *all = g_ptr_array_new_full(g_hash_table_size(reg->by_id),
                                        (GDestroyNotify)hg_session_unref);
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init(&it, reg->by_id);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(all, hg_session_ref(value));
  return all;
}

/* touch() and touch_at(): activity at `at` (already clamped) and/or a
 * sign of life now. */
static int touch(HgRegistry *reg, HgSession *s, bool alive_now, bool activity,
                 hg_usec_t at, hg_usec_t now) {
  HgPolicyTimes old = s->times;
  bool alive;

  if (hg_session_is_ended(s))
    return -ESTALE;
  alive = judge_if_due(reg, s, now);
  if (alive) {
    if (alive_now)
      s->times.last_alive = now;
    /* Locked by hourglass: input at the lock screen is not activity. */
    if (activity && !s->times.locked_at)
      s->times.last_activity = HG_MAX(s->times.last_activity, at);
    alive = evaluate(reg, s, now);
  }
  /* Signs of life matter too: they move the browser-close deadline, and
   * the state file keeps them. */
  if (alive && (s->times.last_activity != old.last_activity ||
                s->times.last_alive != old.last_alive))
    emit(reg, s, HG_REGISTRY_EVENT_TIMES);
  announce_deadline(reg);
  return alive ? 0 : -ESTALE;
}

int hg_registry_touch(HgRegistry *reg, HgSession *s, HgTouch what,
                      int64_t idle_sec) {
  hg_usec_t now = hg_clock_boottime(reg->clock);

  return touch(reg, s, what & HG_TOUCH_ALIVE, what & HG_TOUCH_ACTIVITY,
               hg_policy_activity_time(s->times.last_activity, now, idle_sec),
               now);
}

int hg_registry_touch_at(HgRegistry *reg, HgSession *s, hg_usec_t when) {
  hg_usec_t now = hg_clock_boottime(reg->clock);

  return touch(reg, s, false, true, HG_MIN(when, now), now);
}

int hg_registry_hold(HgRegistry *reg, HgSession *s) {
  hg_usec_t now = hg_clock_boottime(reg->clock);

  if (hg_session_is_ended(s) || !judge_if_due(reg, s, now)) {
    announce_deadline(reg);
    return -ESTALE;
  }
  hg_session_ref(s);
  s->n_live++;
  s->times.live = true;
  s->times.last_alive = now;
  if (evaluate(reg, s, now))
    emit(reg, s, HG_REGISTRY_EVENT_TIMES);
  announce_deadline(reg);
  return 0;
}

void hg_registry_release(HgRegistry *reg, HgSession *s) {
  g_return_if_fail(s->n_live > 0);

  if (--s->n_live == 0 && !hg_session_is_ended(s)) {
    s->times.live = false;
    s->times.last_alive = hg_clock_boottime(reg->clock);
    if (evaluate(reg, s, s->times.last_alive))
      emit(reg, s, HG_REGISTRY_EVENT_TIMES);
    announce_deadline(reg);
  }
  hg_session_unref(s); /* the hold's reference */
}

int hg_registry_set_busy(HgRegistry *reg, HgSession *s, bool busy,
                         hg_usec_t idle_since) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  bool alive;

  if (hg_session_is_ended(s))
    return -ESTALE;
  alive = judge_if_due(reg, s, now);
  if (alive && s->times.busy != busy) {
    /* Busy time counts as activity: the idle period starts when the
     * desktop says it did, never before the busy period began (when
     * last_activity was set) and never in the future. */
    if (!s->times.locked_at)
      s->times.last_activity =
          busy ? now : HG_MIN(HG_MAX(idle_since, s->times.last_activity), now);
    s->times.busy = busy;
    alive = evaluate(reg, s, now);
    if (alive)
      emit(reg, s, HG_REGISTRY_EVENT_TIMES);
  }
  announce_deadline(reg);
  return alive ? 0 : -ESTALE;
}

int hg_registry_set_inhibited(HgRegistry *reg, HgSession *s, bool inhibited) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  bool alive;

  if (hg_session_is_ended(s))
    return -ESTALE;
  alive = judge_if_due(reg, s, now);
  if (alive && s->times.inhibited != inhibited) {
    if (!inhibited)
      s->times.last_activity =
          hg_policy_inhibit_released(&s->limits, s->times.last_activity, now);
    s->times.inhibited = inhibited;
    alive = evaluate(reg, s, now);
    if (alive)
      emit(reg, s, HG_REGISTRY_EVENT_TIMES);
  }
  announce_deadline(reg);
  return alive ? 0 : -ESTALE;
}

void hg_registry_note_source(HgRegistry *reg, HgSession *s,
                             HgInputSource source, const char *method,
                             hg_usec_t when) {
  HgSourceReport *r;

  g_return_if_fail(source >= 0 && source < _HG_INPUT_SOURCE_MAX);
  r = &s->sources[source];
  r->present = true;
  if (method && g_strcmp0(method, r->method) != 0) {
    g_free(r->method);
    r->method = g_strdup(method);
  }
  r->last = HG_MAX(r->last, when);
}

void hg_registry_forget_source(HgRegistry *reg, HgSession *s,
                               HgInputSource source) {
  g_return_if_fail(source >= 0 && source < _HG_INPUT_SOURCE_MAX);
  g_clear_pointer(&s->sources[source].method, g_free);
  s->sources[source] = (HgSourceReport){0};
}

int hg_registry_unlock(HgRegistry *reg, HgSession *s) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  bool alive;

  if (hg_session_is_ended(s))
    return -ESTALE;
  alive = judge_if_due(reg, s, now);
  if (alive && s->times.locked_at) {
    s->times.locked_at = 0;
    s->times.last_activity = now;
    alive = evaluate(reg, s, now);
    if (alive)
      emit(reg, s, HG_REGISTRY_EVENT_STAGE);
    if (alive && !hg_session_is_ended(s))
      emit(reg, s, HG_REGISTRY_EVENT_TIMES);
  }
  announce_deadline(reg);
  return alive ? 0 : -ESTALE;
}

static HgMoreTime may_have_more_time(const HgRegistry *reg,
                                     const HgSession *s) {
  const HgLimits *l = &s->limits;

  if (l->extend_by == 0 || l->max_extensions == 0)
    return HG_MORE_TIME_NOT_OFFERED;
  if (l->max_session == 0)
    return HG_MORE_TIME_NO_LIMIT;
  if (s->times.n_extended >= l->max_extensions)
    return HG_MORE_TIME_USED_UP;
  if (s->verdict.hard_reason != HG_END_REASON_MAX_AGE)
    return HG_MORE_TIME_FIXED;
  if (s->verdict.warn_level == 0)
    return HG_MORE_TIME_TOO_EARLY;
  if (reg->waiting)
    return HG_MORE_TIME_WAITING;
  return HG_MORE_TIME_GRANTED;
}

int hg_registry_more_time(HgRegistry *reg, HgSession *s, HgMoreTime *ret) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  bool alive;

  if (hg_session_is_ended(s))
    return -ESTALE;
  alive = judge_if_due(reg, s, now);
  if (alive) {
    bool granted;

    *ret = may_have_more_time(reg, s);
    granted = *ret == HG_MORE_TIME_GRANTED;
    if (granted) {
      s->times.extended = hg_usec_add(s->times.extended, s->limits.extend_by);
      s->times.n_extended++;
    }
    if (!s->times.locked_at)
      s->times.last_activity = now;
    alive = evaluate(reg, s, now);
    if (alive)
      emit(reg, s,
           granted ? HG_REGISTRY_EVENT_LIMITS : HG_REGISTRY_EVENT_TIMES);
  }
  announce_deadline(reg);
  return alive ? 0 : -ESTALE;
}

void hg_registry_set_waiting(HgRegistry *reg, bool waiting) {
  g_autoptr(GPtrArray) all = NULL;

  if (reg->waiting == waiting)
    return;
  reg->waiting = waiting;
  if (reg->waiting_cb)
    reg->waiting_cb(reg, waiting, reg->waiting_userdata);
  /* Whether "More time" can be had changed for everyone. A listener may
   * end a session meanwhile: the snapshot keeps each one referenced. */
  all = hg_registry_list(reg);
  for (guint i = 0; i < all->len; i++)
    if (!hg_session_is_ended(all->pdata[i]))
      emit(reg, all->pdata[i], HG_REGISTRY_EVENT_LIMITS);
}

bool hg_registry_get_waiting(const HgRegistry *reg) { return reg->waiting; }

void hg_registry_set_waiting_callback(HgRegistry *reg, HgWaitingChanged cb,
                                      void *userdata) {
  reg->waiting_cb = cb;
  reg->waiting_userdata = userdata;
}

void hg_registry_end(HgRegistry *reg, HgSession *s, HgEndReason reason) {
  g_return_if_fail(reason > HG_END_REASON_NONE && reason < _HG_END_REASON_MAX);

  if (hg_session_is_ended(s))
    return;
  end_session(reg, s, reason);
  announce_deadline(reg);
}

void hg_registry_end_all(HgRegistry *reg, HgEndReason reason) {
  g_autoptr(GPtrArray) all = hg_registry_list(reg);

  for (guint i = 0; i < all->len; i++)
    hg_registry_end(reg, all->pdata[i], reason);
}

void hg_registry_process(HgRegistry *reg) {
  hg_usec_t now = hg_clock_boottime(reg->clock);
  HgSession *top;

  /* Each evaluation either ends the session or moves its deadline past
   * now, so the loop ends. */
  while ((top = hg_prioq_peek(reg->deadlines)) &&
         top->verdict.next_deadline <= now)
    judge_if_due(reg, top, now);
  announce_deadline(reg);
}
