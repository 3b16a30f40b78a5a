/* Rendezvous message bodies and envelopes: golden encodings of every message
 * (tests/unit/golden/rdv_*.exp), round trips, and a table of malformed bodies
 * each rejected with its named status. TUNNEL_GOLDEN_UPDATE=1 rewrites the
 * golden files instead of comparing (review the diff before committing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/envelope.h"
#include "rendezvous/proto.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*hex) {
		unsigned v;

		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void tohex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* Fixed inputs: keys are 32 bytes of one value, so golden files are stable. */
static void fixed_key(uint8_t k[RDV_KEY_LEN], uint8_t v) { memset(k, v, RDV_KEY_LEN); }

static struct rdv_endpoint ep4(const char *s)
{
	struct rdv_endpoint ep;

	assert_int_equal(rdv_endpoint_parse(&ep, s, false), 0);
	return ep;
}

struct golden_case {
	const char *name;
	struct rdv_msg msg;
	enum rdv_direction dir;
};

static void build_cases(struct golden_case *c, size_t *n)
{
	size_t i = 0;

	memset(c, 0, 7 * sizeof(*c));
	c[i].name = "rdv_register";
	c[i].dir = RDV_DIR_UP;
	c[i].msg.type = RDV_MSG_REGISTER;
	c[i].msg.reg.n_lan = 2;
	c[i].msg.reg.lan[0] = ep4("192.168.1.10:51820");
	c[i].msg.reg.lan[1] = ep4("[fd00::10]:51820");
	c[i].msg.reg.n_want = 2;
	fixed_key(c[i].msg.reg.want[0], 0xa1);
	fixed_key(c[i].msg.reg.want[1], 0xa2);
	memset(c[i].msg.reg.cookie, 0xc0, RDV_COOKIE_LEN);
	c[i].msg.reg.again = true;
	i++;
	c[i].name = "rdv_registered";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_REGISTERED;
	c[i].msg.registered.reflexive = ep4("203.0.113.7:40000");
	c[i].msg.registered.lease_s = 120;
	c[i].msg.registered.echo = (UINT64_C(0xabcdef) << RDV_SEQ_BITS) | 41;
	i++;
	c[i].name = "rdv_registered6";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_REGISTERED;
	c[i].msg.registered.reflexive = ep4("[2001:db8::7]:40000");
	c[i].msg.registered.lease_s = 86400;
	c[i].msg.registered.echo = UINT64_MAX;
	i++;
	c[i].name = "rdv_introduce";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_INTRODUCE;
	fixed_key(c[i].msg.introduce.peer, 0xa1);
	c[i].msg.introduce.reflexive = ep4("198.51.100.9:61000");
	c[i].msg.introduce.n_lan = 1;
	c[i].msg.introduce.lan[0] = ep4("10.1.0.5:51820");
	i++;
	c[i].name = "rdv_relay";
	c[i].dir = RDV_DIR_UP;
	c[i].msg.type = RDV_MSG_RELAY;
	fixed_key(c[i].msg.relay.peer, 0xa2);
	c[i].msg.relay.len = 32;
	for (size_t j = 0; j < 32; j++)
		c[i].msg.relay.data[j] = (uint8_t)j;
	i++;
	c[i].name = "rdv_error";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_ERROR;
	c[i].msg.error.code = RDV_ERROR_NOT_INTRODUCED;
	fixed_key(c[i].msg.error.peer, 0xa2);
	i++;
	c[i].name = "rdv_challenge";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_CHALLENGE;
	c[i].msg.challenge.echo = (UINT64_C(0xabcdef) << RDV_SEQ_BITS) | 42;
	memset(c[i].msg.challenge.cookie, 0xc1, RDV_COOKIE_LEN);
	i++;
	c[i].name = "rdv_channel_open";
	c[i].dir = RDV_DIR_UP;
	c[i].msg.type = RDV_MSG_CHANNEL_OPEN;
	fixed_key(c[i].msg.channel.peer, 0xa2);
	i++;
	c[i].name = "rdv_channel";
	c[i].dir = RDV_DIR_DOWN;
	c[i].msg.type = RDV_MSG_CHANNEL;
	fixed_key(c[i].msg.channel.peer, 0xa1);
	memcpy(c[i].msg.channel.chan, "\x01\x23\x45\x67\x89\xab\xcd\xef", RDV_CHANNEL_ID_LEN);
	i++;
	*n = i;
}

