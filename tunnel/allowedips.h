/* Cryptokey routing for a point-to-point link: which inner addresses the
 * peer may use. A packet from the TUN goes to the peer only if its
 * destination is in AllowedIPs; a packet from the peer reaches the TUN only
 * if its source is (whitepaper §2). Also the inner IP header checks both
 * need. */
#ifndef TUNNEL_ALLOWEDIPS_H
#define TUNNEL_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tun/prefix.h"

/* What allowedips_parse_packet found in an inner packet's IP header. */
struct inner_packet {
	int family;
	const uint8_t *src, *dst;  /* point into the packet */
	size_t total_len;          /* from the header: the packet without padding */
};

/* Checks the IPv4/IPv6 header of `pkt` (version, header length, total
 * length within `len`). False for anything that is not a whole IP packet. */
bool allowedips_parse_packet(const uint8_t *pkt, size_t len, struct inner_packet *out);

/* True for a multicast destination (224.0.0.0/4, ff00::/8). */
bool allowedips_is_multicast(const struct inner_packet *ip);

/* True when `addr` of `family` lies inside one of the prefixes. */
bool allowedips_contains(const struct tun_prefix *prefixes, size_t n, int family,
			 const uint8_t *addr);

#endif
