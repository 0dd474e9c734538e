/* POST /api/login: one PAM helper per login (hg-auth.h), its prompts
 * answered with the password or handed to the page as conversation steps,
 * and after success the helper kept as the keeper of the PAM session until
 * the web session ends. */
#include "hg-web-private.h"

#include <errno.h>
#include <string.h>

#include "hg-auth.h"
#include "hg-log.h"
#include "hg-peer.h"
#include "hg-secure.h"
#include "hg-throttle.h"
#include "hg-token.h"

#define USER_MAX 256
#define ANSWER_MAX 1024
#define SHUTDOWN_WAIT (5 * HG_USEC_PER_SEC)
#define FAILED_BODY                                                            \
  "{\"state\":\"failed\",\"message\":\"Sign-in failed. Check the user name "   \
  "and password and try again.\"}"

typedef struct Login Login;

struct HgWebLogin {
  HgWeb *web;
  HgAuthManager *auth;
  GHashTable *conversations; /* id -> Login waiting for the person */
  GHashTable *sessions;      /* session id -> Login keeping a PAM session */
  GHashTable *all;           /* Login set: every login, for shutdown */
  HgThrottle *throttle;
  unsigned listener;
  bool keeping; /* a restart: the PAM sessions stay open for the next run */
};

struct Login {
  HgWebLogin *owner;
  HgAuth *auth;
  char *user;             /* as typed, for the journal */
  char *account;          /* what NSS resolved it to, if the helper said */
  uid_t peer;             /* who asked (hg-peer.h) */
  char *password;         /* until the first hidden prompt takes it */
  HgHttpRequest *req;     /* the suspended request waiting for PAM */
  hg_usec_t asked_at;     /* when req came (CLOCK_MONOTONIC) */
  char conversation[33];  /* while waiting for the person */
  sd_event_source *timer; /* conversation expiry, or the fail delay */
  char *session_id;       /* after success */
  char *replaces;         /* the live session of the browser signing in */
  JsonArray *messages;    /* what PAM said, for the next answer */
};

/* The name of a session's helper connection in the fd store. */
static char *stored_name(const char *session_id) {
  return g_strconcat("web-", session_id, NULL);
}

static void login_free(Login *l) {
  HgWebLogin *owner = l->owner;

  if (l->conversation[0])
    g_hash_table_remove(owner->conversations, l->conversation);
  if (l->session_id) {
    g_autofree char *name = stored_name(l->session_id);

    g_hash_table_remove(owner->sessions, l->session_id);
    if (!owner->keeping)
      hg_fdstore_remove(owner->web->fdstore, name);
  }
  g_hash_table_remove(owner->all, l);
  hg_auth_close(l->auth);
  sd_event_source_disable_unref(l->timer);
  hg_erase_and_free(l->password);
  g_free(l->user);
  g_free(l->account);
  g_free(l->session_id);
  g_free(l->replaces);
  g_clear_pointer(&l->messages, json_array_unref);
  g_free(l);
}

/* The journal's record of every login: who, the outcome and the detail:
 * for a failure why (never shown to the person), for a success the policy
 * rule it got. */
static void journal_login(const char *user, int priority, const char *result,
                          const char *detail) {
  bool ok = strcmp(result, "succeeded") == 0;
  g_autofree char *f_user = g_strconcat("HG_USER=", user, NULL);
  g_autofree char *f_result = g_strconcat("HG_LOGIN=", result, NULL);
  g_autofree char *f_detail =
      detail ? g_strconcat(ok ? "HG_POLICY=" : "HG_REASON=", detail, NULL)
             : NULL;
  const char *fields[] = {f_user, f_result, f_detail, NULL};

  hg_log_fields(priority, fields, "Web login of %s: %s%s%s%s", user, result,
                detail ? (ok ? " (policy " : ": ") : "", detail ? detail : "",
                detail && ok ? ")" : "");
}

/* The answer for a suspended request, which is then no longer ours. */
static void answer(Login *l, unsigned status, struct MHD_Response *r) {
  HgHttpRequest *req = g_steal_pointer(&l->req);

  if (req)
    hg_http_respond(req, status, r);
  else
    MHD_destroy_response(r);
}

static int on_fail_delay_over(sd_event_source *s, uint64_t usec, void *ud) {
  Login *l = ud;

  answer(l, MHD_HTTP_UNAUTHORIZED, hg_http_response_json(FAILED_BODY));
  login_free(l);
  return 0;
}

