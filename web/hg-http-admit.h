/* Who gets one of the HTTP server's connections. Every local client comes
 * from 127.0.0.1, so the budget is per peer uid (the owner of the client
 * socket, hg-peer.h): no single user can take more than max_per_peer. The
 * last eighth of max_total is a reserve that only live sessions may use
 * (the web front refuses other requests there), so that several users
 * together cannot crowd out a signed-in page either. Bookkeeping only. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
  unsigned max_total;
  unsigned max_per_peer;
} HgAdmitLimits;

typedef enum {
  HG_ADMIT_REFUSE,  /* answer 503 at once and close */
  HG_ADMIT_OPEN,    /* a connection like any other */
  HG_ADMIT_RESERVE, /* in the reserve: for live sessions' requests only */
} HgAdmit;

typedef struct HgAdmission HgAdmission;

HgAdmission *hg_admission_new(void);
HgAdmission *hg_admission_free(HgAdmission *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgAdmission, hg_admission_free)

/* Takes a connection for uid unless the limits refuse it; every one taken
 * is given back with hg_admission_leave(). New limits apply to new
 * connections. */
HgAdmit hg_admission_enter(HgAdmission *a, const HgAdmitLimits *l, uid_t uid);
void hg_admission_leave(HgAdmission *a, uid_t uid);

unsigned hg_admission_total(const HgAdmission *a);
unsigned hg_admission_of(const HgAdmission *a, uid_t uid);
/* How many of max_total connections are kept for live sessions. */
unsigned hg_admission_reserve(unsigned max_total);
