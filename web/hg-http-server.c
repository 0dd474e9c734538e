/* libmicrohttpd driven by sd-event; see hg-http-server.h and the
 * libmicrohttpd traps in docs/HACKING.md for the rules this file keeps. */
#include "hg-http-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "hg-http-private.h"
#include "hg-log.h"
#include "hg-peer.h"

/* MHD's own limits are only a backstop behind ours (hg-http-conn.c): the
 * largest our configuration allows, so that a reload can raise ours. */
#define MHD_CONNECTION_LIMIT 4096u
/* Headers and MHD's own buffers (bodies are ours and capped at 4 KiB);
 * MHD zeroes this much after every request. */
#define CONNECTION_MEMORY_LIMIT ((size_t)16 * 1024)
/* How long an over-long body of unknown length is swallowed (to answer it
 * with 413 once it ends) before the connection is cut instead. */
#define OVERFLOW_GRACE_USEC (1 * HG_USEC_PER_SEC)

struct HgHttpRequest {
  HgHttpServer *server;
  struct MHD_Connection *conn;
  HgHttpConn *c; /* borrowed: the connection outlives its requests */
  char *method;
  char *path;
  char *body;
  size_t body_len;
  char peer[INET6_ADDRSTRLEN];

  bool too_large;
  hg_usec_t too_large_since; /* CLOCK_MONOTONIC */
  bool dispatched;
  bool in_handler;
  bool suspended;
  bool answered;
  struct MHD_Response *pending;
  unsigned pending_status;

  HgHttpGone gone;
  void *gone_userdata;
  sd_event_source *hangup; /* while suspended */
};

static void request_free(HgHttpRequest *req) {
  sd_event_source_disable_unref(req->hangup);
  if (req->suspended)
    g_hash_table_remove(req->server->suspended, req);
  if (req->pending)
    MHD_destroy_response(req->pending);
  if (req->body) {
    explicit_bzero(req->body, req->body_len);
    g_free(req->body);
  }
  g_free(req->method);
  g_free(req->path);
  g_free(req);
}

static HgHttpRequest *request_new(HgHttpServer *server,
                                  struct MHD_Connection *conn, const char *url,
                                  const char *method) {
  HgHttpRequest *req = g_new0(HgHttpRequest, 1);
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

  req->server = server;
  req->conn = conn;
  req->c = hg_http_conn_of(conn);
  req->method = g_strdup(method);
  req->path = g_strdup(url);
  if (info && info->client_addr) {
    const struct sockaddr *sa = info->client_addr;
    const void *addr =
        sa->sa_family == AF_INET6
            ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
            : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    inet_ntop(sa->sa_family, addr, req->peer, sizeof(req->peer));
  }
  return req;
}

/* false when the body has overflowed for too long: cut the connection. */
static bool take_body(HgHttpRequest *req, const char *data, size_t len) {
  if (req->too_large)
    return hg_now(CLOCK_MONOTONIC) - req->too_large_since < OVERFLOW_GRACE_USEC;
  if (req->body_len + len > HG_HTTP_BODY_MAX) {
    req->too_large = true;
    req->too_large_since = hg_now(CLOCK_MONOTONIC);
    return true;
  }
  if (!req->body)
    req->body = g_malloc(HG_HTTP_BODY_MAX + 1);
  memcpy(req->body + req->body_len, data, len);
  req->body_len += len;
  req->body[req->body_len] = '\0';
  return true;
}

/* A declared length over the cap is refused before a byte of the body is
 * read: no need to swallow megabytes to say no. */
static bool declared_too_large(struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  guint64 n;

  return cl && (!g_ascii_string_to_unsigned(cl, 10, 0, G_MAXUINT64, &n, NULL) ||
                n > HG_HTTP_BODY_MAX);
}