/* Every failure looks alike: same status, same body, and the answer
 * comes FailDelayMSec after the request came, however long PAM took to
 * say no (an unknown user must not answer faster than a wrong password). */
static void fail(Login *l, const char *reason) {
  hg_usec_t delay = l->owner->web->config->fail_delay_msec * HG_USEC_PER_MSEC;
  hg_usec_t at = hg_usec_add(l->asked_at, delay);
  int r;

  journal_login(l->user, LOG_NOTICE, "failed", reason);
  /* A failed login takes no more answers: its helper is gone. */
  if (l->conversation[0]) {
    g_hash_table_remove(l->owner->conversations, l->conversation);
    l->conversation[0] = '\0';
  }
  hg_throttle_failed(l->owner->throttle, l->peer, l->user, l->account,
                     hg_now(CLOCK_MONOTONIC));
  l->auth = hg_auth_close(l->auth);
  l->timer = sd_event_source_disable_unref(l->timer);
  r = sd_event_add_time(l->owner->web->event, &l->timer, CLOCK_MONOTONIC, at,
                        HG_USEC_PER_MSEC, on_fail_delay_over, l);
  if (r < 0)
    on_fail_delay_over(NULL, 0, l);
}

static void collect_messages(Login *l, const HgAuthEvent *ev) {
  for (size_t i = 0; i < ev->n_messages; i++) {
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "kind",
                                  ev->messages[i].error ? "error" : "info");
    json_object_set_string_member(o, "text", ev->messages[i].text);
    json_array_add_object_element(l->messages, o);
  }
}

static JsonNode *take_messages(Login *l) {
  JsonNode *n = json_node_new(JSON_NODE_ARRAY);

  json_node_take_array(n, g_steal_pointer(&l->messages));
  l->messages = json_array_new();
  return n;
}

static int on_conversation_expired(sd_event_source *s, uint64_t usec,
                                   void *ud) {
  Login *l = ud;

  journal_login(l->user, LOG_NOTICE, "failed", "conversation expired");
  login_free(l);
  return 0;
}

/* A prompt the password cannot answer: the page shows it. */
static void ask_person(Login *l, const HgAuthEvent *ev) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  uint8_t raw[16];
  hg_usec_t timeout =
      l->owner->web->config->conversation_timeout_sec * HG_USEC_PER_SEC;

  if (hg_random_bytes(raw, sizeof(raw)) < 0 ||
      sd_event_add_time_relative(l->owner->web->event, &l->timer,
                                 CLOCK_MONOTONIC, timeout, 0,
                                 on_conversation_expired, l) < 0) {
    fail(l, "internal");
    return;
  }
  hg_hex_encode(raw, sizeof(raw), l->conversation);
  g_hash_table_insert(l->owner->conversations, l->conversation, l);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, "prompt");
  json_builder_set_member_name(b, "conversation");
  json_builder_add_string_value(b, l->conversation);
  json_builder_set_member_name(b, "prompts");
  json_builder_begin_array(b);
  for (size_t i = 0; i < ev->n_prompts; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "echo");
    json_builder_add_boolean_value(b, ev->prompts[i].echo);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, ev->prompts[i].text);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "messages");
  json_builder_add_value(b, take_messages(l));
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  if (l->req)
    hg_web_respond_json(g_steal_pointer(&l->req), MHD_HTTP_OK, root);
}

static void on_prompt(Login *l, const HgAuthEvent *ev) {
  collect_messages(l, ev);
  /* The first hidden prompt is the password's, whatever its wording. */
  if (l->password && ev->n_prompts == 1 && !ev->prompts[0].echo) {
    char *answers[] = {l->password};
    int r = hg_auth_answer(l->auth, answers, 1);
    g_clear_pointer(&l->password, hg_erase_and_free);
    if (r < 0)
      fail(l, "internal");
    return;
  }
  g_clear_pointer(&l->password, hg_erase_and_free);
  ask_person(l, ev);
}

/* A sign-in from a browser that still holds a live session ends that one
 * first: one browser, one session. */
static HgSession *replaced_session(Login *l) {
  HgRegistry *reg = l->owner->web->reg;
  return l->replaces ? hg_registry_lookup(reg, l->replaces) : NULL;
}

static void replace_old_session(Login *l) {
  HgSession *old = replaced_session(l);

  if (old)
    hg_registry_end(l->owner->web->reg, old, HG_END_REASON_REPLACED);
}

/* PAM said yes, but there is no room (the session this one replaces does
 * not count): the PAM session closes again. */
