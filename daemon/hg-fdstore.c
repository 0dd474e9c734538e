/* systemd's fd store; see hg-fdstore.h. */
#include "hg-fdstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "hg-log.h"
#include "hg-macros.h"

struct HgFdStore {
  GHashTable *passed; /* name -> fd + 1 (0 would be NULL) */
  bool available;
};

HgFdStore *hg_fdstore_new(void) {
  HgFdStore *st = g_new0(HgFdStore, 1);
  char **names = NULL;
  int n;

  st->passed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  st->available = getenv("NOTIFY_SOCKET") != NULL;
  n = sd_listen_fds_with_names(true, &names);
  if (n < 0)
    hg_log_errno(LOG_WARNING, n, "Cannot take the stored file descriptors");
  for (int i = 0; i < n; i++) {
    int fd = SD_LISTEN_FDS_START + i;
    /* Descriptors of a previous run: no child of ours may inherit them. */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (names && names[i] && !g_hash_table_contains(st->passed, names[i]))
      g_hash_table_insert(st->passed, g_strdup(names[i]),
                          GINT_TO_POINTER(fd + 1));
    else
      close(fd);
  }
  g_strfreev(names);
  return st;
}

void hg_fdstore_drop_unclaimed(HgFdStore *st) {
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init(&it, st->passed);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    hg_debug("Stored file descriptor %s was not taken back: dropped",
             (const char *)key);
    hg_fdstore_remove(st, key);
    close(GPOINTER_TO_INT(value) - 1);
    g_hash_table_iter_remove(&it);
  }
}

HgFdStore *hg_fdstore_free(HgFdStore *st) {
  GHashTableIter it;
  gpointer value;

  if (!st)
    return NULL;
  g_hash_table_iter_init(&it, st->passed);
  while (g_hash_table_iter_next(&it, NULL, &value))
    close(GPOINTER_TO_INT(value) - 1);
  g_hash_table_destroy(st->passed);
  g_free(st);
  return NULL;
}

int hg_fdstore_take(HgFdStore *st, const char *name) {
  g_autofree char *key = NULL;
  gpointer value;

  if (!g_hash_table_steal_extended(st->passed, name, (gpointer *)&key, &value))
    return -ENOENT;
  return GPOINTER_TO_INT(value) - 1;
}

bool hg_fdstore_available(const HgFdStore *st) { return st->available; }

int hg_fdstore_put(HgFdStore *st, const char *name, int fd) {
  g_autofree char *msg = NULL;
  int r;

  if (!st->available)
    return 0;
  msg = g_strdup_printf("FDSTORE=1\nFDNAME=%s", name);
  r = sd_pid_notify_with_fds(0, false, msg, &fd, 1);
  if (r < 0)
    return hg_log_errno(LOG_WARNING, r,
                        "Cannot keep %s in the service manager's store: a "
                        "restart would end its session",
                        name);
  return 0;
}

void hg_fdstore_remove(HgFdStore *st, const char *name) {
  g_autofree char *msg = NULL;

  if (!st->available)
    return;
  msg = g_strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", name);
  (void)sd_notify(false, msg);
}
