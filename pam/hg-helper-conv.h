/* The PAM helper's conversation: every PAM message goes to the daemon over
 * the helper socket, every prompt's answer comes back from it. */
#pragma once

#include <stdbool.h>
#include <security/pam_appl.h>

/* appdata_ptr of the conversation and of the fail-delay callback. */
typedef struct {
  int fd;
  /* The helper's own time bound (alarm(2)), paused while a prompt waits
   * for the person: that wait is the daemon's to bound. */
  unsigned timeout_sec;
} HgHelperConv;

/* A struct pam_conv function. Sends the call's messages, then WAIT with
 * the number of prompts (none when there are none) and reads exactly that
 * many answers. Accepts resp == NULL when nothing needs an answer; refuses
 * binary prompts, which no web page can answer. */
int hg_helper_conv(int num_msg, const struct pam_message **msg,
                   struct pam_response **resp, void *appdata_ptr);

/* The PAM_FAIL_DELAY item: tells the daemon how long to hold a failure back
 * instead of sleeping here, which would only delay this helper. */
void hg_helper_fail_delay(int retval, unsigned usec_delay, void *appdata_ptr);
