/* Routes of the web front: the gate, the pages, and the session API
 * (ping, session, logout). Login lives in hg-web-login.c. */
#include "hg-web-private.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "hg-log.h"
#include "hg-more-time.h"
#include "hg-token.h"
#include "hg-web-resources.h"

typedef void (*ApiHandler)(HgWeb *web, HgHttpRequest *req, HgSession *s,
                           JsonObject *body);

typedef struct {
  const char *path;
  bool post; /* else GET (and HEAD) */
  bool needs_session;
  ApiHandler handler;
} ApiRoute;

void hg_web_respond_json(HgHttpRequest *req, unsigned status, JsonNode *node) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  gsize len;
  char *text;

  json_generator_set_root(gen, node);
  text = json_generator_to_data(gen, &len);
  hg_http_respond(req, status,
                  hg_http_response_new("application/json", text, len));
}

void hg_web_respond_error(HgHttpRequest *req, unsigned status,
                          const char *error) {
  hg_http_respond(req, status, hg_http_response_error(error));
}

static int64_t seconds_until(hg_usec_t t, hg_usec_t now) {
  if (t == HG_USEC_INFINITY)
    return -1;
  return (int64_t)hg_usec_to_sec_ceil(hg_usec_sub(t, now));
}

/* The day's ends say 0 for none. */
static hg_usec_t or_never(hg_usec_t t) { return t ? t : HG_USEC_INFINITY; }

/* The absolute limit's side: what a warning is of, how many of its lead
 * times passed (a new one is a new warning), the more time left. */
static void add_limit_state(JsonBuilder *b, HgWeb *web, HgSession *s,
                            hg_usec_t now) {
  const HgVerdict *v = hg_session_get_verdict(s);
  const HgLimits *l = hg_session_get_limits(s);
  const HgPolicyTimes *t = hg_session_get_times(s);
  unsigned taken = t->n_extended;
  unsigned left = 0;

  if (l->extend_by > 0 && l->max_session > 0 && l->max_extensions > taken)
    left = l->max_extensions - taken;
  json_builder_set_member_name(b, "warning");
  json_builder_add_string_value(b, hg_warning_to_string(v->warning));
  json_builder_set_member_name(b, "warn_level");
  json_builder_add_int_value(b, v->warn_level);
  json_builder_set_member_name(b, "limit_in_sec");
  json_builder_add_int_value(b, seconds_until(v->hard_end, now));
  /* What that limit is, and the day's ends on their own (-1: none). */
  json_builder_set_member_name(b, "limit_reason");
  json_builder_add_string_value(b,
                                v->hard_end == HG_USEC_INFINITY
                                    ? ""
                                    : hg_end_reason_to_string(v->hard_reason));
  json_builder_set_member_name(b, "allowance_left_sec");
  json_builder_add_int_value(b, seconds_until(or_never(t->allowance_end), now));
  json_builder_set_member_name(b, "closes_in_sec");
  json_builder_add_int_value(b, seconds_until(or_never(t->closing_at), now));
  json_builder_set_member_name(b, "extend_by_sec");
  json_builder_add_int_value(b, (int64_t)(l->extend_by / HG_USEC_PER_SEC));
  json_builder_set_member_name(b, "extensions_left");
  json_builder_add_int_value(b, left);
  json_builder_set_member_name(b, "waiting");
  json_builder_add_boolean_value(b, hg_registry_get_waiting(web->reg));
}