static bool within_limits(Login *l, const char *user) {
  const HgConfig *c = l->owner->web->config;
  HgRegistry *reg = l->owner->web->reg;
  HgSession *old = replaced_session(l);
  unsigned all = hg_registry_count(reg) - (old != NULL);
  unsigned mine = hg_registry_count_user(reg, user) -
                  (old && strcmp(hg_session_get_user(old), user) == 0);
  const char *error = NULL;

  if (all >= c->max_sessions)
    error = "too-many-sessions";
  else if (mine >= c->max_sessions_per_user)
    error = "too-many-user-sessions";
  if (!error)
    return true;
  journal_login(user, LOG_WARNING, "refused", error);
  l->auth = hg_auth_close(l->auth);
  answer(l, MHD_HTTP_SERVICE_UNAVAILABLE, hg_http_response_error(error));
  login_free(l);
  return false;
}

/* 403 {"error":"closed"|"allowance-used","reason","opens_at"|"renews_at"}:
 * the time in whole seconds since the epoch, null when none is in sight. */
static struct MHD_Response *access_refusal(const HgAccess *a) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new();
  gsize len;
  char *text;

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, hg_access_verdict_to_string(a->verdict));
  json_builder_set_member_name(b, "reason");
  json_builder_add_string_value(b, hg_access_explain(a->verdict));
  json_builder_set_member_name(b, a->verdict == HG_ACCESS_CLOSED ? "opens_at"
                                                                 : "renews_at");
  if (a->until == HG_USEC_INFINITY)
    json_builder_add_null_value(b);
  else
    json_builder_add_int_value(b, (int64_t)(a->until / HG_USEC_PER_SEC));
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  text = json_generator_to_data(gen, &len);
  return hg_http_response_new("application/json", text, len);
}

/* Before PAM: when every rule is closed, no one can sign in now, and
 * saying so tells nothing about anyone. */
static bool closed_for_all(HgWebLogin *owner, HgHttpRequest *req,
                           const char *user) {
  HgAccess a = {.verdict = HG_ACCESS_CLOSED};

  if (!hg_daily_closed_for_all(owner->web->daily, &a.until))
    return false;
  journal_login(user, LOG_INFO, "refused", "closed");
  hg_http_respond(req, MHD_HTTP_FORBIDDEN, access_refusal(&a));
  return true;
}

/* After PAM, with the person's rule known (its groups come from the
 * helper): their hours and their allowance. Only now may the answer name
 * them: before authentication it would tell a stranger whether an account
 * exists and how much it was used today. The PAM session closes again. */
static bool may_sign_in(Login *l, const char *user, const HgPolicyRule *rule) {
  const HgConfig *c = l->owner->web->config;
  HgLimits limits;
  HgAccess a;

  (void)hg_config_limits_of(c, rule ? rule->name : NULL, &limits);
  hg_daily_check(l->owner->web->daily, user, &limits, &a);
  if (a.verdict == HG_ACCESS_ALLOWED)
    return true;
  journal_login(user, LOG_NOTICE, "refused",
                hg_access_verdict_to_string(a.verdict));
  l->auth = hg_auth_close(l->auth);
  answer(l, MHD_HTTP_FORBIDDEN, access_refusal(&a));
  login_free(l);
  return false;
}

/* The policy rule of a web sign-in: the groups came from the helper. */
static const HgPolicyRule *rule_of(HgWebLogin *owner, const HgAuthEvent *ev) {
  const HgConfig *c = owner->web->config;
  HgPolicyWho who = {
      .user = ev->user,
      .groups = ev->groups,
      .source = HG_SESSION_SOURCE_WEB,
      .seat = c->seat,
      .service = c->pam_service,
  };

  return hg_policy_rules_match(c->rules, &who);
}

