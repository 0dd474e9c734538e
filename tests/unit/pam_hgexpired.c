/* pam_hgexpired, a PAM module for test-auth: the password of "carol" has
 * expired, and a change to "new-secret", typed twice, renews it. The change
 * asks in one conversation call with a message and two prompts, as real modules
 * do. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_modules.h>

#include "hg-macros.h"

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *h, int flags, int argc,
                                const char **argv) {
  const char *user = NULL;

  if (pam_get_user(h, &user, NULL) != PAM_SUCCESS || !user)
    return PAM_USER_UNKNOWN;
  return strcmp(user, "carol") == 0 ? PAM_NEW_AUTHTOK_REQD : PAM_SUCCESS;
}

static bool answers_match(const struct pam_response *resp) {
  return !resp[0].resp && resp[1].resp && resp[2].resp &&
         strcmp(resp[1].resp, "new-secret") == 0 &&
         strcmp(resp[2].resp, "new-secret") == 0;
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *h, int flags, int argc,
                                const char **argv) {
  const struct pam_message info = {PAM_TEXT_INFO, "Your password has expired."};
  const struct pam_message first = {PAM_PROMPT_ECHO_OFF, "New password: "};
  const struct pam_message again = {PAM_PROMPT_ECHO_OFF,
                                    "Retype new password: "};
  const struct pam_message *msgs[] = {&info, &first, &again};
  const struct pam_conv *conv = NULL;
  struct pam_response *resp = NULL;
  bool ok;

  if (flags & PAM_PRELIM_CHECK)
    return PAM_SUCCESS;
  if (pam_get_item(h, PAM_CONV, (const void **)&conv) != PAM_SUCCESS || !conv)
    return PAM_AUTHTOK_ERR;
  if (conv->conv(3, msgs, &resp, conv->appdata_ptr) != PAM_SUCCESS || !resp)
    return PAM_AUTHTOK_ERR;
  ok = answers_match(resp);
  for (int i = 0; i < 3; i++)
    hg_erase_and_free(resp[i].resp);
  free(resp);
  return ok ? PAM_SUCCESS : PAM_AUTHTOK_ERR;
}
