/* MSS clamping (tun/mss.h). Every length is checked against the packet
 * before it is read: packets come from the kernel or from the peer. */
#include "tun/mss.h"

#include "common/bytes.h"
#include "common/compiler.h"

enum {
	IPV4_MIN_HEADER = 20,
	IPV6_HEADER = 40,
	TCP_MIN_HEADER = 20,
	PROTO_TCP = 6,
	PROTO_V6_HOPOPTS = 0,
	PROTO_V6_ROUTING = 43,
	PROTO_V6_FRAGMENT = 44,
	PROTO_V6_DSTOPTS = 60,
	V6_EXT_MAX = 8,            /* extension headers we walk at most */
	TCP_FLAG_SYN = 0x02,
	TCPOPT_EOL = 0,
	TCPOPT_NOP = 1,
	TCPOPT_MSS = 2,
	TCPOLEN_MSS = 4,
};

/* Offset of the TCP header and whether it is worth looking at; 0 if not. */
static size_t tcp_offset(const uint8_t *pkt, size_t *len, bool *v6)
{
	size_t off;
	uint8_t next;

	if (*len < 1)
		return 0;
	if (pkt[0] >> 4 == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, tot;

		if (*len < IPV4_MIN_HEADER || ihl < IPV4_MIN_HEADER || ihl > *len)
			return 0;
		tot = load_be16(pkt + 2);
		if (tot < ihl || tot > *len)
			return 0;
		*len = tot;
		/* a later fragment carries no TCP header */
		if (pkt[9] != PROTO_TCP || (load_be16(pkt + 6) & 0x1fff) != 0)
			return 0;
		*v6 = false;
		return ihl;
	}
	if (pkt[0] >> 4 != 6 || *len < IPV6_HEADER)
		return 0;
	if ((size_t)load_be16(pkt + 4) + IPV6_HEADER > *len)
		return 0;
	*len = (size_t)load_be16(pkt + 4) + IPV6_HEADER;
	next = pkt[6];
	off = IPV6_HEADER;
	for (int i = 0; i < V6_EXT_MAX && next != PROTO_TCP; i++) {
		if (off + 8 > *len)
			return 0;
		if (next == PROTO_V6_FRAGMENT) {
			if ((load_be16(pkt + off + 2) & 0xfff8) != 0)
				return 0;
			next = pkt[off];
			off += 8;
		} else if (next == PROTO_V6_HOPOPTS || next == PROTO_V6_ROUTING ||
			   next == PROTO_V6_DSTOPTS) {
			next = pkt[off];
			off += ((size_t)pkt[off + 1] + 1) * 8;
		} else {
			return 0;
		}
	}
	if (next != PROTO_TCP)
		return 0;
	*v6 = true;
	return off;
}

static uint32_t sum16(const uint8_t *p, size_t from, size_t to)
{
	uint32_t s = 0;

	for (size_t i = from; i < to; i += 2)
		s += load_be16(p + i);
	return s;
}

/* Writes `mss` at th + at (a 2-byte field at any alignment) and updates the
 * checksum at th + 16: HC' = ~(~HC + ~m + m') (RFC 1624 eq. 3) over the
 * 16-bit words, aligned to the TCP header, that the field touches. */
static void rewrite_mss(uint8_t *th, size_t at, uint16_t mss)
{
	size_t from = at & ~(size_t)1, to = (at + 3) & ~(size_t)1;
	uint32_t old_sum = sum16(th, from, to), new_sum, s;

	store_be16(th + at, mss);
	new_sum = sum16(th, from, to);
	s = (uint16_t)~load_be16(th + 16);
	/* ~m over several words is (0xffff * words - sum) in ones' complement */
	s += (uint32_t)0xffff * (uint32_t)((to - from) / 2) - old_sum;
	s += new_sum;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	store_be16(th + 16, (uint16_t)~s);
}

bool tun_mss_clamp(uint8_t *pkt, size_t len, unsigned path_mtu)
{
	bool v6 = false;
	size_t ip_hlen = tcp_offset(pkt, &len, &v6), thlen, i;
	unsigned overhead, limit;
	uint8_t *th;

	if (ip_hlen == 0 || ip_hlen + TCP_MIN_HEADER > len)
		return false;
	th = pkt + ip_hlen;
	if (!(th[13] & TCP_FLAG_SYN))
		return false;
	thlen = (size_t)(th[12] >> 4) * 4;
	if (thlen < TCP_MIN_HEADER || ip_hlen + thlen > len)
		return false;
	overhead = v6 ? TUN_MSS_OVERHEAD_V6 : TUN_MSS_OVERHEAD_V4;
	if (path_mtu <= overhead)
		return false;
	limit = path_mtu - overhead;
	for (i = TCP_MIN_HEADER; i < thlen;) {
		uint8_t kind = th[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > thlen)
			break;
		olen = th[i + 1];
		if (olen < 2 || i + olen > thlen)
			break;          /* malformed options: leave the packet alone */
		if (kind == TCPOPT_MSS && olen == TCPOLEN_MSS) {
			if (load_be16(th + i + 2) <= limit)
				return false;
			rewrite_mss(th, i + 2, (uint16_t)MIN(limit, 0xffffu));
			return true;
		}
		i += olen;
	}
	return false;
}