static void on_success(Login *l, const HgAuthEvent *ev) {
  const HgPolicyRule *rule;
  HgWebLogin *owner = l->owner;
  char token[HG_TOKEN_TEXT_LEN + 1];
  uint8_t hash[HG_TOKEN_HASH_LEN];
  g_autofree char *cookie = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new();
  struct MHD_Response *r;
  HgSession *s;
  char *text;
  gsize len;

  collect_messages(l, ev);
  if (!within_limits(l, ev->user))
    return;
  rule = rule_of(owner, ev);
  if (!may_sign_in(l, ev->user, rule))
    return;
  replace_old_session(l);
  if (hg_token_new(token, hash) < 0 ||
      hg_registry_create(owner->web->reg,
                         &(HgSessionInit){.source = HG_SESSION_SOURCE_WEB,
                                          .user = ev->user,
                                          .uid = ev->uid,
                                          .token_hash = hash,
                                          .peer_uid = l->peer,
                                          .policy = rule ? rule->name : NULL},
                         &s) < 0) {
    fail(l, "internal");
    return;
  }
  journal_login(ev->user, LOG_INFO, "succeeded", rule ? rule->name : NULL);
  hg_throttle_succeeded(owner->throttle, l->peer, l->user, ev->user);
  l->session_id = g_strdup(hg_session_get_id(s));
  g_hash_table_insert(owner->sessions, l->session_id, l);
  {
    g_autofree char *name = stored_name(l->session_id);
    (void)hg_fdstore_put(owner->web->fdstore, name, hg_auth_get_fd(l->auth));
  }

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, "authenticated");
  json_builder_set_member_name(b, "messages");
  json_builder_add_value(b, take_messages(l));
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  text = json_generator_to_data(gen, &len);
  r = hg_http_response_new("application/json", text, len);
  cookie = hg_token_cookie(token);
  explicit_bzero(token, sizeof(token));
  MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
  explicit_bzero(cookie, strlen(cookie));
  answer(l, MHD_HTTP_OK, r);
}

static void on_auth_event(HgAuth *a, const HgAuthEvent *ev, void *ud) {
  Login *l = ud;

  switch (ev->type) {
  case HG_AUTH_PROMPT:
    on_prompt(l, ev);
    break;
  case HG_AUTH_SUCCESS:
    on_success(l, ev);
    break;
  case HG_AUTH_FAILURE:
    if (ev->account)
      l->account = g_strdup(ev->account);
    fail(l, hg_auth_failure_to_string(ev->failure));
    break;
  case HG_AUTH_ENDED:
    /* The PAM session is gone with its helper; the web session goes on,
     * there is just nothing left to close. */
    hg_warning("PAM helper of session %s exited early", l->session_id);
    l->auth = hg_auth_close(l->auth);
    break;
  }
}

/* The browser gave up waiting: the login goes with it. */
static void on_request_gone(HgHttpRequest *req, void *ud) {
  Login *l = ud;

  hg_debug("Web login of %s: the client left before the answer", l->user);
  l->req = NULL;
  if (!l->session_id)
    login_free(l);
}

static void wait_for_pam(Login *l, HgHttpRequest *req) {
  l->req = req;
  l->asked_at = hg_now(CLOCK_MONOTONIC);
  hg_http_request_suspend(req, on_request_gone, l);
}

static const char *string_member(JsonObject *o, const char *name, size_t max) {
  JsonNode *n = json_object_get_member(o, name);
  const char *s;

  if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
      json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string(n);
  return strlen(s) <= max ? s : NULL;
}

static bool valid_user(const char *user) {
  if (!user || !*user)
    return false;
  for (const char *p = user; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

/* 429 with Retry-After when this name failed too often lately for this
 * peer, or too many logins came from it at once. */
static bool throttled(HgWebLogin *owner, HgHttpRequest *req, const char *user) {
  hg_usec_t wait =
      hg_throttle_check(owner->throttle, hg_http_request_peer_uid(req), user,
                        hg_now(CLOCK_MONOTONIC));
  g_autofree char *seconds = NULL;
  struct MHD_Response *r;

  if (wait == 0)
    return false;
  seconds = g_strdup_printf("%" G_GUINT64_FORMAT, hg_usec_to_sec_ceil(wait));
  r = hg_http_response_error("too-many-attempts");
  MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
  hg_http_respond(req, MHD_HTTP_TOO_MANY_REQUESTS, r);
  return true;
}

/* Logins of one peer not past PAM yet: each may hold a conversation for
 * ConversationTimeoutSec, so one user must not take them all. */
static unsigned in_progress_of(HgWebLogin *owner, uid_t peer) {
  GHashTableIter it;
  gpointer key;
  unsigned n = 0;

  g_hash_table_iter_init(&it, owner->all);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    const Login *l = key;
    n += !l->session_id && l->auth && l->peer == peer;
  }
  return n;
}

static bool too_busy(HgWebLogin *owner, HgHttpRequest *req) {
  const HgConfig *c = owner->web->config;

  return hg_auth_manager_in_progress(owner->auth) >=
             c->max_logins_in_progress ||
         in_progress_of(owner, hg_http_request_peer_uid(req)) >=
             c->max_logins_in_progress_per_peer;
}

static void start_login(HgWebLogin *owner, HgHttpRequest *req,
                        JsonObject *body) {
  const char *user = string_member(body, "user", USER_MAX);
  const char *password = string_member(body, "password", ANSWER_MAX);
  Login *l;
  int r;

  if (!valid_user(user) || !password) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-login");
    return;
  }
  if (closed_for_all(owner, req, user))
    return;
  if (too_busy(owner, req)) {
    hg_web_respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy");
    return;
  }
  if (throttled(owner, req, user))
    return;
  l = g_new0(Login, 1);
  l->owner = owner;
  l->peer = hg_http_request_peer_uid(req);
  l->user = g_strdup(user);
  l->password = g_strdup(password);
  l->messages = json_array_new();
  l->replaces = g_strdup(hg_web_session_id_of(owner->web, req));
  g_hash_table_add(owner->all, l);
  r = hg_auth_start(owner->auth, user, hg_http_request_peer(req), on_auth_event,
                    l, &l->auth);
  if (r < 0) {
    hg_log_errno(LOG_ERR, r, "Cannot start the PAM helper");
    login_free(l);
    hg_web_respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy");
    return;
  }
  wait_for_pam(l, req);
}

