/* TCP MSS clamping for a path narrower than the interface: a SYN or SYN-ACK
 * crossing the link (read from the TUN or written to it) announces at most
 * what fits the path, so neither end sends segments the path would drop.
 * This is what site-to-site gateways do for hosts behind them, whose own
 * stacks never see our path MTU. Pure function on a packet buffer. */
#ifndef TUN_MSS_H
#define TUN_MSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tun_mss_overhead {
	TUN_MSS_OVERHEAD_V4 = 40,   /* IPv4 header + TCP header, no options */
	TUN_MSS_OVERHEAD_V6 = 60,   /* IPv6 header + TCP header */
};

/* If pkt (len bytes, one IPv4 or IPv6 packet with a complete TCP checksum)
 * is a TCP SYN (SYN-ACK included) whose MSS option exceeds path_mtu - 40
 * (IPv4) or path_mtu - 60 (IPv6), lowers it to that and updates the TCP
 * checksum incrementally (RFC 1624). IPv6 hop-by-hop, routing and
 * destination-options headers are skipped. Anything else (not TCP, not a
 * SYN, no MSS option, a later fragment, a malformed header) is left alone.
 * Returns true when the packet was changed. */
bool tun_mss_clamp(uint8_t *pkt, size_t len, unsigned path_mtu);

#endif
