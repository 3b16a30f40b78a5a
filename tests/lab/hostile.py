#!/usr/bin/env python3
"""tests/lab/hostile.py: hostile datagrams for a peer's UDP socket (issue 7,
evidence "hostile-input flood" and "handshake flood"). Sends at a bounded
rate for a bounded number of datagrams or seconds, counts what it sent per
kind and what came back.

  hostile.py mixed HOST PORT --count N --rate R --peer-key B64 [--pcap FILE]
      N datagrams, round-robin over the kinds below (replays need --pcap,
      a tcpdump capture of traffic towards the peer):
        random       random bytes, random length 1..1400
        truncated    each message type (WireGuard 1-4, rendezvous 0xf1,
                     probe 0xf2) cut below its length
        oversized    each WireGuard type longer than its fixed length, and
                     datagrams over the link's largest datagram (2000-4000)
        badmac       WireGuard initiation/response/cookie/data of the right
                     length with random MACs, indices and contents
        probe        28-byte path probes (0xf2) MACed with an unknown key
        rendezvous   rendezvous envelopes (0xf1, server -> peer) addressed to
                     the peer's key that no server of ours sealed
        replay_init  captured handshake initiations, replayed
        replay_data  captured transport (type 4) packets, replayed
      --spoof-from IP:PORT sends from that source instead (a raw socket): the
      way through a NAT mapping that only lets that address in, e.g. the
      one a peer keeps towards its rendezvous server. Replies then go there.
  hostile.py handshake HOST PORT --secs S --rate R --peer-key B64
      initiations with a VALID mac1 for the peer's key (WireGuard's
      BLAKE2s-128 keyed with BLAKE2s-256("mac1----" || key)) and random
      contents; counts the cookie replies (type 3, 64 bytes) that answer them.

  hostile.py inspect PCAP --peer IP
      counts the WireGuard messages by type to and from IP in a capture.

The peer key is the target's static public key in base64, as `status`
prints it. Prints one "key=value" summary line on stdout."""
import argparse
import base64
import os
import select
import socket
import struct
import sys
import time
from hashlib import blake2s

WG_INIT, WG_RESP, WG_COOKIE, WG_DATA = 1, 2, 3, 4
WG_LEN = {WG_INIT: 148, WG_RESP: 92, WG_COOKIE: 64}
RDV_TYPE, PROBE_TYPE = 0xF1, 0xF2


def wg_header(msg_type):
    return bytes([msg_type, 0, 0, 0])


def mac1_key(peer_key):
    return blake2s(b"mac1----" + peer_key).digest()


def initiation_with_mac1(key1):
    """148 bytes: header, random sender/ephemeral/static/timestamp, then a
    valid mac1 over everything before it and an empty mac2."""
    body = wg_header(WG_INIT) + os.urandom(4 + 32 + 48 + 28)
    mac1 = blake2s(body, key=key1, digest_size=16).digest()
    return body + mac1 + bytes(16)


def random_wg(msg_type):
    if msg_type == WG_DATA:
        return wg_header(WG_DATA) + os.urandom(4 + 8 + 16 + 16 * (1 + os.urandom(1)[0] % 8))
    return wg_header(msg_type) + os.urandom(WG_LEN[msg_type] - 4)


def rdv_envelope(peer_key, body_len):
    counter = struct.pack(">Q", int(time.time() * 1e6))
    return bytes([RDV_TYPE, 1, 1, 0]) + peer_key + counter + os.urandom(16) + os.urandom(body_len + 16)


