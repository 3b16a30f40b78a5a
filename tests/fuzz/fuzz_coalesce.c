/* libFuzzer target: receive coalescing (tun/coalesce.h) fed a hostile
 * sequence of decrypted packets, walked the way the engine's flush_tun
 * walks its queue: tun_coalesce_run from each packet, tun_coalesce_build
 * for a run of two or more.
 *
 * Input: records, each a tag byte then
 *   tag < 0x80: a packet of ((tag << 8) | next byte) bytes, given literally;
 *   tag >= 0x80: the next segment of the previous packet, made here so the
 *     fuzzer reaches long runs: a copy with the TCP sequence number moved
 *     on by its payload; bit 6: the payload grown or cut to the size in the
 *     next two bytes (zero-filled); bit 0: lengths and checksums fixed.
 * Every packet is an exact-size heap block (ASan sees any read past it).
 * Oracles:
 *  - a run is 1..TUN_COALESCE_MAX_SEGMENTS packets, within the queue;
 *  - a run builds (the engine's buffer is TUN_COALESCE_MAX_BYTES) into
 *    exactly the headers plus every payload, the virtio-net header says
 *    TCP GSO of the first segment's payload size from the IP header's end,
 *    the IPv4 header checksum verifies, and the TCP checksum field holds
 *    the pseudo-header sum that makes the kernel's finished checksum right;
 *  - cutting the super-packet up again (tun_offload_split, as the kernel
 *    does when it forwards it) gives back the very packets that went in,
 *    except the IPv4 ID and header checksum, which segmentation rewrites:
 *    merging loses nothing the receiver would see. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tun/coalesce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_PACKETS = 160, BIG_PACKET = 9000 };

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += get16(p + i);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

/* Where the TCP header starts, if pkt looks like IPv4/IPv6 + TCP. */
static size_t tcp_offset(const uint8_t *pkt, size_t len)
{
	size_t ip_hlen;

	if (len >= 20 && pkt[0] >> 4 == 4 && pkt[9] == 6)
		ip_hlen = (size_t)(pkt[0] & 0x0f) * 4;
	else if (len >= 40 && pkt[0] >> 4 == 6 && pkt[6] == 6)
		ip_hlen = 40;
	else
		return 0;
	return ip_hlen >= 20 && ip_hlen + 20 <= len ? ip_hlen : 0;
}

/* The pseudo-header sum of a TCP segment of tcp_len bytes, folded. */
static uint32_t pseudo_sum(const uint8_t *pkt, size_t tcp_len)
{
	uint32_t s = pkt[0] >> 4 == 6 ? ref_sum(pkt + 8, 32, 0) : ref_sum(pkt + 12, 8, 0);

	s += (uint32_t)tcp_len + 6;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* Lengths and checksums made right, as a sender would. */
static void fix(uint8_t *pkt, size_t len)
{
	size_t off = tcp_offset(pkt, len);

	if (!off)
		return;
	if (pkt[0] >> 4 == 4) {
		put16(pkt + 2, (uint16_t)len);
		put16(pkt + 10, 0);
		put16(pkt + 10, (uint16_t)~ref_sum(pkt, off, 0));
	} else {
		put16(pkt + 4, (uint16_t)(len - 40));
	}
	put16(pkt + off + 16, 0);
	put16(pkt + off + 16, (uint16_t)~ref_sum(pkt + off, len - off, pseudo_sum(pkt, len - off)));
}

/* The next segment after prev: a copy, sequence number moved on. */
static uint8_t *next_segment(const uint8_t *prev, size_t prev_len, size_t new_len, bool fixup)
{
	uint8_t *p = calloc(1, new_len ? new_len : 1);
	size_t off = tcp_offset(prev, prev_len), hlen;

	if (!p)
		return NULL;
	memcpy(p, prev, prev_len < new_len ? prev_len : new_len);
	if (off && off + 20 <= new_len) {
		uint32_t seq = (uint32_t)get16(prev + off + 4) << 16 | get16(prev + off + 6);

		hlen = off + (size_t)(prev[off + 12] >> 4) * 4;
		if (hlen < prev_len)
			seq += (uint32_t)(prev_len - hlen);
		put16(p + off + 4, (uint16_t)(seq >> 16));
		put16(p + off + 6, (uint16_t)seq);
	}
	if (fixup)
		fix(p, new_len);
	return p;
}

static void check_run(const struct tun_packet *pkts, size_t run, uint8_t *out)
{
	uint8_t hdr[TUN_VNET_HDR_LEN];
	struct tun_vnet_hdr h;
	size_t ip_hlen, hlen, total, max_len = 0, *seg_len;
	uint8_t **segs;
	bool v6 = pkts[0].data[0] >> 4 == 6;
	int len, n;

	len = tun_coalesce_build(pkts, run, out, TUN_COALESCE_MAX_BYTES, hdr);
	CHECK(len > 0 && len <= TUN_COALESCE_MAX_BYTES);
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
		CHECK(get16(out + 4) == len - 40);
	} else {
		CHECK(get16(out + 2) == len);
		CHECK((uint16_t)~ref_sum(out, 20, 0) == 0);
	}
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum; summing
	 * from csum_start over the rest must then give the true checksum. */
	{
		uint16_t partial = get16(out + ip_hlen + 16), full;

		CHECK(partial == pseudo_sum(out, (size_t)len - ip_hlen) ||
		      (partial == 0xffff && pseudo_sum(out, (size_t)len - ip_hlen) == 0));
		full = (uint16_t)~ref_sum(out + ip_hlen, (size_t)len - ip_hlen, 0);
		put16(out + ip_hlen + 16, full);
		CHECK((uint16_t)~ref_sum(out + ip_hlen, (size_t)len - ip_hlen,
					 pseudo_sum(out, (size_t)len - ip_hlen)) == 0);
		put16(out + ip_hlen + 16, partial);
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

		CHECK(seg_len[i] == pkts[i].len);
		if (v6) {
			CHECK(memcmp(a, b, pkts[i].len) == 0);
		} else {
			/* ID (4-5) and header checksum (10-11) are segmentation's. */
			CHECK(memcmp(a, b, 4) == 0 && memcmp(a + 6, b + 6, 4) == 0 &&
			      memcmp(a + 12, b + 12, pkts[i].len - 12) == 0);
		}
		free(segs[i]);
	}
	free(segs);
	free(seg_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_packet pkts[MAX_PACKETS];
	uint8_t *bufs[MAX_PACKETS], *copies[MAX_PACKETS], *out = NULL;
	size_t n = 0;

	while (size >= 1 && n < MAX_PACKETS) {
		uint8_t tag = data[0];
		size_t len;

		data++, size--;
		if (tag < 0x80) {
			if (size < 1)
				break;
			len = (size_t)tag << 8 | data[0];
			data++, size--;
			if (len > size)
				len = size;
			bufs[n] = malloc(len ? len : 1);
			if (!bufs[n])
				break;
			memcpy(bufs[n], data, len);
			data += len, size -= len;
		} else {
			if (n == 0)
				continue;
			len = pkts[n - 1].len;
			if (tag & 0x40) {
				if (size < 2)
					break;
				len = get16(data) % (BIG_PACKET + 1);
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
	free(out);
	return 0;
}
