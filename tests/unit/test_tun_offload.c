/* TUN offloads: the fast checksum against a plain one, a TCP super-packet split into segments that a naive oracle
 * checks field by field (lengths, IDs, sequence numbers, flags, both
 * checksums, the payload put back together), a partial checksum finished,
 * and headers that do not fit their packet refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "tests/fuzz/inet.h" /* the oracle: RFC 1071 sums written plainly */
#include "tun/coalesce.h"
#include "tun/offload.h"

enum { PAYLOAD = 5000, MSS = 1388, OUT_SIZE = 1500, MAX_SEG = 8 };

/* Builds IP + 32-byte TCP header (with options) + PAYLOAD random bytes. */
static size_t build_super(uint8_t *pkt, bool v6, uint8_t *payload)
{
	size_t ip_hlen = v6 ? 40 : 20, len = ip_hlen + 32 + PAYLOAD;
	uint8_t *th = pkt + ip_hlen;

	memset(pkt, 0, ip_hlen + 32);
	if (v6) {
		pkt[0] = 0x60;
		pkt[6] = 6;
		pkt[7] = 64;
		for (int i = 0; i < 16; i++) {
			pkt[8 + i] = (uint8_t)(0xfd + i);
			pkt[24 + i] = (uint8_t)(0x20 + i);
		}
	} else {
		pkt[0] = 0x45;
		pkt[4] = 0x12;
		pkt[5] = 0x34; /* IP ID */
		pkt[8] = 64;
		pkt[9] = 6;
		memcpy(pkt + 12, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
	}
	th[0] = 0xc0; th[1] = 0x01; th[2] = 0x14; th[3] = 0x51; /* ports */
	memcpy(th + 4, "\xff\xff\xf0\x00", 4);  /* seq near the wrap */
	th[12] = 8 << 4;                        /* 32-byte header */
	th[13] = 0x80 | 0x10 | 0x08 | 0x01;     /* CWR ACK PSH FIN */
	th[20] = 1; th[21] = 1; th[22] = 8; th[23] = 10; /* NOP NOP timestamp */
	for (size_t i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)rand();
	memcpy(pkt + ip_hlen + 32, payload, PAYLOAD);
	return len;
}

static void check_split(bool v6)
{
	static uint8_t pkt[65536], payload[PAYLOAD], joined[PAYLOAD];
	uint8_t bufs[MAX_SEG][OUT_SIZE], *out[MAX_SEG];
	size_t out_len[MAX_SEG], ip_hlen = v6 ? 40 : 20, hlen = ip_hlen + 32, got = 0;
	size_t len = build_super(pkt, v6, payload);
	struct tun_vnet_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = (uint16_t)hlen, .gso_size = MSS,
		.csum_start = (uint16_t)ip_hlen, .csum_offset = 16,
	};
	int n;

	for (int i = 0; i < MAX_SEG; i++)
		out[i] = bufs[i];
	n = tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG);
	assert_int_equal(n, (PAYLOAD + MSS - 1) / MSS);
	for (int i = 0; i < n; i++) {
		const uint8_t *seg = out[i], *th = seg + ip_hlen;
		size_t chunk = out_len[i] - hlen;
		uint8_t flags = th[13];

		assert_int_equal(chunk, i + 1 < n ? MSS : PAYLOAD - (size_t)(n - 1) * MSS);
		if (v6) {
			assert_int_equal(load_be16(seg + 4), out_len[i] - 40);
		} else {
			assert_int_equal(load_be16(seg + 2), out_len[i]);
			assert_int_equal(load_be16(seg + 4), 0x1234 + i);
			assert_int_equal(inet_sum(seg, 20, 0), 0xffff);
		}
		assert_true(load_be32(th + 4) == (uint32_t)(0xfffff000u + (uint32_t)i * MSS));
		assert_int_equal(flags & 0x10, 0x10);                       /* ACK everywhere */
		assert_int_equal(flags & 0x80, i == 0 ? 0x80 : 0);           /* CWR first only */
		assert_int_equal(flags & 0x09, i + 1 == n ? 0x09 : 0);       /* FIN, PSH last only */
		assert_memory_equal(th + 20, "\x01\x01\x08\x0a", 4);          /* options kept */
		assert_true(inet_l4_checksum_ok(seg, ip_hlen, out_len[i], 6));
		memcpy(joined + got, seg + hlen, chunk);
		got += chunk;
	}
	assert_int_equal(got, PAYLOAD);
	assert_memory_equal(joined, payload, PAYLOAD);
}

