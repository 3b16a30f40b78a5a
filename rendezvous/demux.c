/* The socket demultiplexing rule of docs/PROTOCOL.md section 1. The three
 * families are disjoint (see the proof in PROTOCOL.md), so the order of the
 * tests below does not change any answer; it follows the document. */
#include "rendezvous/demux.h"

#include <stdbool.h>

#include "common/bytes.h"
#include "crypto/messages.h"

/* Rule 1: byte 0 is 1..4, bytes 1..3 are zero and the length fits the type
 * (148, 92 and 64 bytes exactly, 32 or more for transport data: no
 * multiple-of-16 rule, senders cap the padding at the MTU). That is exactly
 * crypto/messages.h's header check, the one declaration of those formats. */
static bool is_wireguard(const uint8_t *pkt, size_t len)
{
	return message_validate_header(pkt, len) != MESSAGE_INVALID;
}

/* Rule 2: top two bits of byte 0 zero, length field a multiple of 4 equal to
 * the datagram length minus 20; then either the magic cookie at bytes 4..7
 * (RFC 5389/8489), or message type 0x0001 (an RFC 3489 Binding request). */
static enum demux_class stun_kind(const uint8_t *pkt, size_t len)
{
	size_t body;

	if (len < DEMUX_STUN_HEADER_LEN || (pkt[0] & 0xc0) != 0)
		return DEMUX_UNKNOWN;
	body = load_be16(pkt + 2);
	if (body % 4 != 0 || body + DEMUX_STUN_HEADER_LEN != len)
		return DEMUX_UNKNOWN;
	if (load_be32(pkt + 4) == DEMUX_STUN_MAGIC_COOKIE)
		return DEMUX_STUN;
	if (pkt[0] == 0x00 && pkt[1] == 0x01)
		return DEMUX_STUN_LEGACY;
	return DEMUX_UNKNOWN;
}

enum demux_class demux_classify(const uint8_t *pkt, size_t len)
{
	enum demux_class stun;

	if (len == 0)
		return DEMUX_UNKNOWN;
	if (is_wireguard(pkt, len))
		return DEMUX_WIREGUARD;
	stun = stun_kind(pkt, len);
	if (stun != DEMUX_UNKNOWN)
		return stun;
	/* Rule 3: our own messages, told apart by byte 0 alone; their parsers
	 * check the rest. */
	if (pkt[0] == DEMUX_TYPE_RENDEZVOUS)
		return DEMUX_RENDEZVOUS;
	if (pkt[0] == DEMUX_TYPE_PROBE)
		return DEMUX_PROBE;
	if (pkt[0] == DEMUX_TYPE_CHANNEL)
		return DEMUX_CHANNEL;
	return DEMUX_UNKNOWN;
}

const char *demux_class_name(enum demux_class c)
{
	switch (c) {
	case DEMUX_WIREGUARD:
		return "wireguard";
	case DEMUX_STUN:
		return "stun";
	case DEMUX_STUN_LEGACY:
		return "stun-legacy";
	case DEMUX_RENDEZVOUS:
		return "rendezvous";
	case DEMUX_PROBE:
		return "probe";
	case DEMUX_CHANNEL:
		return "channel";
	case DEMUX_UNKNOWN:
		break;
	}
	return "unknown";
}
