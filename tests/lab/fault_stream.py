#!/usr/bin/env python3
"""tests/lab/fault_stream.py: a paced TCP stream with a counter, to prove a
TCP connection across the link survives a fault.

  fault_stream.py server ADDR PORT SECS   accept one connection (within SECS),
                                          check every record until EOF, print
                                          one summary line; exit 1 on any gap,
                                          corruption, reset or time-out
  fault_stream.py client ADDR PORT SECS [RATE]
                                          send RATE bytes/s (default 1 MiB/s)
                                          for SECS seconds, then close; exit 1
                                          if the connection breaks

A record is 4096 bytes: an 8-byte big-endian sequence number, then a pattern
derived from it, so a lost, repeated or damaged record is seen at once. The
server also reports the longest stall between two records (the outage as TCP
saw it)."""
import socket
import struct
import sys
import time

RECORD = 4096


def record(seq):
    head = struct.pack(">Q", seq)
    fill = bytes(((seq + i) & 0xFF) for i in range(256))
    return head + (fill * (RECORD // 256))[: RECORD - len(head)]


def recv_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return bytes(buf)
        buf += chunk
    return bytes(buf)


def server(addr, port, secs):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(1)
    lsock.settimeout(secs)
    print("listening", flush=True)
    conn, _ = lsock.accept()
    lsock.close()
    # A stall longer than this is a dead connection, not an outage we wait out.
    conn.settimeout(30)
    seq, stall, last = 0, 0.0, time.monotonic()
    deadline = last + secs
    try:
        while time.monotonic() < deadline:
            rec = recv_exact(conn, RECORD)
            now = time.monotonic()
            if not rec:
                break
            if len(rec) != RECORD:
                print(f"stream: FAIL truncated record {seq} ({len(rec)} bytes)")
                return 1
            if rec != record(seq):
                got = struct.unpack(">Q", rec[:8])[0]
                print(f"stream: FAIL record {seq} is wrong (header says {got})")
                return 1
            stall = max(stall, now - last)
            last = now
            seq += 1
        else:
            print(f"stream: FAIL still open after {secs} s")
            return 1
    except OSError as e:
        print(f"stream: FAIL after {seq} records: {e}")
        return 1
    print(f"stream: records={seq} bytes={seq * RECORD} longest_stall_ms={int(stall * 1000)}")
    return 0


def client(addr, port, secs, rate):
    sock = socket.create_connection((addr, port), timeout=10)
    sock.settimeout(30)
    per_s = max(1, rate // RECORD)
    start = time.monotonic()
    seq = 0
    try:
        while True:
            now = time.monotonic()
            if now - start >= secs:
                break
            due = int((now - start) * per_s) + 1
            while seq < due:
                sock.sendall(record(seq))
                seq += 1
            time.sleep(0.01)
        sock.shutdown(socket.SHUT_WR)
        # Wait for the server's close, so every record was read before we exit.
        sock.recv(1)
    except OSError as e:
        print(f"stream client: FAIL after {seq} records: {e}")
        return 1
    sock.close()
    print(f"stream client: sent records={seq} bytes={seq * RECORD}")
    return 0


def main(argv):
    if len(argv) < 5 or argv[1] not in ("server", "client"):
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, secs = argv[2], int(argv[3]), float(argv[4])
    if argv[1] == "server":
        return server(addr, port, secs)
    rate = int(argv[5]) if len(argv) > 5 else 1 << 20
    return client(addr, port, secs, rate)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
