/* The state codec; see hg-state.h. Every check is strict: the file comes
 * from disk, and a daemon that trusted a damaged one could revive a
 * session or crash. */
#include "hg-state.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-peer.h"
#include "hg-record.h"
#include "hg-secure.h"

#define VALUE_MAX 1024

void hg_state_session_clear(HgStateSession *s) {
  g_clear_pointer(&s->user, g_free);
  g_clear_pointer(&s->logind_id, g_free);
  g_clear_pointer(&s->policy, g_free);
  explicit_bzero(s->token_hash, sizeof(s->token_hash));
}

static void put(GString *out, const char *key, const char *value) {
  g_string_append_printf(out, "%s=%s\n", key, value);
}

static void put_u64(GString *out, const char *key, uint64_t value) {
  g_string_append_printf(out, "%s=%" PRIu64 "\n", key, value);
}

char *hg_state_encode(const HgStateSession *s, const char *boot_id,
                      size_t *ret_len) {
  GString *out = g_string_new(NULL);

  put_u64(out, "HOURGLASS_STATE", HG_STATE_VERSION);
  put(out, "BOOT_ID", boot_id);
  put(out, "ID", s->id);
  put(out, "USER", s->user);
  put_u64(out, "UID", s->uid);
  put(out, "SOURCE", hg_session_source_to_string(s->source));
  if (s->has_token) {
    char hex[2 * HG_TOKEN_HASH_LEN + 1];
    hg_hex_encode(s->token_hash, HG_TOKEN_HASH_LEN, hex);
    put(out, "TOKEN_HASH", hex);
  }
  put(out, "STATE", hg_session_state_to_string(s->state));
  put_u64(out, "CREATED", s->times.created);
  put_u64(out, "LAST_ACTIVITY", s->times.last_activity);
  put_u64(out, "LAST_ALIVE", s->times.last_alive);
  put_u64(out, "BUSY", s->times.busy);
  put_u64(out, "WATCH_LIVENESS", s->times.watch_liveness);
  if (s->peer_uid != HG_PEER_UID_UNKNOWN)
    put_u64(out, "PEER_UID", s->peer_uid);
  if (s->logind_id)
    put(out, "LOGIND_SESSION", s->logind_id);
  if (s->policy)
    put(out, "POLICY", s->policy);
  if (s->times.locked_at)
    put_u64(out, "LOCKED_AT", s->times.locked_at);
  if (s->times.n_extended) {
    put_u64(out, "EXTENDED", s->times.extended);
    put_u64(out, "N_EXTENDED", s->times.n_extended);
  }
  hg_record_seal(out);
  *ret_len = out->len;
  return g_string_free(out, FALSE);
}

/* --- decoding --------------------------------------------------------- */

typedef enum {
  K_ID,
  K_USER,
  K_UID,
  K_SOURCE,
  K_TOKEN_HASH,
  K_STATE,
  K_CREATED,
  K_LAST_ACTIVITY,
  K_LAST_ALIVE,
  K_BUSY,
  K_WATCH_LIVENESS,
  K_PEER_UID,
  K_LOGIND_SESSION,
  K_POLICY,
  K_LOCKED_AT,
  K_EXTENDED,
  K_N_EXTENDED,
  _K_MAX,
} Key;

static const char *const key_names[_K_MAX] = {
    [K_ID] = "ID",
    [K_USER] = "USER",
    [K_UID] = "UID",
    [K_SOURCE] = "SOURCE",
    [K_TOKEN_HASH] = "TOKEN_HASH",
    [K_STATE] = "STATE",
    [K_CREATED] = "CREATED",
    [K_LAST_ACTIVITY] = "LAST_ACTIVITY",
    [K_LAST_ALIVE] = "LAST_ALIVE",
    [K_BUSY] = "BUSY",
    [K_WATCH_LIVENESS] = "WATCH_LIVENESS",
    [K_PEER_UID] = "PEER_UID",
    [K_LOGIND_SESSION] = "LOGIND_SESSION",
    [K_POLICY] = "POLICY",
    [K_LOCKED_AT] = "LOCKED_AT",
    [K_EXTENDED] = "EXTENDED",
    [K_N_EXTENDED] = "N_EXTENDED",
};

static const bool key_required[_K_MAX] = {
    [K_ID] = true,
    [K_USER] = true,
    [K_UID] = true,
    [K_SOURCE] = true,
    [K_STATE] = true,
    [K_CREATED] = true,
    [K_LAST_ACTIVITY] = true,
    [K_LAST_ALIVE] = true,
    [K_BUSY] = true,
    [K_WATCH_LIVENESS] = true,
};

typedef struct {
  char *values[_K_MAX];
} Fields;

static void fields_clear(Fields *f) {
  for (int k = 0; k < _K_MAX; k++)
    g_free(f->values[k]);
}

static int key_of(const char *name) {
  for (int k = 0; k < _K_MAX; k++)
    if (strcmp(key_names[k], name) == 0)
      return k;
  return -1;
}

