/* Desktop sessions and seat idleness, from logind: registered desktop
 * logins (pam_hourglass.so) follow the policy with their idle sources
 * (logind's idle hint where a desktop sets it, the tty of console and SSH
 * logins, hourglass-agent; hg-desktop-idle.c) and are terminated or locked
 * at their end ([Desktop] Action); the seat's active session (the kiosk
 * browser's) turns each "not idle" edge into activity of the web sessions
 * ([Idle] Sources=logind). */
#pragma once

#include <systemd/sd-bus.h>

#include "hg-config.h"
#include "hg-registry.h"

typedef struct HgDesktop HgDesktop;

int hg_desktop_new(sd_bus *bus, HgRegistry *reg, const HgConfig *config,
                   HgDesktop **ret);
HgDesktop *hg_desktop_free(HgDesktop *d);
void hg_desktop_reload(HgDesktop *d, const HgConfig *config);

/* Restored desktop sessions that logind still has are followed again
 * (their idle hints, their end through logind); the others end (reason
 * logout) with a journal line. Blocks briefly: for start-up. */
void hg_desktop_take_back(HgDesktop *d);

/* The logind session of a managed desktop session, or NULL. */
const char *hg_desktop_logind_id(HgDesktop *d, const char *session_id);

/* Whether anything can tell the idleness of a desktop session (logind's
 * hint where a desktop sets it, its tty, its agent): without, only
 * MaxSessionSec ends it. */
bool hg_desktop_idle_known(HgDesktop *d, const char *session_id);

/* The Manager's ReportIdleSource(s id, s method, as inhibitors) for
 * session s, after the caller was authorized: how the session's agent sees
 * input ("" for not at all) and the org.freedesktop.ScreenSaver locks it
 * knows of. The agent (the sender) is followed: when it leaves the bus,
 * what it said is forgotten. Replies to m. */
int hg_desktop_report_agent(HgDesktop *d, sd_bus_message *m, HgSession *s,
                            const char *method, char **inhibitors,
                            sd_bus_error *error);

/* The Manager's RegisterDesktopSession(s) -> s and
 * UnregisterDesktopSession(s), after the caller was authorized. They
 * reply to m themselves (Register asynchronously, once logind answered). */
int hg_desktop_register(HgDesktop *d, sd_bus_message *m, sd_bus_error *error);
int hg_desktop_unregister(HgDesktop *d, sd_bus_message *m, sd_bus_error *error);