JsonNode *hg_web_session_state(HgWeb *web, HgSession *s) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  const HgVerdict *v = hg_session_get_verdict(s);
  const HgLimits *l = hg_session_get_limits(s);
  hg_usec_t now = hg_clock_boottime(hg_registry_get_clock(web->reg));
  hg_usec_t idle = hg_usec_sub(now, hg_session_get_last_activity(s));

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(
      b, hg_session_state_to_string(hg_session_get_state(s)));
  json_builder_set_member_name(b, "user");
  json_builder_add_string_value(b, hg_session_get_user(s));
  json_builder_set_member_name(b, "idle_sec");
  json_builder_add_int_value(b, (int64_t)(idle / HG_USEC_PER_SEC));
  json_builder_set_member_name(b, "warn_in_sec");
  json_builder_add_int_value(b, seconds_until(v->warn_at, now));
  json_builder_set_member_name(b, "expire_in_sec");
  json_builder_add_int_value(b, seconds_until(v->expire_at, now));
  /* The session's own rule's limits (a policy may set them). */
  json_builder_set_member_name(b, "warn_after_sec");
  json_builder_add_int_value(b, (int64_t)(l->warn_after / HG_USEC_PER_SEC));
  json_builder_set_member_name(b, "expire_after_sec");
  json_builder_add_int_value(b, (int64_t)(l->expire_after / HG_USEC_PER_SEC));
  json_builder_set_member_name(b, "close_after_sec");
  json_builder_add_int_value(b, (int64_t)(l->close_after / HG_USEC_PER_SEC));
  add_limit_state(b, web, s, now);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void respond_state(HgWeb *web, HgHttpRequest *req, HgSession *s) {
  g_autoptr(JsonNode) node = hg_web_session_state(web, s);
  hg_web_respond_json(req, MHD_HTTP_OK, node);
}

static void respond_ended(HgHttpRequest *req, HgEndReason reason) {
  g_autofree char *json =
      g_strdup_printf("{\"error\":\"session-ended\",\"reason\":\"%s\"}",
                      hg_end_reason_to_string(reason));
  hg_http_respond(req, MHD_HTTP_UNAUTHORIZED, hg_http_response_json(json));
}

/* A touch that finds the session's time run out ends it: say why. */
static bool touch(HgWeb *web, HgHttpRequest *req, HgSession *s, HgTouch what,
                  int64_t idle) {
  if (hg_registry_touch(web->reg, s, what, idle) == 0)
    return true;
  respond_ended(req, hg_session_get_end_reason(s));
  return false;
}

static void api_session(HgWeb *web, HgHttpRequest *req, HgSession *s,
                        JsonObject *body) {
  if (touch(web, req, s, HG_TOUCH_ALIVE, 0))
    respond_state(web, req, s);
}

/* {"idle": N}: N seconds since the page last saw input. */
static bool parse_idle(JsonObject *body, int64_t *ret) {
  JsonNode *n = body ? json_object_get_member(body, "idle") : NULL;
  double d;

  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return false;
  switch (json_node_get_value_type(n)) {
  case G_TYPE_INT64:
    *ret = json_node_get_int(n);
    return true;
  case G_TYPE_DOUBLE:
    d = json_node_get_double(n);
    if (!isfinite(d))
      return false;
    *ret = d >= 9e18 ? INT64_MAX : d <= -9e18 ? INT64_MIN : (int64_t)d;
    return true;
  default:
    return false;
  }
}

static void api_ping(HgWeb *web, HgHttpRequest *req, HgSession *s,
                     JsonObject *body) {
  int64_t idle;

  if (!parse_idle(body, &idle)) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-idle");
    return;
  }
  if (!touch(web, req, s, HG_TOUCH_ALIVE | HG_TOUCH_ACTIVITY, idle))
    return;
  hg_registry_note_source(web->reg, s, HG_INPUT_SOURCE_PAGE, "client.js",
                          hg_clock_boottime(hg_registry_get_clock(web->reg)));
  respond_state(web, req, s);
}

/* The person asks for more time from the page's warning: the state as
 * it is now, or 409 with why not (the page has its own words for each). */
