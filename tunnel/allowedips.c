/* Inner packet checks. A link has one peer and usually a handful of
 * AllowedIPs, so a linear scan beats a trie here. */
#include "tunnel/allowedips.h"

#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"

enum { IPV4_MIN_HEADER = 20, IPV6_HEADER = 40 };

bool allowedips_parse_packet(const uint8_t *pkt, size_t len, struct inner_packet *out)
{
	if (len < 1)
		return false;
	switch (pkt[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

		if (len < IPV4_MIN_HEADER || ihl < IPV4_MIN_HEADER || ihl > len)
			return false;
		out->family = AF_INET;
		out->total_len = load_be16(pkt + 2);
		out->src = pkt + 12;
		out->dst = pkt + 16;
		return out->total_len >= ihl && out->total_len <= len;
	}
	case 6:
		if (len < IPV6_HEADER)
			return false;
		out->family = AF_INET6;
		out->total_len = IPV6_HEADER + (size_t)load_be16(pkt + 4);
		out->src = pkt + 8;
		out->dst = pkt + 24;
		return out->total_len <= len;
	default:
		return false;
	}
}

bool allowedips_is_multicast(const struct inner_packet *ip)
{
	return ip->family == AF_INET ? (ip->dst[0] & 0xf0) == 0xe0 : ip->dst[0] == 0xff;
}

/* Is `addr` (alen bytes) in p? tun_prefix_contains's answer for the host
 * prefix of addr, without copying and masking two prefixes per call: this
 * runs for every packet, more than once. Compares 32-bit big-endian words
 * under the prefix's mask (no libc call: an address is 1 or 4 words). */
static bool prefix_has(const struct tun_prefix *p, int family, const uint8_t *addr, size_t alen)
{
	unsigned bits = p->len;

	if (p->family != family || bits > alen * 8)
		return false;
	for (size_t i = 0; bits > 0; i += 4) {
		uint32_t mask = bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);

		if ((load_be32(p->addr + i) ^ load_be32(addr + i)) & mask)
			return false;
		bits -= bits >= 32 ? 32 : bits;
	}
	return true;
}

bool allowedips_contains(const struct tun_prefix *prefixes, size_t n, int family,
			 const uint8_t *addr)
{
	size_t alen = tun_prefix_addr_len(family);

	if (!alen)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (prefix_has(&prefixes[i], family, addr, alen))
			return true;
	}
	return false;
}
