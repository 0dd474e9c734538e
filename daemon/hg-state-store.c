/* State files of live sessions; see hg-state-store.h. */
#include "hg-state-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "hg-log.h"
#include "hg-macros.h"
#include "hg-record.h"
#include "hg-state.h"

#define MIN_INTERVAL_USEC (1 * HG_USEC_PER_SEC)

typedef struct {
  hg_usec_t written; /* CLOCK_MONOTONIC of the last write, 0: never */
  bool dirty;        /* times changed since */
} Entry;

struct HgStateStore {
  sd_event *event;
  HgRegistry *reg;
  unsigned listener;
  int dir_fd;
  char *dir;
  char boot_id[HG_STATE_BOOT_ID_LEN + 1];
  GHashTable *entries; /* session id -> Entry */
  sd_event_source *timer;
  HgLogLimit error_log;
};

char *hg_state_store_default_dir(void) {
  return hg_record_unit_dir("RUNTIME_DIRECTORY", "sessions");
}

static void record_of(HgSession *s, HgStateSession *ret) {
  const uint8_t *hash = hg_session_get_token_hash(s);

  *ret = (HgStateSession){
      .user = (char *)hg_session_get_user(s),
      .uid = hg_session_get_uid(s),
      .source = hg_session_get_source(s),
      .has_token = hash != NULL,
      .state = hg_session_get_state(s),
      .times = *hg_session_get_times(s),
      .peer_uid = hg_session_get_peer_uid(s),
      .logind_id = (char *)hg_session_get_logind_id(s),
      .policy = (char *)hg_session_get_policy(s),
  };
  g_strlcpy(ret->id, hg_session_get_id(s), sizeof(ret->id));
  if (hash)
    memcpy(ret->token_hash, hash, HG_TOKEN_HASH_LEN);
}

static void save(HgStateStore *st, HgSession *s, Entry *e) {
  HgStateSession rec;
  g_autofree char *data = NULL;
  size_t len;
  unsigned quiet;
  int r;

  record_of(s, &rec);
  data = hg_state_encode(&rec, st->boot_id, &len);
  explicit_bzero(rec.token_hash, sizeof(rec.token_hash));
  /* /run is memory: no fsync, a crash of the machine ends the sessions. */
  r = hg_record_replace(st->dir_fd, rec.id, data, len, false);
  explicit_bzero(data, len);
  e->written = hg_now(CLOCK_MONOTONIC);
  e->dirty = false;
  if (r < 0 && hg_log_limit_pass(&st->error_log, &quiet))
    hg_log_errno(LOG_ERR, r,
                 "Cannot write the state of session %s to %s (%u more "
                 "failures since the last such line): a restart would end it",
                 rec.id, st->dir, quiet);
}

static Entry *entry_of(HgStateStore *st, HgSession *s) {
  Entry *e = g_hash_table_lookup(st->entries, hg_session_get_id(s));

  if (!e) {
    e = g_new0(Entry, 1);
    g_hash_table_insert(st->entries, g_strdup(hg_session_get_id(s)), e);
  }
  return e;
}

/* The earliest moment a dirty session may be written again. */
static void arm_timer(HgStateStore *st) {
  hg_usec_t due = HG_USEC_INFINITY;
  GHashTableIter it;
  gpointer value;
  int r;

  g_hash_table_iter_init(&it, st->entries);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    const Entry *e = value;
    if (e->dirty)
      due = HG_MIN(due, e->written + MIN_INTERVAL_USEC);
  }
  if (due == HG_USEC_INFINITY) {
    (void)sd_event_source_set_enabled(st->timer, SD_EVENT_OFF);
    return;
  }
  r = sd_event_source_set_time(st->timer, due);
  if (r >= 0)
    r = sd_event_source_set_enabled(st->timer, SD_EVENT_ONESHOT);
  if (r < 0 && r != -ESTALE)
    hg_log_errno(LOG_ERR, r, "Cannot arm the state timer");
}

static void save_due(HgStateStore *st, bool all) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init(&it, st->entries);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Entry *e = value;
    HgSession *s;

    if (!e->dirty || (!all && now < e->written + MIN_INTERVAL_USEC))
      continue;
    s = hg_registry_lookup(st->reg, key);
    if (s)
      save(st, s, e);
  }
  arm_timer(st);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
  save_due(userdata, false);
  return 0;
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgStateStore *st = userdata;
  Entry *e;

  switch (event) {
  case HG_REGISTRY_EVENT_NEW:
  case HG_REGISTRY_EVENT_STATE:
  case HG_REGISTRY_EVENT_STAGE:  /* a restart must neither forget a lock nor
                                    keep one that is gone */
  case HG_REGISTRY_EVENT_LIMITS: /* an extension granted is not lost by a
                                    crash within the second */
    save(st, s, entry_of(st, s));
    break;
  case HG_REGISTRY_EVENT_TIMES:
    e = entry_of(st, s);
    if (hg_now(CLOCK_MONOTONIC) >= e->written + MIN_INTERVAL_USEC) {
      save(st, s, e);
    } else if (!e->dirty) {
      e->dirty = true;
      arm_timer(st);
    }
    break;
  case HG_REGISTRY_EVENT_ENDED:
    g_hash_table_remove(st->entries, hg_session_get_id(s));
    if (unlinkat(st->dir_fd, hg_session_get_id(s), 0) < 0 && errno != ENOENT)
      hg_log_errno(LOG_WARNING, -errno, "Cannot remove the state of %s",
                   hg_session_get_id(s));
    break;
  }
}

