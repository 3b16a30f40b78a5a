/* The demultiplexing rule of docs/PROTOCOL.md section 1, as a table: each
 * family at its exact lengths, the near misses, and the overlaps the rule
 * must resolve (a WireGuard sender index equal to the STUN cookie...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "common/compiler.h"
#include "rendezvous/demux.h"

static void put(uint8_t *p, const char *hex)
{
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		*p++ = (uint8_t)v;
	}
}

struct demux_case {
	const char *head; /* first bytes, hex; the rest is zero */
	size_t len;
	enum demux_class want;
	const char *why;
};

static const struct demux_case cases[] = {
	{ "01000000", 148, DEMUX_WIREGUARD, "initiation" },
	{ "01000000", 147, DEMUX_UNKNOWN, "initiation, short" },
	{ "01000000", 149, DEMUX_UNKNOWN, "initiation, long" },
	{ "02000000", 92, DEMUX_WIREGUARD, "response" },
	{ "02000000", 148, DEMUX_UNKNOWN, "response at initiation size" },
	{ "03000000", 64, DEMUX_WIREGUARD, "cookie reply" },
	{ "04000000", 32, DEMUX_WIREGUARD, "keepalive" },
	{ "04000000", 1452, DEMUX_WIREGUARD, "transport at MTU 1420 (padding capped)" },
	{ "04000000", 1456, DEMUX_WIREGUARD, "transport" },
	{ "04000000", 31, DEMUX_UNKNOWN, "transport below header + tag" },
	{ "04000000", 16, DEMUX_UNKNOWN, "transport too short" },
	{ "05000000", 148, DEMUX_UNKNOWN, "type 5" },
	{ "00000000", 148, DEMUX_UNKNOWN, "type 0" },
	{ "01000100", 148, DEMUX_UNKNOWN, "reserved byte set" },
	/* WireGuard whose sender index equals the cookie stays WireGuard */
	{ "010000002112a442", 148, DEMUX_WIREGUARD, "initiation, index = cookie" },
	{ "040000002112a442", 32, DEMUX_WIREGUARD, "keepalive, receiver = cookie" },
	{ "000100002112a442", 20, DEMUX_STUN, "Binding request" },
	{ "010100082112a442", 28, DEMUX_STUN, "Binding success" },
	{ "000100082112a442", 20, DEMUX_UNKNOWN, "STUN length 8, no body" },
	{ "000100062112a442", 26, DEMUX_UNKNOWN, "STUN length not /4" },
	{ "400100002112a442", 20, DEMUX_UNKNOWN, "STUN top bit" },
	{ "0001000800112233", 28, DEMUX_STUN_LEGACY, "RFC 3489 Binding request" },
	{ "0101000800112233", 28, DEMUX_UNKNOWN, "RFC 3489 response is not for us" },
	{ "0001000000112233", 19, DEMUX_UNKNOWN, "short" },
	{ "f1", 1, DEMUX_RENDEZVOUS, "rendezvous (parser checks the rest)" },
	{ "f101000000", 200, DEMUX_RENDEZVOUS, "rendezvous" },
	{ "f2", 64, DEMUX_PROBE, "probe" },
	{ "f3", 1, DEMUX_CHANNEL, "channel (the server checks the rest)" },
	{ "f300000001020304050607080400000000", 76, DEMUX_CHANNEL, "channel, keepalive inside" },
	{ "f4", 64, DEMUX_UNKNOWN, "unassigned own type" },
	{ "ff", 64, DEMUX_UNKNOWN, "0xff" },
	{ "", 0, DEMUX_UNKNOWN, "empty" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t pkt[2048] = { 0 };
		enum demux_class c;

		put(pkt, cases[i].head);
		c = demux_classify(pkt, cases[i].len);
		if (c != cases[i].want)
			fail_msg("case %zu (%s): got %s, want %s", i, cases[i].why,
				 demux_class_name(c), demux_class_name(cases[i].want));
	}
}

/* The families are disjoint: no random datagram is claimed by two rules.
 * demux_classify returns one answer, so check each family's own predicate by
 * construction: a WireGuard-shaped datagram never has a STUN-consistent
 * length, and our types fail both. */
static void test_disjoint(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint8_t pkt[160];
		size_t len = 1 + randombytes_uniform(sizeof(pkt));
		enum demux_class c;

		randombytes_buf(pkt, len);
		if (i % 4 == 0 && len >= 4) /* WireGuard-like header */
			pkt[0] = (uint8_t)(1 + randombytes_uniform(4)), pkt[1] = pkt[2] = pkt[3] = 0;
		if (i % 4 == 1 && len >= 20) { /* STUN-like header */
			pkt[0] &= 0x3f;
			pkt[2] = (uint8_t)((len - 20) >> 8);
			pkt[3] = (uint8_t)(len - 20);
			memcpy(pkt + 4, "\x21\x12\xa4\x42", 4);
		}
		c = demux_classify(pkt, len);
		if (c == DEMUX_WIREGUARD)
			assert_true(pkt[0] >= 1 && pkt[0] <= 4);
		if (c == DEMUX_STUN || c == DEMUX_STUN_LEGACY)
			assert_true((pkt[0] & 0xc0) == 0 && len >= 20 && (len - 20) % 4 == 0);
		/* A WireGuard-shaped header has STUN length 0, so only a 20-byte
		 * datagram could be both, and WireGuard needs at least 32. */
		if (c == DEMUX_STUN || c == DEMUX_STUN_LEGACY)
			assert_false(pkt[0] >= 1 && pkt[0] <= 4 && !pkt[1] && !pkt[2] && !pkt[3] &&
				     len >= 32);
		if (c == DEMUX_RENDEZVOUS)
			assert_int_equal(pkt[0], DEMUX_TYPE_RENDEZVOUS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_disjoint),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