static int read_line(char *line, unsigned n, Fields *f, char **ret_why) {
  char *eq = strchr(line, '=');
  int k;

  if (!eq)
    return hg_record_refuse(ret_why, -EINVAL, "line %u: no '='", n);
  *eq = '\0';
  k = key_of(line);
  if (k < 0)
    return hg_record_refuse(ret_why, -EINVAL, "line %u: unknown key", n);
  if (f->values[k])
    return hg_record_refuse(ret_why, -EINVAL, "line %u: %s twice", n, line);
  if (!hg_record_text_ok(eq + 1, VALUE_MAX))
    return hg_record_refuse(ret_why, -EINVAL, "line %u: bad %s value", n, line);
  f->values[k] = g_strdup(eq + 1);
  return 0;
}

static int read_version(const char *text, char **ret_why) {
  static const char prefix[] = "HOURGLASS_STATE=";
  g_autofree char *first = g_strndup(text, strcspn(text, "\n"));
  guint64 version;

  if (!g_str_has_prefix(first, prefix))
    return hg_record_refuse(ret_why, -EINVAL, "not a state file");
  if (!g_ascii_string_to_unsigned(first + sizeof(prefix) - 1, 10, 0,
                                  G_MAXUINT32, &version, NULL))
    return hg_record_refuse(ret_why, -EINVAL, "bad version line");
  if (version != HG_STATE_VERSION)
    return hg_record_refuse(ret_why, -EPROTONOSUPPORT,
                            "version %" G_GUINT64_FORMAT ", not %d", version,
                            HG_STATE_VERSION);
  return 0;
}

static int read_boot(const char *line, const char *boot_id, char **ret_why) {
  static const char prefix[] = "BOOT_ID=";

  if (!line || !g_str_has_prefix(line, prefix) ||
      !hg_record_hex_ok(line + sizeof(prefix) - 1, HG_STATE_BOOT_ID_LEN))
    return hg_record_refuse(ret_why, -EINVAL, "line 2: no boot id");
  if (strcmp(line + sizeof(prefix) - 1, boot_id) != 0)
    return hg_record_refuse(ret_why, -ESTALE, "from boot %s, not this one",
                            line + sizeof(prefix) - 1);
  return 0;
}

/* Version, checksum, boot; then the fields in between. */
static int read_fields(const char *data, size_t len, const char *boot_id,
                       Fields *f, char **ret_why) {
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  size_t body = 0;
  int r;

  if (len > HG_STATE_MAX_SIZE)
    return hg_record_refuse(ret_why, -EINVAL, "larger than %d bytes",
                            HG_STATE_MAX_SIZE);
  if (memchr(data, '\0', len) || !g_utf8_validate(data, (gssize)len, NULL))
    return hg_record_refuse(ret_why, -EINVAL, "not UTF-8 text");
  text = g_strndup(data, len);
  r = read_version(text, ret_why);
  if (r >= 0)
    r = hg_record_unseal(text, len, &body, ret_why);
  if (r < 0)
    return r;
  text[body > 0 ? body - 1 : 0] = '\0';
  lines = g_strsplit(text, "\n", -1);
  r = read_boot(lines[0] ? lines[1] : NULL, boot_id, ret_why);
  for (guint i = 2; r >= 0 && lines[0] && lines[1] && lines[i]; i++)
    r = read_line(lines[i], i + 1, f, ret_why);
  return r;
}

static bool parse_bool(const char *s, bool *ret) {
  uint64_t v;

  if (!hg_record_parse_u64(s, 1, &v))
    return false;
  *ret = v;
  return true;
}

static int check_required(const Fields *f, char **ret_why) {
  for (int k = 0; k < _K_MAX; k++)
    if (key_required[k] && !f->values[k])
      return hg_record_refuse(ret_why, -EINVAL, "no %s", key_names[k]);
  return 0;
}

static int parse_identity(const Fields *f, HgStateSession *s, char **ret_why) {
  const char *const *v = (const char *const *)f->values;
  uint64_t n;

  if (!hg_record_hex_ok(v[K_ID], HG_SESSION_ID_LEN))
    return hg_record_refuse(ret_why, -EINVAL, "bad ID");
  memcpy(s->id, v[K_ID], HG_SESSION_ID_LEN + 1);
  if (strlen(v[K_USER]) > 256)
    return hg_record_refuse(ret_why, -EINVAL, "bad USER");
  s->user = g_strdup(v[K_USER]);
  if (!hg_record_parse_u64(v[K_UID], (uid_t)-2, &n))
    return hg_record_refuse(ret_why, -EINVAL, "bad UID");
  s->uid = (uid_t)n;
  s->source = hg_session_source_from_string(v[K_SOURCE]);
  if (s->source == _HG_SESSION_SOURCE_INVALID)
    return hg_record_refuse(ret_why, -EINVAL, "bad SOURCE");
  s->peer_uid = HG_PEER_UID_UNKNOWN;
  if (v[K_PEER_UID] && !hg_record_parse_u64(v[K_PEER_UID], (uid_t)-2, &n))
    return hg_record_refuse(ret_why, -EINVAL, "bad PEER_UID");
  if (v[K_PEER_UID])
    s->peer_uid = (uid_t)n;
  return 0;
}

