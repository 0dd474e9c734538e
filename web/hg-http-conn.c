/* Connections in; see hg-http-private.h. We listen and accept ourselves
 * (MHD runs with MHD_USE_NO_LISTEN_SOCKET), so that:
 * - every connection is accepted at once: none waits in the kernel's
 *   backlog, where one whose peer has closed would linger unnoticed;
 * - each is judged by its peer's uid against the connection budgets
 *   (hg-http-admit.h) and refused with a quick 503 when over them;
 * - each gets absolute deadlines: IdleTimeoutSec for a request to begin,
 *   RequestTimeoutSec for its headers and body. MHD's own timeout counts
 *   inactivity only, which a client trickling a byte now and then never
 *   trips. A deadline that passes shuts the socket down; MHD sees the end
 *   and closes the connection. A request its handler holds (a PAM login,
 *   an event stream) has no deadline here. */
#include "hg-http-private.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hg-log.h"
#include "hg-macros.h"
#include "hg-peer.h"

#define LISTEN_BACKLOG 256
/* Connections taken per wake-up, so that one busy listener cannot starve
 * the rest of the loop; the socket stays readable for the next round. */
#define ACCEPT_BATCH 64
/* Out of descriptors: accepting pauses this long instead of spinning. */
#define ACCEPT_RETRY_USEC (100 * HG_USEC_PER_MSEC)
/* Deadlines need no precision; coarse ones let sd-event keep its timer. */
#define DEADLINE_ACCURACY_USEC (250 * HG_USEC_PER_MSEC)

typedef enum {
  PHASE_IDLE,      /* waiting for a request to begin */
  PHASE_RECEIVING, /* a request line came; headers and body are due */
  PHASE_HANDLING,  /* the handler has the request */
} Phase;

struct HgHttpConn {
  unsigned n_ref;
  HgHttpServer *server;
  int fd; /* MHD's: never closed here */
  uid_t uid;
  bool reserve;
  Phase phase;
  sd_event_source *deadline;
};

static HgHttpConn *conn_ref(HgHttpConn *c) {
  c->n_ref++;
  return c;
}

static void conn_unref(HgHttpConn *c) {
  if (--c->n_ref > 0)
    return;
  sd_event_source_disable_unref(c->deadline);
  g_free(c);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *ud) {
  HgHttpConn *c = ud;

  hg_debug("HTTP connection of uid %d: %s, closing it", (int)c->uid,
           c->phase == PHASE_RECEIVING ? "request not complete in time"
                                       : "no request in time");
  (void)shutdown(c->fd, SHUT_RDWR);
  return 0;
}

static void set_deadline(HgHttpConn *c, hg_usec_t timeout) {
  int r;

  if (!c->deadline)
    r = sd_event_add_time_relative(c->server->event, &c->deadline,
                                   CLOCK_MONOTONIC, timeout,
                                   DEADLINE_ACCURACY_USEC, on_deadline, c);
  else if ((r = sd_event_source_set_time_relative(c->deadline, timeout)) >= 0)
    r = sd_event_source_set_enabled(c->deadline, SD_EVENT_ONESHOT);
  /* -ESTALE: the loop has finished; the server is stopping. */
  if (r < 0 && r != -ESTALE)
    hg_log_errno(LOG_ERR, r, "Cannot arm an HTTP connection's deadline");
}

/* A connection waiting for its next request: in the reserve it gets only
 * the time of one request, so that nobody parks idle sockets there. */
static void idle(HgHttpConn *c) {
  const HgHttpLimits *l = &c->server->limits;

  c->phase = PHASE_IDLE;
  set_deadline(c, c->reserve ? l->request_timeout : l->idle_timeout);
}

/* Gives the connection's place back, once. */
static void forget(HgHttpConn *c) {
  HgHttpServer *server = c->server;
  gpointer key = GINT_TO_POINTER(c->fd);

  if (g_hash_table_lookup(server->conns, key) != c)
    return;
  g_hash_table_remove(server->conns, key);
  hg_admission_leave(server->admission, c->uid);
  c->deadline = sd_event_source_disable_unref(c->deadline);
  conn_unref(c);
}

static void log_refused(HgHttpServer *server, uid_t uid) {
  unsigned quiet;

  if (!hg_log_limit_pass(&server->refused_log, &quiet))
    return;
  hg_notice("HTTP connection of uid %d refused: %u open, %u of its own "
            "(MaxConnections=%u, MaxConnectionsPerPeer=%u); %u more refused "
            "since the last such line",
            (int)uid, hg_admission_total(server->admission),
            hg_admission_of(server->admission, uid),
            server->limits.max_connections, server->limits.max_per_peer, quiet);
}

/* A quick 503 and close, instead of a client left hanging. Unread request
 * bytes would turn the close into a reset that can destroy the answer
 * before the client reads it: what is there is read first. */
