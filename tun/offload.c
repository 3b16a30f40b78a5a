/* TCP segmentation and checksum completion for TUN offloads. Packets come
 * from the kernel, but are still bounds-checked field by field: a header
 * that does not fit its packet is refused, never trusted. */
#include "tun/offload.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common/bytes.h"

enum {
	IPV4_MIN_HEADER = 20,
	IPV6_HEADER = 40,
	TCP_MIN_HEADER = 20,
	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_PSH = 0x08,
	TCP_FLAG_CWR = 0x80,
	UDP_CHECK_OFFSET = 6,
	IPPROTO_TCP_NUMBER = 6,
};

void tun_vnet_hdr_parse(struct tun_vnet_hdr *h, const uint8_t raw[static TUN_VNET_HDR_LEN])
{
	/* A TUN's virtio-net header is in host byte order (no TUNSETVNETLE/BE). */
	h->flags = raw[0];
	h->gso_type = raw[1];
	memcpy(&h->hdr_len, raw + 2, 2);
	memcpy(&h->gso_size, raw + 4, 2);
	memcpy(&h->csum_start, raw + 6, 2);
	memcpy(&h->csum_offset, raw + 8, 2);
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* a + b in ones' complement (end-around carry): never overflows, since a
 * sum that wrapped is below b. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/* Ones' complement sum of big-endian 16-bit words (an odd last byte padded
 * with zero), folded. RFC 1071 section 2(B): the sum is byte-order
 * independent, so it is taken over native 64-bit loads (any alignment,
 * four independent accumulators) and byte-swapped once at the end on a
 * little-endian host; a position in the buffer, not its address, decides
 * which byte of a word a byte is. */
static uint16_t sum16(const uint8_t *buf, size_t len)
{
	uint64_t a = 0, b = 0, c = 0, d = 0;
	uint8_t tail[8] = { 0 };
	uint16_t s;

	while (len >= 32) {
		a = add_carry(a, load64(buf));
		b = add_carry(b, load64(buf + 8));
		c = add_carry(c, load64(buf + 16));
		d = add_carry(d, load64(buf + 24));
		buf += 32;
		len -= 32;
	}
	while (len >= 8) {
		a = add_carry(a, load64(buf));
		buf += 8;
		len -= 8;
	}
	if (len) /* 0..7 bytes, zero-padded: an odd one is a high byte */
		memcpy(tail, buf, len);
	b = add_carry(b, load64(tail));
	a = add_carry(add_carry(a, b), add_carry(c, d));
	s = fold((a & 0xffffffff) + (a >> 32));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (uint16_t)(s >> 8 | s << 8);
#endif
	return s;
}

uint16_t tun_checksum(const uint8_t *buf, size_t len, uint32_t sum)
{
	return (uint16_t)~fold((uint64_t)sum16(buf, len) + sum);
}

/* The kernel left the pseudo-header sum in the checksum field; summing from
 * csum_start to the end (field included) finishes it. */
static int finish_checksum(const struct tun_vnet_hdr *h, uint8_t *pkt, size_t len)
{
	uint16_t c;

	if ((size_t)h->csum_start + h->csum_offset + 2 > len)
		return -EINVAL;
	c = tun_checksum(pkt + h->csum_start, len - h->csum_start, 0);
	if (h->csum_offset == UDP_CHECK_OFFSET && c == 0)
		c = 0xffff; /* zero means "no checksum" in UDP */
	store_be16(pkt + h->csum_start + h->csum_offset, c);
	return 0;
}

/* TCP checksum over the pseudo-header, the TCP header and the payload. */
static void tcp_checksum(uint8_t *seg, size_t ip_hlen, size_t seg_len, bool v6)
{
	uint8_t *th = seg + ip_hlen;
	size_t tcp_len = seg_len - ip_hlen;
	uint64_t sum;

	store_be16(th + 16, 0);
	if (v6)
		sum = (uint64_t)sum16(seg + 8, 32) + tcp_len + IPPROTO_TCP_NUMBER;
	else
		sum = (uint64_t)sum16(seg + 12, 8) + tcp_len + IPPROTO_TCP_NUMBER;
	store_be16(th + 16, tun_checksum(th, tcp_len, fold(sum)));
}

static int split_tcp(const struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len,
		     uint8_t *const out[], size_t out_size, size_t out_len[], size_t max_out)
{
	bool v6 = (pkt[0] >> 4) == 6;
	size_t ip_hlen = h->csum_start, hlen, payload, nseg;
	const uint8_t *th;
	uint32_t seq;
	uint16_t ip_id = 0;

	/* The TCP header starts at csum_start (after any IPv6 extensions). */
	if (v6 ? ip_hlen < IPV6_HEADER : (pkt[0] >> 4) != 4 || ip_hlen < IPV4_MIN_HEADER)
		return -EINVAL;
	if (ip_hlen + TCP_MIN_HEADER > len || h->csum_offset != 16 || h->gso_size == 0)
		return -EINVAL;
	th = pkt + ip_hlen;
	hlen = ip_hlen + (size_t)(th[12] >> 4) * 4;
	if (hlen < ip_hlen + TCP_MIN_HEADER || hlen > len)
		return -EINVAL;
	payload = len - hlen;
	nseg = payload ? (payload + h->gso_size - 1) / h->gso_size : 1;
	if (nseg > max_out || hlen + MIN(payload, (size_t)h->gso_size) > out_size)
		return -ENOSPC;
	seq = (uint32_t)load_be16(th + 4) << 16 | load_be16(th + 6);
	if (!v6)
		ip_id = load_be16(pkt + 4);

	for (size_t i = 0; i < nseg; i++) {
		size_t off = i * h->gso_size, chunk = MIN((size_t)h->gso_size, payload - off);
		size_t seg_len = hlen + chunk;
		uint8_t *seg = out[i], *sth = seg + ip_hlen;
		uint32_t sseq = seq + (uint32_t)off;

		memcpy(seg, pkt, hlen);
		memcpy(seg + hlen, pkt + hlen + off, chunk);
		if (v6) {
			store_be16(seg + 4, (uint16_t)(seg_len - IPV6_HEADER));
		} else {
			store_be16(seg + 2, (uint16_t)seg_len);
			store_be16(seg + 4, (uint16_t)(ip_id + i));
			store_be16(seg + 10, 0);
			store_be16(seg + 10, tun_checksum(seg, ip_hlen, 0));
		}
		store_be16(sth + 4, (uint16_t)(sseq >> 16));
		store_be16(sth + 6, (uint16_t)sseq);
		if (i + 1 < nseg)
			sth[13] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
		if (i > 0)
			sth[13] &= (uint8_t)~TCP_FLAG_CWR;
		tcp_checksum(seg, ip_hlen, seg_len, v6);
		out_len[i] = seg_len;
	}
	return (int)nseg;
}

void tun_offload_fit(struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len, size_t mtu)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t hlen;

	if ((gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) ||
	    (size_t)h->csum_start + TCP_MIN_HEADER > len)
		return;         /* split_tcp refuses what does not parse */
	hlen = h->csum_start + (size_t)(pkt[h->csum_start + 12] >> 4) * 4;
	if (hlen < mtu && hlen + h->gso_size > mtu)
		h->gso_size = (uint16_t)(mtu - hlen);
}

size_t tun_offload_segments(const struct tun_vnet_hdr *h, size_t len)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if ((gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) || h->gso_size == 0)
		return 1;
	return len / h->gso_size + 1;
}

int tun_offload_split(const struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len,
		      uint8_t *const out[], size_t out_size, size_t out_len[], size_t max_out)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	int r;

	if (len < 1 || max_out < 1)
		return -EINVAL;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6)
		return split_tcp(h, pkt, len, out, out_size, out_len, max_out);
	if (gso != VIRTIO_NET_HDR_GSO_NONE)
		return -EINVAL; /* only TCP segmentation is ever switched on */
	if (len > out_size)
		return -ENOSPC;
	memcpy(out[0], pkt, len);
	out_len[0] = len;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		r = finish_checksum(h, out[0], len);
		if (r)
			return r;
	}
	return 1;
}