struct fixture {
	uint8_t peer_sk[RDV_KEY_LEN], peer_pk[RDV_KEY_LEN];
	uint8_t server_sk[RDV_KEY_LEN], server_pk[RDV_KEY_LEN];
	struct rdv_session peer, server;
};

static void fixture_init(struct fixture *f)
{
	assert_true(sodium_init() >= 0);
	fixed_key(f->peer_sk, 0x11);
	fixed_key(f->server_sk, 0x22);
	crypto_scalarmult_base(f->peer_pk, f->peer_sk);
	crypto_scalarmult_base(f->server_pk, f->server_sk);
	assert_int_equal(rdv_session_derive(&f->peer, f->peer_sk, f->server_pk, f->peer_pk,
					    f->server_pk), 0);
	assert_int_equal(rdv_session_derive(&f->server, f->server_sk, f->peer_pk, f->peer_pk,
					    f->server_pk), 0);
}

static const uint64_t FIXED_COUNTER = (UINT64_C(0x123456) << RDV_SEQ_BITS) | 7;

static void seal_fixed(const struct fixture *f, const struct golden_case *c, uint8_t *out,
		       size_t *len)
{
	uint8_t rnd[RDV_NONCE_RANDOM_LEN];

	memset(rnd, 0x33, sizeof(rnd));
	assert_int_equal(rdv_seal(c->dir == RDV_DIR_UP ? &f->peer : &f->server, c->dir,
				  FIXED_COUNTER, rnd, &c->msg, out, RDV_DATAGRAM_MAX, len), 0);
}

static void assert_msg_equal(const struct rdv_msg *a, const struct rdv_msg *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case RDV_MSG_REGISTER:
		assert_int_equal(a->reg.n_lan, b->reg.n_lan);
		assert_int_equal(a->reg.n_want, b->reg.n_want);
		for (size_t i = 0; i < a->reg.n_lan; i++)
			assert_true(rdv_endpoint_equal(&a->reg.lan[i], &b->reg.lan[i]));
		assert_memory_equal(a->reg.want, b->reg.want, a->reg.n_want * RDV_KEY_LEN);
		assert_memory_equal(a->reg.cookie, b->reg.cookie, RDV_COOKIE_LEN);
		assert_int_equal(a->reg.again, b->reg.again);
		break;
	case RDV_MSG_REGISTERED:
		assert_true(rdv_endpoint_equal(&a->registered.reflexive, &b->registered.reflexive));
		assert_int_equal(a->registered.lease_s, b->registered.lease_s);
		assert_true(a->registered.echo == b->registered.echo);
		break;
	case RDV_MSG_CHALLENGE:
		assert_true(a->challenge.echo == b->challenge.echo);
		assert_memory_equal(a->challenge.cookie, b->challenge.cookie, RDV_COOKIE_LEN);
		break;
	case RDV_MSG_INTRODUCE:
		assert_memory_equal(a->introduce.peer, b->introduce.peer, RDV_KEY_LEN);
		assert_true(rdv_endpoint_equal(&a->introduce.reflexive, &b->introduce.reflexive));
		assert_int_equal(a->introduce.n_lan, b->introduce.n_lan);
		for (size_t i = 0; i < a->introduce.n_lan; i++)
			assert_true(rdv_endpoint_equal(&a->introduce.lan[i], &b->introduce.lan[i]));
		break;
	case RDV_MSG_RELAY:
		assert_memory_equal(a->relay.peer, b->relay.peer, RDV_KEY_LEN);
		assert_int_equal(a->relay.len, b->relay.len);
		assert_memory_equal(a->relay.data, b->relay.data, a->relay.len);
		break;
	case RDV_MSG_ERROR:
		assert_int_equal(a->error.code, b->error.code);
		assert_memory_equal(a->error.peer, b->error.peer, RDV_KEY_LEN);
		break;
	case RDV_MSG_CHANNEL_OPEN:
	case RDV_MSG_CHANNEL:
		assert_memory_equal(a->channel.peer, b->channel.peer, RDV_KEY_LEN);
		assert_memory_equal(a->channel.chan, b->channel.chan, RDV_CHANNEL_ID_LEN);
		break;
	}
}

