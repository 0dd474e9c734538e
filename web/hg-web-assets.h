/* The pages and their assets: compiled into the binary (GResource under
 * /org/hourglass/web/), overridable file by file from [Http] WebRoot. A
 * WebRoot file is opened beneath that folder only: no "..", no symlinks. */
#pragma once

#include <glib.h>
#include <microhttpd.h>
#include <stdbool.h>

typedef struct HgWebAssets HgWebAssets;

/* web_root may be NULL. Fails if web_root cannot be opened. */
int hg_web_assets_new(const char *web_root, const char *web_root_csp,
                      HgWebAssets **ret);
HgWebAssets *hg_web_assets_free(HgWebAssets *assets);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgWebAssets, hg_web_assets_free)

/* name is relative, e.g. "login.html" or "assets/style.css". A response
 * with Content-Type (and, for WebRoot files, the WebRoot CSP), or NULL with
 * -ENOENT (unknown or refused name: 404) or another -errno. */
int hg_web_assets_lookup(HgWebAssets *assets, const char *name,
                         struct MHD_Response **ret);

/* A name safe to look up: letters, digits, '.', '_', '-' in non-empty
 * components separated by '/', none of them "." or "..". */
bool hg_web_asset_name_valid(const char *name);