static void api_more_time(HgWeb *web, HgHttpRequest *req, HgSession *s,
                          JsonObject *body) {
  g_autofree char *json = NULL;
  HgMoreTime answer;

  if (hg_registry_more_time(web->reg, s, &answer) < 0) {
    respond_ended(req, hg_session_get_end_reason(s));
    return;
  }
  hg_more_time_log(s, answer, "on the page");
  if (answer == HG_MORE_TIME_GRANTED) {
    respond_state(web, req, s);
    return;
  }
  json = g_strdup_printf("{\"error\":\"more-time-refused\",\"reason\":\"%s\"}",
                         hg_more_time_to_string(answer));
  hg_http_respond(req, MHD_HTTP_CONFLICT, hg_http_response_json(json));
}

static void add_cookie_removal(struct MHD_Response *r) {
  MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE,
                          hg_token_cookie_clear());
  MHD_add_response_header(r, "Clear-Site-Data", "\"cookies\"");
}

static void api_logout(HgWeb *web, HgHttpRequest *req, HgSession *s,
                       JsonObject *body) {
  struct MHD_Response *r;

  hg_registry_end(web->reg, s, HG_END_REASON_LOGOUT);
  r = hg_http_response_json("{\"state\":\"ended\",\"reason\":\"logout\"}");
  add_cookie_removal(r);
  hg_http_respond(req, MHD_HTTP_OK, r);
}

static void api_login(HgWeb *web, HgHttpRequest *req, HgSession *s,
                      JsonObject *body) {
  hg_web_login_handle(web->login, req, body);
}

/* An open stream keeps the page live; opening it is a sign of life. */
static void api_events(HgWeb *web, HgHttpRequest *req, HgSession *s,
                       JsonObject *body) {
  const char *page = hg_http_request_query(req, "page");

  if (!hg_web_page_id_valid(page)) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-page");
    return;
  }
  if (touch(web, req, s, HG_TOUCH_ALIVE, 0))
    hg_web_events_open(web->events, req, s, page);
}

/* {"page": ID}, from navigator.sendBeacon on pagehide. */
static void api_close(HgWeb *web, HgHttpRequest *req, HgSession *s,
                      JsonObject *body) {
  JsonNode *n = json_object_get_member(body, "page");
  const char *page = n && JSON_NODE_HOLDS_VALUE(n) &&
                             json_node_get_value_type(n) == G_TYPE_STRING
                         ? json_node_get_string(n)
                         : NULL;
  g_autofree char *json = NULL;

  if (!hg_web_page_id_valid(page)) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-page");
    return;
  }
  json = g_strdup_printf("{\"closed\":%u}",
                         hg_web_events_close_page(web->events, s, page));
  hg_http_respond(req, MHD_HTTP_OK, hg_http_response_json(json));
}

static const ApiRoute api_routes[] = {
    {"/api/login", true, false, api_login},
    {"/api/ping", true, true, api_ping},
    {"/api/session", false, true, api_session},
    {"/api/events", false, true, api_events},
    {"/api/logout", true, true, api_logout},
    {"/api/more-time", true, true, api_more_time},
    {"/api/close", true, true, api_close},
};

typedef struct {
  HgWeb *web;
  HgHttpRequest *req;
  HgSession *session;
  HgEndReason ended;
  bool unknown; /* a well-formed token that no session ever had */
} CookieLookup;

/* Browsers send the cookie to every port of the host, so another local
 * user's server may be given it: it is good only from the uid that signed
 * in (the kiosk browser's). */
static bool from_owner(HgWeb *web, HgHttpRequest *req, HgSession *s) {
  uid_t owner = hg_session_get_peer_uid(s);
  uid_t peer = hg_http_request_peer_uid(req);
  unsigned quiet;

  if (owner == HG_PEER_UID_UNKNOWN || owner == peer)
    return true;
  if (hg_log_limit_pass(&web->foreign_token_log, &quiet))
    hg_warning("The session token of %s came from uid %d, not from uid %d "
               "that signed in: refused (%u more since the last such line)",
               hg_session_get_user(s), (int)peer, (int)owner, quiet);
  return false;
}

