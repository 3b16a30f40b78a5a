/* The receive-side twin of tun/offload.h: consecutive segments of one TCP
 * stream, decrypted from the peer, are merged into one super-packet and
 * written to the TUN once, with a virtio-net header that tells the kernel it
 * is a GSO packet of gso_size segments (as hardware GRO would). The kernel
 * then runs its TCP receive path once per super-packet instead of once per
 * segment, and can cut it up again if it forwards it.
 *
 * Merging is deliberately narrow: TCP over IPv4 without options or IPv6
 * without extension headers, with correct checksums; identical addresses, ports, ACK number,
 * TCP reserved bits, window, TCP options, TOS/traffic class and TTL/hop limit; no SYN, FIN,
 * RST, URG, ECE or CWR; contiguous sequence numbers; equal payload sizes
 * except a shorter last one. Anything else is written as it came. */
#ifndef TUN_COALESCE_H
#define TUN_COALESCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/compiler.h"
#include "tun/offload.h"

enum tun_coalesce_limits {
	TUN_COALESCE_MAX_SEGMENTS = 64,
	TUN_COALESCE_MAX_BYTES = 65535,
	/* The longest headers a merge starts with: IPv6, TCP with 40 bytes
	 * of options. */
	TUN_COALESCE_HEADERS_MAX = 40 + 60,
	/* The iovecs of one merge: the headers, then a payload per segment. */
	TUN_COALESCE_IOV_MAX = 1 + TUN_COALESCE_MAX_SEGMENTS,
};

struct tun_packet {
	const uint8_t *data;
	size_t len;
};

/* How many packets from pkts[0] can merge into one super-packet (at
 * least 1). */
size_t tun_coalesce_run(const struct tun_packet *pkts, size_t n);

/* Describes the merge of pkts[0..count) (a run from tun_coalesce_run,
 * 2 <= count <= TUN_COALESCE_MAX_SEGMENTS) without copying a payload: the
 * first segment's headers, patched for the super-packet (lengths, IPv4
 * header checksum, the TCP pseudo-header sum, PSH of the last segment),
 * go to `headers`; iov[0] points at them and iov[1..count] at each
 * segment's payload where it lies, so the iovecs live as long as pkts'
 * buffers. Fills the virtio-net header to write before it. Returns the
 * super-packet's length (that of the count + 1 iovecs together), or
 * -EINVAL for a run that does not merge, -ENOSPC past
 * TUN_COALESCE_MAX_BYTES. */
must_check int tun_coalesce_build(const struct tun_packet *pkts, size_t count,
				  uint8_t headers[static TUN_COALESCE_HEADERS_MAX],
				  struct iovec iov[static TUN_COALESCE_IOV_MAX],
				  uint8_t hdr[static TUN_VNET_HDR_LEN]);

#endif