/* Golden file: "body <hex>\ndatagram <hex>\n". */
static void test_golden(void **state)
{
	struct golden_case cases[9];
	struct fixture f;
	const char *src = getenv("TUNNEL_SOURCE_DIR");
	bool update = getenv("TUNNEL_GOLDEN_UPDATE") != NULL;
	size_t n;

	(void)state;
	if (!src)
		src = ".";
	fixture_init(&f);
	build_cases(cases, &n);
	for (size_t i = 0; i < n; i++) {
		uint8_t body[RDV_BODY_MAX], dg[RDV_DATAGRAM_MAX];
		static char bhex[2 * RDV_BODY_MAX + 1], dhex[2 * RDV_DATAGRAM_MAX + 1];
		static char expect[3 * RDV_DATAGRAM_MAX + 2 * RDV_BODY_MAX + 64];
		char got[sizeof(expect)], path[4096];
		size_t blen, dlen, r;
		FILE *fp;

		assert_int_equal(rdv_body_encode(&cases[i].msg, body, sizeof(body), &blen), 0);
		seal_fixed(&f, &cases[i], dg, &dlen);
		assert_int_equal(dlen, blen + RDV_OVERHEAD);
		tohex(body, blen, bhex);
		tohex(dg, dlen, dhex);
		snprintf(got, sizeof(got), "body %s\ndatagram %s\n", bhex, dhex);
		snprintf(path, sizeof(path), "%s/tests/unit/golden/%s.exp", src, cases[i].name);
		if (update) {
			fp = fopen(path, "w");
			assert_non_null(fp);
			fputs(got, fp);
			fclose(fp);
			continue;
		}
		fp = fopen(path, "r");
		if (!fp)
			fail_msg("missing golden file %s", path);
		r = fread(expect, 1, sizeof(expect) - 1, fp);
		expect[r] = '\0';
		fclose(fp);
		if (strcmp(expect, got) != 0)
			fail_msg("%s differs from the encoding:\n%s", path, got);
	}
}

static void test_round_trip(void **state)
{
	struct golden_case cases[9];
	struct fixture f;
	size_t n;

	(void)state;
	fixture_init(&f);
	build_cases(cases, &n);
	for (size_t i = 0; i < n; i++) {
		uint8_t body[RDV_BODY_MAX], dg[RDV_DATAGRAM_MAX];
		struct rdv_msg back;
		size_t blen, dlen;
		uint64_t counter = 0;

		assert_int_equal(rdv_body_encode(&cases[i].msg, body, sizeof(body), &blen), 0);
		assert_int_equal(rdv_body_decode(body, blen, &back), RDV_OK);
		assert_msg_equal(&cases[i].msg, &back);
		seal_fixed(&f, &cases[i], dg, &dlen);
		assert_int_equal(rdv_open(cases[i].dir == RDV_DIR_UP ? &f.server : &f.peer,
					  cases[i].dir, dg, dlen, &back, &counter), RDV_OK);
		assert_msg_equal(&cases[i].msg, &back);
		assert_true(counter == FIXED_COUNTER);
	}
}

/* Every proper prefix of a valid body is an incomplete msgpack object. */
static void test_truncate_every_byte(void **state)
{
	struct golden_case cases[9];
	size_t n;

	(void)state;
	build_cases(cases, &n);
	for (size_t i = 0; i < n; i++) {
		uint8_t body[RDV_BODY_MAX];
		struct rdv_msg back;
		size_t blen;

		assert_int_equal(rdv_body_encode(&cases[i].msg, body, sizeof(body), &blen), 0);
		for (size_t cut = 0; cut < blen; cut++)
			assert_int_equal(rdv_body_decode(body, cut, &back), RDV_E_TRUNCATED);
	}
}

