/* IPv4 fragmentation (RFC 791 §3.2, RFC 1812 §4.2.2.7) of a packet without
 * DF that is larger than the path MTU: the link acts as a router whose next
 * hop is narrower, so the fragments cross where the whole packet would be
 * lost. IPv6 is never fragmented on the way (RFC 8200 §5): a too-big IPv6
 * packet gets ICMPv6 "packet too big" instead (tun/icmp_too_big.h). */
#ifndef TUN_FRAGMENT_H
#define TUN_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

/* Cuts the IPv4 packet pkt (len bytes, DF clear) into fragments of at most
 * mtu bytes: out[i] receives fragment i (each buffer out_size bytes),
 * out_len[i] its length. Every fragment but the last carries a multiple of
 * 8 payload bytes and MF; the last keeps the original's MF (a fragment of
 * a fragment stays one); offsets add to the original's. The first fragment
 * keeps every option, the others only those with the "copied" flag.
 * Returns the number of fragments, -EINVAL for a packet that is not IPv4,
 * has DF, is malformed or leaves no room for 8 payload bytes, -ENOSPC when
 * more than max_out fragments or a fragment above out_size would be
 * needed. pkt must not overlap out. */
must_check int tun_ipv4_fragment(const uint8_t *pkt, size_t len, size_t mtu, uint8_t *const out[],
				 size_t out_size, size_t out_len[], size_t max_out);

#endif