def read_pcap(path):
    """(source IP, destination IP, UDP payload) of each IPv4 UDP packet in
    a pcap (Ethernet, Linux cooked v1/v2 or raw IP)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_len = {1: 14, 113: 16, 276: 20, 101: 0, 12: 0}.get(linktype)
    if link_len is None:
        raise ValueError(f"{path}: link type {linktype} not handled")
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ip = pkt[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        udp = ip[ihl:total]
        if len(udp) >= 8:
            out.append((socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), bytes(udp[8:])))
    return out


def ip_checksum(hdr):
    total = sum(struct.unpack(f">{len(hdr) // 2}H", hdr))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Sender:
    """Paced sending: at most `rate` datagrams per second, in 10 ms ticks;
    replies are read as they come so they never pile up. With `spoof`
    (ip, port) the datagrams leave a raw socket with that source."""

    def __init__(self, host, port, rate, spoof=None):
        self.dst = (host, port)
        self.rate = rate
        self.spoof = spoof
        if spoof:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.sock.bind(("0.0.0.0", 0))
        self.sock.setblocking(False)
        self.start = time.monotonic()
        self.sent = 0
        self.send_errors = 0
        self.replies = []
        self.ip_id = 0

    def frame(self, payload):
        """IPv4 + UDP headers from the spoofed source (UDP checksum 0: none)."""
        if len(payload) > 1472:
            raise ValueError("spoofed datagrams must fit one frame")
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        src = socket.inet_aton(self.spoof[0])
        dst = socket.inet_aton(self.dst[0])
        udp = struct.pack(">HHHH", self.spoof[1], self.dst[1], 8 + len(payload), 0)
        hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload), self.ip_id,
                          0x4000, 64, socket.IPPROTO_UDP, 0, src, dst)
        hdr = hdr[:10] + struct.pack(">H", ip_checksum(hdr)) + hdr[12:]
        return hdr + udp + payload

    def pace(self):
        while True:
            due = int((time.monotonic() - self.start) * self.rate) + 1
            if self.sent + self.send_errors < due:
                return
            self.drain(0.005)

    def send(self, pkt):
        self.pace()
        for _ in range(3):
            try:
                if self.spoof:
                    self.sock.sendto(self.frame(pkt), (self.dst[0], 0))
                else:
                    self.sock.sendto(pkt, self.dst)
                self.sent += 1
                return
            except BlockingIOError:
                self.drain(0.01)
            except OSError:
                break
        self.send_errors += 1

    def drain(self, wait):
        if self.spoof:
            time.sleep(wait)
            return
        ready, _, _ = select.select([self.sock], [], [], wait)
        while ready:
            try:
                self.replies.append(self.sock.recv(2048))
            except BlockingIOError:
                break


def cmd_mixed(args):
    peer_key = base64.b64decode(args.peer_key)
    captured = [p for _, _, p in read_pcap(args.pcap)] if args.pcap else []
    inits = [p for p in captured if len(p) == 148 and p[0] == WG_INIT]
    datas = [p for p in captured if len(p) >= 32 and p[0] == WG_DATA]
    kinds = ["random", "truncated", "oversized", "badmac", "probe", "rendezvous"]
    if inits:
        kinds.append("replay_init")
    if datas:
        kinds.append("replay_data")
    counts = dict.fromkeys(kinds, 0)
    minlen = {WG_INIT: 148, WG_RESP: 92, WG_COOKIE: 64, WG_DATA: 32, RDV_TYPE: 76, PROBE_TYPE: 28}
    spoof = None
    if args.spoof_from:
        ip, _, port = args.spoof_from.rpartition(":")
        spoof = (ip, int(port))
    s = Sender(args.host, args.port, args.rate, spoof)
    for i in range(args.count):
        kind = kinds[i % len(kinds)]
        r = i // len(kinds)
        if kind == "random":
            pkt = os.urandom(1 + r % 1400)
        elif kind == "truncated":
            t = list(minlen)[r % len(minlen)]
            pkt = bytes([t]) + os.urandom(r % (minlen[t] - 1))
        elif kind == "oversized":
            if r % 5 == 4 and not spoof:
                pkt = wg_header(WG_DATA) + os.urandom(2000 + r % 2000)
            else:
                t = (WG_INIT, WG_RESP, WG_COOKIE, WG_INIT)[r % 4]
                pkt = random_wg(t) + os.urandom(1 + r % 64)
        elif kind == "badmac":
            pkt = random_wg((WG_INIT, WG_RESP, WG_COOKIE, WG_DATA)[r % 4])
        elif kind == "probe":
            pkt = bytes([PROBE_TYPE, 1 + r % 2, 0, 0]) + os.urandom(24)
        elif kind == "rendezvous":
            pkt = rdv_envelope(peer_key, r % 300)
        elif kind == "replay_init":
            pkt = inits[r % len(inits)]
        else:
            pkt = datas[r % len(datas)]
        s.send(pkt)
        counts[kind] += 1
    s.drain(0.5)
    secs = time.monotonic() - s.start
    detail = " ".join(f"{k}={v}" for k, v in counts.items())
    print(f"sent={s.sent} send_errors={s.send_errors} secs={secs:.1f} replies={len(s.replies)} "
          f"captured_inits={len(inits)} captured_data={len(datas)} {detail}")
    return 0


def cmd_handshake(args):
    key1 = mac1_key(base64.b64decode(args.peer_key))
    s = Sender(args.host, args.port, args.rate)
    ours = set()
    while time.monotonic() - s.start < args.secs:
        pkt = initiation_with_mac1(key1)
        ours.add(pkt[4:8])
        s.send(pkt)
    s.drain(0.5)
    cookies = [p for p in s.replies if len(p) == 64 and p[0] == WG_COOKIE]
    # A cookie reply's receiver index is the sender index of the initiation.
    matched = sum(1 for p in cookies if p[4:8] in ours)
    print(f"sent={s.sent} send_errors={s.send_errors} secs={time.monotonic() - s.start:.1f} "
          f"replies={len(s.replies)} cookie_replies={len(cookies)} matching={matched}")
    return 0


def cmd_inspect(args):
    """WireGuard messages between us (the capture's host) and one peer."""
    names = {WG_INIT: "initiation", WG_RESP: "response", WG_COOKIE: "cookie", WG_DATA: "data"}
    counts = {}
    for src, dst, p in read_pcap(args.pcap):
        if args.peer not in (src, dst) or not p or p[0] not in names:
            continue
        key = ("from_peer_" if src == args.peer else "to_peer_") + names[p[0]]
        counts[key] = counts.get(key, 0) + 1
    order = [d + n for d in ("from_peer_", "to_peer_") for n in names.values()]
    print(" ".join(f"{k}={counts.get(k, 0)}" for k in order))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mixed")
    h = sub.add_parser("handshake")
    i = sub.add_parser("inspect")
    i.add_argument("pcap")
    i.add_argument("--peer", required=True)
    for q in (m, h):
        q.add_argument("host")
        q.add_argument("port", type=int)
        q.add_argument("--peer-key", required=True)
        q.add_argument("--rate", type=int, default=10000)
    m.add_argument("--count", type=int, default=100000)
    m.add_argument("--pcap")
    m.add_argument("--spoof-from", metavar="IP:PORT")
    h.add_argument("--secs", type=float, default=5)
    args = p.parse_args()
    if args.cmd == "inspect":
        return cmd_inspect(args)
    if args.rate <= 0 or args.rate > 200000:
        p.error("--rate must be 1..200000")
    if len(base64.b64decode(args.peer_key)) != 32:
        p.error("--peer-key must be 32 bytes in base64")
    return cmd_mixed(args) if args.cmd == "mixed" else cmd_handshake(args)


if __name__ == "__main__":
    sys.exit(main())
