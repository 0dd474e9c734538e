/* libmicrohttpd in the sd-event loop: one MHD daemon per listen address in
 * epoll mode without threads, their epoll fds and timeouts watched by the
 * loop. A request reaches the handler once, with its whole body; the
 * handler answers at once or suspends the request and answers later (a PAM
 * login, an event stream), which resumes it and schedules a run. */
#pragma once

#include <glib.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "hg-config.h"
#include "hg-peer.h"

#define HG_HTTP_BODY_MAX 4096

typedef struct HgHttpServer HgHttpServer;
typedef struct HgHttpRequest HgHttpRequest;

typedef void (*HgHttpHandler)(HgHttpRequest *req, void *userdata);
/* The connection of a suspended request went away before the answer. */
typedef void (*HgHttpGone)(HgHttpRequest *req, void *userdata);

/* Connection budgets and deadlines (hg-http-conn.c). */
typedef struct {
  unsigned max_connections;  /* in all */
  unsigned max_per_peer;     /* of one local uid */
  hg_usec_t request_timeout; /* headers and body, from the request line */
  hg_usec_t idle_timeout;    /* for a request to begin */
} HgHttpLimits;

int hg_http_server_new(sd_event *event, const GPtrArray *listen,
                       const HgHttpLimits *limits, HgHttpHandler handler,
                       void *userdata, HgHttpServer **ret);
/* Applies to connections accepted afterwards (and to deadlines armed
 * afterwards). */
void hg_http_server_set_limits(HgHttpServer *server,
                               const HgHttpLimits *limits);
/* Answers every suspended request with 503, lets MHD send it, then stops:
 * MHD aborts the process if stopped with a connection still suspended. */
HgHttpServer *hg_http_server_free(HgHttpServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgHttpServer, hg_http_server_free)

const char *hg_http_request_method(const HgHttpRequest *req);
const char *hg_http_request_path(const HgHttpRequest *req);
bool hg_http_request_is_post(const HgHttpRequest *req);
const char *hg_http_request_header(const HgHttpRequest *req, const char *name);
/* How many headers of that name (case-insensitive) the request has. */
unsigned hg_http_request_header_count(const HgHttpRequest *req,
                                      const char *name);
const char *hg_http_request_query(const HgHttpRequest *req, const char *name);
/* Calls func for every cookie of that name (a page on another port of the
 * same host may have planted one) until it returns true. */
bool hg_http_request_find_cookie(const HgHttpRequest *req, const char *name,
                                 bool (*func)(const char *value, void *ud),
                                 void *ud);
/* Body bytes, at most HG_HTTP_BODY_MAX; wiped when the request ends. */
const char *hg_http_request_body(const HgHttpRequest *req, size_t *ret_len);
const char *hg_http_request_peer(const HgHttpRequest *req);
/* The uid owning the client's socket, HG_PEER_UID_UNKNOWN when unknown. */
uid_t hg_http_request_peer_uid(const HgHttpRequest *req);
/* The connection is in the reserve kept for live sessions: the handler
 * must refuse anything else (hg-http-admit.h). */
bool hg_http_request_in_reserve(const HgHttpRequest *req);
struct MHD_Connection *hg_http_request_connection(const HgHttpRequest *req);

/* The handler will answer later; gone is called if the client leaves
 * first (the socket is watched for hang-up meanwhile), after which the
 * request is no longer the handler's and must not be used. */
void hg_http_request_suspend(HgHttpRequest *req, HgHttpGone gone,
                             void *userdata);

/* Queues the answer (taking the response), now or, for a suspended
 * request, by resuming it. Adds the headers every response carries (CSP
 * unless the response has its own, nosniff, no-referrer, no-store). */
void hg_http_respond(HgHttpRequest *req, unsigned status,
                     struct MHD_Response *response);

/* For responses that outlive their handler call (event streams): the
 * server of a request, and a resume of a connection suspended from a
 * content reader, with the MHD run it needs. */
HgHttpServer *hg_http_request_server(const HgHttpRequest *req);
void hg_http_server_resume(HgHttpServer *server, struct MHD_Connection *conn);
/* Runs every MHD daemon once: at shutdown, to let final bytes out. */
void hg_http_server_flush(HgHttpServer *server);

/* Responses. */
struct MHD_Response *hg_http_response_new(const char *content_type, char *body,
                                          size_t len);
struct MHD_Response *hg_http_response_json(const char *json);
struct MHD_Response *hg_http_response_error(const char *error);
