/* A person's request for more time (hg_registry_more_time()), as the
 * fronts tell it: a code for the page's own words, a sentence for D-Bus
 * and hourglassctl, and one journal line per answer. */
#pragma once

#include "hg-registry.h"

/* "granted", "not-offered", "no-limit", "used-up", "too-early",
 * "waiting", "fixed-end". */
const char *hg_more_time_to_string(HgMoreTime answer);

/* Why it was refused, in a sentence for people (NULL for granted). */
char *hg_more_time_explain(const HgSession *s, HgMoreTime answer);

/* The journal line of an answer: who asked, through what ("on the page",
 * "over D-Bus"), and for a grant the new limit. */
void hg_more_time_log(const HgSession *s, HgMoreTime answer, const char *how);
