/* ICMP "fragmentation needed" / ICMPv6 "packet too big" (tun/icmp_too_big.c)
 * for oversized packets: the reply goes from the original destination to
 * the sender, carries the path MTU, quotes what RFC 1812 / RFC 4443 say
 * (up to 576 / 1280 bytes in all), and every checksum verifies with a
 * full recomputation; packets that must not be answered are not. */
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
#include "tun/icmp_too_big.h"

enum { PKT_MAX = 1500 };

struct orig {
	bool v6, no_df, later_fragment;
	uint8_t proto, icmp_type;
	const char *src, *dst;      /* 4 or 16 raw bytes */
	size_t len;
};

static size_t build(const struct orig *o, uint8_t *pkt)
{
	size_t h = o->v6 ? 40 : 20;

	memset(pkt, 0, PKT_MAX);
	for (size_t i = h; i < o->len; i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	if (o->v6) {
		pkt[0] = 0x60;
		store_be16(pkt + 4, (uint16_t)(o->len - 40));
		pkt[6] = o->proto;
		pkt[7] = 64;
		memcpy(pkt + 8, o->src, 16);
		memcpy(pkt + 24, o->dst, 16);
	} else {
		pkt[0] = 0x45;
		store_be16(pkt + 2, (uint16_t)o->len);
		store_be16(pkt + 4, 0x1234);
		store_be16(pkt + 6, (uint16_t)((o->no_df ? 0 : 0x4000) | (o->later_fragment ? 100 : 0)));
		pkt[8] = 64;
		pkt[9] = o->proto;
		memcpy(pkt + 12, o->src, 4);
		memcpy(pkt + 16, o->dst, 4);
		store_be16(pkt + 10, (uint16_t)~inet_sum(pkt, 20, 0));
	}
	if (o->proto == 1 || o->proto == 58) {
		pkt[h] = o->icmp_type;
		pkt[h + 1] = 0;
	}
	return o->len;
}

#define A4 "\x0a\x01\x00\x0a"
#define B4 "\x0a\x02\x00\x0a"
#define A6 "\xfd\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x0a"
#define B6 "\xfd\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x0a"
#define MC6 "\xff\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
#define ZERO6 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

static const struct icmp_case {
	const char *name;
	struct orig o;
	int want;             /* reply length, 0: none, or -errno */
} cases[] = {
	{ "v4 UDP DF", { .proto = 17, .src = A4, .dst = B4, .len = 1428 }, 576 },
	{ "v4 echo request DF", { .proto = 1, .icmp_type = 8, .src = A4, .dst = B4, .len = 1400 }, 576 },
	{ "v4 short (quotes all)", { .proto = 17, .src = A4, .dst = B4, .len = 300 }, 328 },
	{ "v4 without DF", { .proto = 17, .no_df = true, .src = A4, .dst = B4, .len = 1428 }, 0 },
	{ "v4 ICMP error", { .proto = 1, .icmp_type = 3, .src = A4, .dst = B4, .len = 1400 }, 0 },
	{ "v4 later fragment", { .proto = 17, .later_fragment = true, .src = A4, .dst = B4, .len = 1400 }, 0 },
	{ "v4 multicast dst", { .proto = 17, .src = A4, .dst = "\xe0\x00\x00\xfb", .len = 1400 }, 0 },
	{ "v4 broadcast dst", { .proto = 17, .src = A4, .dst = "\xff\xff\xff\xff", .len = 1400 }, 0 },
	{ "v4 src 0.0.0.0", { .proto = 17, .src = "\x00\x00\x00\x00", .dst = B4, .len = 1400 }, 0 },
	{ "v4 src loopback", { .proto = 17, .src = "\x7f\x00\x00\x01", .dst = B4, .len = 1400 }, 0 },
	{ "v6 UDP", { .v6 = true, .proto = 17, .src = A6, .dst = B6, .len = 1448 }, 1280 },
	{ "v6 echo request", { .v6 = true, .proto = 58, .icmp_type = 128, .src = A6, .dst = B6, .len = 1400 }, 1280 },
	{ "v6 short (quotes all)", { .v6 = true, .proto = 17, .src = A6, .dst = B6, .len = 1000 }, 1048 },
	{ "v6 ICMPv6 error", { .v6 = true, .proto = 58, .icmp_type = 1, .src = A6, .dst = B6, .len = 1400 }, 0 },
	{ "v6 multicast dst", { .v6 = true, .proto = 17, .src = A6, .dst = MC6, .len = 1400 }, 0 },
	{ "v6 unspecified src", { .v6 = true, .proto = 17, .src = ZERO6, .dst = B6, .len = 1400 }, 0 },
};

static void check_reply4(const uint8_t *r, int rlen, const uint8_t *pkt, size_t len, unsigned mtu)
{
	size_t quote = (size_t)rlen - 28;

	assert_int_equal(r[0], 0x45);
	assert_int_equal(load_be16(r + 2), rlen);
	assert_int_equal(r[9], 1);
	assert_true(r[8] > 0);
	assert_int_equal(inet_sum(r, 20, 0), 0xffff);            /* IP header checksum */
	assert_memory_equal(r + 12, pkt + 16, 4);                  /* from the destination */
	assert_memory_equal(r + 16, pkt + 12, 4);                  /* to the sender */
	assert_int_equal(r[20], 3);
	assert_int_equal(r[21], 4);
	assert_int_equal(load_be16(r + 24), 0);                    /* unused */
	assert_int_equal(load_be16(r + 26), mtu);                  /* next-hop MTU */
	assert_int_equal(inet_sum(r + 20, (size_t)rlen - 20, 0), 0xffff);
	assert_true(quote >= 20 + 8);                              /* RFC 792's minimum */
	assert_true(quote == len || rlen == 576);
	assert_memory_equal(r + 28, pkt, quote);
}

static void check_reply6(const uint8_t *r, int rlen, const uint8_t *pkt, size_t len, unsigned mtu)
{
	size_t quote = (size_t)rlen - 48;
	uint32_t ps = inet_sum(r + 8, 32, 0) + (uint32_t)(rlen - 40) + 58;

	assert_int_equal(r[0] >> 4, 6);
	assert_int_equal(load_be16(r + 4), rlen - 40);
	assert_int_equal(r[6], 58);
	assert_true(r[7] > 0);
	assert_memory_equal(r + 8, pkt + 24, 16);
	assert_memory_equal(r + 24, pkt + 8, 16);
	assert_int_equal(r[40], 2);
	assert_int_equal(r[41], 0);
	assert_int_equal(load_be32(r + 44), mtu);
	assert_int_equal(inet_sum(r + 40, (size_t)rlen - 40, ps), 0xffff);
	assert_true(quote == len || rlen == 1280);
	assert_memory_equal(r + 48, pkt, quote);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct icmp_case *c = &cases[i];
		uint8_t pkt[PKT_MAX], out[TUN_ICMP_TOO_BIG_MAX];
		size_t len = build(&c->o, pkt);
		unsigned mtu = c->o.v6 ? 1280 : 1220;
		int r;

		print_message("%s\n", c->name);
		r = tun_icmp_too_big(pkt, len, mtu, out, sizeof(out));
		assert_int_equal(r, c->want);
		if (r > 0 && !c->o.v6)
			check_reply4(out, r, pkt, len, mtu);
		else if (r > 0)
			check_reply6(out, r, pkt, len, mtu);
	}
}