static void continue_login(HgWebLogin *owner, HgHttpRequest *req,
                           JsonObject *body, const char *id) {
  Login *l = g_hash_table_lookup(owner->conversations, id);
  JsonNode *n = json_object_get_member(body, "answers");
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  guint count = a ? json_array_get_length(a) : 0;
  g_autofree char **answers = g_new0(char *, count + 1);

  if (!l || !l->auth) {
    /* Expired, failed or never issued: the same answer as any failure. */
    hg_http_respond(req, MHD_HTTP_UNAUTHORIZED,
                    hg_http_response_json(FAILED_BODY));
    return;
  }
  for (guint i = 0; i < count; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(e) ||
        json_node_get_value_type(e) != G_TYPE_STRING ||
        strlen(json_node_get_string(e)) > ANSWER_MAX) {
      hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-answers");
      return;
    }
    answers[i] = (char *)json_node_get_string(e);
  }
  if (!a || hg_auth_answer(l->auth, answers, count) < 0) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-answers");
    return;
  }
  g_hash_table_remove(owner->conversations, l->conversation);
  l->conversation[0] = '\0';
  l->timer = sd_event_source_disable_unref(l->timer);
  wait_for_pam(l, req);
}

/* json-glib keeps its own copies of the body's strings: wipe the secret
 * ones before the parser frees them. */
static void wipe_strings(JsonNode *n) {
  if (!n)
    return;
  if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++)
      wipe_strings(json_array_get_element(a, i));
  } else if (JSON_NODE_HOLDS_VALUE(n) &&
             json_node_get_value_type(n) == G_TYPE_STRING) {
    char *s = (char *)json_node_get_string(n);
    explicit_bzero(s, strlen(s));
  }
}

void hg_web_login_handle(HgWebLogin *owner, HgHttpRequest *req,
                         JsonObject *body) {
  const char *conversation = string_member(body, "conversation", 64);

  if (conversation)
    continue_login(owner, req, body, conversation);
  else
    start_login(owner, req, body);
  wipe_strings(json_object_get_member(body, "password"));
  wipe_strings(json_object_get_member(body, "answers"));
}

/* A web session ended, whatever the reason: its PAM session closes. */
static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *ud) {
  HgWebLogin *owner = ud;
  Login *l;

  if (event != HG_REGISTRY_EVENT_ENDED)
    return;
  l = g_hash_table_lookup(owner->sessions, hg_session_get_id(s));
  if (l)
    login_free(l);
}

/* Only root can run PAM for other users itself: an unprivileged daemon
 * asks the socket-activated helper unit. */
static bool use_socket(const HgConfig *c) {
  return c->pam_helper == HG_PAM_HELPER_SOCKET ||
         (c->pam_helper == HG_PAM_HELPER_AUTO && geteuid() != 0);
}

static void settings_of(const HgConfig *c, HgAuthSettings *ret) {
  *ret = (HgAuthSettings){
      .service = c->pam_service,
      .min_uid = (uint32_t)c->min_uid,
      .timeout = c->helper_timeout_sec * HG_USEC_PER_SEC,
      .helper_socket = use_socket(c) ? c->helper_socket : NULL,
  };
}

