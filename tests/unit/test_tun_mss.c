/* MSS clamping (tun/mss.c) on SYNs built as Linux sends them (MSS, SACK
 * permitted, timestamps, NOP, window scale), over IPv4 and IPv6 (with a
 * hop-by-hop header), the MSS at an even and at an odd offset: the value is
 * lowered to path_mtu - 40 / - 60 only when larger, and the TCP checksum,
 * updated incrementally, still verifies with a full recomputation (the
 * oracle). Packets that must be left alone are left byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "tests/fuzz/inet.h" /* the oracle: RFC 1071 sums written plainly */
#include "tun/mss.h"

enum { PKT_MAX = 256 };

struct syn {
	bool v6, hopopts, odd, ack, syn, no_mss, later_fragment;
	uint16_t mss;
};

/* Builds the packet; returns its length; *mss_at = offset of the MSS value. */
static size_t build(const struct syn *c, uint8_t *pkt, size_t *mss_at)
{
	size_t ip_hlen = c->v6 ? 40 + (c->hopopts ? 8 : 0) : 20, o, len;
	uint8_t *th = pkt + ip_hlen, opts[24];
	size_t n = 0;

	memset(pkt, 0, PKT_MAX);
	if (c->odd)
		opts[n++] = 1;                      /* NOP: the MSS value at an odd offset */
	if (!c->no_mss) {
		opts[n++] = 2; opts[n++] = 4;
		*mss_at = ip_hlen + 20 + n;
		opts[n++] = (uint8_t)(c->mss >> 8); opts[n++] = (uint8_t)c->mss;
	}
	opts[n++] = 4; opts[n++] = 2;                             /* SACK permitted */
	opts[n++] = 8; opts[n++] = 10;                            /* timestamps */
	for (int i = 0; i < 8; i++)
		opts[n++] = (uint8_t)(0x11 * (i + 1));
	opts[n++] = 1;                                            /* NOP */
	opts[n++] = 3; opts[n++] = 3; opts[n++] = 7;              /* window scale */
	while (n % 4)
		opts[n++] = 0;                                    /* EOL padding */
	len = ip_hlen + 20 + n;
	if (c->v6) {
		pkt[0] = 0x60;
		store_be16(pkt + 4, (uint16_t)(len - 40));
		pkt[6] = c->hopopts ? 0 : 6;
		pkt[7] = 64;
		memcpy(pkt + 8, "\xfd\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02", 16);
		memcpy(pkt + 24, "\xfd\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x0a", 16);
		if (c->hopopts) {
			pkt[40] = 6;                        /* next: TCP; length 0: 8 bytes */
			pkt[42] = 1; pkt[43] = 4;           /* PadN */
		}
	} else {
		pkt[0] = 0x45;
		store_be16(pkt + 2, (uint16_t)len);
		store_be16(pkt + 4, 0x4d2);
		store_be16(pkt + 6, c->later_fragment ? 0x00b9 : 0x4000);
		pkt[8] = 64;
		pkt[9] = 6;
		memcpy(pkt + 12, "\x0a\x01\x00\x0a\x0a\x02\x00\x0a", 8);
		store_be16(pkt + 10, (uint16_t)~inet_sum(pkt, 20, 0));
	}
	store_be16(th, 48612);
	store_be16(th + 2, 22);
	store_be32(th + 4, 0x9a3b1c2du);
	store_be32(th + 8, c->ack ? 0x11223344u : 0);
	th[12] = (uint8_t)((20 + n) / 4 << 4);
	th[13] = (uint8_t)((c->syn ? 0x02 : 0) | (c->ack ? 0x10 : 0));
	store_be16(th + 14, 64240);
	memcpy(th + 20, opts, n);
	store_be16(th + 16, (uint16_t)~inet_sum(th, len - ip_hlen, inet_pseudo_sum(pkt, 6, len - ip_hlen)));
	o = ip_hlen;
	assert_true(inet_l4_checksum_ok(pkt, o, len, 6));
	return len;
}