static void test_split_ipv4(void **state)
{
	(void)state;
	check_split(false);
}

static void test_split_ipv6(void **state)
{
	(void)state;
	check_split(true);
}

/* Linux's smallest MSS (48): 5000 bytes become 105 segments, all valid. */
static void test_split_small_mss(void **state)
{
	static uint8_t pkt[65536], payload[PAYLOAD], bufs[120][OUT_SIZE], joined[PAYLOAD];
	uint8_t *out[120];
	size_t out_len[120], got = 0, len = build_super(pkt, false, payload);
	struct tun_vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 48,
				  .csum_start = 20, .csum_offset = 16 };
	int n;

	(void)state;
	for (int i = 0; i < 120; i++)
		out[i] = bufs[i];
	assert_true(tun_offload_segments(&h, len) >= 105);
	assert_true(tun_offload_segments(&h, len) <= TUN_OFFLOAD_MAX_SEGMENTS);
	n = tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, 120);
	assert_int_equal(n, (PAYLOAD + 47) / 48);
	for (int i = 0; i < n; i++) {
		assert_true(inet_l4_checksum_ok(out[i], 20, out_len[i], 6));
		memcpy(joined + got, out[i] + 52, out_len[i] - 52);
		got += out_len[i] - 52;
	}
	assert_int_equal(got, PAYLOAD);
	assert_memory_equal(joined, payload, PAYLOAD);
	/* the worst case the kernel can send still fits the limit */
	assert_true(tun_offload_segments(&h, 65535 + TUN_VNET_HDR_LEN) <= TUN_OFFLOAD_MAX_SEGMENTS);
}

/* A UDP packet whose checksum field holds only the pseudo-header sum. */
static void test_finish_checksum(void **state)
{
	uint8_t pkt[28 + 13], buf[64], *out[1] = { buf };
	size_t out_len[1];
	struct tun_vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				  .gso_type = VIRTIO_NET_HDR_GSO_NONE,
				  .csum_start = 20, .csum_offset = 6 };
	uint32_t pseudo;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = sizeof(pkt);
	pkt[9] = 17;
	memcpy(pkt + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x02", 8);
	pkt[21] = 53;
	pkt[23] = 99;
	pkt[25] = sizeof(pkt) - 20;
	memcpy(pkt + 28, "hello, world!", 13);
	pseudo = inet_sum(pkt + 12, 8, 0) + 17 + (sizeof(pkt) - 20);
	pkt[26] = (uint8_t)(inet_sum(NULL, 0, pseudo) >> 8);
	pkt[27] = (uint8_t)inet_sum(NULL, 0, pseudo);

	assert_int_equal(tun_offload_split(&h, pkt, sizeof(pkt), out, sizeof(buf), out_len, 1), 1);
	assert_int_equal(out_len[0], sizeof(pkt));
	pkt[26] = pkt[27] = 0;
	assert_int_equal(inet_sum(buf + 20, sizeof(pkt) - 20,
				   inet_sum(pkt + 12, 8, 0) + 17 + (uint32_t)(sizeof(pkt) - 20)),
			 0xffff);
	/* A packet without offload flags passes through untouched. */
	h.flags = 0;
	assert_int_equal(tun_offload_split(&h, pkt, sizeof(pkt), out, sizeof(buf), out_len, 1), 1);
	assert_memory_equal(buf, pkt, sizeof(pkt));
}

