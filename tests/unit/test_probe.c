/* Path probes: both peers derive the same keys, a probe verifies only as
 * coming from its sender and only under the key that made it, padding and
 * lengths are checked, and any changed byte is rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"
#include "crypto/probe.h"

struct pair {
	uint8_t a_priv[KEY_LEN], a_pub[KEY_LEN], b_priv[KEY_LEN], b_pub[KEY_LEN];
	uint8_t key_a[NOISE_SYMMETRIC_KEY_LEN], key_b[NOISE_SYMMETRIC_KEY_LEN];
};

static void make_pair(struct pair *p)
{
	uint8_t ss[KEY_LEN];

	keys_generate_private(p->a_priv);
	keys_generate_private(p->b_priv);
	assert_int_equal(keys_public_from_private(p->a_pub, p->a_priv), 0);
	assert_int_equal(keys_public_from_private(p->b_pub, p->b_priv), 0);
	assert_int_equal(keys_dh(ss, p->a_priv, p->b_pub), 0);
	probe_key_derive(p->key_a, ss);
	assert_int_equal(keys_dh(ss, p->b_priv, p->a_pub), 0);
	probe_key_derive(p->key_b, ss);
}

/* Parses and verifies in one step, as the engine does for a static key. */
static int open_probe(const uint8_t *msg, size_t len, const uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t sender[KEY_LEN], struct probe *out)
{
	int r = probe_parse(msg, len, out);

	return r ? r : probe_verify(msg, len, key, sender);
}

static void test_round_trip(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	struct probe req = { .kind = PROBE_REQUEST, .token = 0x1122334455667788ULL,
			     .sent_ms = 123456789, .len = PROBE_LEN };
	struct probe resp = { .kind = PROBE_RESPONSE, .token = 42, .acked_len = 1400,
			      .len = PROBE_LEN };
	struct probe got;

	(void)state;
	make_pair(&p);
	assert_memory_equal(p.key_a, p.key_b, sizeof(p.key_a));
	assert_int_equal(probe_build(msg, sizeof(msg), &req, p.key_a, p.a_pub), 0);
	assert_int_equal(open_probe(msg, sizeof(msg), p.key_b, p.a_pub, &got), 0);
	assert_int_equal(got.kind, PROBE_REQUEST);
	assert_int_equal(got.key, PROBE_KEY_STATIC);
	assert_true(got.token == req.token && got.sent_ms == req.sent_ms);

	assert_int_equal(probe_build(msg, sizeof(msg), &resp, p.key_b, p.b_pub), 0);
	assert_int_equal(open_probe(msg, sizeof(msg), p.key_a, p.b_pub, &got), 0);
	assert_int_equal(got.kind, PROBE_RESPONSE);
	assert_true(got.token == 42 && got.acked_len == 1400 && got.sent_ms == 0);
}

/* A request padded to a path MTU probe size round-trips; its padding must
 * be zero, and a response is never padded (it is never larger than a
 * request: no amplification). */
static void test_padded_request(void **state)
{
	static uint8_t msg[PROBE_MAX_LEN];
	struct pair p;
	struct probe req = { .kind = PROBE_REQUEST, .token = 5, .sent_ms = 1, .len = 1452 };
	struct probe resp = { .kind = PROBE_RESPONSE, .token = 5, .len = 1452 };
	struct probe got;

	(void)state;
	make_pair(&p);
	assert_int_equal(probe_build(msg, sizeof(msg), &req, p.key_a, p.a_pub), 0);
	assert_int_equal(open_probe(msg, req.len, p.key_b, p.a_pub, &got), 0);
	assert_int_equal(got.len, 1452);
	msg[PROBE_HEADER_LEN + 7] = 1; /* non-zero padding */
	assert_int_equal(probe_parse(msg, req.len, &got), -EINVAL);
	assert_int_equal(probe_build(msg, sizeof(msg), &resp, p.key_a, p.a_pub), -EINVAL);
	req.len = PROBE_MAX_LEN + 1;
	assert_int_equal(probe_build(msg, sizeof(msg), &req, p.key_a, p.a_pub), -EINVAL);
	req.len = 1452;
	assert_int_equal(probe_build(msg, 1451, &req, p.key_a, p.a_pub), -EINVAL);
}

