/* libFuzzer target: receive coalescing (tun/coalesce.h) fed a hostile
 * sequence of decrypted packets, walked the way the engine's flush_tun
 * walks its queue: tun_coalesce_run from each packet, tun_coalesce_build
 * for a run of two or more.
 *
 * Input: records, each a tag byte then
 *   tag < 0x80: a packet of (((tag & 0x3f) << 8) | next byte) bytes, given
 *     literally; bit 6: its lengths and checksums fixed (inet.h), so a
 *     mutated packet still looks like one a sender made;
 *   tag >= 0x80: the next segment of the previous packet, made here so the
 *     fuzzer reaches long runs: a copy with the TCP sequence number moved
 *     on by its payload; bit 6: the payload grown or cut to the size in the
 *     next two bytes (zero-filled); bit 0: lengths and checksums fixed.
 * Every packet is an exact-size heap block (ASan sees any read past it).
 * Oracles:
 *  - a run is 1..TUN_COALESCE_MAX_SEGMENTS packets, within the queue;
 *  - a run builds into iovecs: patched headers in the scratch buffer, then
 *    every payload where it lies, in order; what a writev of them gives the
 *    kernel is exactly the headers plus every payload, the virtio-net header says
 *    TCP GSO of the first segment's payload size from the IP header's end,
 *    the IPv4 header checksum verifies, and the TCP checksum field holds
 *    the pseudo-header sum that makes the kernel's finished checksum right;
 *  - cutting the super-packet up again (tun_offload_split, as the kernel
 *    does when it forwards it) gives back the very packets that went in,
 *    except the IPv4 ID and header checksum, which segmentation rewrites,
 *    and the urgent pointer, which means nothing without URG (never
 *    merged), with the TCP checksum over it: merging loses nothing the
 *    receiver would see. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "tests/fuzz/inet.h"
#include "tun/coalesce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_PACKETS = 160, BIG_PACKET = 9000 };

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* The next segment after prev: a copy, sequence number moved on. */
static uint8_t *next_segment(const uint8_t *prev, size_t prev_len, size_t new_len, bool fixup)
{
	uint8_t *p = calloc(1, new_len ? new_len : 1);
	size_t off = inet_l4_offset(prev, prev_len, 6, 20), hlen;

	if (!p)
		return NULL;
	memcpy(p, prev, prev_len < new_len ? prev_len : new_len);
	if (off && off + 20 <= new_len) {
		uint32_t seq = (uint32_t)load_be16(prev + off + 4) << 16 | load_be16(prev + off + 6);

		hlen = off + (size_t)(prev[off + 12] >> 4) * 4;
		if (hlen < prev_len)
			seq += (uint32_t)(prev_len - hlen);
		store_be16(p + off + 4, (uint16_t)(seq >> 16));
		store_be16(p + off + 6, (uint16_t)seq);
	}
	if (fixup)
		inet_fix(p, new_len);
	return p;
}

