/* Receive-side TCP coalescing (see coalesce.h for what may merge). Packets
 * come from the peer, already authenticated and checked against
 * AllowedIPs, but every field is still bounds-checked here. */
#include "tun/coalesce.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"

enum {
	IPV4_HEADER = 20,
	IPV6_HEADER = 40,
	TCP_MIN_HEADER = 20,
	PROTO_TCP = 6,
	TCP_ACK = 0x10,
	TCP_PSH = 0x08,
};

struct segment {
	bool v6;
	size_t ip_hlen, hlen, payload;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *ip, *th;
};

/* The merged packet goes to the kernel as CHECKSUM_PARTIAL, which it does
 * not verify again; so, like the kernel's own GRO, merge only segments
 * whose checksums are right, and leave a damaged one to be written alone
 * (where the kernel's TCP drops it). */
static bool checksums_ok(const struct segment *s, size_t len)
{
	uint32_t pseudo;

	if (s->v6) {
		pseudo = (uint32_t)~tun_checksum(s->ip + 8, 32, 0) & 0xffff;
	} else {
		if (tun_checksum(s->ip, IPV4_HEADER, 0) != 0)
			return false;
		pseudo = (uint32_t)~tun_checksum(s->ip + 12, 8, 0) & 0xffff;
	}
	pseudo += (uint32_t)(len - s->ip_hlen) + PROTO_TCP;
	return tun_checksum(s->th, len - s->ip_hlen, pseudo) == 0;
}

/* The header fields of a TCP segment that may take part in a merge, or
 * false; checksums are not looked at. */
static bool parse_fields(const struct tun_packet *p, struct segment *s)
{
	const uint8_t *d = p->data;
	size_t tcp_hlen;

	if (p->len < IPV4_HEADER)
		return false;
	s->ip = d;
	if (d[0] == 0x45) { /* IPv4 without options */
		if (d[9] != PROTO_TCP || load_be16(d + 2) != p->len || (load_be16(d + 6) & 0xbfff))
			return false; /* not TCP, padded, a fragment or the reserved flag */
		s->v6 = false;
		s->ip_hlen = IPV4_HEADER;
	} else if ((d[0] >> 4) == 6) {
		if (p->len < IPV6_HEADER || d[6] != PROTO_TCP ||
		    (size_t)load_be16(d + 4) + IPV6_HEADER != p->len)
			return false; /* extension headers, or padded */
		s->v6 = true;
		s->ip_hlen = IPV6_HEADER;
	} else {
		return false;
	}
	if (p->len < s->ip_hlen + TCP_MIN_HEADER)
		return false;
	s->th = d + s->ip_hlen;
	tcp_hlen = (size_t)(s->th[12] >> 4) * 4;
	s->hlen = s->ip_hlen + tcp_hlen;
	if (tcp_hlen < TCP_MIN_HEADER || s->hlen >= p->len)
		return false; /* no payload: nothing to merge */
	s->flags = s->th[13];
	if ((s->flags & (uint8_t)~(TCP_ACK | TCP_PSH)) || !(s->flags & TCP_ACK))
		return false;
	s->payload = p->len - s->hlen;
	s->seq = (uint32_t)load_be16(s->th + 4) << 16 | load_be16(s->th + 6);
	return true;
}

/* A segment that may merge: mergeable fields and correct checksums. */
static bool parse(const struct tun_packet *p, struct segment *s)
{
	return parse_fields(p, s) && checksums_ok(s, p->len);
}

/* May `next` follow `prev` in the run that `first` opened? */
static bool follows(const struct segment *first, const struct segment *prev,
		    const struct segment *next)
{
	if (next->v6 != first->v6 || next->hlen != first->hlen)
		return false;
	if (prev->payload != first->payload || next->payload > first->payload)
		return false; /* only the last segment may be shorter */
	if (prev->flags & TCP_PSH)
		return false; /* PSH ends a run */
	if (next->seq != prev->seq + (uint32_t)prev->payload)
		return false;
	if (first->v6) {
		/* version, traffic class, flow label; hop limit; addresses */
		if (memcmp(first->ip, next->ip, 4) || first->ip[7] != next->ip[7] ||
		    memcmp(first->ip + 8, next->ip + 8, 32))
			return false;
	} else {
		/* TOS; DF; TTL and protocol; addresses */
		if (first->ip[1] != next->ip[1] || (first->ip[6] & 0x40) != (next->ip[6] & 0x40) ||
		    first->ip[8] != next->ip[8] || memcmp(first->ip + 12, next->ip + 12, 8))
			return false;
	}
	/* ports; ACK number; data offset and the reserved bits (AccECN's AE
	 * among them: a merged packet carries the first segment's); window;
	 * options */
	return !memcmp(first->th, next->th, 4) && !memcmp(first->th + 8, next->th + 8, 5) &&
	       !memcmp(first->th + 14, next->th + 14, 2) &&
	       !memcmp(first->th + TCP_MIN_HEADER, next->th + TCP_MIN_HEADER,
		       first->hlen - first->ip_hlen - TCP_MIN_HEADER);
}