static void test_bad_headers(void **state)
{
	static uint8_t pkt[65536], payload[PAYLOAD];
	uint8_t bufs[MAX_SEG][OUT_SIZE], *out[MAX_SEG];
	size_t out_len[MAX_SEG];
	size_t len = build_super(pkt, false, payload);
	struct tun_vnet_hdr good = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 52,
				     .gso_size = MSS, .csum_start = 20, .csum_offset = 16 };
	struct tun_vnet_hdr h;

	(void)state;
	for (int i = 0; i < MAX_SEG; i++)
		out[i] = bufs[i];
	h = good; h.gso_size = 0;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	h = good; h.csum_start = 60000;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	h = good; h.csum_start = 10;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	h = good; h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	h = good;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, 2), -ENOSPC);
	assert_int_equal(tun_offload_split(&h, pkt, len, out, 1000, out_len, MAX_SEG), -ENOSPC);
	assert_int_equal(tun_offload_split(&h, pkt, 40, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	h = good; h.gso_type = VIRTIO_NET_HDR_GSO_NONE; h.csum_start = 1000;
	assert_int_equal(tun_offload_split(&h, pkt, 100, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
	pkt[32] = 0x10; /* TCP data offset 4 words: shorter than the minimum */
	h = good;
	assert_int_equal(tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG), -EINVAL);
}

/* What the kernel reads from a writev of iov[0..n): the bytes one after
 * the other. Returns their length. */
static size_t gather(const struct iovec *iov, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(iov[i].iov_len <= cap - len);
		memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	return len;
}

/* Splits a super-packet, then merges the segments back: the result must be
 * the original stream, with a partial checksum the kernel can finish,
 * described without a copy (the payloads stay where they are, untouched). */
static void check_round_trip(bool v6)
{
	static uint8_t pkt[65536], payload[PAYLOAD], merged[65536];
	uint8_t bufs[MAX_SEG][OUT_SIZE], *out[MAX_SEG], hdr[TUN_VNET_HDR_LEN];
	uint8_t headers[TUN_COALESCE_HEADERS_MAX], before[MAX_SEG][OUT_SIZE];
	struct iovec iov[TUN_COALESCE_IOV_MAX];
	size_t out_len[MAX_SEG], ip_hlen = v6 ? 40 : 20, hlen = ip_hlen + 32;
	size_t len = build_super(pkt, v6, payload);
	struct tun_vnet_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = MSS, .csum_start = (uint16_t)ip_hlen, .csum_offset = 16,
	};
	struct tun_packet segs[MAX_SEG];
	struct tun_vnet_hdr got;
	uint8_t fin_free[MAX_SEG][OUT_SIZE];
	int n, mlen;

	for (int i = 0; i < MAX_SEG; i++)
		out[i] = bufs[i];
	/* no FIN/CWR, so every segment may merge */
	pkt[ip_hlen + 13] = 0x10 | 0x08;
	n = tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		memcpy(fin_free[i], out[i], out_len[i]);
		memcpy(before[i], out[i], out_len[i]);
		segs[i] = (struct tun_packet){ fin_free[i], out_len[i] };
	}
	assert_int_equal(tun_coalesce_run(segs, (size_t)n), (size_t)n);
	memset(iov, 0, sizeof(iov));
	mlen = tun_coalesce_build(segs, (size_t)n, headers, iov, hdr);
	assert_int_equal(mlen, len);
	assert_ptr_equal(iov[0].iov_base, headers);
	assert_int_equal(iov[0].iov_len, hlen);
	for (int i = 0; i < n; i++) {
		assert_ptr_equal(iov[1 + i].iov_base, fin_free[i] + hlen); /* no copy */
		assert_int_equal(iov[1 + i].iov_len, out_len[i] - hlen);
		assert_memory_equal(fin_free[i], before[i], out_len[i]); /* nor a write */
	}
	assert_null(iov[n + 1].iov_base); /* nothing past count + 1 */
	assert_int_equal(gather(iov, (size_t)n + 1, merged, sizeof(merged)), len);
	assert_memory_equal(merged + hlen, payload, PAYLOAD);
	assert_int_equal(merged[ip_hlen + 13], 0x18); /* PSH came from the last */
	if (v6)
		assert_int_equal(load_be16(merged + 4), len - 40);
	else
		assert_int_equal(inet_sum(merged, 20, 0), 0xffff);
	tun_vnet_hdr_parse(&got, hdr);
	assert_int_equal(got.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(got.gso_size, MSS);
	assert_int_equal(got.hdr_len, hlen);
	assert_int_equal(got.csum_start, ip_hlen);
	assert_int_equal(got.csum_offset, 16);
	assert_true(got.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	/* What the kernel does with CHECKSUM_PARTIAL: sum from csum_start. */
	{
		uint16_t c = tun_checksum(merged + ip_hlen, (size_t)mlen - ip_hlen, 0);

		merged[ip_hlen + 16] = (uint8_t)(c >> 8);
		merged[ip_hlen + 17] = (uint8_t)c;
		assert_true(inet_l4_checksum_ok(merged, ip_hlen, (size_t)mlen, 6));
	}
}

static void test_coalesce_ipv4(void **state)
{
	(void)state;
	check_round_trip(false);
}

static void test_coalesce_ipv6(void **state)
{
	(void)state;
	check_round_trip(true);
}

/* Recomputes the IPv4 header and TCP checksums of a segment after a test
 * changed a field, so that each boundary case tests its own rule and not
 * the checksum check. */
static void refresh(uint8_t *seg, size_t len)
{
	uint32_t pseudo;
	uint16_t c;

	seg[10] = seg[11] = 0;
	c = (uint16_t)~inet_sum(seg, 20, 0);
	seg[10] = (uint8_t)(c >> 8);
	seg[11] = (uint8_t)c;
	seg[36] = seg[37] = 0;
	pseudo = inet_sum(seg + 12, 8, 0) + (uint32_t)(len - 20) + 6;
	c = (uint16_t)~inet_sum(seg + 20, len - 20, pseudo);
	seg[36] = (uint8_t)(c >> 8);
	seg[37] = (uint8_t)c;
}

/* Runs end where they must. */
static void test_coalesce_boundaries(void **state)
{
	static uint8_t pkt[65536], payload[PAYLOAD];
	uint8_t bufs[MAX_SEG][OUT_SIZE], *out[MAX_SEG];
	size_t out_len[MAX_SEG];
	size_t len = build_super(pkt, false, payload);
	struct tun_vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = MSS,
				  .csum_start = 20, .csum_offset = 16 };
	struct tun_packet segs[MAX_SEG];
	int n;

	(void)state;
	for (int i = 0; i < MAX_SEG; i++)
		out[i] = bufs[i];
	pkt[20 + 13] = 0x10;
	n = tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, MAX_SEG);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++)
		segs[i] = (struct tun_packet){ out[i], out_len[i] };
	assert_int_equal(tun_coalesce_run(segs, 4), 4);
	assert_int_equal(tun_coalesce_run(segs, 1), 1);

	/* a damaged segment (bad TCP checksum) is never merged */
	out[2][60] ^= 0x40;
	assert_int_equal(tun_coalesce_run(segs, 4), 2);
	segs[0] = (struct tun_packet){ out[2], out_len[2] };
	assert_int_equal(tun_coalesce_run(segs, 2), 1);
	segs[0] = (struct tun_packet){ out[0], out_len[0] };
	out[2][60] ^= 0x40;
	refresh(out[2], out_len[2]);
	/* nor one with a bad IPv4 header checksum */
	out[1][10] ^= 1;
	assert_int_equal(tun_coalesce_run(segs, 4), 1);
	out[1][10] ^= 1;
	refresh(out[1], out_len[1]);
	assert_int_equal(tun_coalesce_run(segs, 4), 4);

	/* a gap in the sequence (segment 1 lost) */
	segs[1] = (struct tun_packet){ out[2], out_len[2] };
	assert_int_equal(tun_coalesce_run(segs, 3), 1);
	segs[1] = (struct tun_packet){ out[1], out_len[1] };

	/* PSH ends the run after its segment */
	out[1][33] |= 0x08;
	refresh(out[1], out_len[1]);
	assert_int_equal(tun_coalesce_run(segs, 4), 2);
	out[1][33] &= (uint8_t)~0x08;
	refresh(out[1], out_len[1]);

	/* a FIN, a SYN or an RST never merges */
	out[2][33] |= 0x01;
	refresh(out[2], out_len[2]);
	assert_int_equal(tun_coalesce_run(segs, 4), 2);
	out[2][33] &= (uint8_t)~0x01;
	refresh(out[2], out_len[2]);

	/* another port, another ACK number, another TTL */
	out[3][21] ^= 1;
	refresh(out[3], out_len[3]);
	assert_int_equal(tun_coalesce_run(segs, 4), 3);
	out[3][21] ^= 1;
	refresh(out[3], out_len[3]);
	out[2][28] ^= 1;
	refresh(out[2], out_len[2]);
	assert_int_equal(tun_coalesce_run(segs, 4), 2);
	out[2][28] ^= 1;
	refresh(out[2], out_len[2]);
	out[1][8] ^= 1;
	refresh(out[1], out_len[1]);
	assert_int_equal(tun_coalesce_run(segs, 4), 1);
	out[1][8] ^= 1;
	refresh(out[1], out_len[1]);

	/* the short last segment ends the run: nothing may follow it */
	segs[0] = (struct tun_packet){ out[3], out_len[3] };
	assert_int_equal(tun_coalesce_run(segs, 2), 1);

	/* not TCP, and IPv4 with options, stay alone */
	segs[0] = (struct tun_packet){ out[0], out_len[0] };
	out[0][9] = 17;
	refresh(out[0], out_len[0]);
	assert_int_equal(tun_coalesce_run(segs, 4), 1);
	out[0][9] = 6;
	refresh(out[0], out_len[0]);
	out[0][0] = 0x46;
	refresh(out[0], out_len[0]);
	assert_int_equal(tun_coalesce_run(segs, 4), 1);
	out[0][0] = 0x45;
	refresh(out[0], out_len[0]);
	assert_int_equal(tun_coalesce_run(segs, 4), 4);
}