static void add_standard_headers(struct MHD_Response *r) {
  if (!MHD_get_response_header(r, "Content-Security-Policy"))
    MHD_add_response_header(r, "Content-Security-Policy", hg_config_strict_csp);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static void queue(HgHttpRequest *req, unsigned status, struct MHD_Response *r) {
  if (MHD_queue_response(req->conn, status, r) != MHD_YES)
    hg_debug("Cannot queue an HTTP %u response for %s", status, req->path);
  MHD_destroy_response(r);
  req->answered = true;
}

static void schedule_run(HgHttpServer *server) {
  int r = sd_event_source_set_enabled(server->run_later, SD_EVENT_ONESHOT);
  if (r < 0)
    hg_log_errno(LOG_ERR, r, "Cannot schedule an HTTP run");
}

void hg_http_respond(HgHttpRequest *req, unsigned status,
                     struct MHD_Response *response) {
  g_return_if_fail(!req->answered && !req->pending);

  add_standard_headers(response);
  if (req->in_handler) {
    queue(req, status, response);
    return;
  }
  g_return_if_fail(req->suspended);
  req->hangup = sd_event_source_disable_unref(req->hangup);
  req->pending = response;
  req->pending_status = status;
  req->suspended = false;
  g_hash_table_remove(req->server->suspended, req);
  MHD_resume_connection(req->conn);
  /* Resuming does not wake MHD's epoll fd. */
  schedule_run(req->server);
}

/* MHD does not poll a suspended connection: a client that left would be
 * noticed only at the answer. Its owner lets it go at once, and the
 * request is answered (to nobody) so that MHD closes it. */
static int on_hangup(sd_event_source *s, int fd, uint32_t revents, void *ud) {
  HgHttpRequest *req = ud;
  HgHttpGone gone = req->gone;
  struct MHD_Response *r = hg_http_response_error("client-gone");

  req->hangup = sd_event_source_disable_unref(req->hangup);
  req->gone = NULL;
  if (gone)
    gone(req, req->gone_userdata);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  hg_http_respond(req, MHD_HTTP_BAD_REQUEST, r);
  return 0;
}

static void watch_hangup(HgHttpRequest *req) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  int r = info ? sd_event_add_io(req->server->event, &req->hangup,
                                 info->connect_fd, EPOLLRDHUP, on_hangup, req)
               : -EBADF;

  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot watch a suspended request");
}

void hg_http_request_suspend(HgHttpRequest *req, HgHttpGone gone,
                             void *userdata) {
  g_return_if_fail(req->in_handler && !req->answered && !req->suspended);

  req->suspended = true;
  req->gone = gone;
  req->gone_userdata = userdata;
  g_hash_table_add(req->server->suspended, req);
  MHD_suspend_connection(req->conn);
  watch_hangup(req);
}

static void dispatch(HgHttpRequest *req) {
  req->dispatched = true;
  if (req->c)
    hg_http_conn_dispatched(req->c);
  req->in_handler = true;
  if (req->too_large)
    hg_http_respond(req, MHD_HTTP_CONTENT_TOO_LARGE,
                    hg_http_response_error("body-too-large"));
  else
    req->server->handler(req, req->server->userdata);
  req->in_handler = false;
  if (!req->answered && !req->suspended)
    hg_http_respond(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                    hg_http_response_error("internal"));
}

/* MHD calls this several times per request: first with the headers (never
 * answer there: that would cost keep-alive), then with each piece of the
 * body, then once more with none, where the handler runs; after a resume,
 * once again to queue the answer. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  Listener *l = cls;
  HgHttpRequest *req = *con_cls;

  if (!req) {
    req = *con_cls = request_new(l->server, conn, url, method);
    if (declared_too_large(conn)) {
      req->too_large = true;
      dispatch(req); /* answered on the first call: the connection closes */
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    /* MHD cannot answer before the body has ended: an endless one is cut
     * short. */
    if (!req->answered && !take_body(req, upload_data, *upload_data_size))
      return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->pending) {
    struct MHD_Response *r = g_steal_pointer(&req->pending);
    queue(req, req->pending_status, r);
  } else if (!req->dispatched)
    dispatch(req);
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  HgHttpRequest *req = *con_cls;

  if (!req)
    return;
  *con_cls = NULL;
  if (!req->answered && !req->pending && req->gone)
    req->gone(req, req->gone_userdata);
  if (req->c)
    hg_http_conn_completed(req->c);
  request_free(req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  Listener *l = cls;

  hg_debug("HTTP %s: %s", l->name, g_strchomp(msg));
}

/* MHD's timeout moves by the connection timeout at every request: a timer
 * already set to go off earlier is left alone (it runs MHD, which finds
 * nothing due, and is armed again), which saves a timerfd update per
 * request. */
