/* JOURNAL_STREAM check shared by hourglassd and hourglass-agent. */
#include "hg-journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

bool hg_stderr_is_journal(void) {
  const char *e = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;

  if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
    return false;
  if (fstat(STDERR_FILENO, &st) < 0)
    return false;
  return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}