/* The checksum, written the plain RFC 1071 way: big-endian 16-bit words
 * (an odd last byte padded), 64-bit accumulation, folded, complemented. */
static uint16_t reference_checksum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* tun_checksum sums native 64-bit words: it must equal the plain sum for
 * every length (odd ones too), start offset (alignment) and starting sum,
 * on random, all-zero and all-ones bytes, and give RFC 1071's example. */
static void test_checksum_reference(void **state)
{
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static uint8_t buf[64 + 65536];
	unsigned seed = 1071;

	(void)state;
	/* section 3: the sum is ddf2, so the checksum is its complement */
	assert_int_equal(tun_checksum(rfc1071, sizeof(rfc1071), 0), 0x220d);
	memcpy(buf + 3, rfc1071, sizeof(rfc1071));
	assert_int_equal(tun_checksum(buf + 3, sizeof(rfc1071), 0), 0x220d);
	/* odd: 0001 + f203 + f400 = 1e604, end-around carry e605 */
	assert_int_equal(tun_checksum(rfc1071, 5, 0), 0x19fa);
	assert_int_equal(tun_checksum(NULL, 0, 0), 0xffff);
	assert_int_equal(tun_checksum(NULL, 0, 0x1fffe), 0x0000);

	for (int i = 0; i < 6000; i++) {
		size_t off = (size_t)rand_r(&seed) % 64, len = (size_t)rand_r(&seed) % 9001;
		uint32_t sum = (uint32_t)rand_r(&seed) << 16 ^ (uint32_t)rand_r(&seed);
		int fill = i % 10;

		if (i % 3 == 0)
			sum &= 0xffff; /* callers mostly pass a folded sum */
		if (i % 5 == 0)
			sum = 0;
		for (size_t k = 0; k < len; k++)
			buf[off + k] = fill == 0 ? 0 : fill == 1 ? 0xff : (uint8_t)rand_r(&seed);
		assert_int_equal(tun_checksum(buf + off, len, sum),
				 reference_checksum(buf + off, len, sum));
	}
	/* the largest packets */
	for (size_t k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)rand_r(&seed);
	for (size_t len = 65520; len <= 65536; len++)
		assert_int_equal(tun_checksum(buf + 7, len, 0), reference_checksum(buf + 7, len, 0));
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(tun_checksum(buf + 1, 65535, 0xffffffff),
			 reference_checksum(buf + 1, 65535, 0xffffffff));
}