static void arm_timer(Listener *l) {
  MHD_UNSIGNED_LONG_LONG ms;
  uint64_t now, armed;
  int enabled, r;

  if (MHD_get_timeout(l->mhd, &ms) != MHD_YES) {
    (void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
    return;
  }
  r = sd_event_now(l->server->event, CLOCK_MONOTONIC, &now);
  if (r >= 0 && sd_event_source_get_enabled(l->timer, &enabled) >= 0 &&
      enabled != SD_EVENT_OFF &&
      sd_event_source_get_time(l->timer, &armed) >= 0 &&
      armed <= hg_usec_add(now, ms * 1000))
    return;
  r = sd_event_source_set_time_relative(l->timer, ms * 1000);
  if (r >= 0)
    r = sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
  if (r < 0)
    hg_log_errno(LOG_ERR, r, "Cannot arm the HTTP timer");
}

void hg_http_run_listener(Listener *l) {
  MHD_run(l->mhd);
  arm_timer(l);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud) {
  hg_http_run_listener(ud);
  return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud) {
  hg_http_run_listener(ud);
  return 0;
}

static int on_run_later(sd_event_source *s, void *ud) {
  HgHttpServer *server = ud;

  for (guint i = 0; i < server->listeners->len; i++)
    hg_http_run_listener(server->listeners->pdata[i]);
  return 0;
}

static void listener_free(gpointer p) {
  Listener *l = p;

  hg_http_unlisten(l);
  sd_event_source_disable_unref(l->io);
  sd_event_source_disable_unref(l->timer);
  if (l->mhd)
    MHD_stop_daemon(l->mhd);
  g_free(l->name);
  g_free(l);
}

/* MHD's inactivity timeout backs our deadlines up, a little later. */
static unsigned backstop_timeout_sec(const HgHttpLimits *limits) {
  hg_usec_t t = MAX(limits->idle_timeout, limits->request_timeout);
  return (unsigned)MIN(t / HG_USEC_PER_SEC + 5, 86400);
}

static struct MHD_Daemon *start_mhd(Listener *l, const HgListenAddress *a) {
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;

  if (a->addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  /* The logger first, or MHD prints what comes before it to stderr. */
  return MHD_start_daemon(
      flags, 0, NULL, NULL, on_access, l, MHD_OPTION_EXTERNAL_LOGGER,
      on_mhd_log, l, MHD_OPTION_CONNECTION_LIMIT, MHD_CONNECTION_LIMIT,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, MHD_CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, backstop_timeout_sec(&l->server->limits),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY_LIMIT,
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, l, MHD_OPTION_NOTIFY_CONNECTION, hg_http_conn_notify, l,
      MHD_OPTION_URI_LOG_CALLBACK, hg_http_conn_request_line, l,
      MHD_OPTION_END);
}

static int add_listener(HgHttpServer *server, const HgListenAddress *a) {
  Listener *l = g_new0(Listener, 1);
  const union MHD_DaemonInfo *info;
  int r;

  l->server = server;
  l->fd = -1;
  l->name = g_strdup(a->text);
  g_ptr_array_add(server->listeners, l);
  r = hg_http_listen(l, a);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot listen on %s", a->text);
  l->mhd = start_mhd(l, a);
  if (!l->mhd)
    return hg_log_errno(LOG_ERR, errno > 0 ? -errno : -EIO,
                        "Cannot start the HTTP server for %s", a->text);
  info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
  if (!info)
    return hg_log_errno(LOG_ERR, -EIO, "No epoll fd for %s", a->text);
  r = sd_event_add_io(server->event, &l->io, info->epoll_fd, EPOLLIN, on_io, l);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot watch %s", a->text);
  /* Accuracy 1 µs: MHD asks for "now" when it has buffered work, and the
   * default accuracy would let each such run wait up to 250 ms. */
  r = sd_event_add_time_relative(server->event, &l->timer, CLOCK_MONOTONIC, 0,
                                 1, on_timer, l);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot add the timer of %s", a->text);
  arm_timer(l);
  hg_info("Listening on http://%s/", a->text);
  return 0;
}

int hg_http_server_new(sd_event *event, const GPtrArray *listen,
                       const HgHttpLimits *limits, HgHttpHandler handler,
                       void *userdata, HgHttpServer **ret) {
  g_autoptr(HgHttpServer) server = g_new0(HgHttpServer, 1);
  int r;

  server->event = sd_event_ref(event);
  server->handler = handler;
  server->userdata = userdata;
  server->limits = *limits;
  server->refused_log = HG_LOG_LIMIT_INIT(10 * HG_USEC_PER_SEC);
  server->listeners = g_ptr_array_new_with_free_func(listener_free);
  server->suspended = g_hash_table_new(NULL, NULL);
  server->conns = g_hash_table_new(NULL, NULL);
  server->admission = hg_admission_new();
  server->peer_nl = hg_peer_open();
  if (server->peer_nl < 0)
    hg_log_errno(LOG_WARNING, server->peer_nl,
                 "Cannot ask the kernel who HTTP peers are: one budget for "
                 "all");
  r = sd_event_add_defer(event, &server->run_later, on_run_later, server);
  if (r < 0)
    return r;
  (void)sd_event_source_set_enabled(server->run_later, SD_EVENT_OFF);
  for (guint i = 0; i < listen->len; i++) {
    r = add_listener(server, listen->pdata[i]);
    if (r < 0)
      return r;
  }
  *ret = g_steal_pointer(&server);
  return 0;
}

HgHttpServer *hg_http_server_free(HgHttpServer *server) {
  GHashTableIter it;
  gpointer key;

  if (!server)
    return NULL;
  /* Nothing may stay suspended when MHD stops. */
  while (g_hash_table_size(server->suspended) > 0) {
    g_hash_table_iter_init(&it, server->suspended);
    g_hash_table_iter_next(&it, &key, NULL);
    hg_http_respond(key, MHD_HTTP_SERVICE_UNAVAILABLE,
                    hg_http_response_error("shutting-down"));
  }
  for (int round = 0; round < 3; round++)
    hg_http_server_flush(server);
  g_ptr_array_unref(server->listeners);
  hg_http_conns_clear(server);
  g_hash_table_destroy(server->conns);
  hg_admission_free(server->admission);
  server->peer_nl = hg_close_nointr(server->peer_nl);
  g_hash_table_destroy(server->suspended);
  sd_event_source_disable_unref(server->run_later);
  sd_event_unref(server->event);
  g_free(server);
  return NULL;
}

void hg_http_server_set_limits(HgHttpServer *server,
                               const HgHttpLimits *limits) {
  server->limits = *limits;
}

HgHttpServer *hg_http_request_server(const HgHttpRequest *req) {
  return req->server;
}

void hg_http_server_resume(HgHttpServer *server, struct MHD_Connection *conn) {
  MHD_resume_connection(conn);
  schedule_run(server);
}

void hg_http_server_flush(HgHttpServer *server) {
  for (guint i = 0; i < server->listeners->len; i++) {
    Listener *l = server->listeners->pdata[i];
    /* A listener that failed to start has no MHD daemon. */
    if (l->mhd)
      MHD_run(l->mhd);
  }
}

const char *hg_http_request_method(const HgHttpRequest *req) {
  return req->method;
}
const char *hg_http_request_path(const HgHttpRequest *req) { return req->path; }
bool hg_http_request_is_post(const HgHttpRequest *req) {
  return strcmp(req->method, MHD_HTTP_METHOD_POST) == 0;
}
const char *hg_http_request_header(const HgHttpRequest *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
typedef struct {
  const char *name;
  unsigned n;
} HeaderCount;

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value) {
  HeaderCount *c = cls;

  if (key && g_ascii_strcasecmp(key, c->name) == 0)
    c->n++;
  return MHD_YES;
}

unsigned hg_http_request_header_count(const HgHttpRequest *req,
                                      const char *name) {
  HeaderCount c = {name, 0};

  MHD_get_connection_values(req->conn, MHD_HEADER_KIND, on_header, &c);
  return c.n;
}

const char *hg_http_request_query(const HgHttpRequest *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
const char *hg_http_request_peer(const HgHttpRequest *req) { return req->peer; }
uid_t hg_http_request_peer_uid(const HgHttpRequest *req) {
  return req->c ? hg_http_conn_uid(req->c) : HG_PEER_UID_UNKNOWN;
}
bool hg_http_request_in_reserve(const HgHttpRequest *req) {
  return req->c && hg_http_conn_in_reserve(req->c);
}
struct MHD_Connection *hg_http_request_connection(const HgHttpRequest *req) {
  return req->conn;
}

const char *hg_http_request_body(const HgHttpRequest *req, size_t *ret_len) {
  *ret_len = req->body_len;
  return req->body ? req->body : "";
}

typedef struct {
  const char *name;
  bool (*func)(const char *value, void *ud);
  void *ud;
  bool found;
} CookieSearch;

static enum MHD_Result on_cookie(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value) {
  CookieSearch *s = cls;

  if (key && value && strcmp(key, s->name) == 0 && s->func(value, s->ud)) {
    s->found = true;
    return MHD_NO;
  }
  return MHD_YES;
}

bool hg_http_request_find_cookie(const HgHttpRequest *req, const char *name,
                                 bool (*func)(const char *value, void *ud),
                                 void *ud) {
  CookieSearch s = {name, func, ud, false};

  MHD_get_connection_values(req->conn, MHD_COOKIE_KIND, on_cookie, &s);
  return s.found;
}

struct MHD_Response *hg_http_response_new(const char *content_type, char *body,
                                          size_t len) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer_with_free_callback(len, body, g_free);

  if (content_type)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  return r;
}

struct MHD_Response *hg_http_response_json(const char *json) {
  return hg_http_response_new("application/json", g_strdup(json), strlen(json));
}

struct MHD_Response *hg_http_response_error(const char *error) {
  g_autofree char *json = g_strdup_printf("{\"error\":\"%s\"}", error);
  return hg_http_response_json(json);
}