/* The sealed datagram cut at every byte, and with every byte flipped. */
static void test_datagram_tamper(void **state)
{
	struct golden_case cases[9];
	struct fixture f;
	size_t n;

	(void)state;
	fixture_init(&f);
	build_cases(cases, &n);
	for (size_t i = 0; i < n; i++) {
		const struct rdv_session *rx = cases[i].dir == RDV_DIR_UP ? &f.server : &f.peer;
		uint8_t dg[RDV_DATAGRAM_MAX];
		struct rdv_msg back;
		size_t dlen;
		uint64_t ctr;

		seal_fixed(&f, &cases[i], dg, &dlen);
		for (size_t cut = 0; cut < dlen; cut++) {
			enum rdv_status s = rdv_open(rx, cases[i].dir, dg, cut, &back, &ctr);

			assert_int_equal(s, cut < RDV_OVERHEAD ? RDV_E_SHORT : RDV_E_BAD_MAC);
		}
		for (size_t pos = 0; pos < dlen; pos++) {
			enum rdv_status s;

			dg[pos] ^= 0x01;
			s = rdv_open(rx, cases[i].dir, dg, dlen, &back, &ctr);
			dg[pos] ^= 0x01;
			assert_int_equal(s, pos < 4 ? RDV_E_HEADER
					    : pos < 36 ? RDV_E_WRONG_KEY
						       : RDV_E_BAD_MAC);
		}
		/* Wrong direction: a server message fed back to the server. */
		assert_int_equal(rdv_open(rx, cases[i].dir == RDV_DIR_UP ? RDV_DIR_DOWN : RDV_DIR_UP,
					  dg, dlen, &back, &ctr), RDV_E_HEADER);
	}
}

/* A different server key: the MAC fails (the peer pinned the wrong key). */
static void test_wrong_server_key(void **state)
{
	struct golden_case cases[9];
	struct fixture f;
	struct rdv_session other;
	uint8_t other_sk[RDV_KEY_LEN], other_pk[RDV_KEY_LEN], dg[RDV_DATAGRAM_MAX];
	struct rdv_msg back;
	size_t n, dlen;
	uint64_t ctr;

	(void)state;
	fixture_init(&f);
	build_cases(cases, &n);
	fixed_key(other_sk, 0x44);
	crypto_scalarmult_base(other_pk, other_sk);
	assert_int_equal(rdv_session_derive(&other, other_sk, f.peer_pk, f.peer_pk, other_pk), 0);
	seal_fixed(&f, &cases[0], dg, &dlen);
	assert_int_equal(rdv_open(&other, RDV_DIR_UP, dg, dlen, &back, &ctr), RDV_E_BAD_MAC);
}

static void test_low_order_key(void **state)
{
	uint8_t sk[RDV_KEY_LEN], zero[RDV_KEY_LEN] = { 0 };
	struct rdv_session s;

	(void)state;
	fixed_key(sk, 0x11);
	assert_int_equal(rdv_session_derive(&s, sk, zero, zero, zero), -EINVAL);
}

struct bad_body {
	const char *hex;
	enum rdv_status want;
	const char *why;
};

#define KEY32 "c420" "0000000000000000000000000000000000000000000000000000000000000000"
#define EP4 "c406" "0a0000011f90"

