/* A console or SSH session's input, as logind itself reads it: the atime
 * of its tty device, which the kernel moves when the session reads input
 * (tty_update_time). logind computes IdleHint from it only when asked and
 * never signals it, so hourglassd reads it itself, at the instants its
 * policy can change (hg_registry_set_due_probe()). */
#pragma once

#include <stdbool.h>

#include "hg-clock.h"

/* logind's TTY property as a device under /dev: "pts/3", "tty2",
 * "ttyS0". Nothing absolute, no "..", no odd characters. */
bool hg_tty_name_is_valid(const char *tty);

/* The latest instant (CLOCK_REALTIME µs) the last input can have come,
 * given the tty's atime in whole seconds. Linux writes the atime only when
 * it differs from the old one beyond the low three bits of the seconds, so
 * input later in the same 8-second span leaves it as it was: the span's
 * end is the bound, never later than now. Counting from it, a session ends
 * up to 8 s late, never early. */
hg_usec_t hg_tty_input_bound(int64_t atime_sec, hg_usec_t realtime_now);

/* The last input on /dev/<tty> on CLOCK_BOOTTIME, never in the future.
 * -EINVAL for a bad name, -ENOTTY for something not a character device,
 * else stat()'s error (-ENOENT where the sandbox hides the device). */
int hg_tty_last_input(const char *tty, const HgClock *clock, hg_usec_t *ret);
