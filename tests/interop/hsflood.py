#!/usr/bin/env python3
"""tests/interop/hsflood.py: handshake initiations in bursts, to put
wireguard-go under load (tests/lab/test_interop_cookie).

  hsflood.py HOST PORT --peer-key B64 [--secs S] [--burst B] [--every-ms P]

Every P ms it sends B initiations back to back, each with a VALID mac1 for
the peer's key and random contents otherwise (tests/lab/hostile.py's
initiation_with_mac1), for S seconds; replies are read between bursts.
wireguard-go counts as under load while its handshake queue holds at least
QueueHandshakeSize/8 = 128 messages (and for 1 s after): a paced stream its
Curve25519 workers keep up with never fills it, a burst of B > 128 arriving
at once does, whatever else the machine is doing. The initiations come from
a pool made once (their sender indices distinct), so the sender spends its
time sending. Prints one line: sent, send_errors, secs, replies,
cookie_replies (type 3, 64 bytes), matching (answering one of ours)."""
import argparse
import base64
import os
import select
import socket
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from hostile import initiation_with_mac1, mac1_key  # noqa: E402

POOL = 4096


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--peer-key", required=True)
    p.add_argument("--secs", type=float, default=10)
    p.add_argument("--burst", type=int, default=200)
    p.add_argument("--every-ms", type=int, default=50)
    a = p.parse_args()
    key = base64.b64decode(a.peer_key)
    if len(key) != 32:
        p.error("--peer-key must be 32 bytes in base64")
    if not 1 <= a.burst <= 2000 or not 5 <= a.every_ms <= 10000 or not 0 < a.secs <= 600:
        p.error("--burst 1..2000, --every-ms 5..10000, --secs up to 600")
    key1 = mac1_key(key)
    pool = [initiation_with_mac1(key1) for _ in range(POOL)]
    ours = {pkt[4:8] for pkt in pool}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.setblocking(False)
    dst = (a.host, a.port)
    sent = errors = i = 0
    replies = cookies = matched = 0
    start = time.monotonic()
    tick = start
    while tick - start < a.secs:
        for _ in range(a.burst):
            try:
                s.sendto(pool[i % POOL], dst)
                sent += 1
            except OSError:
                errors += 1
            i += 1
        tick += a.every_ms / 1000
        while True:
            wait = tick - time.monotonic()
            ready, _, _ = select.select([s], [], [], max(wait, 0))
            while ready:
                try:
                    r = s.recv(2048)
                except BlockingIOError:
                    break
                replies += 1
                if len(r) == 64 and r[0] == 3:
                    cookies += 1
                    matched += r[4:8] in ours
            if wait <= 0:
                break
    print(f"sent={sent} send_errors={errors} secs={time.monotonic() - start:.1f} "
          f"replies={replies} cookie_replies={cookies} matching={matched}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
