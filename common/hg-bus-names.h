/* The names of hourglass's D-Bus API (dbus/org.hourglass1.*.xml), in one
 * place for the daemon, hourglassctl, the agent and pam_hourglass.so. */
#pragma once

#define HG_BUS_NAME "org.hourglass1"
#define HG_BUS_PATH "/org/hourglass1"
#define HG_BUS_SESSION_PREFIX "/org/hourglass1/session"
#define HG_BUS_MANAGER_IFACE "org.hourglass1.Manager"
#define HG_BUS_SESSION_IFACE "org.hourglass1.Session"
#define HG_BUS_ERROR_NO_SUCH_SESSION "org.hourglass1.Error.NoSuchSession"
#define HG_BUS_ERROR_NO_SUCH_USER "org.hourglass1.Error.NoSuchUser"
#define HG_BUS_ERROR_MORE_TIME_REFUSED "org.hourglass1.Error.MoreTimeRefused"
/* The desktop agent, on each user's session bus. */
#define HG_AGENT_BUS_NAME "org.hourglass1.Agent"
/* Session ids: 128 random bits in lower-case hex. */
#define HG_SESSION_ID_LEN 32
