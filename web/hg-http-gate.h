/* The checks every request passes before any route sees it, as pure
 * functions: Host allow-list (DNS rebinding), Origin on every POST (CSRF,
 * login included), Sec-Fetch-Site on API requests, JSON bodies only. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "hg-config.h"

typedef struct HgHostList HgHostList;

/* The listen addresses, localhost:PORT and [::1]:PORT for each listen
 * port, and AllowedHosts; compared case-insensitively. */
HgHostList *hg_host_list_new(const HgConfig *config);
/* A reload changes AllowedHosts at once; the listen addresses only change
 * with a restart, so the hosts derived from them stay. */
void hg_host_list_set_allowed(HgHostList *list, char **allowed_hosts);
HgHostList *hg_host_list_free(HgHostList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgHostList, hg_host_list_free)
bool hg_host_list_allows(const HgHostList *list, const char *host);

typedef enum {
  HG_GATE_OK,
  HG_GATE_DUPLICATE_HOST, /* 400 duplicate-host (RFC 9112, 3.2) */
  HG_GATE_BAD_HOST,       /* 403 host-not-allowed */
  HG_GATE_BAD_ORIGIN,     /* 403 origin-not-allowed */
  HG_GATE_CROSS_SITE,     /* 403 cross-site */
  HG_GATE_NOT_JSON,       /* 415 json-required */
} HgGateVerdict;

typedef struct {
  bool post;
  bool api;         /* under /api/ */
  unsigned n_hosts; /* Host headers: more than one is refused */
  const char *host; /* each NULL when absent; the first one */
  const char *origin;
  const char *sec_fetch_site;
  const char *content_type;
} HgGateRequest;

HgGateVerdict hg_gate_check(const HgHostList *hosts, const HgGateRequest *req);

/* application/json, with parameters allowed (charset=utf-8). */
bool hg_content_type_is_json(const char *content_type);
