/* Web logins through PAM: one hourglass-pam-helper process per login,
 * driven from the sd-event loop without ever blocking it. The helper's
 * prompts come back as events; after success it holds the PAM session open
 * until the login is closed. Needs SIGCHLD blocked (sd_event_add_child). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "hg-proto.h"
#include "hg-time.h"

typedef struct HgAuthManager HgAuthManager;
typedef struct HgAuth HgAuth;

typedef struct {
  const char *service;     /* PAM service name */
  uint32_t min_uid;        /* accounts below are refused */
  const char *helper_path; /* NULL: hg_auth_default_helper_path() */
  /* Connect to this socket of the service manager for each helper
   * instead of forking one (hg-helper-source.h); NULL: fork. */
  const char *helper_socket;
  /* How long the helper may take to answer (after the start, after
   * answers) and to exit once told to; then it is killed. No limit runs
   * while a prompt waits for the person: the web layer expires those. */
  hg_usec_t timeout;
} HgAuthSettings;

typedef enum {
  HG_AUTH_PROMPT,  /* the helper waits for answers: hg_auth_answer() */
  HG_AUTH_SUCCESS, /* authenticated, the PAM session is open */
  HG_AUTH_FAILURE, /* the login failed; nothing follows */
  HG_AUTH_ENDED,   /* after SUCCESS: the helper and its PAM session are gone */
} HgAuthEventType;

typedef struct {
  bool echo; /* PAM_PROMPT_ECHO_ON: the answer may be shown */
  const char *text;
} HgAuthPrompt;

typedef struct {
  bool error; /* PAM_ERROR_MSG, else PAM_TEXT_INFO */
  const char *text;
} HgAuthMessage;

/* Everything points into the login and is valid during the callback only. */
typedef struct {
  HgAuthEventType type;
  /* PROMPT: what to answer, in order. */
  const HgAuthPrompt *prompts;
  size_t n_prompts;
  /* PROMPT and SUCCESS: what PAM said since the previous event. Never with
   * a FAILURE: "account locked" must look like "wrong password". */
  const HgAuthMessage *messages;
  size_t n_messages;
  /* SUCCESS: the account as NSS spells it, and its groups' names
   * (NULL-terminated; empty when NSS gave none). */
  const char *user;
  uid_t uid;
  const char *const *groups;
  /* FAILURE: the reason, for the logs, and the delay PAM asked for before
   * the failure is told (0 if none). */
  HgAuthFailure failure;
  /* FAILURE: the account NSS resolved the user to, NULL if none (for the
   * throttle; never shown to the person). */
  const char *account;
  hg_usec_t fail_delay;
} HgAuthEvent;

/* May call hg_auth_answer() and hg_auth_close() on a. */
typedef void (*HgAuthCallback)(HgAuth *a, const HgAuthEvent *ev,
                               void *userdata);

int hg_auth_manager_new(sd_event *event, const HgAuthSettings *settings,
                        HgAuthManager **ret);
/* Applies to logins started afterwards. 0 or -EINVAL. */
int hg_auth_manager_set_settings(HgAuthManager *m,
                                 const HgAuthSettings *settings);
/* Helper processes that have not (yet) authenticated anyone, closed logins
 * whose helper is still exiting included: what MaxLoginsInProgress caps. */
unsigned hg_auth_manager_in_progress(const HgAuthManager *m);
/* Helper processes not reaped yet, whatever their state. */
unsigned hg_auth_manager_helpers(const HgAuthManager *m);
/* For shutdown: ends every login and session (no more callbacks), gives
 * the helpers up to max_wait to close their PAM sessions and exit, kills
 * the rest and reaps them all, blocking. Logins not closed yet stay valid
 * but inert until hg_auth_close(); no login can start afterwards. */
void hg_auth_manager_shutdown(HgAuthManager *m, hg_usec_t max_wait);
/* For a restart that keeps every session (their connections are in the
 * fd store): like shutdown, but helpers holding a PAM session are let go
 * running, neither told nor killed. */
void hg_auth_manager_let_go(HgAuthManager *m);
/* hg_auth_manager_shutdown(m, 0) if needed, then frees m. */
HgAuthManager *hg_auth_manager_free(HgAuthManager *m);

/* Starts a helper for user, connecting from rhost (an address). Events
 * follow through cb. -EINVAL for a user name that cannot be one, -ESHUTDOWN
 * after shutdown, -errno when the helper cannot be started. */
int hg_auth_start(HgAuthManager *m, const char *user, const char *rhost,
                  HgAuthCallback cb, void *userdata, HgAuth **ret);

/* Answers the prompts of the last PROMPT event, n of them, in order. The
 * caller wipes its own copies. -EBUSY when no prompt waits, -EINVAL for a
 * wrong count or an answer that is not UTF-8 text, -errno when the helper
 * is gone (a FAILURE event follows). */
int hg_auth_answer(HgAuth *a, char *const *answers, size_t n);

/* Ends the login, or the PAM session after SUCCESS: the helper closes PAM
 * and exits, is reaped in the background and killed if it takes longer
 * than the timeout. No callback follows, even from within one. NULL-safe;
 * returns NULL. */
HgAuth *hg_auth_close(HgAuth *a);

/* Takes over the connection to a helper that holds an open PAM session,
 * kept across a restart of the daemon: a login in the authenticated state
 * whose helper is not our child (its end shows as HG_AUTH_ENDED). -EPIPE
 * when the helper is gone already (fd is closed either way). */
int hg_auth_adopt(HgAuthManager *m, int fd, HgAuthCallback cb, void *userdata,
                  HgAuth **ret);

/* Who hears of an adopted login's end. */
void hg_auth_set_userdata(HgAuth *a, void *userdata);

/* The helper's pid, 0 once it has been reaped (or when it is not ours). */
pid_t hg_auth_get_pid(const HgAuth *a);
/* The connection to the helper, -1 once it is closed. */
int hg_auth_get_fd(const HgAuth *a);

/* $HOURGLASS_PAM_HELPER, else the helper of the build tree when this
 * program runs from there, else the installed one. */
const char *hg_auth_default_helper_path(void);
