/* GET /api/events?page=ID: a Server-Sent Events stream of a session's state
 * changes (active, warning with the seconds left, ended with the reason),
 * on a suspended libmicrohttpd connection. An open stream keeps its page
 * live (a registry hold); a closed one is noticed at once by watching the
 * suspended socket for hang-up. POST /api/close {"page"} ends a page's
 * streams (the page is going away). */
#pragma once

#include "hg-http-server.h"
#include "hg-registry.h"

#define HG_EVENTS_KEEPALIVE_USEC (25 * HG_USEC_PER_SEC)
#define HG_EVENTS_MAX_PER_SESSION 16

typedef struct HgWebEvents HgWebEvents;

typedef struct HgWeb HgWeb;

HgWebEvents *hg_web_events_new(HgWeb *web);
/* Ends every stream; then run the server a few times so the connections
 * close before MHD stops (hg_http_server_free does). */
HgWebEvents *hg_web_events_free(HgWebEvents *events);

/* A page id the page picked: 8 to 64 of [A-Za-z0-9_-]. */
bool hg_web_page_id_valid(const char *page);

/* Answers req with a stream for session s (200), or an error. */
void hg_web_events_open(HgWebEvents *events, HgHttpRequest *req, HgSession *s,
                        const char *page);
/* Ends the streams of that page of session s; returns how many. */
unsigned hg_web_events_close_page(HgWebEvents *events, HgSession *s,
                                  const char *page);
