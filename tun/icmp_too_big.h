/* The answer a router gives a packet too big for the next hop: ICMP
 * "fragmentation needed" (type 3 code 4, RFC 792 / RFC 1191) or ICMPv6
 * "packet too big" (type 2, RFC 4443 §3.2), written back into the TUN so
 * the local sender's kernel caches the path MTU and sends smaller packets.
 *
 * Source address: the original packet's destination. The reply enters the
 * kernel from the TUN, and Linux drops a packet arriving on an interface
 * with one of its own addresses as source (a martian, "source is local"),
 * so the link's own address would never arrive; the destination is routed
 * through the TUN, passes reverse-path filtering, and exists for both
 * families even on a link without an address of that family. The kernel
 * matches the quoted header, not the source, to update its PMTU cache.
 *
 * DF: an IPv4 packet without DF asks the network to fragment it rather
 * than answer, so no reply is built for it; the caller fragments it
 * (tun/fragment.h). */
#ifndef TUN_ICMP_TOO_BIG_H
#define TUN_ICMP_TOO_BIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum tun_icmp_limits {
	/* RFC 1812 §4.3.2.3: a router's ICMP error quotes as much of the
	 * original as fits in 576 bytes (at least the header + 8 bytes). */
	TUN_ICMP4_ERROR_MAX = 576,
	/* RFC 4443 §2.4 (c): as much as fits without exceeding 1280 bytes. */
	TUN_ICMP6_ERROR_MAX = 1280,
	TUN_ICMP_TOO_BIG_MAX = TUN_ICMP6_ERROR_MAX,  /* an `out` this large always fits */
};

/* Builds into out (out_size bytes) the reply to pkt (len bytes), which was
 * too big for a path that carries `mtu` bytes. Returns the reply's length;
 * 0 when no reply is due (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7, RFC 4443
 * §2.4 (e)): an IPv4 packet without DF, an ICMP/ICMPv6 error, a later IPv4
 * fragment, a multicast or broadcast destination, a source that is not a
 * unicast host; -EINVAL for a packet that is not well-formed IP, -ENOSPC
 * when out is too small. */
must_check int tun_icmp_too_big(const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out,
				size_t out_size);

#endif
