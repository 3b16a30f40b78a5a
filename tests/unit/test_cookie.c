/* crypto/cookie: MAC1 accepted only under the right key and over the exact
 * bytes, MAC2 only with a fresh cookie from the right source address, the
 * cookie reply round trip (and its forgeries), the maker's cookie lifetime
 * and the checker's secret rotation at exactly COOKIE_SECRET_MAX_AGE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/bytes.h"
#include "crypto/cookie.h"
#include "crypto/keys.h"
#include "crypto/messages.h"

struct fixture {
	uint8_t pub_b[32], pub_c[32];
	struct cookie_checker checker;	/* b receives */
	struct cookie_maker maker;	/* a sends to b */
	uint8_t msg[MESSAGE_INITIATION_LEN];
	uint8_t src[6];
};

static void setup(struct fixture *f)
{
	uint8_t priv[32];

	keys_generate_private(priv);
	assert_int_equal(keys_public_from_private(f->pub_b, priv), 0);
	keys_generate_private(priv);
	assert_int_equal(keys_public_from_private(f->pub_c, priv), 0);
	cookie_checker_init(&f->checker, f->pub_b);
	cookie_maker_init(&f->maker, f->pub_b);
	/* The MACs do not care what the body is, only its type and length. */
	randombytes_buf(f->msg, sizeof(f->msg));
	store_le32(f->msg, MESSAGE_HANDSHAKE_INITIATION);
	memcpy(f->src, "\x0a\x00\x00\x01\xca\x6c", 6);	/* 10.0.0.1:51820 */
}

static enum cookie_mac_state check(struct fixture *f, const uint8_t *src, bool load, uint64_t now)
{
	return cookie_checker_validate(&f->checker, f->msg, sizeof(f->msg), src, 6, load, now);
}

static void test_mac1(void **state)
{
	struct fixture f;
	struct cookie_maker wrong;
	uint8_t resp[MESSAGE_RESPONSE_LEN] = { 0 };

	(void)state;
	setup(&f);
	assert_int_equal(check(&f, f.src, false, 0), COOKIE_MAC_INVALID);	/* no MACs yet */
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), 0), 0);
	assert_true(sodium_is_zero(f.msg + sizeof(f.msg) - 16, 16));	/* no cookie: mac2 zero */
	assert_int_equal(check(&f, f.src, false, 0), COOKIE_MAC_VALID_NO_COOKIE);
	/* Under load without a cookie: valid mac1 but no cookie. */
	assert_int_equal(check(&f, f.src, true, 0), COOKIE_MAC_VALID_NO_COOKIE);
	/* Every byte covered by mac1 matters. */
	for (size_t i = 0; i < sizeof(f.msg) - 16; i++) {
		f.msg[i] ^= 0x20;
		assert_int_equal(check(&f, f.src, false, 0), COOKIE_MAC_INVALID);
		f.msg[i] ^= 0x20;
	}
	/* mac1 keyed to another public key. */
	cookie_maker_init(&wrong, f.pub_c);
	assert_int_equal(cookie_maker_add_macs(&wrong, f.msg, sizeof(f.msg), 0), 0);
	assert_int_equal(check(&f, f.src, false, 0), COOKIE_MAC_INVALID);
	/* Responses carry MACs at their own offsets; other types none. */
	store_le32(resp, MESSAGE_HANDSHAKE_RESPONSE);
	assert_int_equal(cookie_maker_add_macs(&f.maker, resp, sizeof(resp), 0), 0);
	assert_int_equal(cookie_checker_validate(&f.checker, resp, sizeof(resp), f.src, 6, false, 0),
			 COOKIE_MAC_VALID_NO_COOKIE);
	assert_int_equal(cookie_maker_add_macs(&f.maker, resp, sizeof(resp) - 1, 0), -EINVAL);
	assert_int_equal(cookie_checker_validate(&f.checker, resp, 64, f.src, 6, false, 0),
			 COOKIE_MAC_INVALID);
}

