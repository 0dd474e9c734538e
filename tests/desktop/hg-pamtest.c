/* Runs one PAM transaction through libpamtest for the desktop tests:
 *   hg-pamtest SERVICE USER OP... (OP: open, close)
 * prints "OP RESULT" per operation (pam_strerror) and the time each took,
 * and exits 0 when every one returned PAM_SUCCESS. */
#include <libpamtest.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_OPS 8

/* No prompt is expected in a session stack: refuse any. */
static int no_conversation(int n, const struct pam_message **msg,
                           struct pam_response **resp, void *data) {
  return PAM_CONV_ERR;
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
    fprintf(stderr, "usage: hg-pamtest SERVICE USER open|close...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    enum pamtest_ops op;
    if (strcmp(argv[i], "open") == 0)
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
  err = _pamtest_conv(argv[1], argv[2], no_conversation, NULL, cases, n, NULL);
  for (size_t i = 0; i < n; i++) {
    printf("%s %s\n", argv[i + 3],
           cases[i].op_rv == PAM_SUCCESS ? "PAM_SUCCESS" : "FAILED");
    failed |= cases[i].op_rv != PAM_SUCCESS;
  }
  printf("elapsed %.3f\n", now_sec() - start);
  if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE)
    fprintf(stderr, "hg-pamtest: %s\n", pamtest_strerror(err));
  return failed || (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE) ? 1 : 0;
}
