/* libFuzzer target: what the engine does to an inner packet above the path
 * MTU or carrying a SYN (issue 13.2): tun_mss_clamp (tun/mss.h),
 * tun_icmp_too_big (tun/icmp_too_big.h), tun_ipv4_fragment (tun/fragment.h)
 * on hostile packets.
 *
 * Input: one byte choosing the function (mod 3) and whether to make the
 * packet's lengths and checksums right first (bit 7, tests/fuzz/inet.h, so
 * the fuzzer gets past "the checksum is wrong"), two bytes of path MTU
 * (big-endian), one byte of max_out for the fragmenter (1..64), then the
 * packet. The packet and every output buffer are exact-size heap blocks.
 * Oracles:
 *  - clamp: unchanged packet when it says so; otherwise only the 2 MSS
 *    bytes and the 2 checksum bytes moved, the new MSS is below the old and
 *    is mtu - 40 / - 60, and a TCP checksum that verified still does;
 *  - too big: 0, -EINVAL, or a reply of at most 576 (IPv4) / 1280 (IPv6)
 *    bytes from the original destination to its source, whose IP and ICMP
 *    checksums verify, carrying the MTU and quoting the original's start;
 *  - fragment: -EINVAL, -ENOSPC or 1..max_out fragments of at most mtu
 *    bytes whose payloads put together at their offsets give the original
 *    payload exactly once, all but the last a multiple of 8 with MF, and
 *    whose header checksums verify. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/compiler.h"
#include "tests/fuzz/inet.h"
#include "tun/fragment.h"
#include "tun/icmp_too_big.h"
#include "tun/mss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PARAMS_LEN = 4, MAX_OUT = 64 };

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool tcp_ok(const uint8_t *pkt, size_t len)
{
	size_t off = inet_l4_offset(pkt, len, 6, 20);

	return off && inet_sum(pkt + off, len - off, inet_pseudo_sum(pkt, 6, len - off)) == 0xffff;
}

/* The IP length field's idea of the packet, if it fits the buffer. */
static size_t ip_len(const uint8_t *pkt, size_t len)
{
	size_t n;

	if (len >= 20 && pkt[0] >> 4 == 4)
		n = load_be16(pkt + 2);
	else if (len >= 40 && pkt[0] >> 4 == 6)
		n = (size_t)load_be16(pkt + 4) + 40;
	else
		return 0;
	return n <= len ? n : 0;
}

static void fuzz_clamp(uint8_t *pkt, size_t len, unsigned mtu)
{
	uint8_t *before = malloc(len ? len : 1);
	size_t n = ip_len(pkt, len), diff[8], nd = 0;
	bool ok_before = n && tcp_ok(pkt, n), changed;

	CHECK(before);
	memcpy(before, pkt, len);
	changed = tun_mss_clamp(pkt, len, mtu);
	for (size_t i = 0; i < len; i++) {
		if (pkt[i] != before[i]) {
			CHECK(nd < 4);
			diff[nd++] = i;
		}
	}
	if (!changed) {
		CHECK(nd == 0);
	} else {
		size_t off = inet_l4_offset(pkt, len, 6, 20);
		unsigned want = mtu - (pkt[0] >> 4 == 6 ? 60 : 40);

		CHECK(n > 0);
		/* changed bytes: the checksum (at off + 16, when the TCP header
		 * follows the IP header directly) and the MSS value; behind
		 * IPv6 extension headers only their number is checked */
		for (size_t k = 0; off && k < nd; k++) {
			size_t at = diff[k];

			if (off && (at == off + 16 || at == off + 17))
				continue;
			CHECK((at + 1 < len && load_be16(pkt + at) == want) ||
			      (at >= 1 && load_be16(pkt + at - 1) == want));
		}
		if (ok_before && off)
			CHECK(tcp_ok(pkt, n));
	}
	free(before);
}

