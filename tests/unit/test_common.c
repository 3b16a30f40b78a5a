/* common/: the one number parser and the one HOST:PORT splitter that the
 * config file, the control protocol, tunnel-rendezvous and the test tools
 * share (link names: test_tun_prefix and test_config). Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/compiler.h"
#include "common/hostport.h"
#include "common/number.h"

static void test_number(void **state)
{
	static const struct {
		const char *in;
		uint64_t max;
		int ret;
		uint64_t out;
	} cases[] = {
		{ "0", 10, 0, 0 },
		{ "7", 10, 0, 7 },
		{ "10", 10, 0, 10 },
		{ "11", 10, -ERANGE, 0 },
		{ "007", 10, 0, 7 },
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -ERANGE, 0 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999x", UINT64_MAX, -EINVAL, 0 },
		{ "", 10, -EINVAL, 0 },
		{ "+5", 10, -EINVAL, 0 },
		{ "-1", 10, -EINVAL, 0 },
		{ " 5", 10, -EINVAL, 0 },
		{ "5 ", 10, -EINVAL, 0 },
		{ "5s", 10, -EINVAL, 0 },
		{ "0x5", 10, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int r = number_parse_uint(cases[i].in, cases[i].max, &v);

		if (r != cases[i].ret)
			fail_msg("case %zu \"%s\": got %d, want %d", i, cases[i].in, r, cases[i].ret);
		/* On error the output is left alone. */
		if (v != (r ? 12345 : cases[i].out))
			fail_msg("case %zu \"%s\": value %llu", i, cases[i].in, (unsigned long long)v);
	}
}

static void test_hostport(void **state)
{
	static const char V6[] = "expected [IPv6]:port", HP[] = "expected host:port (IPv6 in brackets)",
			  HOST[] = "bad host", PORT[] = "bad port";
	static const struct {
		const char *in;
		bool port0;
		const char *why; /* NULL: accepted */
		const char *host;
		uint16_t port;
		bool bracketed;
	} cases[] = {
		{ "192.0.2.1:51820", false, NULL, "192.0.2.1", 51820, false },
		{ "peer.example:1", false, NULL, "peer.example", 1, false },
		{ "[2001:db8::1]:3478", false, NULL, "2001:db8::1", 3478, true },
		{ "[::]:0", true, NULL, "::", 0, true },
		{ "0.0.0.0:0", true, NULL, "0.0.0.0", 0, false },
		{ "h:65535", false, NULL, "h", 65535, false },
		{ "h:00080", false, NULL, "h", 80, false },
		{ "0.0.0.0:0", false, PORT, NULL, 0, false },
		{ "h:65536", false, PORT, NULL, 0, false },
		{ "h:000080", false, PORT, NULL, 0, false },
		{ "h:", false, PORT, NULL, 0, false },
		{ "h:+80", false, PORT, NULL, 0, false },
		{ "h: 80", false, PORT, NULL, 0, false },
		{ "h:-1", false, PORT, NULL, 0, false },
		{ "h:12x", false, PORT, NULL, 0, false },
		{ "192.0.2.1", false, HP, NULL, 0, false },
		{ "2001:db8::1:3478", false, HP, NULL, 0, false },
		{ "[::1:1", false, V6, NULL, 0, false },
		{ "[::1]", false, V6, NULL, 0, false },
		{ "[::1]x:1", false, V6, NULL, 0, false },
		{ ":1", false, HOST, NULL, 0, false },
		{ "[]:1", false, HOST, NULL, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hostport hp;
		const char *why = NULL;
		int r = hostport_split(&hp, cases[i].in, cases[i].port0, &why);

		if (cases[i].why) {
			if (r != -EINVAL || !why || strcmp(why, cases[i].why))
				fail_msg("case %zu \"%s\": got %d (%s), want \"%s\"", i, cases[i].in,
					 r, why ? why : "-", cases[i].why);
			continue;
		}
		if (r != 0 || strcmp(hp.host, cases[i].host) || hp.port != cases[i].port ||
		    hp.bracketed != cases[i].bracketed)
			fail_msg("case %zu \"%s\": got %d host \"%s\" port %u bracketed %d", i,
				 cases[i].in, r, hp.host, hp.port, hp.bracketed);
	}
}

/* The longest host that fits, one more, and a NULL why. */
static void test_hostport_host_len(void **state)
{
	char in[HOSTPORT_HOST_MAX + 16];
	struct hostport hp;

	(void)state;
	memset(in, 'a', HOSTPORT_HOST_MAX);
	strcpy(in + HOSTPORT_HOST_MAX, ":9");
	assert_int_equal(hostport_split(&hp, in, false, NULL), 0);
	assert_int_equal(strlen(hp.host), HOSTPORT_HOST_MAX);
	memset(in, 'a', HOSTPORT_HOST_MAX + 1);
	strcpy(in + HOSTPORT_HOST_MAX + 1, ":9");
	assert_int_equal(hostport_split(&hp, in, false, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_host_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
