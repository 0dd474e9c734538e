/* Whether this process logs into the journal already. */
#pragma once

#include <stdbool.h>

/* systemd sets JOURNAL_STREAM to the device:inode of the stream it gave
 * us: true while stderr is still that stream. */
bool hg_stderr_is_journal(void);