/* A web session has a cookie and no logind session; a desktop one the
 * reverse. */
static int parse_links(const Fields *f, HgStateSession *s, char **ret_why) {
  const char *const *v = (const char *const *)f->values;
  bool web = s->source == HG_SESSION_SOURCE_WEB;

  if (web != (v[K_TOKEN_HASH] != NULL) || web == (v[K_LOGIND_SESSION] != NULL))
    return hg_record_refuse(ret_why, -EINVAL,
                            "TOKEN_HASH or LOGIND_SESSION does not "
                            "fit SOURCE");
  if (v[K_TOKEN_HASH]) {
    if (!hg_record_hex_ok(v[K_TOKEN_HASH], 2 * HG_TOKEN_HASH_LEN) ||
        hg_hex_decode(v[K_TOKEN_HASH], s->token_hash, HG_TOKEN_HASH_LEN) < 0)
      return hg_record_refuse(ret_why, -EINVAL, "bad TOKEN_HASH");
    s->has_token = true;
  }
  if (v[K_LOGIND_SESSION]) {
    if (strlen(v[K_LOGIND_SESSION]) > 64)
      return hg_record_refuse(ret_why, -EINVAL, "bad LOGIND_SESSION");
    s->logind_id = g_strdup(v[K_LOGIND_SESSION]);
  }
  if (v[K_POLICY]) {
    if (strlen(v[K_POLICY]) > 64)
      return hg_record_refuse(ret_why, -EINVAL, "bad POLICY");
    s->policy = g_strdup(v[K_POLICY]);
  }
  return 0;
}

/* What only some sessions have: a lock by hourglass (desktop sessions),
 * more time given. */
static int parse_extras(const Fields *f, HgPolicyTimes *t, char **ret_why) {
  const char *const *v = (const char *const *)f->values;
  uint64_t n = 0;

  if (v[K_LOCKED_AT] &&
      (!t->lockable ||
       !hg_record_parse_u64(v[K_LOCKED_AT], HG_USEC_INFINITY - 1,
                            &t->locked_at) ||
       t->locked_at < t->created))
    return hg_record_refuse(ret_why, -EINVAL, "bad LOCKED_AT");
  if (!v[K_EXTENDED] != !v[K_N_EXTENDED])
    return hg_record_refuse(ret_why, -EINVAL, "EXTENDED without N_EXTENDED");
  if (v[K_EXTENDED] &&
      (!hg_record_parse_u64(v[K_EXTENDED], HG_USEC_INFINITY - 1,
                            &t->extended) ||
       !hg_record_parse_u64(v[K_N_EXTENDED], 1000, &n) || n == 0))
    return hg_record_refuse(ret_why, -EINVAL, "bad EXTENDED or N_EXTENDED");
  t->n_extended = (unsigned)n;
  return 0;
}

static int parse_times(const Fields *f, HgStateSession *s, char **ret_why) {
  const char *const *v = (const char *const *)f->values;
  HgPolicyTimes *t = &s->times;

  s->state = hg_session_state_from_string(v[K_STATE]);
  if (s->state != HG_SESSION_STATE_ACTIVE &&
      s->state != HG_SESSION_STATE_WARNING)
    return hg_record_refuse(ret_why, -EINVAL, "bad STATE");
  if (!hg_record_parse_u64(v[K_CREATED], HG_USEC_INFINITY - 1, &t->created) ||
      !hg_record_parse_u64(v[K_LAST_ACTIVITY], HG_USEC_INFINITY - 1,
                           &t->last_activity) ||
      !hg_record_parse_u64(v[K_LAST_ALIVE], HG_USEC_INFINITY - 1,
                           &t->last_alive))
    return hg_record_refuse(ret_why, -EINVAL, "bad time");
  if (t->last_activity < t->created || t->last_alive < t->created)
    return hg_record_refuse(ret_why, -EINVAL, "a time before CREATED");
  if (!parse_bool(v[K_BUSY], &t->busy) ||
      !parse_bool(v[K_WATCH_LIVENESS], &t->watch_liveness))
    return hg_record_refuse(ret_why, -EINVAL, "bad BUSY or WATCH_LIVENESS");
  t->live = false;
  t->lockable = s->source == HG_SESSION_SOURCE_DESKTOP;
  return parse_extras(f, t, ret_why);
}

int hg_state_decode(const char *data, size_t len, const char *boot_id,
                    HgStateSession *ret, char **ret_why) {
  Fields f = {0};
  HgStateSession s = {0};
  int r;

  *ret_why = NULL;
  r = read_fields(data, len, boot_id, &f, ret_why);
  if (r >= 0)
    r = check_required(&f, ret_why);
  if (r >= 0)
    r = parse_identity(&f, &s, ret_why);
  if (r >= 0)
    r = parse_links(&f, &s, ret_why);
  if (r >= 0)
    r = parse_times(&f, &s, ret_why);
  fields_clear(&f);
  if (r < 0) {
    hg_state_session_clear(&s);
    return r;
  }
  *ret = s;
  return 0;
}