size_t tun_coalesce_run(const struct tun_packet *pkts, size_t n)
{
	struct segment first, prev, next;
	size_t count = 1, bytes;

	if (n < 2 || !parse(&pkts[0], &first))
		return 1;
	prev = first;
	bytes = first.hlen + first.payload;
	while (count < n && count < TUN_COALESCE_MAX_SEGMENTS && parse(&pkts[count], &next) &&
	       follows(&first, &prev, &next) && bytes + next.payload <= TUN_COALESCE_MAX_BYTES) {
		bytes += next.payload;
		prev = next;
		count++;
	}
	return count;
}

int tun_coalesce_build(const struct tun_packet *pkts, size_t count,
		       uint8_t headers[static TUN_COALESCE_HEADERS_MAX],
		       struct iovec iov[static TUN_COALESCE_IOV_MAX],
		       uint8_t hdr[static TUN_VNET_HDR_LEN])
{
	struct segment first, last;
	size_t len, tcp_len;
	uint32_t pseudo;
	uint16_t v;

	/* tun_coalesce_run verified every segment of the run already. */
	if (count < 2 || count > TUN_COALESCE_MAX_SEGMENTS || !parse_fields(&pkts[0], &first) ||
	    !parse_fields(&pkts[count - 1], &last) || first.hlen > TUN_COALESCE_HEADERS_MAX)
		return -EINVAL;
	len = first.hlen;
	for (size_t i = 0; i < count; i++) {
		if (pkts[i].len <= first.hlen)
			return -EINVAL;
		len += pkts[i].len - first.hlen;
	}
	if (len > TUN_COALESCE_MAX_BYTES)
		return -ENOSPC;
	memcpy(headers, pkts[0].data, first.hlen);
	iov[0] = (struct iovec){ .iov_base = headers, .iov_len = first.hlen };
	for (size_t i = 0; i < count; i++)
		iov[1 + i] = (struct iovec){ .iov_base = (void *)(pkts[i].data + first.hlen),
					     .iov_len = pkts[i].len - first.hlen };
	headers[first.ip_hlen + 13] |= last.flags & TCP_PSH;
	tcp_len = len - first.ip_hlen;
	if (first.v6) {
		store_be16(headers + 4, (uint16_t)tcp_len);
		pseudo = (uint32_t)~tun_checksum(headers + 8, 32, 0) & 0xffff;
	} else {
		store_be16(headers + 2, (uint16_t)len);
		store_be16(headers + 10, 0);
		store_be16(headers + 10, tun_checksum(headers, IPV4_HEADER, 0));
		pseudo = (uint32_t)~tun_checksum(headers + 12, 8, 0) & 0xffff;
	}
	/* The kernel finishes the TCP checksum from the pseudo-header sum
	 * (CHECKSUM_PARTIAL), as it does for its own GRO packets. */
	pseudo += (uint32_t)tcp_len + PROTO_TCP;
	store_be16(headers + first.ip_hlen + 16, (uint16_t)~tun_checksum(NULL, 0, pseudo));

	memset(hdr, 0, TUN_VNET_HDR_LEN);
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = first.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	v = (uint16_t)first.hlen;
	memcpy(hdr + 2, &v, 2);
	v = (uint16_t)first.payload;
	memcpy(hdr + 4, &v, 2);
	v = (uint16_t)first.ip_hlen;
	memcpy(hdr + 6, &v, 2);
	v = 16;
	memcpy(hdr + 8, &v, 2);
	return (int)len;
}
