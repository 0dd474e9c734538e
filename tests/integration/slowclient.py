#!/usr/bin/python3
"""A hostile local HTTP client, for tests that run it as another user:

  slowclient.py PORT hold N R    open N connections, each with an unfinished
                                 request header, and hold them (R of them
                                 are expected to be refused)
  slowclient.py PORT trickle     one connection that sends a header byte
                                 every 0.2 s until the server cuts it
  slowclient.py PORT logins N    N sign-ins with random user names, one
                                 after the other: prints the statuses seen
  slowclient.py PORT prompts N USER PASSWORD
                                 N sign-ins that stop at a further PAM
                                 prompt (a one-time code), held unanswered:
                                 prints the statuses seen, then holds them

hold: prints {"open": N, "refused": N} once R connections were refused
(answered or closed by the server) or 10 s passed, then holds the rest
until stdin closes (or the process is killed).
trickle: prints {"cut_after": SECONDS, "answer": FIRST_LINE} when the
server closes the connection (at most 120 s).

The 0.2 s between bytes is the attack's own pace, not a wait for anything."""

import collections
import http.client
import json
import secrets
import select
import socket
import sys
import time


def partial_request(port):
    return ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port).encode()


def refusals(socks, expected, timeout):
    """Waits until the server has answered or closed `expected` of the
    sockets (a refusal comes at once), at most timeout; returns how many
    it did."""
    pending = set(socks)
    refused = 0
    deadline = time.monotonic() + timeout
    while pending and refused < expected and time.monotonic() < deadline:
        readable, _, _ = select.select(list(pending), [], [],
                                       max(0, deadline - time.monotonic()))
        for s in readable:
            pending.discard(s)
            refused += 1
    return refused


def hold(port, count, expected):
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(partial_request(port))
        socks.append(s)
    refused = refusals(socks, expected, 10.0)
    print(json.dumps({"open": len(socks) - refused, "refused": refused}),
          flush=True)
    sys.stdin.read()


def trickle(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    start = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\n")
    answer = b""
    while time.monotonic() - start < 120:
        readable, _, _ = select.select([s], [], [], 0.2)
        if readable:
            try:
                answer = s.recv(4096)
            except OSError:
                answer = b""
            break
        try:
            s.sendall(b"X")
        except OSError:
            break
    print(json.dumps({"cut_after": round(time.monotonic() - start, 2),
                      "answer": answer.split(b"\r\n")[0].decode("latin-1")}),
          flush=True)


def login(port, user, password):
    host = "127.0.0.1:%d" % port
    body = json.dumps({"user": user, "password": password})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/login", body=body, headers={
            "Host": host, "Origin": "http://" + host,
            "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        state = ""
        if resp.status == 200:
            state = json.loads(data).get("state", "")
        return "%d %s" % (resp.status, state) if state else str(resp.status)
    finally:
        conn.close()


def logins(port, count):
    seen = collections.Counter(
        login(port, "nobody-" + secrets.token_hex(6), "x")
        for _ in range(count))
    print(json.dumps(dict(seen)), flush=True)


def prompts(port, count, user, password):
    seen = collections.Counter(login(port, user, password)
                               for _ in range(count))
    print(json.dumps(dict(seen)), flush=True)
    sys.stdin.read()


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "hold":
        hold(port, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "logins":
        logins(port, int(sys.argv[3]))
    elif mode == "prompts":
        prompts(port, int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        trickle(port)


if __name__ == "__main__":
    main()