static const struct bad_body bad_bodies[] = {
	{ "", RDV_E_TRUNCATED, "empty" },
	{ "c1", RDV_E_MSGPACK, "reserved byte" },
	{ "01", RDV_E_NOT_MAP, "integer at top" },
	{ "90", RDV_E_NOT_MAP, "array at top" },
	{ "80", RDV_E_MISSING_FIELD, "empty map" },
	{ "81a17409", RDV_E_UNKNOWN_TYPE, "type 9" },
	{ "81a17407", RDV_E_MISSING_FIELD, "channel-open without its fields" },
	{ "81a17406", RDV_E_MISSING_FIELD, "challenge without fields" },
	{ "83a17406a46563686f01a6636f6f6b6965c40f" "000000000000000000000000000000",
	  RDV_E_BAD_VALUE, "cookie 15 bytes" },
	{ "83a17406a46563686fa131a6636f6f6b6965c410" "00000000000000000000000000000000",
	  RDV_E_WRONG_TYPE, "echo as string" },
	{ "85a17401a36c616e90a477616e7490a6636f6f6b6965c410" "00000000000000000000000000000000"
	  "a5616761696e02", RDV_E_BAD_VALUE, "again 2" },
	{ "81a17400", RDV_E_UNKNOWN_TYPE, "type 0" },
	{ "81a174ceffffffff", RDV_E_UNKNOWN_TYPE, "type 2^32-1" },
	{ "81a174cf0000000100000001", RDV_E_BAD_VALUE, "type above 32 bits" },
	{ "81a174a131", RDV_E_WRONG_TYPE, "type as string" },
	{ "81a174ff", RDV_E_WRONG_TYPE, "negative type" },
	{ "81a174ca3f800000", RDV_E_WRONG_TYPE, "float type" },
	{ "81a174c0", RDV_E_WRONG_TYPE, "nil type" },
	{ "810101", RDV_E_WRONG_TYPE, "integer key" },
	{ "81c4017401", RDV_E_WRONG_TYPE, "bin key" },
	{ "82a17401a17401", RDV_E_DUPLICATE_FIELD, "t twice" },
	{ "82a17401a36c616e90", RDV_E_MISSING_FIELD, "register without want" },
	{ "82a17401a477616e7490", RDV_E_MISSING_FIELD, "register without lan" },
	{ "84a17401a36c616e90a477616e7490a17801", RDV_E_UNKNOWN_FIELD, "extra key x" },
	{ "84a17401a36c616e90a477616e7490a56c6561736501", RDV_E_UNKNOWN_FIELD, "lease in register" },
	{ "84a17401a36c616e90a36c616e90a477616e7490", RDV_E_DUPLICATE_FIELD, "lan twice" },
	{ "83a17401a36c616e01a477616e7490", RDV_E_WRONG_TYPE, "lan is an integer" },
	{ "83a17401a36c616e90a477616e7491a131", RDV_E_WRONG_TYPE, "want entry a string" },
	{ "83a17401a36c616e90a477616e7491c41f" "00000000000000000000000000000000000000000000000000000000000000",
	  RDV_E_BAD_VALUE, "want key 31 bytes" },
	{ "83a17401a36c616e91c4070a0000011f9000a477616e7490", RDV_E_BAD_VALUE, "endpoint 7 bytes" },
	{ "83a17401a36c616e91c4060a0000010000a477616e7490", RDV_E_BAD_VALUE, "endpoint port 0" },
	{ "83a17401a36c616e9190a477616e7490", RDV_E_TOO_DEEP, "array in array" },
	{ "83a17401a36c616e9180a477616e7490", RDV_E_TOO_DEEP, "map in array" },
	{ "9191919191919191919191919191919190", RDV_E_TOO_DEEP, "deep arrays" },
	{ "dd7fffffff", RDV_E_TRUNCATED, "array32 of 2^31" },
	{ "ddffffffff", RDV_E_TRUNCATED, "array32 of 2^32-1" },
	{ "dfffffffff", RDV_E_TRUNCATED, "map32 of 2^32-1" },
	{ "83a17401a36c616edcffff", RDV_E_TRUNCATED, "array16 of 65535 in register" },
	{ "c6ffffffff", RDV_E_TRUNCATED, "bin32 of 2^32-1" },
	{ "dbffffffff", RDV_E_TRUNCATED, "str32 of 2^32-1" },
	{ "c9ffffffff01", RDV_E_TRUNCATED, "ext32 of 2^32-1" },
	{ "83a17401a36c616e90a477616e749000", RDV_E_TRAILING, "a byte after the map" },
	{ "83a17401a36c616e90a477616e749083a17401a36c616e90a477616e7490", RDV_E_TRAILING, "two maps" },
	{ "83a17402a4726566" "6c" EP4 "a56c6561736500", RDV_E_BAD_VALUE, "lease 0" },
	{ "83a17402a4726566" "6c" EP4 "a56c65617365ce00015181", RDV_E_BAD_VALUE, "lease 86401" },
	{ "83a17402a4726566" "6c" EP4 "a56c65617365d0ff", RDV_E_WRONG_TYPE, "negative lease" },
	{ "83a17404a470656572" KEY32 "a464617461c400", RDV_E_BAD_VALUE, "empty relay data" },
	{ "83a17404a470656572" KEY32 "a464617461a3616263", RDV_E_WRONG_TYPE, "relay data as string" },
	{ "82a17404a470656572" KEY32, RDV_E_MISSING_FIELD, "relay without data" },
	{ "83a17405a4636f6465a131a470656572" KEY32, RDV_E_WRONG_TYPE, "error code as string" },
};

