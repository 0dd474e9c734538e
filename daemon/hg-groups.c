/* Group lookups in threads; see hg-groups.h. */
#include "hg-groups.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hg-macros.h"

#define GROUPS_MAX 1024
#define NSS_BUF_MAX (1024 * 1024)

/* Shared by the query and its thread; the last of the two frees it. */
typedef struct {
  atomic_int n_ref;
  char *user;
  int efd; /* the thread says "done" here */
  int r;
  char **groups;
} Job;

struct HgGroupsQuery {
  Job *job;
  sd_event_source *io, *timer;
  HgGroupsDone done;
  void *userdata;
};

static void job_unref(Job *job) {
  if (atomic_fetch_sub(&job->n_ref, 1) != 1)
    return;
  (void)hg_close_nointr(job->efd);
  g_free(job->user);
  g_strfreev(job->groups);
  g_free(job);
}

/* getpwnam_r and getgrgid_r with a buffer that grows as NSS asks. */
static int user_gid(const char *user, gid_t *ret) {
  g_autofree char *buf = NULL;
  struct passwd pw, *found = NULL;
  int r = ERANGE;

  for (size_t size = 4096; size <= NSS_BUF_MAX; size *= 2) {
    buf = g_realloc(buf, size);
    r = getpwnam_r(user, &pw, buf, size, &found);
    if (r != ERANGE)
      break;
  }
  if (r != 0)
    return -r;
  if (!found)
    return -ENOENT;
  *ret = pw.pw_gid;
  return 0;
}

static char *group_name(gid_t gid) {
  g_autofree char *buf = NULL;
  struct group gr, *found = NULL;
  int r = ERANGE;

  for (size_t size = 4096; size <= NSS_BUF_MAX; size *= 2) {
    buf = g_realloc(buf, size);
    r = getgrgid_r(gid, &gr, buf, size, &found);
    if (r != ERANGE)
      break;
  }
  return r == 0 && found ? g_strdup(gr.gr_name) : NULL;
}

int hg_groups_lookup(const char *user, char ***ret) {
  g_autofree gid_t *gids = g_new(gid_t, GROUPS_MAX);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  int n = GROUPS_MAX;
  gid_t gid = 0;
  int r;

  r = user_gid(user, &gid);
  if (r < 0)
    return r;
  /* More than GROUPS_MAX: the first ones (a rule on a later group does
   * not match, which only means the fallback's limits). */
  if (getgrouplist(user, gid, gids, &n) < 0)
    n = GROUPS_MAX;
  for (int i = 0; i < n; i++) {
    char *name = group_name(gids[i]);
    if (name)
      g_ptr_array_add(names, name);
  }
  g_ptr_array_add(names, NULL);
  *ret = (char **)g_ptr_array_steal(names, NULL);
  return 0;
}

static void *run(void *p) {
  Job *job = p;
  uint64_t one = 1;

  job->r = hg_groups_lookup(job->user, &job->groups);
  /* The eventfd is open until the last reference goes. */
  (void)!write(job->efd, &one, sizeof(one));
  job_unref(job);
  return NULL;
}

static void finish(HgGroupsQuery *q, int r) {
  q->io = sd_event_source_disable_unref(q->io);
  q->timer = sd_event_source_disable_unref(q->timer);
  q->done(q, r, r >= 0 ? (const char *const *)q->job->groups : NULL,
          q->userdata);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents,
                   void *userdata) {
  HgGroupsQuery *q = userdata;

  finish(q, q->job->r);
  return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
  finish(userdata, -ETIMEDOUT);
  return 0;
}

static int start_thread(Job *job) {
  pthread_attr_t attr;
  pthread_t thread;
  int r;

  r = pthread_attr_init(&attr);
  if (r == 0)
    r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  atomic_fetch_add(&job->n_ref, 1);
  if (r == 0)
    r = pthread_create(&thread, &attr, run, job);
  (void)pthread_attr_destroy(&attr);
  if (r != 0)
    job_unref(job);
  return -r;
}

int hg_groups_query_new(sd_event *event, const char *user, hg_usec_t timeout,
                        HgGroupsDone done, void *userdata,
                        HgGroupsQuery **ret) {
  g_autoptr(HgGroupsQuery) q = g_new0(HgGroupsQuery, 1);
  Job *job = g_new0(Job, 1);
  int r;

  atomic_init(&job->n_ref, 1);
  job->user = g_strdup(user);
  job->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  q->job = job;
  q->done = done;
  q->userdata = userdata;
  if (job->efd < 0)
    return -errno;
  r = sd_event_add_io(event, &q->io, job->efd, EPOLLIN, on_done, q);
  if (r >= 0)
    r = sd_event_add_time_relative(event, &q->timer, CLOCK_MONOTONIC, timeout,
                                   0, on_timeout, q);
  if (r >= 0)
    r = start_thread(job);
  if (r < 0)
    return r;
  *ret = g_steal_pointer(&q);
  return 0;
}

HgGroupsQuery *hg_groups_query_free(HgGroupsQuery *q) {
  if (!q)
    return NULL;
  sd_event_source_disable_unref(q->io);
  sd_event_source_disable_unref(q->timer);
  job_unref(q->job);
  g_free(q);
  return NULL;
}
