/* Path probes: both peers derive the same key, a probe verifies only as
 * coming from its sender, and any changed byte is rejected. */
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

static void test_round_trip(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	enum probe_kind kind;
	uint64_t token;

	(void)state;
	make_pair(&p);
	assert_memory_equal(p.key_a, p.key_b, sizeof(p.key_a));
	probe_build(msg, p.key_a, p.a_pub, PROBE_REQUEST, 0x1122334455667788ULL);
	assert_int_equal(probe_parse(msg, sizeof(msg), p.key_b, p.a_pub, &kind, &token), 0);
	assert_int_equal(kind, PROBE_REQUEST);
	assert_true(token == 0x1122334455667788ULL);

	probe_build(msg, p.key_b, p.b_pub, PROBE_RESPONSE, 42);
	assert_int_equal(probe_parse(msg, sizeof(msg), p.key_a, p.b_pub, &kind, &token), 0);
	assert_int_equal(kind, PROBE_RESPONSE);
	assert_true(token == 42);
}

/* A's own probe bounced back to A must not pass as B's. */
static void test_reflection_rejected(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	enum probe_kind kind;
	uint64_t token;

	(void)state;
	make_pair(&p);
	probe_build(msg, p.key_a, p.a_pub, PROBE_REQUEST, 7);
	assert_int_equal(probe_parse(msg, sizeof(msg), p.key_a, p.b_pub, &kind, &token), -EBADMSG);
}

/* A third party with its own key cannot make probes the pair accepts. */
static void test_stranger_rejected(void **state)
{
	struct pair p, q;
	uint8_t msg[PROBE_LEN];
	enum probe_kind kind;
	uint64_t token;

	(void)state;
	make_pair(&p);
	make_pair(&q);
	probe_build(msg, q.key_a, p.a_pub, PROBE_RESPONSE, 7);
	assert_int_equal(probe_parse(msg, sizeof(msg), p.key_b, p.a_pub, &kind, &token), -EBADMSG);
}

static void test_every_flip_rejected(void **state)
{
	struct pair p;
	uint8_t msg[PROBE_LEN];
	enum probe_kind kind;
	uint64_t token;

	(void)state;
	make_pair(&p);
	probe_build(msg, p.key_a, p.a_pub, PROBE_REQUEST, 99);
	for (size_t i = 0; i < PROBE_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			msg[i] ^= (uint8_t)(1u << bit);
			assert_true(probe_parse(msg, sizeof(msg), p.key_b, p.a_pub, &kind, &token) < 0);
			msg[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (size_t len = 0; len < PROBE_LEN + 4; len++) {
		uint8_t big[PROBE_LEN + 4] = { 0 };

		if (len == PROBE_LEN)
			continue;
		memcpy(big, msg, MIN(len, (size_t)PROBE_LEN));
		assert_int_equal(probe_parse(big, len, p.key_b, p.a_pub, &kind, &token), -EINVAL);
	}
	assert_int_equal(probe_parse(msg, sizeof(msg), p.key_b, p.a_pub, &kind, &token), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reflection_rejected),
		cmocka_unit_test(test_stranger_rejected),
		cmocka_unit_test(test_every_flip_rejected),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
