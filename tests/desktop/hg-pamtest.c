/* Runs one PAM transaction through libpamtest for the desktop tests:
 *   hg-pamtest SERVICE USER OP... (OP: account, open, close)
 * prints each message of the module ("error: TEXT", "info: TEXT"), then
 * "OP RESULT" per operation (PAM_SUCCESS, PAM_PERM_DENIED or FAILED) and
 * the time it all took, and exits 0 when every one returned PAM_SUCCESS. */
#include <libpamtest.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_OPS 8

/* Messages are printed; no prompt is expected in these stacks: refuse
 * any. */
static int print_conversation(int n, const struct pam_message **msg,
                              struct pam_response **resp, void *data) {
  if (n <= 0 || n > PAM_MAX_NUM_MSG)
    return PAM_CONV_ERR;
  for (int i = 0; i < n; i++)
    if (msg[i]->msg_style != PAM_ERROR_MSG &&
        msg[i]->msg_style != PAM_TEXT_INFO)
      return PAM_CONV_ERR;
  *resp = calloc((size_t)n, sizeof(**resp));
  if (!*resp)
    return PAM_BUF_ERR;
  for (int i = 0; i < n; i++)
    printf("%s: %s\n", msg[i]->msg_style == PAM_ERROR_MSG ? "error" : "info",
           msg[i]->msg);
  return PAM_SUCCESS;
}

static const char *result_name(int rv) {
  switch (rv) {
  case PAM_SUCCESS:
    return "PAM_SUCCESS";
  case PAM_PERM_DENIED:
    return "PAM_PERM_DENIED";
  }
  return "FAILED";
}

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  struct pam_testcase cases[MAX_OPS];
  size_t n = 0;
  enum pamtest_err err;
  double start;
  int failed = 0;

  if (argc < 4 || argc - 3 > MAX_OPS) {
    fprintf(stderr, "usage: hg-pamtest SERVICE USER account|open|close...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    enum pamtest_ops op;
    if (strcmp(argv[i], "account") == 0)
      op = PAMTEST_ACCOUNT;
    else if (strcmp(argv[i], "open") == 0)
      op = PAMTEST_OPEN_SESSION;
    else if (strcmp(argv[i], "close") == 0)
      op = PAMTEST_CLOSE_SESSION;
    else {
      fprintf(stderr, "hg-pamtest: unknown operation %s\n", argv[i]);
      return 2;
    }
    cases[n++] = (struct pam_testcase)pam_test(op, PAM_SUCCESS);
  }
  start = now_sec();
  err =
      _pamtest_conv(argv[1], argv[2], print_conversation, NULL, cases, n, NULL);
  for (size_t i = 0; i < n; i++) {
    printf("%s %s\n", argv[i + 3], result_name(cases[i].op_rv));
    failed |= cases[i].op_rv != PAM_SUCCESS;
  }
  printf("elapsed %.3f\n", now_sec() - start);
  if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE)
    fprintf(stderr, "hg-pamtest: %s\n", pamtest_strerror(err));
  return failed || (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE) ? 1 : 0;
}