/* Someone waits for the machine: a file of that name, kept apart from the
 * sessions' (a dot name is not read as one). */
#define WAITING_FILE ".waiting"

static void on_waiting(HgRegistry *reg, bool waiting, void *userdata) {
  HgStateStore *st = userdata;
  int r = 0, fd;

  if (waiting) {
    fd = openat(st->dir_fd, WAITING_FILE,
                O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    r = fd < 0 ? -errno : 0;
    if (fd >= 0)
      (void)hg_close_nointr(fd);
  } else if (unlinkat(st->dir_fd, WAITING_FILE, 0) < 0 && errno != ENOENT) {
    r = -errno;
  }
  if (r < 0)
    hg_log_errno(LOG_WARNING, r,
                 "Cannot keep in %s that someone is %swaiting: a restart "
                 "would forget it",
                 st->dir, waiting ? "" : "no longer ");
}

/* Ours and closed to others: the files hold token hashes. */
static int open_dir(const char *dir, int *ret_fd) {
  _cleanup_close_ int fd = -1;
  struct stat sb;

  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return -errno;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  if (fstat(fd, &sb) < 0)
    return -errno;
  if (sb.st_uid != geteuid() || (sb.st_mode & 0077))
    return -EPERM;
  *ret_fd = TAKE_FD(fd);
  return 0;
}

int hg_state_store_new(sd_event *event, HgRegistry *reg, const char *dir,
                       HgStateStore **ret) {
  g_autoptr(HgStateStore) st = g_new0(HgStateStore, 1);
  sd_id128_t boot;
  int r;

  st->dir_fd = -1;
  st->error_log = HG_LOG_LIMIT_INIT(60 * HG_USEC_PER_SEC);
  st->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  r = sd_id128_get_boot(&boot);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot tell this boot's id");
  sd_id128_to_string(boot, st->boot_id);
  r = open_dir(dir, &st->dir_fd);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot keep state in %s%s", dir,
                        r == -EPERM ? " (not ours, or open to others)" : "");
  st->dir = g_strdup(dir);
  st->event = sd_event_ref(event);
  r = sd_event_add_time(event, &st->timer, CLOCK_MONOTONIC, 0,
                        50 * HG_USEC_PER_MSEC, on_timer, st);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot add the state timer");
  (void)sd_event_source_set_enabled(st->timer, SD_EVENT_OFF);
  st->reg = reg;
  st->listener = hg_registry_subscribe(reg, on_session_event, st);
  hg_registry_set_waiting_callback(reg, on_waiting, st);
  *ret = g_steal_pointer(&st);
  return 0;
}

HgStateStore *hg_state_store_free(HgStateStore *st) {
  if (!st)
    return NULL;
  if (st->listener) {
    hg_registry_unsubscribe(st->reg, st->listener);
    hg_registry_set_waiting_callback(st->reg, NULL, NULL);
  }
  sd_event_source_disable_unref(st->timer);
  sd_event_unref(st->event);
  g_hash_table_destroy(st->entries);
  st->dir_fd = hg_close_nointr(st->dir_fd);
  g_free(st->dir);
  g_free(st);
  return NULL;
}

void hg_state_store_flush(HgStateStore *st) { save_due(st, true); }

static bool is_session_name(const char *name) {
  if (strlen(name) != HG_SESSION_ID_LEN)
    return false;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

static void discard(HgStateStore *st, const char *name, const char *why) {
  g_autofree char *f_file = g_strconcat("HG_STATE_FILE=", name, NULL);

  hg_log_fields(LOG_WARNING, (const char *[]){f_file, NULL},
                "State file %s/%s refused: %s; that session is not taken back",
                st->dir, name, why);
  (void)unlinkat(st->dir_fd, name, 0);
}

/* One file: 1 when its session was taken back. */
static int load_one(HgStateStore *st, const char *name) {
  g_autofree char *data = NULL, *why = NULL;
  HgStateSession rec = {0};
  bool taken = false;
  HgSession *s;
  size_t len = 0;
  int r;

  r = hg_record_read(st->dir_fd, name, HG_STATE_MAX_SIZE, &data, &len);
  if (r < 0) {
    discard(st, name, g_strerror(-r));
    return 0;
  }
  r = hg_state_decode(data, len, st->boot_id, &rec, &why);
  explicit_bzero(data, len);
  if (r < 0) {
    discard(st, name, why);
    return 0;
  }
  if (strcmp(rec.id, name) != 0)
    discard(st, name, "its name is not its session's id");
  else if ((r = hg_registry_restore(st->reg, &rec, &s)) < 0)
    discard(st, name,
            r == -EEXIST ? "the session or its token is in use"
                         : g_strerror(-r));
  else
    taken = true;
  hg_state_session_clear(&rec);
  return taken;
}

unsigned hg_state_store_load(HgStateStore *st) {
  _cleanup_close_ int fd = fcntl(st->dir_fd, F_DUPFD_CLOEXEC, 3);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;
  unsigned n = 0;

  if (!d) {
    hg_log_errno(LOG_ERR, -errno, "Cannot read %s", st->dir);
    return 0;
  }
  fd = -1; /* the DIR has it */
  if (faccessat(st->dir_fd, WAITING_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    hg_registry_set_waiting(st->reg, true);
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp"))
      g_ptr_array_add(names, g_strdup(de->d_name));
  closedir(d);
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    if (name[0] == '.')
      (void)unlinkat(st->dir_fd, name, 0); /* a write a crash cut short */
    else if (!is_session_name(name))
      discard(st, name, "not a session's state file");
    else
      n += load_one(st, name);
  }
  return n;
}