static void test_cookie_roundtrip_and_mac2(void **state)
{
	struct fixture f;
	uint8_t reply[MESSAGE_COOKIE_LEN], bad[MESSAGE_COOKIE_LEN], other[6] = { 1, 2, 3, 4, 5, 6 };
	uint64_t t0 = 1000000;

	(void)state;
	setup(&f);
	/* A reply with nothing sent is refused. */
	memset(reply, 0, sizeof(reply));
	store_le32(reply, MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(cookie_maker_consume_reply(&f.maker, reply, sizeof(reply), t0), -EPROTO);

	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), t0), 0);
	store_le32(f.msg + 4, 0xdeadbeef);	/* sender index, after MACs: redo them */
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), t0), 0);
	assert_int_equal(cookie_reply_create(&f.checker, reply, f.msg, sizeof(f.msg), f.src, 6, t0), 0);
	assert_int_equal(message_validate_header(reply, sizeof(reply)), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(message_receiver_index(reply, MESSAGE_HANDSHAKE_COOKIE), 0xdeadbeef);
	/* Every corrupted byte of the reply fails to authenticate. */
	for (size_t i = 8; i < sizeof(reply); i++) {
		memcpy(bad, reply, sizeof(bad));
		bad[i] ^= 0x01;
		assert_int_equal(cookie_maker_consume_reply(&f.maker, bad, sizeof(bad), t0), -EBADMSG);
	}
	assert_int_equal(cookie_maker_consume_reply(&f.maker, reply, sizeof(reply), t0), 0);
	/* A replay of the reply is refused (one reply per mac1 sent). */
	assert_int_equal(cookie_maker_consume_reply(&f.maker, reply, sizeof(reply), t0), -EPROTO);

	/* Now mac2 is set, and valid from the same source only. */
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), t0 + 1), 0);
	assert_false(sodium_is_zero(f.msg + sizeof(f.msg) - 16, 16));
	assert_int_equal(check(&f, f.src, true, t0 + 1), COOKIE_MAC_VALID_WITH_COOKIE);
	assert_int_equal(check(&f, other, true, t0 + 1), COOKIE_MAC_VALID_NO_COOKIE);
	for (size_t i = sizeof(f.msg) - 16; i < sizeof(f.msg); i++) {
		f.msg[i] ^= 0x01;
		assert_int_equal(check(&f, f.src, true, t0 + 1), COOKIE_MAC_VALID_NO_COOKIE);
		f.msg[i] ^= 0x01;
	}
	/* A reply answering a different mac1 does not decrypt. */
	assert_int_equal(cookie_reply_create(&f.checker, reply, f.msg, sizeof(f.msg), f.src, 6, t0), 0);
	f.msg[10] ^= 1;
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), t0), 0);
	assert_int_equal(cookie_maker_consume_reply(&f.maker, reply, sizeof(reply), t0), -EBADMSG);
	/* Bad sources are refused. */
	assert_int_equal(cookie_reply_create(&f.checker, reply, f.msg, sizeof(f.msg), NULL, 0, t0),
			 -EINVAL);
	assert_int_equal(cookie_reply_create(&f.checker, reply, f.msg, sizeof(f.msg), f.src,
					     COOKIE_MAX_SOURCE_LEN + 1, t0), -EINVAL);
}

static void get_cookie(struct fixture *f, uint64_t now)
{
	uint8_t reply[MESSAGE_COOKIE_LEN];

	assert_int_equal(cookie_maker_add_macs(&f->maker, f->msg, sizeof(f->msg), now), 0);
	assert_int_equal(cookie_reply_create(&f->checker, reply, f->msg, sizeof(f->msg), f->src, 6,
					     now), 0);
	assert_int_equal(cookie_maker_consume_reply(&f->maker, reply, sizeof(reply), now), 0);
}

/* The maker uses a cookie for COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY. */
static void test_maker_lifetime(void **state)
{
	struct fixture f;
	uint64_t t0 = 5000;
	uint64_t last = t0 + COOKIE_SECRET_MAX_AGE_MS - COOKIE_SECRET_LATENCY_MS - 1;

	(void)state;
	setup(&f);
	get_cookie(&f, t0);
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), last), 0);
	assert_false(sodium_is_zero(f.msg + sizeof(f.msg) - 16, 16));
	assert_int_equal(check(&f, f.src, true, last), COOKIE_MAC_VALID_WITH_COOKIE);
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), last + 1), 0);
	assert_true(sodium_is_zero(f.msg + sizeof(f.msg) - 16, 16));
	assert_int_equal(check(&f, f.src, true, last + 1), COOKIE_MAC_VALID_NO_COOKIE);
}

/* The checker's secret is rerolled once it is COOKIE_SECRET_MAX_AGE old:
 * a cookie from the old secret stops working at that exact millisecond. */
static void test_secret_rotation(void **state)
{
	struct fixture f;
	uint64_t t0 = 7000;
	uint8_t old_secret[32];

	(void)state;
	setup(&f);
	get_cookie(&f, t0);	/* the secret is born at t0 */
	memcpy(old_secret, f.checker.secret, 32);
	/* Pretend the cookie arrived later, so the maker still sends it. */
	f.maker.cookie_birth_ms = t0 + 60000;
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg), t0 + 119999), 0);
	assert_int_equal(check(&f, f.src, true, t0 + COOKIE_SECRET_MAX_AGE_MS - 1),
			 COOKIE_MAC_VALID_WITH_COOKIE);
	assert_memory_equal(f.checker.secret, old_secret, 32);
	assert_int_equal(check(&f, f.src, true, t0 + COOKIE_SECRET_MAX_AGE_MS),
			 COOKIE_MAC_VALID_NO_COOKIE);
	assert_memory_not_equal(f.checker.secret, old_secret, 32);
	assert_int_equal(f.checker.secret_birth_ms, t0 + COOKIE_SECRET_MAX_AGE_MS);
	/* A new cookie under the new secret works again. */
	get_cookie(&f, t0 + COOKIE_SECRET_MAX_AGE_MS);
	assert_int_equal(cookie_maker_add_macs(&f.maker, f.msg, sizeof(f.msg),
					       t0 + COOKIE_SECRET_MAX_AGE_MS), 0);
	assert_int_equal(check(&f, f.src, true, t0 + COOKIE_SECRET_MAX_AGE_MS + 1),
			 COOKIE_MAC_VALID_WITH_COOKIE);
	cookie_checker_clear(&f.checker);
	cookie_maker_clear(&f.maker);
	assert_true(sodium_is_zero((const unsigned char *)&f.checker, sizeof(f.checker)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_cookie_roundtrip_and_mac2),
		cmocka_unit_test(test_maker_lifetime),
		cmocka_unit_test(test_secret_rotation),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
