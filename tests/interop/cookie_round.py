#!/usr/bin/env python3
"""tests/interop/cookie_round.py: finds WireGuard's cookie round in a capture
(tests/lab/test_interop_cookie). Independent of the engine's code: BLAKE2s
from Python, XChaCha20-Poly1305 from libsodium through ctypes.

  cookie_round.py PCAP --initiator IP --responder-key B64

Lists the handshake messages between the initiator and the responder in
order, and exits 0 only if the capture holds, in this order:
  1. an initiation from IP with mac2 all zero (sender index S1, mac1 M1);
  2. a cookie reply to IP for S1 that decrypts with the responder's key
     (key BLAKE2s-256("cookie--" || responder public key), additional data
     M1): the cookie C;
  3. a later initiation from IP whose mac2 is BLAKE2s-128 keyed with C over
     the message up to mac2 (sender index S2);
  4. a response to IP for S2.
Any initiation from IP with a non-zero mac2 that matches no cookie it was
given also fails. Prints "round=ok ..." or "round=none ..." on stdout."""
import argparse
import base64
import ctypes
import ctypes.util
import os
import struct
import sys
from hashlib import blake2s

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from hostile import read_pcap  # noqa: E402  (pcap reader shared with the lab tools)

WG_INIT, WG_RESP, WG_COOKIE = 1, 2, 3
INIT_LEN, RESP_LEN, COOKIE_LEN = 148, 92, 64
MAC1_OFF, MAC2_OFF = INIT_LEN - 32, INIT_LEN - 16


def load_sodium():
    name = ctypes.util.find_library("sodium") or "libsodium.so.23"
    lib = ctypes.CDLL(name)
    if lib.sodium_init() < 0:
        raise OSError("sodium_init failed")
    return lib


def xchacha_open(lib, key, nonce, box, ad):
    out = ctypes.create_string_buffer(len(box))
    out_len = ctypes.c_ulonglong(0)
    r = lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(out_len), None, box, ctypes.c_ulonglong(len(box)),
        ad, ctypes.c_ulonglong(len(ad)), nonce, key)
    return out.raw[:out_len.value] if r == 0 else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pcap")
    p.add_argument("--initiator", required=True)
    p.add_argument("--responder-key", required=True)
    args = p.parse_args()
    rkey = base64.b64decode(args.responder_key)
    if len(rkey) != 32:
        p.error("--responder-key must be 32 bytes in base64")
    cookie_key = blake2s(b"cookie--" + rkey).digest()
    lib = load_sodium()

    inits = {}        # sender index -> mac1 of each initiation from the initiator
    cookies = []      # cookies the initiator was given, in order
    mac2_inits = {}   # sender index -> position, initiations with a valid mac2
    stage = 0         # 1: zero-mac2 init seen ... 4: response to a mac2 init
    bad, log = [], []
    n = {"init_plain": 0, "init_mac2": 0, "cookie": 0, "response": 0}
    for i, (src, dst, pkt) in enumerate(read_pcap(args.pcap)):
        if args.initiator not in (src, dst) or len(pkt) < 4:
            continue
        t = pkt[0]
        if t == WG_INIT and len(pkt) == INIT_LEN and src == args.initiator:
            sender = pkt[4:8]
            mac2 = pkt[MAC2_OFF:]
            inits[sender] = pkt[MAC1_OFF:MAC2_OFF]
            if mac2 == bytes(16):
                n["init_plain"] += 1
                log.append(f"#{i} initiation {sender.hex()} mac2=0")
                stage = max(stage, 1)
                continue
            n["init_mac2"] += 1
            ok = any(blake2s(pkt[:MAC2_OFF], key=c, digest_size=16).digest() == mac2 for c in cookies)
            log.append(f"#{i} initiation {sender.hex()} mac2={'valid' if ok else 'WRONG'}")
            if not ok:
                bad.append(f"initiation #{i} carries a mac2 that matches no cookie it was given")
            elif stage >= 2:
                mac2_inits[sender] = i
                stage = max(stage, 3)
        elif t == WG_COOKIE and len(pkt) == COOKIE_LEN and dst == args.initiator:
            n["cookie"] += 1
            receiver, nonce, box = pkt[4:8], pkt[8:32], pkt[32:64]
            mac1 = inits.get(receiver)
            cookie = xchacha_open(lib, cookie_key, nonce, box, mac1) if mac1 else None
            if cookie is None:
                log.append(f"#{i} cookie reply for {receiver.hex()}: does not decrypt "
                           f"({'no initiation of that index' if mac1 is None else 'bad tag'})")
                bad.append(f"cookie reply #{i} does not decrypt for any initiation it answers")
                continue
            cookies.append(cookie)
            log.append(f"#{i} cookie reply for {receiver.hex()}: decrypts, cookie {cookie.hex()}")
            stage = max(stage, 2)
        elif t == WG_RESP and len(pkt) == RESP_LEN and dst == args.initiator:
            n["response"] += 1
            receiver = pkt[8:12]
            answered = "a mac2 initiation" if receiver in mac2_inits else "a plain initiation"
            log.append(f"#{i} response for {receiver.hex()} ({answered})")
            if receiver in mac2_inits:
                stage = 4
    for line in log:
        print("  " + line, file=sys.stderr)
    for b in bad:
        print("  error: " + b, file=sys.stderr)
    counts = " ".join(f"{k}={v}" for k, v in n.items())
    ok = stage == 4 and not bad
    print(f"round={'ok' if ok else 'none'} stage={stage} {counts} errors={len(bad)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