int hg_web_login_new(HgWeb *web, HgWebLogin **ret) {
  HgWebLogin *owner;
  HgAuthSettings settings;
  HgAuthManager *auth;
  int r;

  settings_of(web->config, &settings);
  r = hg_auth_manager_new(web->event, &settings, &auth);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot set up PAM logins");
  if (settings.helper_socket)
    hg_info("PAM helpers come from %s", settings.helper_socket);
  owner = g_new0(HgWebLogin, 1);
  owner->web = web;
  owner->auth = auth;
  owner->conversations = g_hash_table_new(g_str_hash, g_str_equal);
  owner->sessions = g_hash_table_new(g_str_hash, g_str_equal);
  owner->all = g_hash_table_new(NULL, NULL);
  owner->throttle = hg_throttle_new(web->config->login_rate_per_sec);
  owner->listener = hg_registry_subscribe(web->reg, on_session_event, owner);
  *ret = owner;
  return 0;
}

void hg_web_login_keep(HgWebLogin *owner) { owner->keeping = true; }

/* A session that cannot be taken back ends now, and says why. */
static void drop_restored(HgWebLogin *owner, HgSession *s, const char *why) {
  g_autofree char *f_session =
      g_strconcat("HG_SESSION=", hg_session_get_id(s), NULL);

  hg_log_fields(LOG_WARNING, (const char *[]){f_session, NULL},
                "Session %s of %s not taken back: %s", hg_session_get_id(s),
                hg_session_get_user(s), why);
  hg_registry_end(owner->web->reg, s, HG_END_REASON_SHUTDOWN);
}

static void take_back(HgWebLogin *owner, HgSession *s) {
  g_autofree char *name = stored_name(hg_session_get_id(s));
  int fd = hg_fdstore_take(owner->web->fdstore, name);
  HgAuth *auth = NULL;
  Login *l;
  int r;

  if (fd < 0) {
    drop_restored(owner, s, "no connection to its PAM helper was kept");
    return;
  }
  r = hg_auth_adopt(owner->auth, fd, on_auth_event, NULL, &auth);
  if (r < 0) {
    drop_restored(owner, s,
                  r == -EPIPE ? "its PAM helper has exited" : g_strerror(-r));
    hg_fdstore_remove(owner->web->fdstore, name);
    return;
  }
  l = g_new0(Login, 1);
  l->owner = owner;
  l->auth = auth;
  l->peer = hg_session_get_peer_uid(s);
  l->user = g_strdup(hg_session_get_user(s));
  l->session_id = g_strdup(hg_session_get_id(s));
  hg_auth_set_userdata(auth, l);
  g_hash_table_insert(owner->sessions, l->session_id, l);
  g_hash_table_add(owner->all, l);
}

void hg_web_login_take_back(HgWebLogin *owner) {
  g_autoptr(GPtrArray) all = hg_registry_list(owner->web->reg);

  for (guint i = 0; i < all->len; i++) {
    HgSession *s = all->pdata[i];
    if (hg_session_is_restored(s) &&
        hg_session_get_source(s) == HG_SESSION_SOURCE_WEB &&
        !g_hash_table_contains(owner->sessions, hg_session_get_id(s)))
      take_back(owner, s);
  }
}

void hg_web_login_reload(HgWebLogin *owner) {
  HgAuthSettings settings;

  settings_of(owner->web->config, &settings);
  hg_auth_manager_set_settings(owner->auth, &settings);
  hg_throttle_set_rate(owner->throttle, owner->web->config->login_rate_per_sec);
}

HgWebLogin *hg_web_login_free(HgWebLogin *owner) {
  GHashTableIter it;
  gpointer key;

  if (!owner)
    return NULL;
  hg_registry_unsubscribe(owner->web->reg, owner->listener);
  while (g_hash_table_size(owner->all) > 0) {
    g_hash_table_iter_init(&it, owner->all);
    g_hash_table_iter_next(&it, &key, NULL);
    answer(key, MHD_HTTP_SERVICE_UNAVAILABLE,
           hg_http_response_error("shutting-down"));
    login_free(key);
  }
  /* KillMode=mixed: whatever still runs when we exit is killed, so the
   * helpers get their time to close PAM now. */
  if (owner->keeping)
    hg_auth_manager_let_go(owner->auth);
  else
    hg_auth_manager_shutdown(owner->auth, SHUTDOWN_WAIT);
  hg_auth_manager_free(owner->auth);
  g_hash_table_destroy(owner->conversations);
  g_hash_table_destroy(owner->sessions);
  g_hash_table_destroy(owner->all);
  hg_throttle_free(owner->throttle);
  g_free(owner);
  return NULL;
}