/* A path MTU below the interface's: tun_offload_fit lowers the kernel's
 * segment size so every segment fits the path (IPv4 and IPv6, headers with
 * options), and the split stays exact; a fitting size is left alone. */
static void test_fit_path_mtu(void **state)
{
	static const size_t mtus[] = { 1280, 1300, 1337, 576 };
	static uint8_t pkt[65536], payload[PAYLOAD], joined[PAYLOAD];
	static uint8_t bufs[16][OUT_SIZE];
	uint8_t *out[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		out[i] = bufs[i];
	for (int v6 = 0; v6 < 2; v6++) {
		for (size_t m = 0; m < sizeof(mtus) / sizeof(mtus[0]); m++) {
			size_t ip_hlen = v6 ? 40 : 20, hlen = ip_hlen + 32, got = 0, out_len[16];
			size_t len = build_super(pkt, v6, payload), mtu = mtus[m];
			struct tun_vnet_hdr h = {
				.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
				.hdr_len = (uint16_t)hlen, .gso_size = MSS,
				.csum_start = (uint16_t)ip_hlen, .csum_offset = 16,
			};
			int n;

			tun_offload_fit(&h, pkt, len, mtu);
			assert_int_equal(h.gso_size, mtu - hlen);
			assert_true(tun_offload_segments(&h, len) <= 16);
			n = tun_offload_split(&h, pkt, len, out, OUT_SIZE, out_len, 16);
			assert_int_equal(n, (PAYLOAD + (mtu - hlen) - 1) / (mtu - hlen));
			for (int i = 0; i < n; i++) {
				assert_true(out_len[i] <= mtu);
				assert_int_equal(out_len[i], i + 1 < n ? mtu : out_len[i]);
				assert_true(inet_l4_checksum_ok(out[i], ip_hlen, out_len[i], 6));
				memcpy(joined + got, out[i] + hlen, out_len[i] - hlen);
				got += out_len[i] - hlen;
			}
			assert_int_equal(got, PAYLOAD);
			assert_memory_equal(joined, payload, PAYLOAD);
			/* already fitting: unchanged */
			h.gso_size = 100;
			tun_offload_fit(&h, pkt, len, mtu);
			assert_int_equal(h.gso_size, 100);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_reference),
		cmocka_unit_test(test_split_ipv4),
		cmocka_unit_test(test_split_ipv6),
		cmocka_unit_test(test_split_small_mss),
		cmocka_unit_test(test_fit_path_mtu),
		cmocka_unit_test(test_finish_checksum),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_coalesce_ipv4),
		cmocka_unit_test(test_coalesce_ipv6),
		cmocka_unit_test(test_coalesce_boundaries),
	};

	srand(7);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
