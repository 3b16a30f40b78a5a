/* tun/ without root: interface name rules, struct tun_prefix parsing,
 * masking, containment and formatting (checked against a naive bit-by-bit
 * oracle on random input), error message plumbing, and the checks tun_setup
 * and tun_device_open make before talking to the kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/compiler.h"
#include "common/ifname.h"
#include "tun/device.h"
#include "tun/error.h"
#include "tun/netlink.h"
#include "tun/prefix.h"

static void test_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "home", true },
		{ "a", true },
		{ "office-2.lan_x", true },
		{ "123456789012345", true },	/* 15 bytes */
		{ "1234567890123456", false },	/* 16 bytes */
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ "...", true },
		{ "a/b", false },
		{ "a b", false },
		{ "a\tb", false },
		{ "a\nb", false },
		{ "eth0:1", false },
		{ "tun%d", false },
		{ "a\x7f", false },
		{ "\x01", false },
		{ "caf\xc3\xa9", false },	/* the kernel would take it; the link's rule does not */
		{ "x_1.2=+", true },
		{ "a@b", false },
		{ "a,b", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (ifname_valid(cases[i].name) != cases[i].ok)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].name, cases[i].ok);
	}
	assert_false(ifname_valid(NULL));
}

static void test_open_refuses_before_kernel(void **state)
{
	struct tun_device dev;
	struct tun_error err = { "" };

	(void)state;
	assert_int_equal(tun_device_open(&dev, "bad name", 0, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "invalid interface name \"bad name\" (1-15 characters of [A-Za-z0-9_=+.-], not \".\" or \"..\")");
	assert_int_equal(tun_device_fd(&dev, 0), -1);
	assert_int_equal(tun_device_open(&dev, "ok", 1u << 3, &err), -EINVAL);
	assert_string_equal(err.msg, "unsupported TUN flags 0x8");
	/* A closed device refuses I/O without touching any descriptor. */
	{
		uint8_t buf[64] = { 0x45 };

		assert_int_equal(tun_device_read(&dev, 0, buf, sizeof(buf)), -EBADF);
		assert_int_equal(tun_device_write(&dev, 0, buf, sizeof(buf)), -EBADF);
		tun_device_close(&dev);
		tun_device_close(&dev);
	}
}

static void test_parse_table(void **state)
{
	static const struct {
		const char *text;
		int family;
		unsigned len;
		const char *back;	/* NULL: must be rejected */
	} cases[] = {
		{ "10.2.0.0/24", AF_INET, 24, "10.2.0.0/24" },
		{ "10.77.0.2", AF_INET, 32, "10.77.0.2/32" },
		{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0/0" },
		{ "fd77::2/64", AF_INET6, 64, "fd77::2/64" },
		{ "::/0", AF_INET6, 0, "::/0" },
		{ "fd77::1", AF_INET6, 128, "fd77::1/128" },
		{ "10.2.0.0/33", 0, 0, NULL },
		{ "fd77::/129", 0, 0, NULL },
		{ "10.2.0.0/", 0, 0, NULL },
		{ "10.2.0.0/+8", 0, 0, NULL },
		{ "10.2.0.0/ 8", 0, 0, NULL },
		{ "10.2.0.0/0x8", 0, 0, NULL },
		{ "10.2.0.0/8x", 0, 0, NULL },
		{ "10.2.0.0/0008", 0, 0, NULL },
		{ "10.2.0/24", 0, 0, NULL },
		{ "10.2.0.256/24", 0, 0, NULL },
		{ "", 0, 0, NULL },
		{ "/24", 0, 0, NULL },
		{ "host.example/24", 0, 0, NULL },
		{ "fd77::2/64/1", 0, 0, NULL },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", 0, 0, NULL },
	};
	char big[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tun_prefix p;
		char out[TUN_PREFIX_STRLEN];
		int r = tun_prefix_parse(&p, cases[i].text);

		if (!cases[i].back) {
			if (r != -EINVAL)
				fail_msg("case %zu \"%s\" accepted", i, cases[i].text);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu \"%s\" rejected", i, cases[i].text);
		assert_int_equal(p.family, cases[i].family);
		assert_int_equal(p.len, cases[i].len);
		assert_false(p.has_peer);
		assert_true(tun_prefix_valid(&p));
		tun_prefix_format(&p, out, sizeof(out));
		assert_string_equal(out, cases[i].back);
	}
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		struct tun_prefix p;

		assert_int_equal(tun_prefix_parse(&p, big), -EINVAL);
	}
}

static void test_valid_and_format_odd(void **state)
{
	struct tun_prefix p = { .family = AF_INET, .len = 33 };
	char out[TUN_PREFIX_STRLEN];

	(void)state;
	assert_false(tun_prefix_valid(&p));
	p.family = AF_UNIX;
	p.len = 0;
	assert_false(tun_prefix_valid(&p));
	tun_prefix_format_addr(&p, out, sizeof(out));
	assert_non_null(strstr(out, "family"));
	assert_int_equal(tun_prefix_addr_len(AF_INET), 4);
	assert_int_equal(tun_prefix_addr_len(AF_INET6), 16);
	assert_int_equal(tun_prefix_addr_len(AF_UNIX), 0);
}

/* Naive oracle: bit i of an address, most significant first. */
static int bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static void random_prefix(struct tun_prefix *p, int family)
{
	size_t alen = family == AF_INET ? 4 : 16;

	memset(p, 0, sizeof(*p));
	p->family = family;
	for (size_t i = 0; i < alen; i++)
		p->addr[i] = (uint8_t)rand();
	p->len = (unsigned)rand() % (unsigned)(alen * 8 + 1);
}

static void test_mask_contains_oracle(void **state)
{
	(void)state;
	srand(4242);
	for (int iter = 0; iter < 20000; iter++) {
		int family = iter & 1 ? AF_INET6 : AF_INET;
		unsigned bits = family == AF_INET ? 32 : 128;
		struct tun_prefix a, b, m;
		bool want = true;

		random_prefix(&a, family);
		random_prefix(&b, family);
		/* Make overlap likely: copy a random number of leading bits. */
		if (rand() & 1) {
			unsigned same = (unsigned)rand() % (bits + 1);

			for (unsigned i = 0; i < same; i++) {
				uint8_t mask = (uint8_t)(0x80 >> (i % 8));

				b.addr[i / 8] = (uint8_t)((b.addr[i / 8] & ~mask) |
							  (a.addr[i / 8] & mask));
			}
		}
		m = a;
		tun_prefix_mask(&m);
		for (unsigned i = 0; i < bits; i++)
			assert_int_equal(bit(m.addr, i), i < a.len ? bit(a.addr, i) : 0);

		if (a.len > b.len)
			want = false;
		for (unsigned i = 0; want && i < a.len; i++)
			if (bit(a.addr, i) != bit(b.addr, i))
				want = false;
		assert_int_equal(tun_prefix_contains(&a, &b), want);
		assert_true(tun_prefix_contains(&a, &a));
		assert_true(tun_prefix_equal(&a, &a));
	}
}

static void test_contains_cases(void **state)
{
	static const struct {
		const char *outer, *inner;
		bool want;
	} cases[] = {
		{ "10.77.0.0/24", "10.77.0.1/32", true },
		{ "10.77.0.0/24", "10.77.0.0/24", true },
		{ "10.77.0.0/24", "10.77.0.0/16", false },
		{ "10.77.0.0/24", "10.77.1.0/32", false },
		{ "0.0.0.0/0", "192.0.2.1/32", true },
		{ "fd77::/64", "fd77::1/128", true },
		{ "fd77::/64", "fd78::1/128", false },
		{ "10.77.0.0/24", "::/0", false },	/* families differ */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tun_prefix o, in;

		assert_int_equal(tun_prefix_parse(&o, cases[i].outer), 0);
		assert_int_equal(tun_prefix_parse(&in, cases[i].inner), 0);
		if (tun_prefix_contains(&o, &in) != cases[i].want)
			fail_msg("case %zu: %s in %s", i, cases[i].inner, cases[i].outer);
	}
}

static void test_error_one_line(void **state)
{
	struct tun_error err = { "" };

	(void)state;
	assert_int_equal(tun_error_set(&err, -EBUSY, "interface %s\nexists\r!", "x"), -EBUSY);
	assert_string_equal(err.msg, "interface x exists !");
	assert_int_equal(tun_error_set(NULL, -EPERM, "nothing"), -EPERM);
}

/* Config mistakes are refused before any netlink traffic, so no root is
 * needed and nothing can change. */
static void test_setup_config_errors(void **state)
{
	struct tun_prefix a6, mc, zero, d1, d2, peer_route;
	struct tun_applied ap;
	struct tun_error err = { "" };

	(void)state;
	assert_int_equal(tun_prefix_parse(&a6, "fd55::2/64"), 0);
	assert_int_equal(tun_prefix_parse(&mc, "ff02::1/128"), 0);
	assert_int_equal(tun_prefix_parse(&zero, "0.0.0.0/8"), 0);
	assert_int_equal(tun_prefix_parse(&d1, "10.0.0.1/24"), 0);
	assert_int_equal(tun_prefix_parse(&d2, "10.0.0.1/8"), 0);
	assert_int_equal(tun_prefix_parse(&peer_route, "10.9.0.0/24"), 0);
	peer_route.has_peer = true;
	{
		struct tun_prefix bad = a6;
		const struct {
			struct tun_config cfg;
			const char *msg;
		} cases[] = {
			{ { .mtu = 67 }, "MTU 67 is out of range (68-65535)" },
			{ { .mtu = 65536 }, "MTU 65536 is out of range (68-65535)" },
			{ { .mtu = 1279, .routes = &a6, .routes_len = 1 },
			  "MTU 1279 is below 1280, the minimum for IPv6" },
			{ { .addrs = &mc, .addrs_len = 1 },
			  "address ff02::1 cannot be an interface address" },
			{ { .addrs = &zero, .addrs_len = 1 },
			  "address 0.0.0.0 cannot be an interface address" },
			{ { .addrs = (const struct tun_prefix[]){ d1, d2 }, .addrs_len = 2 },
			  "address 10.0.0.1 is listed twice" },
			{ { .routes = &peer_route, .routes_len = 1 },
			  "route 10.9.0.0/24 cannot have a peer address" },
			{ { .routes_len = 3 }, "interface config has no arrays" },
			{ { .addrs = &bad, .addrs_len = 1 }, NULL },
		};

		bad.len = 129;
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			memset(&ap, 0x5a, sizeof(ap));
			assert_int_equal(tun_setup(&ap, "tnlnone", &cases[i].cfg, &err), -EINVAL);
			if (cases[i].msg)
				assert_string_equal(err.msg, cases[i].msg);
			else
				assert_string_equal(err.msg,
						    "address 1 is not a valid IPv4 or IPv6 prefix");
			/* A failed setup leaves nothing to tear down. */
			assert_null(ap.addrs);
			assert_null(ap.routes);
			assert_int_equal(ap.ifindex, 0);
			assert_int_equal(tun_teardown(&ap, &err), 0);
		}
	}
	assert_int_equal(tun_setup(&ap, "", &(struct tun_config){ 0 }, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_open_refuses_before_kernel),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_valid_and_format_odd),
		cmocka_unit_test(test_mask_contains_oracle),
		cmocka_unit_test(test_contains_cases),
		cmocka_unit_test(test_error_one_line),
		cmocka_unit_test(test_setup_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
