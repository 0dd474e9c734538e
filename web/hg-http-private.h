/* What the HTTP server's two halves share: hg-http-conn.c takes
 * connections in (listening sockets, admission, per-connection deadlines)
 * and hands them to MHD; hg-http-server.c runs MHD and its requests. */
#pragma once

#include "hg-http-admit.h"
#include "hg-http-server.h"
#include "hg-log.h"

typedef struct HgHttpConn HgHttpConn;

/* One listen address: our listening socket and the MHD daemon (started
 * without a listening socket of its own) that serves what it accepts. */
typedef struct {
  HgHttpServer *server;
  struct MHD_Daemon *mhd;
  int fd;                        /* listening socket */
  sd_event_source *accept;       /* fd readable */
  sd_event_source *accept_retry; /* after running out of descriptors */
  sd_event_source *io;           /* MHD's epoll fd readable */
  sd_event_source *timer;        /* MHD's own timeout */
  char *name;
} Listener;

struct HgHttpServer {
  sd_event *event;
  GPtrArray *listeners;
  sd_event_source *run_later; /* MHD_run after a resume */
  GHashTable *suspended;      /* HgHttpRequest set */
  HgHttpHandler handler;
  void *userdata;
  HgHttpLimits limits;
  HgAdmission *admission;
  GHashTable *conns;      /* fd -> HgHttpConn, every connection MHD has */
  int peer_nl;            /* sock_diag socket for peer uids, -1 if none */
  HgLogLimit refused_log; /* refusals: a peer provokes them at will */
};

/* hg-http-conn.c */
int hg_http_listen(Listener *l, const HgListenAddress *a);
void hg_http_unlisten(Listener *l);
/* MHD_OPTION_NOTIFY_CONNECTION and MHD_OPTION_URI_LOG_CALLBACK. */
void hg_http_conn_notify(void *cls, struct MHD_Connection *connection,
                         void **socket_context,
                         enum MHD_ConnectionNotificationCode toe);
void *hg_http_conn_request_line(void *cls, const char *uri,
                                struct MHD_Connection *connection);
/* The connection of an MHD connection, NULL if unknown. */
HgHttpConn *hg_http_conn_of(struct MHD_Connection *connection);
/* A request's phases: its handler has it (no deadline runs), it is done
 * (the connection idles, or closes). */
void hg_http_conn_dispatched(HgHttpConn *c);
void hg_http_conn_completed(HgHttpConn *c);
uid_t hg_http_conn_uid(const HgHttpConn *c);
bool hg_http_conn_in_reserve(const HgHttpConn *c);
/* Drops the bookkeeping of every connection (the server is stopping). */
void hg_http_conns_clear(HgHttpServer *server);

/* hg-http-server.c: runs a listener's MHD and re-arms its timer. */
void hg_http_run_listener(Listener *l);
