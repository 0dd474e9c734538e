/* The allowance's records: one small file per user per local day, under a
 * directory of the daemon's own (the unit's StateDirectory=,
 * /var/lib/hourglass/allowance, mode 0700):
 *
 *   allowance/2024-03-31/alice
 *
 * A record is UTF-8 text, these lines in this order:
 *
 *   HOURGLASS_ALLOWANCE=1       the format's version
 *   USER=alice                  whose (the file name is it, escaped)
 *   DAY=2024-03-31              which local day (the directory is it)
 *   USED_USEC=5400000000        signed-in time of that day, all sessions
 *                               at once
 *   GRANTED_USEC=0              operators' extra time for that day
 *   SPENT=0                     1: an earlier record was damaged, the
 *                               day's allowance counts as used
 *   BOOT_ID=<32 hex>            the boot of the write, and
 *   SAVED_AT=<µs>               its CLOCK_BOOTTIME, and
 *   OPEN=1                      whether a session was open then
 *   CHECKSUM=<64 hex>           SHA-256 of every byte before this line
 *
 * Written through a temporary file, fsync, rename and an fsync of the
 * directory: after a crash the record is the old one or the new one,
 * whole. Days other than yesterday, today and tomorrow are pruned. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hg-time.h"

#define HG_ALLOWANCE_RECORD_VERSION 1
#define HG_ALLOWANCE_RECORD_MAX 2048
#define HG_ALLOWANCE_BOOT_ID_LEN 32
#define HG_ALLOWANCE_USER_MAX 256
/* Bounds of what a sound record may say: a day has at most 25 hours; more
 * granted than two days' worth is not a grant but a mistake. */
#define HG_ALLOWANCE_USED_MAX ((hg_usec_t)7 * 86400 * HG_USEC_PER_SEC)
#define HG_ALLOWANCE_GRANTED_MAX ((hg_usec_t)2 * 86400 * HG_USEC_PER_SEC)

typedef struct {
  char *user;
  int64_t day; /* local days since 1970-01-01 (hg-wall.h) */
  hg_usec_t used;
  hg_usec_t granted;
  bool spent;
  char boot_id[HG_ALLOWANCE_BOOT_ID_LEN + 1];
  hg_usec_t saved_at;
  bool open;
} HgAllowanceRecord;

void hg_allowance_record_clear(HgAllowanceRecord *r);

/* The bytes of a record, and back: 0, or -EPROTONOSUPPORT (another
 * version), -EBADMSG (truncated, checksum wrong), -EINVAL (anything else
 * malformed), with the reason in *ret_why (free it). Pure. */
char *hg_allowance_record_encode(const HgAllowanceRecord *r, size_t *ret_len);
int hg_allowance_record_decode(const char *data, size_t len,
                               HgAllowanceRecord *ret, char **ret_why);

typedef struct HgAllowanceStore HgAllowanceStore;

/* dir is created if missing (0700) and must be ours and closed to others
 * (-EPERM otherwise). */
int hg_allowance_store_new(const char *dir, HgAllowanceStore **ret);
HgAllowanceStore *hg_allowance_store_free(HgAllowanceStore *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgAllowanceStore, hg_allowance_store_free)

const char *hg_allowance_store_dir(const HgAllowanceStore *st);

/* user's record of day: 0 and *ret (clear it); -ENOENT: there is none;
 * another -errno: unreadable, damaged or someone else's (a record whose
 * USER or DAY is not its name's), with the reason in *ret_why. */
int hg_allowance_store_load(HgAllowanceStore *st, const char *user, int64_t day,
                            HgAllowanceRecord *ret, char **ret_why);
/* Writes r crash-safely (see above). 0 or -errno. */
int hg_allowance_store_save(HgAllowanceStore *st, const HgAllowanceRecord *r);
/* Removes the days before today - 1 and after today + 1, and what a crash
 * left of a write; returns how many days went. */
unsigned hg_allowance_store_prune(HgAllowanceStore *st, int64_t today);
/* Records written since the store was opened (for tests and benches). */
uint64_t hg_allowance_store_writes(const HgAllowanceStore *st);

/* $STATE_DIRECTORY/allowance when the service manager gives one, else
 * NULL (the allowance is then counted in memory only). */
char *hg_allowance_store_default_dir(void);
/* A user's file name: letters, digits and "_-.@" as they are (no leading
 * '.'), every other byte %XX; a name that would be longer than 200 bytes
 * is "~" and its SHA-256. */
char *hg_allowance_store_file_name(const char *user);
