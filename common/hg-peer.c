/* The peer's uid from sock_diag; see hg-peer.h. One netlink request for
 * the exact socket (no dump), answered at once by the kernel. */
#include "hg-peer.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "hg-macros.h"

typedef struct {
  struct nlmsghdr nlh;
  struct inet_diag_req_v2 req;
} DiagRequest;

/* The peer's socket, seen from its side: its local address is our peer
 * address, its remote one is ours. */
static int fill_request(int fd, DiagRequest *q) {
  struct sockaddr_storage ours, theirs;
  socklen_t ours_len = sizeof(ours), theirs_len = sizeof(theirs);
  struct inet_diag_sockid *id = &q->req.id;

  if (getsockname(fd, (struct sockaddr *)&ours, &ours_len) < 0 ||
      getpeername(fd, (struct sockaddr *)&theirs, &theirs_len) < 0)
    return -errno;
  if (ours.ss_family != theirs.ss_family)
    return -EAFNOSUPPORT;
  *q = (DiagRequest){
      .nlh = {.nlmsg_len = sizeof(*q),
              .nlmsg_type = SOCK_DIAG_BY_FAMILY,
              .nlmsg_flags = NLM_F_REQUEST},
      .req = {.sdiag_family = (uint8_t)ours.ss_family,
              .sdiag_protocol = IPPROTO_TCP,
              .idiag_states = ~0u},
  };
  id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (ours.ss_family == AF_INET) {
    const struct sockaddr_in *o = (const void *)&ours,
                             *t = (const void *)&theirs;
    id->idiag_sport = t->sin_port;
    id->idiag_dport = o->sin_port;
    memcpy(id->idiag_src, &t->sin_addr, sizeof(t->sin_addr));
    memcpy(id->idiag_dst, &o->sin_addr, sizeof(o->sin_addr));
  } else if (ours.ss_family == AF_INET6) {
    const struct sockaddr_in6 *o = (const void *)&ours,
                              *t = (const void *)&theirs;
    id->idiag_sport = t->sin6_port;
    id->idiag_dport = o->sin6_port;
    memcpy(id->idiag_src, &t->sin6_addr, sizeof(t->sin6_addr));
    memcpy(id->idiag_dst, &o->sin6_addr, sizeof(o->sin6_addr));
  } else {
    return -EAFNOSUPPORT;
  }
  return 0;
}

/* The answer to request seq; answers to earlier requests that a failed
 * lookup left behind are skipped. */
static int read_answer(int nl, uint32_t seq, uid_t *ret_uid) {
  for (int tries = 0; tries < 8; tries++) {
    union {
      struct nlmsghdr h;
      char bytes[1024];
    } buf;
    ssize_t n = recv(nl, &buf, sizeof(buf), MSG_DONTWAIT);
    const struct nlmsghdr *h = &buf.h;

    if (n < 0)
      return -errno;
    if (!NLMSG_OK(h, (size_t)n))
      return -EBADMSG;
    if (h->nlmsg_seq != seq)
      continue;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *e = NLMSG_DATA(h);
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
        return -EBADMSG;
      return e->error < 0 ? e->error : -EBADMSG;
    }
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
      return -EBADMSG;
    *ret_uid = ((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_uid;
    return 0;
  }
  return -EBADMSG;
}

int hg_peer_open(void) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  return nl < 0 ? -errno : nl;
}

int hg_peer_uid(int nl, int fd, uid_t *ret_uid) {
  static uint32_t seq;
  DiagRequest q;
  int r;

  r = fill_request(fd, &q);
  if (r < 0)
    return r;
  q.nlh.nlmsg_seq = ++seq;
  /* The kernel answers while handling the send: the answer is there. */
  if (send(nl, &q, sizeof(q), MSG_DONTWAIT) < 0)
    return -errno;
  return read_answer(nl, q.nlh.nlmsg_seq, ret_uid);
}
