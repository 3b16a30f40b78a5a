/* libFuzzer target: TUN offloads (tun/offload.h), what the engine does with
 * every read from the TUN: tun_vnet_hdr_parse on the 10-byte virtio-net
 * header, then tun_offload_split (TSO segmentation, checksum completion)
 * with hostile header fields.
 *
 * Input: 10 bytes of virtio-net header, one byte choosing max_out (1..64,
 * or from 0xf0 on the engine's TUN_OFFLOAD_MAX_SEGMENTS), two bytes of
 * out_size (big-endian: 1..2048, or from 0xf000 on 9000, the largest MTU;
 * the engine passes its MTU), then the packet. Output buffers exist only
 * for the segments tun_offload_segments() promises at most. The packet
 * and every output buffer are exact-size heap blocks, so ASan catches a
 * read or write past any of them. Oracles:
 *  - the result is -EINVAL, -ENOSPC or 1..max_out, never more than
 *    tun_offload_segments() promised (the engine sizes its batch by it);
 *  - without GSO the packet comes out unchanged, except a requested
 *    checksum, which equals a reference RFC 1071 sum written here;
 *  - with GSO the segments carry the original headers except the fields
 *    segmentation must change, their payloads concatenate to the original
 *    payload (gso_size each, the last shorter), sequence numbers follow,
 *    lengths are right, FIN/PSH only on the last and CWR only on the first
 *    segment, and the IPv4 header and TCP checksums verify. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "tests/fuzz/inet.h"
#include "tun/offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { OUT_SIZE_MAX = 9000, PARAMS_LEN = TUN_VNET_HDR_LEN + 3 };

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint16_t ref_checksum(const uint8_t *p, size_t len, uint32_t sum)
{
	return (uint16_t)~inet_sum(p, len, sum);
}

/* Equal ones' complement sums: 0x0000 and 0xffff are the same number. */
static bool csum_eq(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

static void check_plain(const struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len,
			const uint8_t *out, size_t out_len)
{
	size_t at;
	uint16_t c;

	CHECK(out_len == len);
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		CHECK(memcmp(out, pkt, len) == 0);
		return;
	}
	at = (size_t)h->csum_start + h->csum_offset;
	CHECK(at + 2 <= len);
	/* Everything but the two checksum bytes is unchanged... */
	CHECK(memcmp(out, pkt, at) == 0 && memcmp(out + at + 2, pkt + at + 2, len - at - 2) == 0);
	/* ...and they are the sum from csum_start, the field's old value (the
	 * pseudo-header sum the kernel left there) included. */
	c = ref_checksum(pkt + h->csum_start, len - h->csum_start, 0);
	CHECK(csum_eq(load_be16(out + at), c));
	if (h->csum_offset == 6) /* UDP: zero would mean "no checksum" */
		CHECK(load_be16(out + at) != 0);
}

