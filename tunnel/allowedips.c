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

bool allowedips_contains(const struct tun_prefix *prefixes, size_t n, int family,
			 const uint8_t *addr)
{
	struct tun_prefix host = { .family = family };
	size_t alen = tun_prefix_addr_len(family);

	if (!alen)
		return false;
	memcpy(host.addr, addr, alen);
	host.len = (unsigned)alen * 8;
	for (size_t i = 0; i < n; i++) {
		if (tun_prefix_contains(&prefixes[i], &host))
			return true;
	}
	return false;
}
