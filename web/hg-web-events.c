/* Event streams; see hg-web-events.h. A stream's bytes wait in its buffer;
 * MHD pulls them through the content reader, which suspends the connection
 * when there is nothing to send. A new event resumes it. */
#include "hg-web-events.h"

#include <string.h>

#include "hg-log.h"
#include "hg-web-private.h"

typedef struct Stream Stream;

struct HgWebEvents {
  HgWeb *web;
  unsigned listener;
  GHashTable *streams; /* Stream set */
  sd_event_source *keepalive;
};

struct Stream {
  HgWebEvents *owner; /* NULL once the module is gone (shutdown) */
  HgRegistry *reg;
  HgSession *session; /* held: the page is live while the stream is open */
  char *page;
  HgHttpServer *server;
  struct MHD_Connection *conn;
  sd_event *event;
  GString *out;
  size_t out_pos;
  hg_usec_t last_sent;
  bool suspended;
  bool closing; /* send what is buffered, then end */
  bool gone;    /* the peer hung up: end now */
  sd_event_source *hangup;
};

bool hg_web_page_id_valid(const char *page) {
  size_t n = page ? strlen(page) : 0;

  if (n < 8 || n > 64)
    return false;
  for (const char *p = page; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      return false;
  return true;
}

static void wake(Stream *st) {
  if (!st->suspended)
    return;
  st->hangup = sd_event_source_disable_unref(st->hangup);
  st->suspended = false;
  hg_http_server_resume(st->server, st->conn);
}

static int on_hangup(sd_event_source *s, int fd, uint32_t revents, void *ud) {
  Stream *st = ud;

  st->gone = true;
  wake(st);
  return 0;
}

/* While suspended MHD does not poll the socket: we do, for hang-up only,
 * so a closed browser is noticed at once. */
static void suspend(Stream *st) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  int r;

  MHD_suspend_connection(st->conn);
  st->suspended = true;
  if (!info)
    return;
  r = sd_event_add_io(st->event, &st->hangup, info->connect_fd, EPOLLRDHUP,
                      on_hangup, st);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot watch an event stream for hang-up");
}

static ssize_t on_read(void *cls, uint64_t pos, char *buf, size_t max) {
  Stream *st = cls;
  size_t left = st->out->len - st->out_pos;

  if (st->gone)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  if (left > 0) {
    size_t n = MIN(left, max);
    memcpy(buf, st->out->str + st->out_pos, n);
    st->out_pos += n;
    if (st->out_pos == st->out->len) {
      g_string_truncate(st->out, 0);
      st->out_pos = 0;
    }
    st->last_sent = hg_now(CLOCK_MONOTONIC);
    return (ssize_t)n;
  }
  if (st->closing)
    return MHD_CONTENT_READER_END_OF_STREAM;
  suspend(st);
  return 0;
}

/* The response is gone with its connection: the page is no longer live
 * through this stream. */
static void on_response_freed(void *cls) {
  Stream *st = cls;

  if (st->owner) {
    g_hash_table_remove(st->owner->streams, st);
    /* No stream, no keep-alive: an idle daemon does not wake up. */
    if (g_hash_table_size(st->owner->streams) == 0)
      (void)sd_event_source_set_enabled(st->owner->keepalive, SD_EVENT_OFF);
  }
  sd_event_source_disable_unref(st->hangup);
  hg_registry_release(st->reg, st->session);
  sd_event_unref(st->event);
  g_string_free(st->out, TRUE);
  g_free(st->page);
  g_free(st);
}

static void send_raw(Stream *st, const char *text) {
  if (st->closing)
    return;
  g_string_append(st->out, text);
  wake(st);
}

static void send_event(Stream *st, const char *name, JsonNode *data) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  json_generator_set_root(gen, data);
  json = json_generator_to_data(gen, NULL);
  text = g_strdup_printf("event: %s\ndata: %s\n\n", name, json);
  send_raw(st, text);
}

static void send_state(Stream *st) {
  HgSession *s = st->session;

  if (hg_session_is_ended(s)) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) node = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(
        b, hg_end_reason_to_string(hg_session_get_end_reason(s)));
    json_builder_end_object(b);
    node = json_builder_get_root(b);
    send_event(st, "ended", node);
    st->closing = true;
    wake(st);
  } else {
    g_autoptr(JsonNode) node = hg_web_session_state(st->owner->web, s);
    send_event(st, hg_session_state_to_string(hg_session_get_state(s)), node);
  }
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *ud) {
  HgWebEvents *events = ud;
  GHashTableIter it;
  gpointer key;

  /* Not TIMES: activity comes with every ping, and what it moves is
   * already in the page's own answers. */
  if (event != HG_REGISTRY_EVENT_STATE && event != HG_REGISTRY_EVENT_LIMITS &&
      event != HG_REGISTRY_EVENT_ENDED)
    return;
  g_hash_table_iter_init(&it, events->streams);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (((Stream *)key)->session == s)
      send_state(key);
}

