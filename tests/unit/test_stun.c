/* STUN: the RFC 5769 vectors ($TUNNEL_VECTORS_DIR/stun/rfc5769.json, read with
 * jansson; a missing file fails the test) parsed field by field with FINGERPRINT
 * checked; our XOR-MAPPED-ADDRESS encoding reproduced; our Binding response
 * parsed back; and a table of malformed messages with their reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/demux.h"
#include "common/bytes.h"
#include "rendezvous/stun.h"
#include "vectors.h"

static json_t *vectors;

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_true(n < cap);
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static unsigned long hexnum(const char *s)
{
	return strtoul(s, NULL, 16);
}

static const json_t *vector(const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(vectors, "vectors"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return v;
	fail_msg("vector %s missing", name);
	return NULL;
}

/* Every vector: header fields, each attribute's type/length/offset, and
 * FINGERPRINT verified wherever the vector has one. */
static void test_rfc5769_parse(void **state)
{
	json_t *v;
	size_t i;

	(void)state;
	json_array_foreach(json_object_get(vectors, "vectors"), i, v) {
		const json_t *exp = json_object_get(v, "expected"), *a;
		uint8_t pkt[1024], txid[16];
		struct stun_msg m;
		size_t n, j;
		enum demux_class dc;

		n = unhex(json_string_value(json_object_get(v, "message_hex")), pkt, sizeof(pkt));
		assert_int_equal(n, json_integer_value(json_object_get(v, "message_size")));
		dc = demux_classify(pkt, n);
		assert_int_equal(dc, DEMUX_STUN);
		assert_int_equal(stun_parse(pkt, n, &m), STUN_OK);
		assert_false(m.legacy);
		assert_int_equal(m.type, hexnum(json_string_value(json_object_get(exp, "message_type"))));
		assert_int_equal(m.length, json_integer_value(json_object_get(exp, "message_length")));
		unhex(json_string_value(json_object_get(exp, "transaction_id")), txid, sizeof(txid));
		assert_memory_equal(m.txid, txid, STUN_TXID_LEN);
		assert_int_equal(m.n_attrs, json_array_size(json_object_get(exp, "attributes")));
		json_array_foreach(json_object_get(exp, "attributes"), j, a) {
			assert_int_equal(m.attrs[j].type,
					 hexnum(json_string_value(json_object_get(a, "type"))));
			assert_int_equal(m.attrs[j].len, json_integer_value(json_object_get(a, "length")));
			/* the vector's offset is the attribute header's */
			assert_int_equal(m.attrs[j].offset,
					 json_integer_value(json_object_get(a, "offset")) + 4);
		}
		assert_int_equal(m.has_fingerprint,
				 json_is_true(json_object_get(exp, "fingerprint_verified")));
		if (m.has_fingerprint) {
			uint8_t fp[4];

			unhex(json_string_value(json_object_get(exp, "fingerprint")), fp, 4);
			assert_memory_equal(pkt + n - 4, fp, 4);
			/* the same CRC over a corrupted message fails */
			pkt[20] ^= 0x40;
			assert_int_equal(stun_parse(pkt, n, &m), STUN_ERR_FINGERPRINT);
		}
	}
}

/* The responses' XOR-MAPPED-ADDRESS decodes to the published address, and our
 * encoder produces the published bytes for that address and transaction. */