/* A session key is the same on both ends (sender's sending key = receiver's
 * receiving key), differs from the static key, and a request made with it
 * does not verify under the static key. */
static void test_session_key(void **state)
{
	struct pair p;
	uint8_t transport[NOISE_SYMMETRIC_KEY_LEN], ka[NOISE_SYMMETRIC_KEY_LEN],
		kb[NOISE_SYMMETRIC_KEY_LEN], msg[PROBE_LEN];
	struct probe req = { .kind = PROBE_REQUEST, .key = PROBE_KEY_SESSION, .token = 9,
			     .sent_ms = 77, .len = PROBE_LEN };
	struct probe got;

	(void)state;
	make_pair(&p);
	randombytes_buf(transport, sizeof(transport));
	probe_session_key_derive(ka, transport);
	probe_session_key_derive(kb, transport);
	assert_memory_equal(ka, kb, sizeof(ka));
	assert_memory_not_equal(ka, p.key_a, sizeof(ka));
	assert_int_equal(probe_build(msg, sizeof(msg), &req, ka, p.a_pub), 0);
	assert_int_equal(probe_parse(msg, sizeof(msg), &got), 0);
	assert_int_equal(got.key, PROBE_KEY_SESSION);
	assert_int_equal(probe_verify(msg, sizeof(msg), kb, p.a_pub), 0);
	assert_int_equal(probe_verify(msg, sizeof(msg), p.key_b, p.a_pub), -EBADMSG);
}

/* A's own probe bounced back to A must not pass as B's. */
static void test_reflection_rejected(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	struct probe req = { .kind = PROBE_REQUEST, .token = 7, .len = PROBE_LEN };
	struct probe got;

	(void)state;
	make_pair(&p);
	assert_int_equal(probe_build(msg, sizeof(msg), &req, p.key_a, p.a_pub), 0);
	assert_int_equal(open_probe(msg, sizeof(msg), p.key_a, p.b_pub, &got), -EBADMSG);
}

/* A third party with its own key cannot make probes the pair accepts. */
static void test_stranger_rejected(void **state)
{
	struct pair p, q;
	uint8_t msg[PROBE_LEN];
	struct probe resp = { .kind = PROBE_RESPONSE, .token = 7, .len = PROBE_LEN };
	struct probe got;

	(void)state;
	make_pair(&p);
	make_pair(&q);
	assert_int_equal(probe_build(msg, sizeof(msg), &resp, q.key_a, p.a_pub), 0);
	assert_int_equal(open_probe(msg, sizeof(msg), p.key_b, p.a_pub, &got), -EBADMSG);
}

static void test_every_flip_rejected(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	struct probe req = { .kind = PROBE_REQUEST, .token = 99, .sent_ms = 5, .len = PROBE_LEN };
	struct probe got;

	(void)state;
	make_pair(&p);
	assert_int_equal(probe_build(msg, sizeof(msg), &req, p.key_a, p.a_pub), 0);
	for (size_t i = 0; i < PROBE_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			msg[i] ^= (uint8_t)(1u << bit);
			assert_true(open_probe(msg, sizeof(msg), p.key_b, p.a_pub, &got) < 0);
			msg[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Shorter than a probe, or longer with the MAC no longer at the end. */
	for (size_t len = 0; len < PROBE_LEN + 4; len++) {
		uint8_t big[PROBE_LEN + 4] = { 0 };

		if (len == PROBE_LEN)
			continue;
		memcpy(big, msg, MIN(len, (size_t)PROBE_LEN));
		assert_true(open_probe(big, len, p.key_b, p.a_pub, &got) < 0);
	}
	assert_int_equal(open_probe(msg, sizeof(msg), p.key_b, p.a_pub, &got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_padded_request),
		cmocka_unit_test(test_session_key),
		cmocka_unit_test(test_reflection_rejected),
		cmocka_unit_test(test_stranger_rejected),
		cmocka_unit_test(test_every_flip_rejected),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
