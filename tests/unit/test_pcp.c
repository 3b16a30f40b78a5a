/* PCP (RFC 6887) MAP and ANNOUNCE: the exact bytes we send, and a table of
 * responses we must take or refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tunnel/pcp.h"

static const uint8_t client[4] = { 192, 168, 1, 2 };
static const uint8_t nonce[PCP_NONCE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void test_build_map(void **state)
{
	static const uint8_t want[PCP_MAP_LEN] = {
		2, 1, 0, 0, 0, 0, 0x1c, 0x20,                       /* v2, MAP, 7200 s */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2, /* client */
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,             /* nonce */
		17, 0, 0, 0, 0xca, 0x6c, 0xca, 0x6c,               /* UDP, 51820 -> 51820 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, /* any external */
	};
	uint8_t out[PCP_MAP_LEN], ann[PCP_HEADER_LEN];

	(void)state;
	assert_int_equal(pcp_build_map(client, nonce, 51820, 51820, 7200, out), PCP_MAP_LEN);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(pcp_build_announce(client, ann), PCP_HEADER_LEN);
	assert_int_equal(ann[0], 2);
	assert_int_equal(ann[1], PCP_OP_ANNOUNCE);
	assert_memory_equal(ann + 8, want + 8, 16);
}

/* A MAP response as a server would send it, then changed by the case. */
static size_t response(uint8_t *p, uint8_t result, uint16_t ext_port)
{
	static const uint8_t ext[4] = { 198, 51, 100, 7 };

	memset(p, 0, PCP_MAP_LEN);
	p[0] = 2;
	p[1] = PCP_OP_MAP | PCP_OP_RESPONSE;
	p[3] = result;
	p[7] = 120;                     /* lifetime 120 s */
	p[11] = 9;                      /* epoch 9 s */
	memcpy(p + 24, nonce, PCP_NONCE_LEN);
	p[36] = 17;
	p[40] = 0xca, p[41] = 0x6c;    /* internal 51820 */
	p[42] = (uint8_t)(ext_port >> 8), p[43] = (uint8_t)ext_port;
	p[54] = p[55] = 0xff;
	memcpy(p + 56, ext, 4);
	return PCP_MAP_LEN;
}

static void test_parse_map(void **state)
{
	uint8_t p[PCP_MAP_LEN + 4];
	struct pcp_response r;
	size_t len = response(p, PCP_SUCCESS, 40000);

	(void)state;
	assert_int_equal(pcp_parse_response(p, len, &r), 0);
	assert_int_equal(r.opcode, PCP_OP_MAP);
	assert_int_equal(r.result, PCP_SUCCESS);
	assert_int_equal(r.lifetime_s, 120);
	assert_int_equal(r.epoch_s, 9);
	assert_int_equal(r.external_port, 40000);
	assert_int_equal(r.external_ip[0], 198);
	assert_int_equal(r.external_ip[3], 7);
	assert_true(pcp_response_matches(&r, nonce, 51820));
	assert_false(pcp_response_matches(&r, nonce, 51821));
	p[30] ^= 1; /* another nonce: another client's mapping */
	assert_int_equal(pcp_parse_response(p, len, &r), 0);
	assert_false(pcp_response_matches(&r, nonce, 51820));
}

struct bad_case {
	const char *what;
	size_t offset; /* byte to set, or SIZE_MAX */
	uint8_t value;
	size_t len;    /* datagram length */
};

static const struct bad_case bad_cases[] = {
	{ "version 0 (a NAT-PMP answer)", 0, 0, PCP_MAP_LEN },
	{ "no R bit (a request)", 1, PCP_OP_MAP, PCP_MAP_LEN },
	{ "shorter than a header", SIZE_MAX, 0, 20 },
	{ "length not a multiple of 4", SIZE_MAX, 0, PCP_MAP_LEN - 2 },
	{ "success without the payload", SIZE_MAX, 0, PCP_HEADER_LEN },
	{ "external address not IPv4-mapped", 54, 0, PCP_MAP_LEN },
	{ "external port 0 on success", 43, 0, PCP_MAP_LEN },
	{ "longer than 1100 bytes", SIZE_MAX, 0, PCP_MAX_MESSAGE + 4 },
};

static void test_parse_bad(void **state)
{
	static uint8_t p[PCP_MAX_MESSAGE + 8];
	struct pcp_response r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		memset(p, 0, sizeof(p));
		response(p, PCP_SUCCESS, 64); /* port 64: byte 43 alone holds it */
		if (c->offset != SIZE_MAX)
			p[c->offset] = c->value;
		if (pcp_parse_response(p, c->len, &r) != -EBADMSG)
			fail_msg("accepted: %s", c->what);
	}
}

static void test_error_results(void **state)
{
	uint8_t p[PCP_MAP_LEN];
	struct pcp_response r;

	(void)state;
	/* an error answer may come without the payload (RFC 6887 §7.2) */
	response(p, PCP_NOT_AUTHORIZED, 0);
	assert_int_equal(pcp_parse_response(p, PCP_HEADER_LEN, &r), 0);
	assert_int_equal(r.result, PCP_NOT_AUTHORIZED);
	assert_string_equal(pcp_result_name(r.result), "NOT_AUTHORIZED");
	assert_string_equal(pcp_result_name(200), "unknown result");
	/* and with it: port 0 is fine then */
	assert_int_equal(pcp_parse_response(p, PCP_MAP_LEN, &r), 0);
	assert_false(r.result == PCP_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_map),
		cmocka_unit_test(test_parse_map),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_error_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