static void check_response(const char *name, int family)
{
	const json_t *v = vector(name), *exp = json_object_get(v, "expected");
	const json_t *xma = json_object_get(exp, "xor_mapped_address");
	uint8_t pkt[1024], val[20], want[20], ours[20];
	struct sockaddr_storage ss = { 0 };
	struct stun_msg m;
	size_t n, vlen = 0;
	const json_t *a;
	size_t i;

	n = unhex(json_string_value(json_object_get(v, "message_hex")), pkt, sizeof(pkt));
	assert_int_equal(stun_parse(pkt, n, &m), STUN_OK);
	assert_true(m.has_mapped);
	assert_int_equal(m.mapped.ss_family, family);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)json_integer_value(json_object_get(xma, "port")));
		assert_int_equal(inet_pton(AF_INET, json_string_value(json_object_get(xma, "address")),
					   &sin->sin_addr), 1);
		assert_memory_equal(&((struct sockaddr_in *)&m.mapped)->sin_addr, &sin->sin_addr, 4);
		assert_int_equal(((struct sockaddr_in *)&m.mapped)->sin_port, sin->sin_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)json_integer_value(json_object_get(xma, "port")));
		assert_int_equal(inet_pton(AF_INET6, json_string_value(json_object_get(xma, "address")),
					   &sin6->sin6_addr), 1);
		assert_memory_equal(&((struct sockaddr_in6 *)&m.mapped)->sin6_addr, &sin6->sin6_addr, 16);
		assert_int_equal(((struct sockaddr_in6 *)&m.mapped)->sin6_port, sin6->sin6_port);
	}
	json_array_foreach(json_object_get(exp, "attributes"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "name")), "XOR-MAPPED-ADDRESS") == 0)
			vlen = unhex(json_string_value(json_object_get(a, "value_hex")), want, sizeof(want));
	assert_int_equal(vlen, family == AF_INET ? 8 : 20);
	assert_int_equal(stun_xor_address_encode((struct sockaddr *)&ss, m.txid, ours), (int)vlen);
	assert_memory_equal(ours, want, vlen);
	(void)val;
}

static void test_rfc5769_xor_mapped(void **state)
{
	(void)state;
	check_response("sample_ipv4_response", AF_INET);
	check_response("sample_ipv6_response", AF_INET6);
}

/* Our Binding response to the RFC's sample request: the request's txid, a
 * FINGERPRINT (the request had one), and the source address back. */
