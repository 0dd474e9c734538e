/* PAM conversation relayed to hourglassd; see hg-helper-conv.h. */
#include "hg-helper-conv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hg-macros.h"
#include "hg-proto.h"

_Static_assert(PAM_MAX_NUM_MSG <= HG_PROTO_MAX_PROMPTS,
               "a WAIT must be able to announce every prompt of a call");

/* The protocol type of a PAM message style, or 0 when it has none. */
static HgProtoType type_of_style(int style) {
  switch (style) {
  case PAM_PROMPT_ECHO_OFF:
    return HG_PROTO_PROMPT_ECHO_OFF;
  case PAM_PROMPT_ECHO_ON:
#ifdef PAM_RADIO_TYPE
  case PAM_RADIO_TYPE: /* a yes/no question: answered as visible text */
#endif
    return HG_PROTO_PROMPT_ECHO_ON;
  case PAM_ERROR_MSG:
    return HG_PROTO_ERROR;
  case PAM_TEXT_INFO:
    return HG_PROTO_INFO;
  default:
    return 0;
  }
}

static bool is_prompt(HgProtoType t) {
  return t == HG_PROTO_PROMPT_ECHO_OFF || t == HG_PROTO_PROMPT_ECHO_ON;
}

static int send_message(int fd, HgProtoType type, const char *text) {
  char clean[HG_PROTO_MAX_TEXT + 1];

  hg_proto_text_sanitize(text ? text : "", clean, sizeof(clean));
  return hg_proto_send(fd, &(HgProtoMsg){.type = type, .text = clean});
}

/* Reads one ANSWER into a malloc'ed string, the form PAM frees. */
static int recv_answer(int fd, char **ret) {
  HgProtoBuf buf;
  HgProtoMsg m;
  int r;

  r = hg_proto_recv_msg(fd, &buf, &m, false);
  if (r > 0 && m.type != HG_PROTO_ANSWER)
    r = -EBADMSG;
  if (r > 0) {
    *ret = strdup(m.text);
    r = *ret ? 0 : -ENOMEM;
  } else if (r == 0) {
    r = -ECONNRESET;
  }
  hg_proto_buf_wipe(&buf);
  return r;
}

static void free_responses(struct pam_response *resp, int n) {
  if (!resp)
    return;
  for (int i = 0; i < n; i++)
    hg_erase_and_free(resp[i].resp);
  free(resp);
}

static int recv_answers(int fd, int num_msg, const struct pam_message **msg,
                        struct pam_response *resp) {
  for (int i = 0; i < num_msg; i++) {
    int r;

    if (!is_prompt(type_of_style(msg[i]->msg_style)))
      continue;
    r = recv_answer(fd, &resp[i].resp);
    if (r < 0)
      return r;
  }
  return 0;
}

int hg_helper_conv(int num_msg, const struct pam_message **msg,
                   struct pam_response **resp, void *appdata_ptr) {
  HgHelperConv *c = appdata_ptr;
  struct pam_response *answers = NULL;
  uint32_t n_prompts = 0;
  int r;

  if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG || !msg || !c)
    return PAM_CONV_ERR;
  for (int i = 0; i < num_msg; i++) {
    HgProtoType t = type_of_style(msg[i]->msg_style);
    if (t == 0)
      return PAM_CONV_ERR;
    n_prompts += is_prompt(t);
  }
  if (n_prompts > 0 && !resp)
    return PAM_CONV_ERR;

  for (int i = 0; i < num_msg; i++)
    if (send_message(c->fd, type_of_style(msg[i]->msg_style), msg[i]->msg) < 0)
      return PAM_CONV_ERR;
  if (n_prompts > 0 &&
      hg_proto_send(
          c->fd, &(HgProtoMsg){.type = HG_PROTO_WAIT, .count = n_prompts}) < 0)
    return PAM_CONV_ERR;
  if (!resp)
    return PAM_SUCCESS;

  answers = calloc((size_t)num_msg, sizeof(struct pam_response));
  if (!answers)
    return PAM_BUF_ERR;
  (void)alarm(0);
  r = recv_answers(c->fd, num_msg, msg, answers);
  (void)alarm(c->timeout_sec);
  if (r < 0) {
    free_responses(answers, num_msg);
    return PAM_CONV_ERR;
  }
  *resp = answers;
  return PAM_SUCCESS;
}

void hg_helper_fail_delay(int retval, unsigned usec_delay, void *appdata_ptr) {
  HgHelperConv *c = appdata_ptr;

  /* PAM calls this after every authentication that set a delay, the
   * successful ones too; only a failure is to be held back. */
  if (!c || retval == PAM_SUCCESS || usec_delay == 0)
    return;
  (void)hg_proto_send(
      c->fd, &(HgProtoMsg){.type = HG_PROTO_FAIL_DELAY, .usec = usec_delay});
}
