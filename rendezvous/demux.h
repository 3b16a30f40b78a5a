/* The one rule that tells apart the datagrams sharing a peer's UDP socket:
 * WireGuard, STUN and our own messages (rendezvous, path probes). It matches
 * docs/PROTOCOL.md section 1 word for word; the server and the link engine
 * both call it, nobody else re-derives it. */
#ifndef RENDEZVOUS_DEMUX_H
#define RENDEZVOUS_DEMUX_H

#include <stddef.h>
#include <stdint.h>

/* Byte 0 of our own messages. The top two bits are set, so these can never be
 * STUN (top two bits zero) nor WireGuard (byte 0 is 1..4). */
enum demux_own_type {
	DEMUX_TYPE_RENDEZVOUS = 0xf1, /* docs/PROTOCOL.md section 3 */
	DEMUX_TYPE_PROBE = 0xf2,      /* reserved: path probes, section 4 */
	DEMUX_TYPE_CHANNEL = 0xf3,    /* relay channel datagram, section 3.7 */
};

enum demux_stun_const {
	DEMUX_STUN_HEADER_LEN = 20,
	DEMUX_STUN_MAGIC_COOKIE = 0x2112a442,
};

enum demux_class {
	DEMUX_UNKNOWN,        /* none of the families below: drop and count */
	DEMUX_WIREGUARD,      /* WireGuard v1, types 1..4 */
	DEMUX_STUN,           /* STUN with the RFC 5389 magic cookie */
	DEMUX_STUN_LEGACY,    /* RFC 3489 Binding request (no magic cookie) */
	DEMUX_RENDEZVOUS,     /* our rendezvous envelope */
	DEMUX_PROBE,          /* our path probe (reserved) */
	DEMUX_CHANNEL,        /* our relay channel datagram (a WireGuard message inside) */
};

/* Classifies one received datagram by its first bytes and its length only;
 * never reads past len. Call before any parser. */
enum demux_class demux_classify(const uint8_t *pkt, size_t len);

/* A short name for logs and counters ("wireguard", "stun", ...). */
const char *demux_class_name(enum demux_class c);

#endif
