/* ICMP "fragmentation needed" / ICMPv6 "packet too big" (tun/icmp_too_big.h).
 * The original packet is untrusted: every length is checked before use. */
#include "tun/icmp_too_big.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "tun/offload.h"

enum {
	IPV4_MIN_HEADER = 20,
	IPV6_HEADER = 40,
	ICMP_HEADER = 8,
	PROTO_ICMP = 1,
	PROTO_ICMPV6 = 58,
	PROTO_V6_HOPOPTS = 0,
	PROTO_V6_ROUTING = 43,
	PROTO_V6_FRAGMENT = 44,
	PROTO_V6_DSTOPTS = 60,
	V6_EXT_MAX = 8,
	ICMP_DEST_UNREACH = 3,
	ICMP_FRAG_NEEDED = 4,
	ICMPV6_PACKET_TOO_BIG = 2,
	ICMPV6_INFO_MIN = 128,      /* types below are errors */
	IPV4_DF = 0x4000,
	IPV4_OFFSET_MASK = 0x1fff,
	IPTOS_PREC_INTERNETCONTROL = 0xc0,
	REPLY_TTL = 64,
};

/* ICMP types that are errors (RFC 1122 §3.2.2: never answered). */
static bool icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static bool ipv4_is_unicast_host(const uint8_t a[4])
{
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)   /* this net, loopback, D, E */
		return false;
	return true;
}

static int reply4(const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out, size_t out_size)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, tot, quote, rlen;
	uint16_t frag;

	if (len < IPV4_MIN_HEADER || ihl < IPV4_MIN_HEADER || ihl > len)
		return -EINVAL;
	tot = load_be16(pkt + 2);
	if (tot < ihl || tot > len)
		return -EINVAL;
	frag = load_be16(pkt + 6);
	if (!(frag & IPV4_DF) || (frag & IPV4_OFFSET_MASK))
		return 0;
	if (!ipv4_is_unicast_host(pkt + 12) || pkt[16] >= 224 ||
	    !memcmp(pkt + 16, "\xff\xff\xff\xff", 4))
		return 0;
	if (pkt[9] == PROTO_ICMP && (tot < ihl + 1 || icmp4_is_error(pkt[ihl])))
		return 0;
	quote = MIN(tot, (size_t)TUN_ICMP4_ERROR_MAX - IPV4_MIN_HEADER - ICMP_HEADER);
	rlen = IPV4_MIN_HEADER + ICMP_HEADER + quote;
	if (rlen > out_size)
		return -ENOSPC;

	memset(out, 0, IPV4_MIN_HEADER + ICMP_HEADER);
	out[0] = 0x45;
	out[1] = IPTOS_PREC_INTERNETCONTROL;   /* as Linux's icmp_send */
	store_be16(out + 2, (uint16_t)rlen);
	out[8] = REPLY_TTL;
	out[9] = PROTO_ICMP;
	memcpy(out + 12, pkt + 16, 4);          /* from the original destination */
	memcpy(out + 16, pkt + 12, 4);          /* to the sender */
	store_be16(out + 10, tun_checksum(out, IPV4_MIN_HEADER, 0));

	out[20] = ICMP_DEST_UNREACH;
	out[21] = ICMP_FRAG_NEEDED;
	store_be16(out + 26, (uint16_t)MIN(mtu, 0xffffu));  /* next-hop MTU (RFC 1191) */
	memcpy(out + 28, pkt, quote);
	store_be16(out + 22, tun_checksum(out + 20, ICMP_HEADER + quote, 0));
	return (int)rlen;
}

/* True when the packet is an ICMPv6 error (never answered, RFC 4443 2.4 (e.1)),
 * or when its headers cannot be walked far enough to tell. */
static bool icmp6_is_error(const uint8_t *pkt, size_t len)
{
	uint8_t next = pkt[6];
	size_t off = IPV6_HEADER;

	for (int i = 0; i < V6_EXT_MAX; i++) {
		if (next == PROTO_ICMPV6)
			return off >= len || pkt[off] < ICMPV6_INFO_MIN;
		if (next != PROTO_V6_HOPOPTS && next != PROTO_V6_ROUTING &&
		    next != PROTO_V6_DSTOPTS && next != PROTO_V6_FRAGMENT)
			return false;
		if (off + 8 > len)
			return false;   /* a truncated chain is not an ICMPv6 error we can see */
		if (next == PROTO_V6_FRAGMENT) {
			if (load_be16(pkt + off + 2) & 0xfff8)
				return false;   /* a later fragment: no upper header */
			next = pkt[off];
			off += 8;
		} else {
			next = pkt[off];
			off += ((size_t)pkt[off + 1] + 1) * 8;
		}
	}
	return true;
}

static bool ipv6_is_unicast_host(const uint8_t a[16])
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	return a[0] != 0xff && memcmp(a, zero, 16) && memcmp(a, loop, 16);
}

static int reply6(const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out, size_t out_size)
{
	size_t tot, quote, rlen, icmp_len;
	uint32_t sum;

	if (len < IPV6_HEADER)
		return -EINVAL;
	tot = (size_t)load_be16(pkt + 4) + IPV6_HEADER;
	if (tot > len)
		return -EINVAL;
	/* A multicast destination may get a "packet too big" (RFC 4443 2.4
	 * (e.3)), but it cannot be the reply's source: no reply then. */
	if (!ipv6_is_unicast_host(pkt + 8) || !ipv6_is_unicast_host(pkt + 24))
		return 0;
	if (icmp6_is_error(pkt, tot))
		return 0;
	quote = MIN(tot, (size_t)TUN_ICMP6_ERROR_MAX - IPV6_HEADER - ICMP_HEADER);
	icmp_len = ICMP_HEADER + quote;
	rlen = IPV6_HEADER + icmp_len;
	if (rlen > out_size)
		return -ENOSPC;

	memset(out, 0, IPV6_HEADER + ICMP_HEADER);
	out[0] = 0x60;
	store_be16(out + 4, (uint16_t)icmp_len);
	out[6] = PROTO_ICMPV6;
	out[7] = REPLY_TTL;
	memcpy(out + 8, pkt + 24, 16);          /* from the original destination */
	memcpy(out + 24, pkt + 8, 16);          /* to the sender */

	out[40] = ICMPV6_PACKET_TOO_BIG;
	store_be32(out + 44, mtu);
	memcpy(out + 48, pkt, quote);
	/* pseudo-header: addresses, upper-layer length, next header */
	sum = 0;
	for (size_t i = 8; i < IPV6_HEADER; i += 2)
		sum += load_be16(out + i);
	sum += (uint32_t)icmp_len + PROTO_ICMPV6;
	store_be16(out + 42, tun_checksum(out + 40, icmp_len, sum));
	return (int)rlen;
}

int tun_icmp_too_big(const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out, size_t out_size)
{
	if (len < 1)
		return -EINVAL;
	if (pkt[0] >> 4 == 4)
		return reply4(pkt, len, mtu, out, out_size);
	if (pkt[0] >> 4 == 6)
		return reply6(pkt, len, mtu, out, out_size);
	return -EINVAL;
}
