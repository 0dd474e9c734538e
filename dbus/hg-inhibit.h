/* logind's "idle" inhibitor locks (systemd-inhibit --what=idle, media
 * players): who holds one, by uid. logind announces each lock taken or
 * released as a PropertiesChanged of the Manager's BlockInhibited; the
 * locks are then read with ListInhibitors, asynchronously. Followed only
 * while enabled ([Idle] InhibitMaxSec > 0). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct HgInhibit HgInhibit;

/* The set of holders changed (or may have). */
typedef void (*HgInhibitChanged)(HgInhibit *i, void *userdata);

int hg_inhibit_new(sd_bus *bus, HgInhibitChanged changed, void *userdata,
                   HgInhibit **ret);
HgInhibit *hg_inhibit_free(HgInhibit *i);

/* Enabled, the locks are read now and followed; disabled, none counts. */
void hg_inhibit_set_enabled(HgInhibit *i, bool enabled);

/* Who (the lock's "who", e.g. "Firefox") holds an idle lock taken by a
 * process of uid, or NULL when uid holds none. */
const char *hg_inhibit_holder(const HgInhibit *i, uid_t uid);