static void test_bad_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_bodies); i++) {
		uint8_t body[4096];
		struct rdv_msg m;
		size_t n;
		enum rdv_status s;

		n = unhex(bad_bodies[i].hex, body, sizeof(body));
		s = rdv_body_decode(body, n, &m);
		if (s != bad_bodies[i].want)
			fail_msg("case %zu (%s): got %s, want %s", i, bad_bodies[i].why,
				 rdv_status_name(s), rdv_status_name(bad_bodies[i].want));
	}
}

/* Limits built programmatically: 9 LAN endpoints, 17 wants, 1601 relay bytes,
 * an oversize body. */
static void test_oversize(void **state)
{
	uint8_t body[RDV_BODY_MAX + 64];
	struct rdv_msg m;
	size_t n = 0;

	(void)state;
	n += unhex("83a17401a36c616e99", body + n, sizeof(body) - n);
	for (int i = 0; i < 9; i++)
		n += unhex(EP4, body + n, sizeof(body) - n);
	n += unhex("a477616e7490", body + n, sizeof(body) - n);
	assert_int_equal(rdv_body_decode(body, n, &m), RDV_E_OVERSIZE);

	n = unhex("83a17401a36c616e90a477616e74dc0011", body, sizeof(body));
	for (int i = 0; i < 17; i++)
		n += unhex(KEY32, body + n, sizeof(body) - n);
	assert_int_equal(rdv_body_decode(body, n, &m), RDV_E_OVERSIZE);

	n = unhex("83a17404a470656572" KEY32 "a464617461c50641", body, sizeof(body));
	memset(body + n, 0x55, 1601);
	assert_int_equal(rdv_body_decode(body, n + 1601, &m), RDV_E_OVERSIZE);

	memset(body, 0, sizeof(body));
	assert_int_equal(rdv_body_decode(body, RDV_BODY_MAX + 1, &m), RDV_E_OVERSIZE_BODY);

	/* The encoder refuses what the decoder would refuse. */
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_RELAY;
	m.relay.len = RDV_RELAY_DATA_MAX + 1;
	assert_int_equal(rdv_body_encode(&m, body, sizeof(body), &n), -EINVAL);
	m.relay.len = 0;
	assert_int_equal(rdv_body_encode(&m, body, sizeof(body), &n), -EINVAL);
	m.type = RDV_MSG_REGISTER;
	m.reg.n_want = RDV_WANT_MAX + 1;
	assert_int_equal(rdv_body_encode(&m, body, sizeof(body), &n), -EINVAL);
	m.reg.n_want = 0;
	m.reg.n_lan = RDV_LAN_MAX + 1;
	assert_int_equal(rdv_body_encode(&m, body, sizeof(body), &n), -EINVAL);
	/* The largest relay fits in one datagram. */
	m.type = RDV_MSG_RELAY;
	m.relay.len = RDV_RELAY_DATA_MAX;
	assert_int_equal(rdv_body_encode(&m, body, sizeof(body), &n), 0);
	assert_true(n <= RDV_BODY_MAX);
}

/* Random bytes never decode into something unchecked (and never crash). */
static void test_random_bodies(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint8_t body[64];
		struct rdv_msg m;
		size_t n = randombytes_uniform(sizeof(body) + 1);

		randombytes_buf(body, n);
		if (n > 0)
			body[0] = (uint8_t)(0x80 | randombytes_uniform(16)); /* a map, mostly */
		(void)rdv_body_decode(body, n, &m);
	}
}