static void fuzz_too_big(const uint8_t *pkt, size_t len, unsigned mtu)
{
	uint8_t *out = malloc(TUN_ICMP_TOO_BIG_MAX);
	int r;

	CHECK(out);
	r = tun_icmp_too_big(pkt, len, mtu, out, TUN_ICMP_TOO_BIG_MAX);
	CHECK(r == 0 || r == -EINVAL || r > 0);
	if (r > 0) {
		size_t rl = (size_t)r;

		if (pkt[0] >> 4 == 4) {
			CHECK(rl <= TUN_ICMP4_ERROR_MAX && rl >= 20 + 8 + 20);
			CHECK(rl - 28 >= MIN(load_be16(pkt + 2), (size_t)20 + 8));  /* header + 8 */
			CHECK(inet_sum(out, 20, 0) == 0xffff);
			CHECK(inet_sum(out + 20, rl - 20, 0) == 0xffff);
			CHECK(out[20] == 3 && out[21] == 4 && load_be16(out + 26) == (uint16_t)mtu);
			CHECK(!memcmp(out + 12, pkt + 16, 4) && !memcmp(out + 16, pkt + 12, 4));
			CHECK(!memcmp(out + 28, pkt, rl - 28));
		} else {
			CHECK(pkt[0] >> 4 == 6 && rl <= TUN_ICMP6_ERROR_MAX && rl >= 48 + 40);
			CHECK(inet_sum(out + 40, rl - 40, inet_pseudo_sum(out, 58, rl - 40)) == 0xffff);
			CHECK(out[40] == 2 && load_be32(out + 44) == mtu);
			CHECK(!memcmp(out + 8, pkt + 24, 16) && !memcmp(out + 24, pkt + 8, 16));
			CHECK(!memcmp(out + 48, pkt, rl - 48));
		}
	}
	free(out);
}

static void fuzz_fragment(const uint8_t *pkt, size_t len, unsigned mtu, size_t max_out)
{
	uint8_t *out[MAX_OUT], *seen;
	size_t out_len[MAX_OUT], ihl, tot, payload, base;
	int n;

	for (size_t i = 0; i < max_out; i++)
		CHECK((out[i] = malloc(mtu ? mtu : 1)));
	n = tun_ipv4_fragment(pkt, len, mtu, out, mtu, out_len, max_out);
	CHECK(n == -EINVAL || n == -ENOSPC || (n >= 1 && (size_t)n <= max_out));
	if (n > 0) {
		ihl = (size_t)(pkt[0] & 15) * 4;
		tot = load_be16(pkt + 2);
		payload = tot - ihl;
		base = (size_t)(load_be16(pkt + 6) & 0x1fff) * 8;
		CHECK((seen = calloc(1, payload + 1)));
		for (int i = 0; i < n; i++) {
			const uint8_t *f = out[i];
			size_t fihl = (size_t)(f[0] & 15) * 4, chunk, at;
			uint16_t ff = load_be16(f + 6);

			CHECK(out_len[i] <= mtu && out_len[i] >= fihl && fihl >= 20);
			CHECK(load_be16(f + 2) == out_len[i] && inet_sum(f, fihl, 0) == 0xffff);
			CHECK(!memcmp(f + 4, pkt + 4, 2) && !(ff & 0x4000));
			chunk = out_len[i] - fihl;
			at = (size_t)(ff & 0x1fff) * 8;
			CHECK(at >= base && at - base + chunk <= payload);
			if (i + 1 < n)
				CHECK((ff & 0x2000) && chunk % 8 == 0);
			else
				CHECK((ff & 0x2000) == (load_be16(pkt + 6) & 0x2000));
			for (size_t b = 0; b < chunk; b++) {
				CHECK(!seen[at - base + b]);
				seen[at - base + b] = 1;
			}
			CHECK(!memcmp(f + fihl, pkt + ihl + (at - base), chunk));
		}
		for (size_t b = 0; b < payload; b++)
			CHECK(seen[b]);
		free(seen);
	}
	for (size_t i = 0; i < max_out; i++)
		free(out[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned what, mtu;
	size_t len, max_out;
	uint8_t *pkt;

	if (size < PARAMS_LEN + 1)
		return 0;
	what = data[0] & 0x7f;
	mtu = load_be16(data + 1);
	max_out = (size_t)data[3] % MAX_OUT + 1;
	len = size - PARAMS_LEN;
	if (mtu > 9000)
		return 0;       /* the engine's largest MTU */
	pkt = malloc(len);
	if (!pkt)
		return 0;
	memcpy(pkt, data + PARAMS_LEN, len);
	if (data[0] & 0x80)
		inet_fix(pkt, len);
	switch (what % 3) {
	case 0:
		fuzz_clamp(pkt, len, mtu);
		break;
	case 1:
		fuzz_too_big(pkt, len, mtu);
		break;
	default:
		fuzz_fragment(pkt, len, mtu, max_out);
		break;
	}
	free(pkt);
	return 0;
}
