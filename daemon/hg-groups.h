/* A user's group names, looked up off the event loop: NSS may take its
 * time (LDAP, SSSD, a directory that is down), and the daemon must not
 * wait for it. Each query runs in a thread of its own and reports back on
 * the loop; one that takes longer than its timeout reports -ETIMEDOUT and
 * its thread's late answer is dropped. */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

#include "hg-time.h"

typedef struct HgGroupsQuery HgGroupsQuery;

/* r: 0 with the user's groups (NULL-terminated names, primary group
 * included, the query's until it is freed); -ENOENT: no such user;
 * -ETIMEDOUT; another -errno. groups is NULL unless r is 0. Called once;
 * the callee may free the query. */
typedef void (*HgGroupsDone)(HgGroupsQuery *q, int r, const char *const *groups,
                             void *userdata);

int hg_groups_query_new(sd_event *event, const char *user, hg_usec_t timeout,
                        HgGroupsDone done, void *userdata, HgGroupsQuery **ret);
/* Cancels a query that has not reported: done is not called. */
HgGroupsQuery *hg_groups_query_free(HgGroupsQuery *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgGroupsQuery, hg_groups_query_free)

/* The lookup itself, blocking: for the thread, and for tools. */
int hg_groups_lookup(const char *user, char ***ret);