static void check_segments(const struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len,
			   uint8_t *const out[], const size_t out_len[], size_t n)
{
	bool v6 = pkt[0] >> 4 == 6;
	size_t ip_hlen = h->csum_start, hlen, payload, off = 0;
	const uint8_t *th = pkt + ip_hlen;
	uint32_t seq;

	CHECK(ip_hlen + 20 <= len);
	hlen = ip_hlen + (size_t)(th[12] >> 4) * 4;
	CHECK(hlen <= len && hlen >= ip_hlen + 20);
	payload = len - hlen;
	CHECK(n == (payload ? (payload + h->gso_size - 1) / h->gso_size : 1));
	seq = (uint32_t)load_be16(th + 4) << 16 | load_be16(th + 6);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *seg = out[i], *sth = seg + ip_hlen;
		size_t chunk = out_len[i] - hlen;
		uint32_t pseudo;
		uint8_t flags = th[13];

		CHECK(out_len[i] >= hlen);
		CHECK(i + 1 == n ? chunk == payload - off : chunk == h->gso_size);
		CHECK(memcmp(seg + hlen, pkt + hlen + off, chunk) == 0);
		/* Headers: only lengths, IPv4 ID and checksum, sequence number,
		 * flags and TCP checksum may differ from the super-packet's. */
		if (v6) {
			CHECK(load_be16(seg + 4) == out_len[i] - 40);
			CHECK(memcmp(seg, pkt, 4) == 0 && memcmp(seg + 6, pkt + 6, ip_hlen - 6) == 0);
			pseudo = inet_sum(seg + 8, 32, 0);
		} else {
			CHECK(load_be16(seg + 2) == out_len[i]);
			CHECK(load_be16(seg + 4) == (uint16_t)(load_be16(pkt + 4) + i));
			CHECK(memcmp(seg, pkt, 2) == 0 && memcmp(seg + 6, pkt + 6, 4) == 0 &&
			      memcmp(seg + 12, pkt + 12, ip_hlen - 12) == 0);
			CHECK(ref_checksum(seg, ip_hlen, 0) == 0 || inet_sum(seg, ip_hlen, 0) == 0);
			pseudo = inet_sum(seg + 12, 8, 0);
		}
		CHECK(memcmp(sth, th, 4) == 0 && memcmp(sth + 8, th + 8, 5) == 0 &&
		      memcmp(sth + 14, th + 14, 2) == 0 &&
		      memcmp(sth + 18, th + 18, hlen - ip_hlen - 18) == 0);
		CHECK(((uint32_t)load_be16(sth + 4) << 16 | load_be16(sth + 6)) == seq + (uint32_t)off);
		if (i + 1 < n)
			flags &= (uint8_t)~0x09; /* FIN, PSH: the last segment's */
		if (i > 0)
			flags &= (uint8_t)~0x80; /* CWR: the first segment's */
		CHECK(sth[13] == flags);
		pseudo = inet_sum(NULL, 0, pseudo + (uint32_t)(out_len[i] - ip_hlen) + 6);
		pseudo = (pseudo & 0xffff) + (pseudo >> 16);
		CHECK(csum_eq(ref_checksum(sth, out_len[i] - ip_hlen, pseudo), 0));
		off += chunk;
	}
	CHECK(off == payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_vnet_hdr h;
	size_t max_out, out_size, len, *out_len = NULL;
	uint8_t **out = NULL, *pkt = NULL, gso;
	int r;

	if (size < PARAMS_LEN)
		return 0;
	tun_vnet_hdr_parse(&h, data);
	max_out = data[TUN_VNET_HDR_LEN] >= 0xf0 ? TUN_OFFLOAD_MAX_SEGMENTS
						 : 1 + data[TUN_VNET_HDR_LEN] % 64;
	/* Up to 2 KiB, or the largest MTU: room for 1400 of those would be
	 * more memory than an input is worth. */
	out_size = load_be16(data + TUN_VNET_HDR_LEN + 1);
	out_size = out_size >= 0xf000 ? OUT_SIZE_MAX : 1 + out_size % 2048;
	data += PARAMS_LEN, size -= PARAMS_LEN;
	len = size;

	out = calloc(max_out, sizeof(*out));
	out_len = calloc(max_out, sizeof(*out_len));
	pkt = malloc(len ? len : 1);
	if (!out || !out_len || !pkt)
		goto done;
	/* Buffers only for as many segments as tun_offload_segments promises:
	 * writing past them hits NULL. */
	for (size_t i = 0; i < max_out && i < tun_offload_segments(&h, len); i++) {
		out[i] = malloc(out_size);
		if (!out[i])
			goto done;
	}
	memcpy(pkt, data, len);

	r = tun_offload_split(&h, pkt, len, out, out_size, out_len, max_out);
	CHECK(r == -EINVAL || r == -ENOSPC || (r >= 1 && (size_t)r <= max_out));
	if (r < 0)
		goto done;
	CHECK((size_t)r <= tun_offload_segments(&h, len));
	for (int i = 0; i < r; i++)
		CHECK(out_len[i] >= 1 && out_len[i] <= out_size);
	/* The input is not modified. */
	CHECK(memcmp(pkt, data, len) == 0);
	gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6)
		check_segments(&h, pkt, len, out, out_len, (size_t)r);
	else
		check_plain(&h, pkt, len, out[0], out_len[0]);
done:
	for (size_t i = 0; out && i < max_out; i++)
		free(out[i]);
	free(out);
	free(out_len);
	free(pkt);
	return 0;
}
