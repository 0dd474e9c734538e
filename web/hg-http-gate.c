/* Request gate; see hg-http-gate.h and "The HTTP front" in
 * docs/ARCHITECTURE.md. */
#include "hg-http-gate.h"

#include <string.h>

struct HgHostList {
  GHashTable *listen;  /* lower-case Host values from the listen addresses */
  GHashTable *allowed; /* AllowedHosts */
};

static GHashTable *host_set_new(void) {
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void add_host(GHashTable *set, const char *host) {
  g_hash_table_add(set, g_ascii_strdown(host, -1));
}

HgHostList *hg_host_list_new(const HgConfig *config) {
  HgHostList *list = g_new0(HgHostList, 1);

  list->listen = host_set_new();
  for (guint i = 0; i < config->listen->len; i++) {
    const HgListenAddress *a = config->listen->pdata[i];
    g_autofree char *localhost = g_strdup_printf("localhost:%u", a->port);
    g_autofree char *v6 = g_strdup_printf("[::1]:%u", a->port);

    add_host(list->listen, a->text);
    add_host(list->listen, localhost);
    add_host(list->listen, v6);
  }
  hg_host_list_set_allowed(list, config->allowed_hosts);
  return list;
}

void hg_host_list_set_allowed(HgHostList *list, char **allowed_hosts) {
  g_clear_pointer(&list->allowed, g_hash_table_destroy);
  list->allowed = host_set_new();
  for (char **h = allowed_hosts; h && *h; h++)
    add_host(list->allowed, *h);
}

HgHostList *hg_host_list_free(HgHostList *list) {
  if (list) {
    g_hash_table_destroy(list->listen);
    g_hash_table_destroy(list->allowed);
    g_free(list);
  }
  return NULL;
}

bool hg_host_list_allows(const HgHostList *list, const char *host) {
  g_autofree char *lower = NULL;

  if (!host || !*host || strlen(host) > 300)
    return false;
  lower = g_ascii_strdown(host, -1);
  return g_hash_table_contains(list->listen, lower) ||
         g_hash_table_contains(list->allowed, lower);
}

bool hg_content_type_is_json(const char *content_type) {
  static const char json[] = "application/json";
  const char *rest;

  if (!content_type ||
      g_ascii_strncasecmp(content_type, json, sizeof(json) - 1) != 0)
    return false;
  rest = content_type + sizeof(json) - 1;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  return *rest == '\0' || *rest == ';';
}

/* The browser's Origin for a page served under this Host. */
static bool origin_matches(const char *origin, const char *host) {
  static const char scheme[] = "http://";

  return origin && g_str_has_prefix(origin, scheme) &&
         g_ascii_strcasecmp(origin + sizeof(scheme) - 1, host) == 0;
}

HgGateVerdict hg_gate_check(const HgHostList *hosts, const HgGateRequest *req) {
  /* Two Hosts: a proxy and we might judge by different ones. */
  if (req->n_hosts > 1)
    return HG_GATE_DUPLICATE_HOST;
  if (!hg_host_list_allows(hosts, req->host))
    return HG_GATE_BAD_HOST;
  if (req->post && !origin_matches(req->origin, req->host))
    return HG_GATE_BAD_ORIGIN;
  /* Without the header the request is not from a browser page; the other
   * checks judge it. With it, only our own pages may call the API. */
  if (req->api && req->sec_fetch_site &&
      strcmp(req->sec_fetch_site, "same-origin") != 0)
    return HG_GATE_CROSS_SITE;
  if (req->api && req->post && !hg_content_type_is_json(req->content_type))
    return HG_GATE_NOT_JSON;
  return HG_GATE_OK;
}