#define C(epoch, seq) ((UINT64_C(epoch) << RDV_SEQ_BITS) | (seq))

/* The window of one session: WireGuard-sized, so reordering within
 * REPLAY_WINDOW_SIZE is accepted; counters of any other session are not. */
static void test_replay_window(void **state)
{
	static const struct {
		uint64_t counter;
		enum rdv_status want;
	} steps[] = {
		{ C(7, 1000), RDV_OK }, { C(7, 1000), RDV_E_REPLAY }, { C(7, 999), RDV_OK },
		{ C(7, 999), RDV_E_REPLAY }, { C(8, 1001), RDV_E_REPLAY }, { C(6, 1001), RDV_E_REPLAY },
		{ C(7, 1000 + REPLAY_WINDOW_SIZE), RDV_OK }, { C(7, 1001), RDV_OK },
		{ C(7, 1000), RDV_E_REPLAY }, { C(7, 1000 + REPLAY_WINDOW_SIZE), RDV_E_REPLAY },
		{ C(7, 999), RDV_E_REPLAY }, { C(7, 20000), RDV_OK },
		{ C(7, 20000 - REPLAY_WINDOW_SIZE), RDV_OK },
		{ C(7, 20000 - REPLAY_WINDOW_SIZE - 1), RDV_E_REPLAY }, { C(7, 19999), RDV_OK },
		{ C(7, 19999), RDV_E_REPLAY }, { C(7, 5), RDV_E_REPLAY },
		{ C(7, RDV_SEQ_MASK), RDV_OK }, { C(7, RDV_SEQ_MASK), RDV_E_REPLAY },
	};
	struct rdv_replay r;

	(void)state;
	rdv_replay_reset(&r, 0);
	assert_int_equal(rdv_replay_check(&r, C(0, 1)), RDV_E_REPLAY); /* no session yet */
	rdv_replay_reset(&r, 7);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		enum rdv_status s = rdv_replay_check(&r, steps[i].counter);

		if (s != steps[i].want)
			fail_msg("step %zu (counter %llx): got %s", i,
				 (unsigned long long)steps[i].counter, rdv_status_name(s));
		if (s == RDV_OK)
			rdv_replay_update(&r, steps[i].counter);
	}
	/* A reset to a new session forgets the old one entirely. */
	rdv_replay_reset(&r, 9);
	assert_int_equal(rdv_replay_check(&r, C(7, RDV_SEQ_MASK - 1)), RDV_E_REPLAY);
	assert_int_equal(rdv_replay_check(&r, C(9, 1)), RDV_OK);
	for (int i = 0; i < 100; i++)
		assert_int_not_equal(rdv_epoch_new(), 0);
}

/* A CHALLENGE is always smaller than the smallest REGISTER it can answer,
 * whatever the echo: the server can never amplify with it. */
static void test_challenge_smaller(void **state)
{
	struct rdv_msg reg = { .type = RDV_MSG_REGISTER }, ch = { .type = RDV_MSG_CHALLENGE };
	uint8_t b[RDV_BODY_MAX];
	size_t reg_len, ch_len;

	(void)state;
	assert_int_equal(rdv_body_encode(&reg, b, sizeof(b), &reg_len), 0);
	ch.challenge.echo = UINT64_MAX;
	assert_int_equal(rdv_body_encode(&ch, b, sizeof(b), &ch_len), 0);
	assert_true(ch_len < reg_len);
}

static void test_names(void **state)
{
	(void)state;
	for (int s = 0; s < RDV_STATUS_COUNT; s++) {
		assert_non_null(rdv_status_name((enum rdv_status)s));
		assert_string_not_equal(rdv_status_name((enum rdv_status)s), "?");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncate_every_byte),
		cmocka_unit_test(test_datagram_tamper),
		cmocka_unit_test(test_wrong_server_key),
		cmocka_unit_test(test_low_order_key),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_random_bodies),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_challenge_smaller),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