static void check_run(const struct tun_packet *pkts, size_t run, uint8_t *out)
{
	uint8_t hdr[TUN_VNET_HDR_LEN], headers[TUN_COALESCE_HEADERS_MAX];
	struct iovec iov[TUN_COALESCE_IOV_MAX];
	struct tun_vnet_hdr h;
	size_t ip_hlen, hlen, total, max_len = 0, *seg_len, gathered = 0;
	uint8_t **segs;
	bool v6 = pkts[0].data[0] >> 4 == 6;
	int len, n;

	len = tun_coalesce_build(pkts, run, headers, iov, hdr);
	CHECK(len > 0 && len <= TUN_COALESCE_MAX_BYTES);
	/* What the kernel reads from the writev, into `out` (made with
	 * TUN_COALESCE_MAX_BYTES: ASan sees its end). */
	for (size_t i = 0; i <= run; i++) {
		CHECK(iov[i].iov_len <= (size_t)len - gathered);
		CHECK(i == 0 ? iov[0].iov_base == headers
			     : iov[i].iov_base == pkts[i - 1].data + iov[0].iov_len);
		memcpy(out + gathered, iov[i].iov_base, iov[i].iov_len);
		gathered += iov[i].iov_len;
	}
	CHECK(gathered == (size_t)len);
	tun_vnet_hdr_parse(&h, hdr);
	ip_hlen = v6 ? 40 : 20;
	CHECK(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csum_start == ip_hlen &&
	      h.csum_offset == 16);
	CHECK(h.gso_type == (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4));
	hlen = h.hdr_len;
	CHECK(hlen >= ip_hlen + 20 && hlen < pkts[0].len && h.gso_size == pkts[0].len - hlen);
	total = hlen;
	for (size_t i = 0; i < run; i++) {
		CHECK(pkts[i].len > hlen && pkts[i].len - hlen <= h.gso_size);
		total += pkts[i].len - hlen;
		max_len = pkts[i].len > max_len ? pkts[i].len : max_len;
	}
	CHECK((size_t)len == total);
	if (v6) {
		CHECK(load_be16(out + 4) == len - 40);
	} else {
		CHECK(load_be16(out + 2) == len);
		CHECK((uint16_t)~inet_sum(out, 20, 0) == 0);
	}
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum; summing
	 * from csum_start over the rest must then give the true checksum. */
	{
		uint16_t partial = load_be16(out + ip_hlen + 16), full;

		CHECK(partial == inet_pseudo_sum(out, 6, (size_t)len - ip_hlen) ||
		      (partial == 0xffff && inet_pseudo_sum(out, 6, (size_t)len - ip_hlen) == 0));
		full = (uint16_t)~inet_sum(out + ip_hlen, (size_t)len - ip_hlen, 0);
		store_be16(out + ip_hlen + 16, full);
		CHECK((uint16_t)~inet_sum(out + ip_hlen, (size_t)len - ip_hlen,
					 inet_pseudo_sum(out, 6, (size_t)len - ip_hlen)) == 0);
		store_be16(out + ip_hlen + 16, partial);
	}

	/* Cut it up again: the packets that went in come out. */
	segs = calloc(run, sizeof(*segs));
	seg_len = calloc(run, sizeof(*seg_len));
	CHECK(segs && seg_len);
	for (size_t i = 0; i < run; i++) {
		segs[i] = malloc(max_len);
		CHECK(segs[i]);
	}
	n = tun_offload_split(&h, out, (size_t)len, segs, max_len, seg_len, run);
	CHECK(n >= 0 && (size_t)n == run);
	for (size_t i = 0; i < run; i++) {
		const uint8_t *a = pkts[i].data, *b = segs[i];
		/* The urgent pointer means nothing without URG; the checksum
		 * covers it, and fuzz_offload checks segments' checksums. */
		size_t urg = ip_hlen + 18;

		CHECK(seg_len[i] == pkts[i].len);
		CHECK(memcmp(a + ip_hlen, b + ip_hlen, 16) == 0 &&
		      memcmp(a + urg + 2, b + urg + 2, pkts[i].len - urg - 2) == 0);
		if (v6) {
			CHECK(memcmp(a, b, ip_hlen) == 0);
		} else {
			/* ID (4-5) and header checksum (10-11) are segmentation's. */
			CHECK(memcmp(a, b, 4) == 0 && memcmp(a + 6, b + 6, 4) == 0 &&
			      memcmp(a + 12, b + 12, 8) == 0);
		}
		free(segs[i]);
	}
	free(segs);
	free(seg_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_packet pkts[MAX_PACKETS];
	static uint8_t *out;
	uint8_t *bufs[MAX_PACKETS], *copies[MAX_PACKETS];
	size_t n = 0;

	while (size >= 1 && n < MAX_PACKETS) {
		uint8_t tag = data[0];
		size_t len;

		data++, size--;
		if (tag < 0x80) {
			if (size < 1)
				break;
			len = (size_t)(tag & 0x3f) << 8 | data[0];
			data++, size--;
			if (len > size)
				len = size;
			bufs[n] = malloc(len ? len : 1);
			if (!bufs[n])
				break;
			memcpy(bufs[n], data, len);
			if (tag & 0x40)
				inet_fix(bufs[n], len);
			data += len, size -= len;
		} else {
			if (n == 0)
				continue;
			len = pkts[n - 1].len;
			if (tag & 0x40) {
				if (size < 2)
					break;
				len = load_be16(data) % (BIG_PACKET + 1);
				data += 2, size -= 2;
			}
			bufs[n] = next_segment(pkts[n - 1].data, pkts[n - 1].len, len, tag & 1);
			if (!bufs[n])
				break;
		}
		pkts[n].data = bufs[n];
		pkts[n].len = len;
		n++;
	}
	/* Copies, to prove coalescing never writes to its input. */
	for (size_t i = 0; i < n; i++) {
		copies[i] = malloc(pkts[i].len ? pkts[i].len : 1);
		CHECK(copies[i]);
		memcpy(copies[i], pkts[i].data, pkts[i].len);
	}
	/* Where the writev's bytes are gathered; made once (ASan still sees its end). */
	if (!out)
		out = malloc(TUN_COALESCE_MAX_BYTES);
	CHECK(out);

	for (size_t i = 0; i < n;) {
		size_t run = tun_coalesce_run(&pkts[i], n - i);

		CHECK(run >= 1 && run <= n - i && run <= TUN_COALESCE_MAX_SEGMENTS);
		if (run > 1)
			check_run(&pkts[i], run, out);
		i += run;
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(memcmp(copies[i], pkts[i].data, pkts[i].len) == 0);
		free(copies[i]);
		free(bufs[i]);
	}
	return 0;
}