static void test_bad_input(void **state)
{
	struct orig o4 = { .proto = 17, .src = A4, .dst = B4, .len = 1400 };
	struct orig o6 = { .v6 = true, .proto = 17, .src = A6, .dst = B6, .len = 1400 };
	uint8_t pkt[PKT_MAX], out[TUN_ICMP_TOO_BIG_MAX];

	(void)state;
	build(&o4, pkt);
	assert_int_equal(tun_icmp_too_big(pkt, 1399, 1220, out, sizeof(out)), -EINVAL); /* truncated */
	assert_int_equal(tun_icmp_too_big(pkt, 10, 1220, out, sizeof(out)), -EINVAL);
	assert_int_equal(tun_icmp_too_big(pkt, 1400, 1220, out, 575), -ENOSPC);
	build(&o6, pkt);
	assert_int_equal(tun_icmp_too_big(pkt, 1399, 1280, out, sizeof(out)), -EINVAL);
	assert_int_equal(tun_icmp_too_big(pkt, 39, 1280, out, sizeof(out)), -EINVAL);
	assert_int_equal(tun_icmp_too_big(pkt, 1400, 1280, out, 1279), -ENOSPC);
	pkt[0] = 0x50;
	assert_int_equal(tun_icmp_too_big(pkt, 1400, 1280, out, sizeof(out)), -EINVAL);
	assert_int_equal(tun_icmp_too_big(pkt, 0, 1280, out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
