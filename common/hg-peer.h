/* Who is at the other end of a loopback TCP connection: the uid that owns
 * the peer's socket, from the kernel's socket table (sock_diag). Every
 * local client comes from 127.0.0.1, so the address tells nothing; the
 * owner does, and it is what per-peer limits and logs key on. */
#pragma once

#include <sys/types.h>

#define HG_PEER_UID_UNKNOWN ((uid_t)-1)

/* A sock_diag netlink socket for the lookups (close it when done), or
 * -errno. */
int hg_peer_open(void);

/* The owner of the socket connected to fd (an accepted TCP socket whose
 * peer is on this host, in this network namespace), asked over nl. 0 and
 * *ret_uid, or -ENOENT when the kernel knows no such socket (another
 * namespace, gone already), -errno on other failures. Never blocks. */
int hg_peer_uid(int nl, int fd, uid_t *ret_uid);