static bool try_token(const char *value, void *ud) {
  CookieLookup *l = ud;
  uint8_t hash[HG_TOKEN_HASH_LEN];
  HgEndReason reason;

  if (!hg_token_hash(value, hash))
    return false;
  l->session = hg_registry_lookup_token(l->web->reg, hash);
  if (l->session && from_owner(l->web, l->req, l->session))
    return true;
  if (l->session) {
    l->session = NULL;
    return false;
  }
  reason = hg_ended_tokens_lookup(l->web->ended, hash);
  if (l->ended == HG_END_REASON_NONE)
    l->ended = reason;
  l->unknown = l->unknown || reason == HG_END_REASON_NONE;
  return false;
}

/* Someone may be guessing tokens: said, never with the token, and not
 * more than once a minute whatever they send. */
static void log_unknown_token(HgWeb *web, HgHttpRequest *req) {
  uid_t uid = hg_http_request_peer_uid(req);
  g_autofree char *f_uid = NULL;
  unsigned quiet;

  if (!hg_log_limit_pass(&web->unknown_token_log, &quiet))
    return;
  f_uid = g_strdup_printf("HG_PEER_UID=%d", (int)uid);
  hg_log_fields(LOG_NOTICE, (const char *[]){f_uid, NULL},
                "Request for %s with an unknown session token from uid %d "
                "(%u more since the last such line)",
                hg_http_request_path(req), (int)uid, quiet);
}

/* The live session of the request's cookie. Routes pass ret_ended: they
 * also learn why a session ended, and unknown tokens are logged. */
static HgSession *session_of(HgWeb *web, HgHttpRequest *req,
                             HgEndReason *ret_ended) {
  CookieLookup l = {web, req, NULL, HG_END_REASON_NONE, false};

  hg_http_request_find_cookie(req, HG_COOKIE_NAME, try_token, &l);
  if (ret_ended) {
    *ret_ended = l.ended;
    if (!l.session && l.unknown && l.ended == HG_END_REASON_NONE)
      log_unknown_token(web, req);
  }
  return l.session;
}

const char *hg_web_session_id_of(HgWeb *web, HgHttpRequest *req) {
  HgSession *s = session_of(web, req, NULL);
  return s ? hg_session_get_id(s) : NULL;
}

static bool method_allowed(HgHttpRequest *req, bool post) {
  const char *m = hg_http_request_method(req);

  if (post)
    return strcmp(m, MHD_HTTP_METHOD_POST) == 0;
  return strcmp(m, MHD_HTTP_METHOD_GET) == 0 ||
         strcmp(m, MHD_HTTP_METHOD_HEAD) == 0;
}