static void refuse(HgHttpServer *server, int fd, uid_t uid) {
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 16\r\n"
                             "Retry-After: 1\r\n"
                             "Cache-Control: no-store\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "{\"error\":\"busy\"}";
  char sink[4096];

  for (int i = 0; i < 4 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
    ;
  (void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)shutdown(fd, SHUT_WR);
  close(fd);
  log_refused(server, uid);
}

static uid_t peer_uid(HgHttpServer *server, int fd) {
  uid_t uid = HG_PEER_UID_UNKNOWN;
  int r;

  if (server->peer_nl < 0)
    return uid;
  r = hg_peer_uid(server->peer_nl, fd, &uid);
  if (r < 0)
    hg_log_errno(LOG_DEBUG, r, "Cannot tell the uid of an HTTP peer");
  return r < 0 ? HG_PEER_UID_UNKNOWN : uid;
}

static void take(Listener *l, int fd, const struct sockaddr *sa,
                 socklen_t len) {
  HgHttpServer *server = l->server;
  HgAdmitLimits limits = {server->limits.max_connections,
                          server->limits.max_per_peer};
  uid_t uid = peer_uid(server, fd);
  HgAdmit verdict = hg_admission_enter(server->admission, &limits, uid);
  HgHttpConn *c;

  if (verdict == HG_ADMIT_REFUSE) {
    refuse(server, fd, uid);
    return;
  }
  c = g_new0(HgHttpConn, 1);
  c->n_ref = 1; /* the table's */
  c->server = server;
  c->fd = fd;
  c->uid = uid;
  c->reserve = verdict == HG_ADMIT_RESERVE;
  g_hash_table_insert(server->conns, GINT_TO_POINTER(fd), c);
  idle(c);
  conn_ref(c);
  /* MHD closes the socket itself when it cannot take it. */
  if (MHD_add_connection(l->mhd, fd, sa, len) != MHD_YES) {
    hg_log_errno(LOG_WARNING, errno > 0 ? -errno : -EIO,
                 "HTTP %s cannot take a connection", l->name);
    forget(c);
  }
  conn_unref(c);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *ud) {
  Listener *l = ud;

  (void)sd_event_source_set_enabled(l->accept, SD_EVENT_ON);
  return 0;
}

static void pause_accepting(Listener *l, int err) {
  hg_log_errno(LOG_WARNING, err, "HTTP %s cannot accept, pausing", l->name);
  (void)sd_event_source_set_enabled(l->accept, SD_EVENT_OFF);
  if (!l->accept_retry &&
      sd_event_add_time_relative(l->server->event, &l->accept_retry,
                                 CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                 on_accept_retry, l) >= 0)
    return;
  (void)sd_event_source_set_time_relative(l->accept_retry, ACCEPT_RETRY_USEC);
  (void)sd_event_source_set_enabled(l->accept_retry, SD_EVENT_ONESHOT);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud) {
  Listener *l = ud;
  bool took = false;

  for (int i = 0; i < ACCEPT_BATCH; i++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int cfd = accept4(l->fd, (struct sockaddr *)&sa, &len,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        pause_accepting(l, -errno);
      break;
    }
    take(l, cfd, (struct sockaddr *)&sa, len);
    took = true;
  }
  /* MHD looks at a new connection only when it runs. */
  if (took)
    hg_http_run_listener(l);
  return 0;
}

int hg_http_listen(Listener *l, const HgListenAddress *a) {
  _cleanup_close_ int fd = -1;
  int one = 1, r;

  fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
    return -errno;
  if (a->addr.ss_family == AF_INET6 &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
    return -errno;
  if (bind(fd, (const struct sockaddr *)&a->addr, a->addr_len) < 0 ||
      listen(fd, LISTEN_BACKLOG) < 0)
    return -errno;
  r = sd_event_add_io(l->server->event, &l->accept, fd, EPOLLIN, on_accept, l);
  if (r < 0)
    return r;
  l->fd = TAKE_FD(fd);
  return 0;
}

void hg_http_unlisten(Listener *l) {
  l->accept = sd_event_source_disable_unref(l->accept);
  l->accept_retry = sd_event_source_disable_unref(l->accept_retry);
  l->fd = hg_close_nointr(l->fd);
}

HgHttpConn *hg_http_conn_of(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

  return info ? info->socket_context : NULL;
}

void hg_http_conn_notify(void *cls, struct MHD_Connection *connection,
                         void **socket_context,
                         enum MHD_ConnectionNotificationCode toe) {
  Listener *l = cls;
  const union MHD_ConnectionInfo *info;

  if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    if (*socket_context)
      forget(*socket_context);
    *socket_context = NULL;
    return;
  }
  info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  /* Borrowed: the table holds it until MHD says the connection closed. */
  *socket_context = info
                        ? g_hash_table_lookup(l->server->conns,
                                              GINT_TO_POINTER(info->connect_fd))
                        : NULL;
}

void *hg_http_conn_request_line(void *cls, const char *uri,
                                struct MHD_Connection *connection) {
  HgHttpConn *c = hg_http_conn_of(connection);

  if (c && c->phase == PHASE_IDLE) {
    c->phase = PHASE_RECEIVING;
    set_deadline(c, c->server->limits.request_timeout);
  }
  return NULL; /* no per-request state from here: the handler makes it */
}

void hg_http_conn_dispatched(HgHttpConn *c) {
  c->phase = PHASE_HANDLING;
  (void)sd_event_source_set_enabled(c->deadline, SD_EVENT_OFF);
}

void hg_http_conn_completed(HgHttpConn *c) { idle(c); }

uid_t hg_http_conn_uid(const HgHttpConn *c) { return c->uid; }

bool hg_http_conn_in_reserve(const HgHttpConn *c) { return c->reserve; }

void hg_http_conns_clear(HgHttpServer *server) {
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init(&it, server->conns);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    HgHttpConn *c = value;

    g_hash_table_iter_remove(&it);
    hg_admission_leave(server->admission, c->uid);
    conn_unref(c);
  }
}
