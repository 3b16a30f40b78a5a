/* tunnel/allowedips.h: allowedips_contains, the AllowedIPs check every
 * packet takes in both directions, against tun_prefix_contains (the host
 * prefix of the address inside each AllowedIPs prefix) on random prefixes
 * of every length, host bits set or not, and addresses sharing a random
 * number of leading bits with them; and a table of plain cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tunnel/allowedips.h"

static struct tun_prefix prefix(const char *text)
{
	struct tun_prefix p;

	assert_int_equal(tun_prefix_parse(&p, text), 0);
	return p;
}

static void test_cases(void **state)
{
	static const struct {
		const char *prefix, *addr;
		bool in;
	} cases[] = {
		{ "10.2.0.0/24", "10.2.0.9", true },
		{ "10.2.0.9/24", "10.2.0.200", true },  /* host bits in the prefix ignored */
		{ "10.2.0.0/24", "10.2.1.9", false },
		{ "10.2.0.0/23", "10.2.1.9", true },
		{ "10.2.0.0/23", "10.2.2.9", false },
		{ "10.77.0.1/32", "10.77.0.1", true },
		{ "10.77.0.1/32", "10.77.0.2", false },
		{ "0.0.0.0/0", "203.0.113.7", true },
		{ "128.0.0.0/1", "127.255.255.255", false },
		{ "128.0.0.0/1", "128.0.0.0", true },
		{ "0.0.0.0/0", "::1", false },          /* another family */
		{ "::/0", "10.0.0.1", false },
		{ "::/0", "fd77::1", true },
		{ "fc00::/7", "fd77::1", true },
		{ "fc00::/7", "fe80::1", false },
		{ "fd77::2/128", "fd77::2", true },
		{ "fd77::2/128", "fd77::3", false },
		{ "fd77:0:0:1::/63", "fd77:0:0:0:ffff::1", true },
		{ "fd77:0:0:1::/63", "fd77:0:0:2::1", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tun_prefix p = prefix(cases[i].prefix), a = prefix(cases[i].addr);

		print_message("%s in %s\n", cases[i].addr, cases[i].prefix);
		assert_int_equal(allowedips_contains(&p, 1, a.family, a.addr), cases[i].in);
	}
	/* among several, any one will do; none, nothing */
	{
		struct tun_prefix ps[3] = { prefix("fd77::/64"), prefix("10.1.0.0/24"),
					    prefix("10.2.0.0/24") };
		struct tun_prefix a = prefix("10.2.0.5"), b = prefix("10.3.0.5");

		assert_true(allowedips_contains(ps, 3, a.family, a.addr));
		assert_false(allowedips_contains(ps, 2, a.family, a.addr));
		assert_false(allowedips_contains(ps, 3, b.family, b.addr));
		assert_false(allowedips_contains(ps, 0, a.family, a.addr));
		assert_false(allowedips_contains(ps, 3, AF_UNIX, a.addr));
	}
}

/* Random prefixes and addresses near them, against tun_prefix_contains. */
static void test_random_against_prefix_contains(void **state)
{
	unsigned seed = 4242, in = 0, out = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int family = rand_r(&seed) % 2 ? AF_INET6 : AF_INET;
		size_t alen = family == AF_INET ? 4 : 16;
		struct tun_prefix p = { .family = family }, host = { .family = family };
		unsigned shared;
		bool want;

		for (size_t k = 0; k < alen; k++)
			p.addr[k] = (uint8_t)rand_r(&seed);
		/* every length, a few past the family's (invalid: never in) */
		p.len = (unsigned)rand_r(&seed) % (unsigned)(alen * 8 + 3);
		if (rand_r(&seed) % 2)
			tun_prefix_mask(&p);
		/* the address: the prefix's first `shared` bits, then random */
		memcpy(host.addr, p.addr, alen);
		shared = (unsigned)rand_r(&seed) % (unsigned)(alen * 8 + 1);
		for (unsigned b = shared; b < alen * 8; b++)
			if (rand_r(&seed) % 2)
				host.addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		host.len = (unsigned)alen * 8;
		want = tun_prefix_contains(&p, &host);
		assert_int_equal(allowedips_contains(&p, 1, family, host.addr), want);
		/* the other family never matches */
		assert_false(allowedips_contains(&p, 1, family == AF_INET ? AF_INET6 : AF_INET,
						 host.addr));
		want ? in++ : out++;
	}
	print_message("%u in, %u out\n", in, out);
	assert_true(in > 50000 && out > 50000); /* both answers well covered */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_random_against_prefix_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
