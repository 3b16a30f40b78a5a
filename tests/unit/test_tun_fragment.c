/* IPv4 fragmentation (tun/fragment.c): table-driven, each result put back
 * together by a naive reassembler (the oracle) and compared with the
 * original payload; every fragment fits the MTU, carries a multiple of 8
 * bytes except the last, has MF right, the original ID and a valid header
 * checksum; later fragments keep only the "copied" options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "tests/fuzz/inet.h" /* the oracle: RFC 1071 sums written plainly */
#include "tun/fragment.h"

enum { PKT_MAX = 9000, FRAG_MAX = 40, OUT_SIZE = 1500 };

/* options: a copied one (type 0x94 router alert, 4 bytes) and a not copied
 * one (type 0x07 record route, 7 bytes), NOP, END: 12 bytes -> ihl 32 */
static const uint8_t options[12] = { 0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 1 };

struct frag_case {
	const char *name;
	size_t len, mtu;
	bool with_options;
	uint16_t orig_frag;    /* flags + offset of the original (MF / offset) */
	int want;              /* fragments, or -errno */
};

static const struct frag_case cases[] = {
	{ "1400 into 1280", 1400, 1280, false, 0, 2 },
	{ "1420 into 1220", 1420, 1220, false, 0, 2 },
	{ "9000 into 1280", 9000, 1280, false, 0, 8 },
	{ "1281 into 1280 (one byte over)", 1281, 1280, false, 0, 2 },
	{ "odd mtu 1283", 1400, 1283, false, 0, 2 },
	{ "options", 1400, 1280, true, 0, 2 },
	{ "options, small mtu", 1400, 576, true, 0, 3 },
	{ "a fragment with MF", 1400, 1280, false, 0x2000 | 100, 2 },
	{ "a last fragment", 1400, 1280, false, 200, 2 },
	{ "DF refused", 1400, 1280, false, 0x4000, -EINVAL },
	{ "mtu below header + 8", 1400, 27, false, 0, -EINVAL },
	{ "too many fragments", 9000, 100, false, 0, -ENOSPC },
};

static size_t build(const struct frag_case *c, uint8_t *pkt)
{
	size_t ihl = c->with_options ? 32 : 20;

	for (size_t i = 0; i < c->len; i++)
		pkt[i] = (uint8_t)(i * 13 + 5);
	pkt[0] = (uint8_t)(0x40 | ihl / 4);
	pkt[1] = 0;
	store_be16(pkt + 2, (uint16_t)c->len);
	store_be16(pkt + 4, 0xbeef);
	store_be16(pkt + 6, c->orig_frag);
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, "\x0a\x01\x00\x0a\x0a\x02\x00\x0a", 8);
	if (c->with_options)
		memcpy(pkt + 20, options, sizeof(options));
	store_be16(pkt + 10, 0);
	store_be16(pkt + 10, (uint16_t)~inet_sum(pkt, ihl, 0));
	return c->len;
}

static void test_table(void **state)
{
	static uint8_t pkt[PKT_MAX], joined[PKT_MAX], bufs[FRAG_MAX][OUT_SIZE];
	static bool have[PKT_MAX];
	uint8_t *out[FRAG_MAX];
	size_t out_len[FRAG_MAX];

	(void)state;
	for (int i = 0; i < FRAG_MAX; i++)
		out[i] = bufs[i];
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct frag_case *c = &cases[k];
		size_t len = build(c, pkt), ihl = (size_t)(pkt[0] & 15) * 4, payload = len - ihl;
		size_t base = (size_t)(c->orig_frag & 0x1fff) * 8, max_out = c->want == -ENOSPC ? 10 : FRAG_MAX;
		int n;

		print_message("%s\n", c->name);
		n = tun_ipv4_fragment(pkt, len, c->mtu, out, OUT_SIZE, out_len, max_out);
		assert_int_equal(n, c->want);
		if (n < 0)
			continue;
		memset(have, 0, sizeof(have));
		for (int i = 0; i < n; i++) {
			const uint8_t *f = out[i];
			size_t fihl = (size_t)(f[0] & 15) * 4, flen = out_len[i], chunk = flen - fihl;
			uint16_t ff = load_be16(f + 6);
			size_t at = (size_t)(ff & 0x1fff) * 8;

			assert_true(flen <= c->mtu);
			assert_int_equal(load_be16(f + 2), flen);
			assert_int_equal(load_be16(f + 4), 0xbeef);
			assert_int_equal(f[0] >> 4, 4);
			assert_int_equal(inet_sum(f, fihl, 0), 0xffff);
			assert_memory_equal(f + 8, pkt + 8, 2);            /* TTL, protocol */
			assert_memory_equal(f + 12, pkt + 12, 8);          /* addresses */
			assert_int_equal(ff & 0x4000, 0);
			if (i + 1 < n) {
				assert_int_equal(ff & 0x2000, 0x2000);
				assert_int_equal(chunk % 8, 0);
			} else {
				assert_int_equal(ff & 0x2000, c->orig_frag & 0x2000);
			}
			if (i == 0) {
				assert_int_equal(fihl, ihl);
				assert_memory_equal(f + 20, pkt + 20, ihl - 20);
			} else if (c->with_options) {
				/* only the copied router alert, padded */
				assert_int_equal(fihl, 24);
				assert_memory_equal(f + 20, options, 4);
			} else {
				assert_int_equal(fihl, 20);
			}
			assert_true(at >= base && at - base + chunk <= payload);
			for (size_t b = 0; b < chunk; b++) {
				assert_false(have[at - base + b]);       /* no overlap */
				have[at - base + b] = true;
			}
			memcpy(joined + (at - base), f + fihl, chunk);
		}
		for (size_t b = 0; b < payload; b++)
			assert_true(have[b]);
		assert_memory_equal(joined, pkt + ihl, payload);
	}
}

static void test_bad_input(void **state)
{
	static uint8_t pkt[PKT_MAX], bufs[4][OUT_SIZE];
	uint8_t *out[4] = { bufs[0], bufs[1], bufs[2], bufs[3] };
	size_t out_len[4];
	struct frag_case c = { "x", 1400, 1280, true, 0, 0 };

	(void)state;
	build(&c, pkt);
	assert_int_equal(tun_ipv4_fragment(pkt, 1399, 1280, out, OUT_SIZE, out_len, 4), -EINVAL);
	assert_int_equal(tun_ipv4_fragment(pkt, 10, 1280, out, OUT_SIZE, out_len, 4), -EINVAL);
	assert_int_equal(tun_ipv4_fragment(pkt, 1400, 1280, out, 1000, out_len, 4), -ENOSPC);
	pkt[25] = 0;                       /* record route of length 0 */
	assert_int_equal(tun_ipv4_fragment(pkt, 1400, 1280, out, OUT_SIZE, out_len, 4), -EINVAL);
	pkt[0] = 0x60;
	assert_int_equal(tun_ipv4_fragment(pkt, 1400, 1280, out, OUT_SIZE, out_len, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