/* The keep-alive tick. It also refreshes each live page's last sign of
 * life, which the state file keeps: after a crash, a page that was open
 * gets most of CloseAfterSec to reconnect, not a close at once. */
static hg_usec_t tick(const HgWebEvents *events) {
  uint64_t close_after = events->web->config->close_after_sec;
  hg_usec_t t = HG_EVENTS_KEEPALIVE_USEC;

  if (close_after > 0)
    t = HG_MIN(t, hg_sec_to_usec(close_after) / 3);
  return HG_MAX(t, HG_USEC_PER_SEC);
}

static int on_keepalive(sd_event_source *s, uint64_t usec, void *ud) {
  HgWebEvents *events = ud;
  g_autoptr(GPtrArray) live =
      g_ptr_array_new_with_free_func((GDestroyNotify)hg_session_unref);
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init(&it, events->streams);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Stream *st = key;
    if (now - st->last_sent >= HG_EVENTS_KEEPALIVE_USEC)
      send_raw(st, ":\n\n");
    g_ptr_array_add(live, hg_session_ref(st->session));
  }
  /* Outside the walk: a session that ends closes its streams. */
  for (guint i = 0; i < live->len; i++)
    if (!hg_session_is_ended(live->pdata[i]))
      (void)hg_registry_touch(events->web->reg, live->pdata[i], HG_TOUCH_ALIVE,
                              0);
  return sd_event_source_set_time_relative(s, tick(events));
}

static unsigned count_of(HgWebEvents *events, HgSession *s) {
  GHashTableIter it;
  gpointer key;
  unsigned n = 0;

  g_hash_table_iter_init(&it, events->streams);
  while (g_hash_table_iter_next(&it, &key, NULL))
    n += ((Stream *)key)->session == s;
  return n;
}

void hg_web_events_open(HgWebEvents *events, HgHttpRequest *req, HgSession *s,
                        const char *page) {
  struct MHD_Response *r;
  Stream *st;

  if (count_of(events, s) >= HG_EVENTS_MAX_PER_SESSION) {
    hg_web_respond_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "too-many-streams");
    return;
  }
  if (hg_registry_hold(events->web->reg, s) < 0) {
    hg_web_respond_error(req, MHD_HTTP_UNAUTHORIZED, "session-ended");
    return;
  }
  st = g_new0(Stream, 1);
  st->owner = events;
  st->reg = events->web->reg;
  st->session = s;
  st->page = g_strdup(page);
  st->server = hg_http_request_server(req);
  st->conn = hg_http_request_connection(req);
  st->event = sd_event_ref(events->web->event);
  /* A broken stream comes back within a second: well inside any
   * CloseAfterSec but 0, so a network hiccup is not a browser close. */
  st->out = g_string_new("retry: 1000\n\n");
  st->last_sent = hg_now(CLOCK_MONOTONIC);
  if (g_hash_table_size(events->streams) == 0 && events->keepalive) {
    (void)sd_event_source_set_time_relative(events->keepalive, tick(events));
    (void)sd_event_source_set_enabled(events->keepalive, SD_EVENT_ON);
  }
  g_hash_table_add(events->streams, st);
  send_state(st);

  r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, on_read, st,
                                        on_response_freed);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
  hg_http_respond(req, MHD_HTTP_OK, r);
}

unsigned hg_web_events_close_page(HgWebEvents *events, HgSession *s,
                                  const char *page) {
  GHashTableIter it;
  gpointer key;
  unsigned n = 0;

  g_hash_table_iter_init(&it, events->streams);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Stream *st = key;
    if (st->session == s && strcmp(st->page, page) == 0 && !st->closing) {
      st->closing = true;
      wake(st);
      n++;
    }
  }
  return n;
}

HgWebEvents *hg_web_events_new(HgWeb *web) {
  HgWebEvents *events = g_new0(HgWebEvents, 1);

  events->web = web;
  events->streams = g_hash_table_new(NULL, NULL);
  events->listener = hg_registry_subscribe(web->reg, on_session_event, events);
  if (sd_event_add_time_relative(web->event, &events->keepalive,
                                 CLOCK_MONOTONIC, HG_EVENTS_KEEPALIVE_USEC,
                                 HG_USEC_PER_SEC, on_keepalive, events) >= 0)
    (void)sd_event_source_set_enabled(events->keepalive, SD_EVENT_OFF);
  return events;
}

HgWebEvents *hg_web_events_free(HgWebEvents *events) {
  GHashTableIter it;
  gpointer key;

  if (!events)
    return NULL;
  hg_registry_unsubscribe(events->web->reg, events->listener);
  g_hash_table_iter_init(&it, events->streams);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Stream *st = key;
    st->owner = NULL;
    st->closing = true;
    wake(st);
  }
  g_hash_table_destroy(events->streams);
  sd_event_source_disable_unref(events->keepalive);
  g_free(events);
  return NULL;
}