static void respond_method_not_allowed(HgHttpRequest *req, const char *allow) {
  struct MHD_Response *r = hg_http_response_error("method-not-allowed");

  MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  hg_http_respond(req, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

/* A POST body must be one JSON object. */
static JsonObject *parse_body(HgHttpRequest *req, JsonParser *parser) {
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  size_t len;
  const char *body = hg_http_request_body(req, &len);

  if (!json_parser_load_from_data(parser, body, (gssize)len, &error))
    return NULL;
  root = json_parser_get_root(parser);
  return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                              : NULL;
}

static void handle_api(HgWeb *web, HgHttpRequest *req, const char *path) {
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  const ApiRoute *route = NULL;
  JsonObject *body = NULL;
  /* Held for the request: a touch that ends it must not free it under
   * the handler that still tells why. */
  g_autoptr(HgSession) s = NULL;
  HgEndReason ended;

  for (size_t i = 0; i < HG_ELEMENTSOF(api_routes); i++)
    if (strcmp(api_routes[i].path, path) == 0)
      route = &api_routes[i];
  if (!route) {
    hg_web_respond_error(req, MHD_HTTP_NOT_FOUND, "not-found");
    return;
  }
  if (!method_allowed(req, route->post)) {
    respond_method_not_allowed(req, route->post ? "POST" : "GET, HEAD");
    return;
  }
  if (route->post && !(body = parse_body(req, parser))) {
    hg_web_respond_error(req, MHD_HTTP_BAD_REQUEST, "invalid-json");
    return;
  }
  if (route->needs_session && !(s = session_of(web, req, &ended))) {
    if (ended != HG_END_REASON_NONE)
      respond_ended(req, ended);
    else
      hg_web_respond_error(req, MHD_HTTP_UNAUTHORIZED, "no-session");
    return;
  }
  if (s)
    hg_session_ref(s);
  route->handler(web, req, s, body);
}

static void respond_asset(HgWeb *web, HgHttpRequest *req, const char *name) {
  struct MHD_Response *r = NULL;
  int err = hg_web_assets_lookup(web->assets, name, &r);

  if (err == -ENOENT)
    hg_web_respond_error(req, MHD_HTTP_NOT_FOUND, "not-found");
  else if (err < 0) {
    hg_log_errno(LOG_WARNING, err, "Cannot serve %s", name);
    hg_web_respond_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
  } else
    hg_http_respond(req, MHD_HTTP_OK, r);
}

static void handle_page(HgWeb *web, HgHttpRequest *req, const char *path) {
  HgEndReason ended;
  HgSession *s;

  if (!method_allowed(req, false)) {
    respond_method_not_allowed(req, "GET, HEAD");
    return;
  }
  if (g_str_has_prefix(path, "/assets/")) {
    respond_asset(web, req, path + 1);
    return;
  }
  if (strcmp(path, "/") != 0) {
    hg_web_respond_error(req, MHD_HTTP_NOT_FOUND, "not-found");
    return;
  }
  /* Loading our page is a sign of life: a reload is not a close. */
  s = session_of(web, req, &ended);
  if (s && hg_registry_touch(web->reg, s, HG_TOUCH_ALIVE, 0) < 0)
    s = NULL;
  respond_asset(web, req, s ? "session.html" : "login.html");
}

static const struct {
  unsigned status;
  const char *error;
} gate_errors[] = {
    [HG_GATE_DUPLICATE_HOST] = {MHD_HTTP_BAD_REQUEST, "duplicate-host"},
    [HG_GATE_BAD_HOST] = {MHD_HTTP_FORBIDDEN, "host-not-allowed"},
    [HG_GATE_BAD_ORIGIN] = {MHD_HTTP_FORBIDDEN, "origin-not-allowed"},
    [HG_GATE_CROSS_SITE] = {MHD_HTTP_FORBIDDEN, "cross-site"},
    [HG_GATE_NOT_JSON] = {MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "json-required"},
};

/* The last places of the connection table are kept for live sessions
 * (hg-http-admit.h): anything else there is told to come back. */
static bool refused_from_reserve(HgWeb *web, HgHttpRequest *req) {
  struct MHD_Response *r;

  if (!hg_http_request_in_reserve(req) || hg_web_session_id_of(web, req))
    return false;
  r = hg_http_response_error("busy");
  MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  hg_http_respond(req, MHD_HTTP_SERVICE_UNAVAILABLE, r);
  return true;
}

static void on_request(HgHttpRequest *req, void *userdata) {
  HgWeb *web = userdata;
  const char *path = hg_http_request_path(req);
  HgGateRequest gate = {
      .post = hg_http_request_is_post(req),
      .api = g_str_has_prefix(path, "/api/"),
      .n_hosts = hg_http_request_header_count(req, MHD_HTTP_HEADER_HOST),
      .host = hg_http_request_header(req, MHD_HTTP_HEADER_HOST),
      .origin = hg_http_request_header(req, "Origin"),
      .sec_fetch_site = hg_http_request_header(req, "Sec-Fetch-Site"),
      .content_type = hg_http_request_header(req, "Content-Type"),
  };
  HgGateVerdict v = hg_gate_check(web->hosts, &gate);

  if (refused_from_reserve(web, req))
    return;
  if (v != HG_GATE_OK)
    hg_web_respond_error(req, gate_errors[v].status, gate_errors[v].error);
  else if (gate.api)
    handle_api(web, req, path);
  else
    handle_page(web, req, path);
}

static void http_limits_of(const HgConfig *c, HgHttpLimits *ret) {
  *ret = (HgHttpLimits){
      .max_connections = (unsigned)c->max_connections,
      .max_per_peer = (unsigned)c->max_connections_per_peer,
      .request_timeout = hg_sec_to_usec(c->request_timeout_sec),
      .idle_timeout = hg_sec_to_usec(c->idle_timeout_sec),
  };
}

int hg_web_new(sd_event *event, HgRegistry *reg, const HgConfig *config,
               HgDaily *daily, HgFdStore *fdstore, HgWeb **ret) {
  static gsize resources_registered = 0;
  g_autoptr(HgWeb) web = g_new0(HgWeb, 1);
  HgHttpLimits limits;
  int r;

  if (g_once_init_enter(&resources_registered)) {
    hg_web_register_resource();
    g_once_init_leave(&resources_registered, 1);
  }
  web->event = sd_event_ref(event);
  web->reg = reg;
  web->fdstore = fdstore;
  web->daily = daily;
  web->unknown_token_log = HG_LOG_LIMIT_INIT(60 * HG_USEC_PER_SEC);
  web->foreign_token_log = HG_LOG_LIMIT_INIT(60 * HG_USEC_PER_SEC);
  web->config = config;
  web->hosts = hg_host_list_new(config);
  web->ended = hg_ended_tokens_new(reg);
  r = hg_web_assets_new(config->web_root, config->web_root_csp, &web->assets);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot open WebRoot %s", config->web_root);
  r = hg_web_login_new(web, &web->login);
  if (r < 0)
    return r;
  web->events = hg_web_events_new(web);
  http_limits_of(config, &limits);
  r = hg_http_server_new(event, config->listen, &limits, on_request, web,
                         &web->server);
  if (r < 0)
    return r; /* logged where it failed */
  *ret = g_steal_pointer(&web);
  return 0;
}

void hg_web_take_back(HgWeb *web) { hg_web_login_take_back(web->login); }

void hg_web_keep_sessions(HgWeb *web) { hg_web_login_keep(web->login); }

HgWeb *hg_web_free(HgWeb *web) {
  if (!web)
    return NULL;
  /* Logins first: their PAM sessions close and pending answers go out
   * while the server still runs. */
  hg_web_login_free(web->login);
  /* Streams end before the server stops: MHD aborts if stopped with a
   * connection still suspended. */
  hg_web_events_free(web->events);
  hg_http_server_free(web->server);
  hg_web_assets_free(web->assets);
  hg_ended_tokens_free(web->ended);
  hg_host_list_free(web->hosts);
  sd_event_unref(web->event);
  g_free(web);
  return NULL;
}

static bool same_listen(const HgConfig *a, const HgConfig *b) {
  if (a->listen->len != b->listen->len)
    return false;
  for (guint i = 0; i < a->listen->len; i++)
    if (strcmp(((HgListenAddress *)a->listen->pdata[i])->text,
               ((HgListenAddress *)b->listen->pdata[i])->text) != 0)
      return false;
  return true;
}

int hg_web_reload(HgWeb *web, const HgConfig *config) {
  HgHttpLimits limits;
  HgWebAssets *assets;
  int r;

  r = hg_web_assets_new(config->web_root, config->web_root_csp, &assets);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot open WebRoot %s", config->web_root);
  if (!same_listen(web->config, config))
    hg_warning("[Http] Listen changed: it applies when hourglassd restarts");
  hg_web_assets_free(web->assets);
  web->assets = assets;
  hg_host_list_set_allowed(web->hosts, config->allowed_hosts);
  http_limits_of(config, &limits);
  hg_http_server_set_limits(web->server, &limits);
  web->config = config;
  hg_web_login_reload(web->login);
  return 0;
}
