/* Configuration: /etc/hourglass/hourglass.conf and its drop-ins, read
 * through one table of keys (see hg-config.c and hourglass.conf(5)). A file
 * with any error is refused whole, with one message per error naming the
 * file, the key and the value. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "hg-policy-rules.h"
#include "hg-policy.h"

#define HG_CONFIG_MAX_LISTEN 8

typedef struct {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  char *text; /* "127.0.0.1:8080" or "[::1]:8080", as a Host header says it */
  uint16_t port;
} HgListenAddress;

typedef enum {
  HG_IDLE_SOURCE_PAGE = 1 << 0,
  HG_IDLE_SOURCE_LOGIND = 1 << 1,
  HG_IDLE_SOURCE_TTY = 1 << 2, /* console and SSH logins: the tty's input */
} HgIdleSources;

/* Where web logins get their PAM helper (hg-helper-source.h). */
typedef enum {
  HG_PAM_HELPER_AUTO,   /* fork as root, the socket otherwise */
  HG_PAM_HELPER_FORK,   /* fork one (needs root for other users' PAM) */
  HG_PAM_HELPER_SOCKET, /* connect to HelperSocket (socket activation) */
} HgPamHelper;

typedef struct {
  /* [Timeouts], seconds */
  uint64_t warn_after_sec;
  uint64_t expire_after_sec;
  uint64_t max_session_sec;
  uint64_t close_after_sec;
  uint64_t daily_allowance_sec; /* 0: none */
  /* [Http] */
  GPtrArray *listen; /* HgListenAddress */
  GStrv allowed_hosts;
  char *web_root; /* NULL: built-in pages only */
  char *web_root_csp;
  uint64_t request_timeout_sec;
  uint64_t idle_timeout_sec;
  /* [Limits] */
  uint64_t max_sessions;
  uint64_t max_sessions_per_user;
  uint64_t max_logins_in_progress;
  uint64_t max_logins_in_progress_per_peer;
  uint64_t login_rate_per_sec;
  uint64_t max_connections;
  uint64_t max_connections_per_peer;
  /* [Pam] */
  char *pam_service;
  uint64_t min_uid;
  uint64_t helper_timeout_sec;
  uint64_t conversation_timeout_sec;
  uint64_t fail_delay_msec;
  HgPamHelper pam_helper;
  char *helper_socket;
  /* [Idle] */
  unsigned idle_sources; /* HgIdleSources */
  char *seat;
  uint64_t inhibit_max_sec; /* 0: idle locks do not count */
  uint64_t extend_by_sec;   /* [Timeouts] */
  uint64_t max_extensions;  /* [Timeouts] */
  uint64_t locked_max_sec;  /* [Desktop] */
  /* [DBus] */
  char *admin_group; /* NULL: root only */
  gid_t admin_gid;
  /* [Desktop] */
  HgDesktopAction desktop_action;

  /* [Policy NAME] groups, and the limits of whom none matches. */
  HgPolicyRules *rules;
  HgLimits fallback;

  char *path; /* the main file this was read from */
} HgConfig;

/* The CSP of our own pages, also WebRootCsp's default. */
extern const char hg_config_strict_csp[];

/* Reads path (NULL: the installed default) and its drop-ins in lexical
 * order. A missing file is an error only when named explicitly. On failure
 * returns -EINVAL and, in ret_errors, one line per problem found. */
int hg_config_load(const char *path, HgConfig **ret, GPtrArray **ret_errors);
/* The defaults alone, as if no file existed; NULL if the built-in table
 * itself is wrong. */
HgConfig *hg_config_new_default(void);
HgConfig *hg_config_free(HgConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgConfig, hg_config_free)

/* The fallback's limits ([Timeouts], [Idle], [Desktop]). */
void hg_config_get_limits(const HgConfig *config, HgLimits *ret);
/* The limits of the rule named policy (NULL: the fallback). false when
 * there is no such rule: then the fallback's. */
bool hg_config_limits_of(const HgConfig *config, const char *policy,
                         HgLimits *ret);
/* The drop-in folder read with path: PATH.d */
char *hg_config_dropin_dir(const char *path);