static void test_binding_response(void **state)
{
	const json_t *v = vector("sample_request");
	uint8_t pkt[1024], resp[STUN_RESPONSE_MAX];
	struct sockaddr_in6 src6 = { .sin6_family = AF_INET6, .sin6_port = htons(32853) };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(32853) };
	struct stun_msg req, back;
	size_t n, rlen;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
	inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &src6.sin6_addr);
	n = unhex(json_string_value(json_object_get(v, "message_hex")), pkt, sizeof(pkt));
	assert_int_equal(stun_parse(pkt, n, &req), STUN_OK);
	assert_true(stun_is_answerable(&req));

	assert_int_equal(stun_build_binding_response(&req, (struct sockaddr *)&src, resp,
						     sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 20 + 12 + 8);
	assert_int_equal(demux_classify(resp, rlen), DEMUX_STUN);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	assert_int_equal(back.type, STUN_BINDING_SUCCESS);
	assert_memory_equal(back.txid, req.txid, STUN_TXID_LEN);
	assert_true(back.has_fingerprint);
	assert_true(back.has_mapped);
	assert_memory_equal(&((struct sockaddr_in *)&back.mapped)->sin_addr, &src.sin_addr, 4);
	assert_int_equal(((struct sockaddr_in *)&back.mapped)->sin_port, src.sin_port);
	/* the XOR-MAPPED-ADDRESS value is the one the RFC's IPv4 response carries */
	{
		uint8_t want[8];

		unhex("0001a147e112a643", want, sizeof(want));
		assert_memory_equal(resp + 24, want, 8);
	}

	assert_int_equal(stun_build_binding_response(&req, (struct sockaddr *)&src6, resp,
						     sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 20 + 24 + 8);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	{
		uint8_t want[20];

		unhex("0002a1470113a9faa5d3f179bc25f4b5bed2b9d9", want, sizeof(want));
		assert_memory_equal(resp + 24, want, 20);
	}
	assert_int_equal(stun_build_binding_response(&req, (struct sockaddr *)&src, resp, 30, &rlen),
			 -ENOBUFS);
}

/* An RFC 3489 client (Debian's `stun`): no cookie, 16-byte id, MAPPED-ADDRESS. */
static void test_legacy(void **state)
{
	uint8_t pkt[64], resp[STUN_RESPONSE_MAX];
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(4242) };
	struct stun_msg req, back;
	size_t n, rlen;

	(void)state;
	inet_pton(AF_INET, "198.51.100.20", &src.sin_addr);
	/* captured from stun 0.97: Binding request with CHANGE-REQUEST 0 */
	n = unhex("0001000801fe565ccd46b15a3c58e60c310ed3650003000400000000", pkt, sizeof(pkt));
	assert_int_equal(demux_classify(pkt, n), DEMUX_STUN_LEGACY);
	assert_int_equal(stun_parse(pkt, n, &req), STUN_OK);
	assert_true(req.legacy);
	assert_true(stun_is_answerable(&req));
	assert_int_equal(stun_build_binding_response(&req, (struct sockaddr *)&src, resp,
						     sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 32);
	assert_memory_equal(resp + 4, pkt + 4, 16);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	assert_true(back.legacy && back.has_mapped);
	assert_memory_equal(&((struct sockaddr_in *)&back.mapped)->sin_addr, &src.sin_addr, 4);
	assert_int_equal(((struct sockaddr_in *)&back.mapped)->sin_port, src.sin_port);
	/* "change IP and port": we have one address, so no answer */
	n = unhex("00010008029aa275d42d1c7794506d558843352d0003000400000004", pkt, sizeof(pkt));
	assert_int_equal(stun_parse(pkt, n, &req), STUN_OK);
	assert_false(stun_is_answerable(&req));
}

static const struct {
	const char *hex;
	enum stun_parse_result want;
	const char *why;
} bad[] = {
	{ "0001000021", STUN_ERR_SHORT, "5 bytes" },
	{ "000100002112a442000000000000000000000000", STUN_OK, "empty Binding request" },
	{ "c00100002112a442000000000000000000000000", STUN_ERR_HEADER, "top bits set" },
	{ "000300002112a44300000000000000000000000000", STUN_ERR_LENGTH, "21 bytes, length 0" },
	{ "000300002112a443000000000000000000000000", STUN_ERR_HEADER, "no cookie, not Binding" },
	{ "000100042112a442000000000000000000000000", STUN_ERR_LENGTH, "length 4, no body" },
	{ "000100022112a4420000000000000000000000000000", STUN_ERR_LENGTH, "length not /4" },
	{ "000100ff2112a442000000000000000000000000", STUN_ERR_LENGTH, "length 255" },
	{ "000100042112a4420000000000000000000000008022", STUN_ERR_LENGTH, "2 bytes, length 4" },
	{ "000100042112a44200000000000000000000000080220008", STUN_ERR_ATTR_OVERRUN, "attr 8 in 0" },
	{ "000100082112a4420000000000000000000000008022000561626364", STUN_ERR_ATTR_OVERRUN,
	  "attr 5 padded to 8 in 4" },
	{ "000100082112a44200000000000000000000000080280004deadbeef", STUN_ERR_FINGERPRINT,
	  "wrong FINGERPRINT" },
	{ "000100082112a44200000000000000000000000080280003deadbe00", STUN_ERR_FINGERPRINT,
	  "FINGERPRINT of 3 bytes" },
	{ "000100082112a4420000000000000000000000000020000400010000", STUN_ERR_ADDRESS,
	  "XOR-MAPPED-ADDRESS of 4 bytes" },
	{ "0001000c2112a4420000000000000000000000000020000800030000deadbeef", STUN_ERR_ADDRESS,
	  "XOR-MAPPED-ADDRESS family 3" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t pkt[128];
		struct stun_msg m;
		size_t n = unhex(bad[i].hex, pkt, sizeof(pkt));
		enum stun_parse_result r = stun_parse(pkt, n, &m);

		if (r != bad[i].want)
			fail_msg("case %zu (%s): got %s, want %s", i, bad[i].why,
				 stun_parse_result_name(r), stun_parse_result_name(bad[i].want));
	}
}

/* Too many attributes; an attribute after FINGERPRINT; every truncation of a
 * valid vector is refused. */
static void test_limits(void **state)
{
	uint8_t pkt[20 + 4 * (STUN_MAX_ATTRS + 1)], vec[1024];
	struct stun_msg m;
	size_t n;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	unhex("000100842112a442", pkt, sizeof(pkt)); /* length 132 = 33 empty attributes */
	for (int i = 0; i < STUN_MAX_ATTRS + 1; i++)
		pkt[20 + 4 * i + 1] = 0x24;
	assert_int_equal(stun_parse(pkt, sizeof(pkt), &m), STUN_ERR_TOO_MANY_ATTRS);

	n = unhex(json_string_value(json_object_get(vector("sample_request"), "message_hex")), vec,
		  sizeof(vec));
	/* append an attribute after FINGERPRINT, fixing the length field */
	memcpy(vec + n, "\x80\x22\x00\x00", 4);
	vec[3] = (uint8_t)(n + 4 - 20);
	assert_int_equal(stun_parse(vec, n + 4, &m), STUN_ERR_FINGERPRINT);
	vec[3] = (uint8_t)(n - 20);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(stun_parse(vec, cut, &m), STUN_OK);
}

/* --alt-port: the answer names the server's other port in OTHER-ADDRESS
 * (RFC 5780 §7.4, not XORed), before the FINGERPRINT; the largest answer
 * (IPv6 both) fits STUN_RESPONSE_MAX; a legacy request gets none. */
static void test_other_address(void **state)
{
	const json_t *v = vector("sample_request");
	uint8_t pkt[1024], resp[STUN_RESPONSE_MAX];
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(32853) };
	struct sockaddr_in other = { .sin_family = AF_INET, .sin_port = htons(3479) };
	struct sockaddr_in6 src6 = { .sin6_family = AF_INET6, .sin6_port = htons(1) };
	struct sockaddr_in6 other6 = { .sin6_family = AF_INET6, .sin6_port = htons(3479) };
	struct stun_msg req, back;
	size_t n, rlen;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
	inet_pton(AF_INET, "198.51.100.1", &other.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &src6.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::2", &other6.sin6_addr);
	n = unhex(json_string_value(json_object_get(v, "message_hex")), pkt, sizeof(pkt));
	assert_int_equal(stun_parse(pkt, n, &req), STUN_OK);
	assert_int_equal(stun_build_binding_response_other(&req, (struct sockaddr *)&src,
							   (struct sockaddr *)&other, resp,
							   sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 20 + 12 + 12 + 8);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	assert_true(back.has_fingerprint);
	assert_true(back.has_other);
	assert_memory_equal(&back.other, &other, sizeof(other));
	assert_int_equal(load_be16(resp + 32), STUN_ATTR_OTHER_ADDRESS);
	assert_memory_equal(resp + 36 + 4, &other.sin_addr, 4); /* plain, not XORed */
	assert_int_equal(stun_build_binding_response_other(&req, (struct sockaddr *)&src6,
							   (struct sockaddr *)&other6, resp,
							   sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 20 + 24 + 24 + 8);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	assert_memory_equal(&((struct sockaddr_in6 *)&back.other)->sin6_addr, &other6.sin6_addr, 16);
	assert_int_equal(stun_build_binding_response_other(&req, (struct sockaddr *)&src6,
							   (struct sockaddr *)&other6, resp, rlen - 1,
							   &rlen), -ENOBUFS);
	/* without an alternate: exactly the plain answer */
	assert_int_equal(stun_build_binding_response_other(&req, (struct sockaddr *)&src, NULL,
							   resp, sizeof(resp), &rlen), 0);
	assert_int_equal(rlen, 20 + 12 + 8);
	assert_int_equal(stun_parse(resp, rlen, &back), STUN_OK);
	assert_false(back.has_other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_parse),
		cmocka_unit_test(test_rfc5769_xor_mapped),
		cmocka_unit_test(test_binding_response),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_other_address),
	};
	int r;

	vectors = vectors_load("stun/rfc5769.json");
	if (!vectors)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(vectors);
	return r;
}
