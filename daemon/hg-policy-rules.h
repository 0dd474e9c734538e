/* Policy rules: the configuration's [Policy NAME] groups. Each says whom it
 * is for (MatchUser=, MatchGroup=, MatchSource=, MatchSeat=,
 * MatchService=: a list means any of them, several keys all of them, no
 * key anyone) and which limits it sets; the rest come from [Timeouts] and
 * [Desktop]. The first rule in file order that matches a session at
 * sign-in is its rule for life (drop-ins come after the main file, in
 * lexical order; a drop-in's group of an existing name changes that rule
 * in its place). Matching is a pure function: who signs in must be known
 * first, groups included (resolved outside the daemon's loop). */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "hg-policy.h"
#include "hg-session.h"

/* Who signs in, as far as the rules care. */
typedef struct {
  const char *user;
  const char *const *groups; /* NULL-terminated names; NULL: unknown */
  HgSessionSource source;
  const char *seat;    /* NULL: none */
  const char *service; /* the PAM service of the login, NULL: unknown */
} HgPolicyWho;

/* What a rule sets: a mask of these, and the values. */
typedef enum {
  HG_RULE_WARN_AFTER = 1 << 0,
  HG_RULE_EXPIRE_AFTER = 1 << 1,
  HG_RULE_MAX_SESSION = 1 << 2,
  HG_RULE_CLOSE_AFTER = 1 << 3,
  HG_RULE_ACTION = 1 << 4,
  HG_RULE_LOCKED_MAX = 1 << 5,
  HG_RULE_EXTEND_BY = 1 << 6,
  HG_RULE_MAX_EXTENSIONS = 1 << 7,
  HG_RULE_WARN_BEFORE = 1 << 8,
  HG_RULE_DAILY_ALLOWANCE = 1 << 9,
  HG_RULE_ALLOWED_HOURS = 1 << 10,
} HgRuleSets;

typedef struct {
  char *name;
  char *file;                           /* where its group first appeared */
  unsigned line;                        /* of that group's header, 1-based */
  GStrv users, groups, seats, services; /* NULL: any */
  int source;                           /* an HgSessionSource, -1: any */
  unsigned sets;                        /* HgRuleSets */
  HgLimits limits;                      /* the values it sets */
} HgPolicyRule;

typedef struct HgPolicyRules HgPolicyRules;

HgPolicyRules *hg_policy_rules_new(void);
HgPolicyRules *hg_policy_rules_free(HgPolicyRules *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgPolicyRules, hg_policy_rules_free)

/* Reads the group "Policy NAME" of kf (the text of file, for its line),
 * adding a message naming file, key and value to errors for each problem. */
void hg_policy_rules_read(HgPolicyRules *r, GKeyFile *kf, const char *group,
                          const char *file, const char *text,
                          GPtrArray *errors);

unsigned hg_policy_rules_count(const HgPolicyRules *r);
const HgPolicyRule *hg_policy_rules_get(const HgPolicyRules *r, unsigned i);
const HgPolicyRule *hg_policy_rules_find(const HgPolicyRules *r,
                                         const char *name);
/* The first rule for who, NULL when none matches (the fallback). */
const HgPolicyRule *hg_policy_rules_match(const HgPolicyRules *r,
                                          const HgPolicyWho *who);

/* A rule's limits over the fallback: what it sets replaces the fallback's
 * value. A rule of NULL is the fallback itself. */
void hg_policy_rule_apply(const HgPolicyRule *rule, const HgLimits *fallback,
                          HgLimits *ret);

/* What is legal but probably a mistake: a rule that can never match
 * because an earlier one always wins, a user or group no one has. One
 * line each, added to warnings. Resolves names (NSS): for load time. */
void hg_policy_rules_check(const HgPolicyRules *r, GPtrArray *warnings);

/* "600;60": lead times before the absolute end, longest first, into
 * limits; false with the reason in why. */
bool hg_warn_before_parse(const char *value, HgLimits *limits, GString *why);

/* Checks limits against the rules a policy must keep (warn before expire
 * and so on); false with the reason in why. */
bool hg_limits_valid(const HgLimits *l, GString *why);