static const struct mss_case {
	const char *name;
	struct syn syn;
	unsigned path_mtu;
	uint16_t want;        /* MSS after the call; 0: packet unchanged */
} cases[] = {
	{ "v4 SYN", { .syn = true, .mss = 1380 }, 1280, 1240 },
	{ "v4 SYN-ACK", { .syn = true, .ack = true, .mss = 1460 }, 1280, 1240 },
	{ "v4 SYN odd offset", { .syn = true, .odd = true, .mss = 1380 }, 1300, 1260 },
	{ "v4 SYN many carries", { .syn = true, .odd = true, .mss = 0xffd7 }, 1400, 1360 },
	{ "v4 SYN small MSS kept", { .syn = true, .mss = 1200 }, 1280, 0 },
	{ "v4 SYN equal kept", { .syn = true, .mss = 1240 }, 1280, 0 },
	{ "v4 ACK not SYN", { .ack = true, .mss = 1380 }, 1280, 0 },
	{ "v4 SYN no MSS", { .syn = true, .no_mss = true }, 1280, 0 },
	{ "v4 later fragment", { .syn = true, .mss = 1380, .later_fragment = true }, 1280, 0 },
	{ "v6 SYN", { .v6 = true, .syn = true, .mss = 1360 }, 1280, 1220 },
	{ "v6 SYN-ACK odd", { .v6 = true, .syn = true, .ack = true, .odd = true, .mss = 1440 }, 1280, 1220 },
	{ "v6 hop-by-hop SYN", { .v6 = true, .hopopts = true, .syn = true, .mss = 1360 }, 1300, 1240 },
	{ "v6 SYN small MSS kept", { .v6 = true, .syn = true, .mss = 1000 }, 1280, 0 },
};

static void test_clamp_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mss_case *c = &cases[i];
		uint8_t pkt[PKT_MAX], orig[PKT_MAX];
		size_t mss_at = 0, len = build(&c->syn, pkt, &mss_at);
		size_t ip_hlen = c->syn.v6 ? 40 + (c->syn.hopopts ? 8 : 0) : 20;
		bool changed;

		print_message("%s\n", c->name);
		memcpy(orig, pkt, PKT_MAX);
		changed = tun_mss_clamp(pkt, len, c->path_mtu);
		if (!c->want) {
			assert_false(changed);
			assert_memory_equal(pkt, orig, PKT_MAX);
			continue;
		}
		assert_true(changed);
		assert_int_equal(load_be16(pkt + mss_at), c->want);
		assert_true(inet_l4_checksum_ok(pkt, ip_hlen, len, 6));
		/* nothing else moved: only the MSS value and the checksum */
		for (size_t b = 0; b < len; b++)
			if (b != mss_at && b != mss_at + 1 && b != ip_hlen + 16 && b != ip_hlen + 17)
				assert_int_equal(pkt[b], orig[b]);
	}
}

/* Malformed options and truncated packets: never read out of bounds (ASan),
 * never changed. */
static void test_malformed(void **state)
{
	struct syn s = { .syn = true, .mss = 1380 };
	uint8_t pkt[PKT_MAX], orig[PKT_MAX];
	size_t mss_at, len = build(&s, pkt, &mss_at);

	(void)state;
	pkt[20 + 21] = 0;           /* MSS option length 0 */
	memcpy(orig, pkt, PKT_MAX);
	assert_false(tun_mss_clamp(pkt, len, 1280));
	assert_memory_equal(pkt, orig, PKT_MAX);
	len = build(&s, pkt, &mss_at);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		assert_non_null(copy);
		memcpy(copy, pkt, cut);
		assert_false(tun_mss_clamp(copy, cut, 1280));  /* total length beyond the buffer */
		free(copy);
	}
	len = build(&s, pkt, &mss_at);
	assert_false(tun_mss_clamp(pkt, len, 30));          /* an MTU below the headers */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clamp_table),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
