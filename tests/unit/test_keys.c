/* crypto/keys: RFC 7748 known answers, clamping, wg-format base64 (good and
 * bad inputs), constant-time compare, and DH refusing every known low-order
 * Curve25519 point (the all-zero shared secret). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"

static void unhex(uint8_t out[static 32], const char *hex)
{
	size_t len = 0;

	assert_int_equal(sodium_hex2bin(out, 32, hex, 64, NULL, &len, NULL), 0);
	assert_int_equal(len, 32);
}

/* RFC 7748 §6.1. */
static void test_rfc7748(void **state)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], want[32], s1[32], s2[32];

	(void)state;
	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_int_equal(keys_public_from_private(a_pub, a), 0);
	assert_int_equal(keys_public_from_private(b_pub, b), 0);
	unhex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_memory_equal(a_pub, want, 32);
	unhex(want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_memory_equal(b_pub, want, 32);
	assert_int_equal(keys_dh(s1, a, b_pub), 0);
	assert_int_equal(keys_dh(s2, b, a_pub), 0);
	unhex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(s1, want, 32);
	assert_memory_equal(s2, want, 32);
}

static void test_generate_clamped(void **state)
{
	uint8_t k1[32], k2[32], pub[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		keys_generate_private(k1);
		assert_int_equal(k1[0] & 7, 0);
		assert_int_equal(k1[31] & 0x80, 0);
		assert_int_equal(k1[31] & 0x40, 0x40);
		assert_int_equal(keys_public_from_private(pub, k1), 0);
		assert_false(keys_is_zero(pub));
	}
	keys_generate_private(k2);
	assert_false(keys_equal(k1, k2));
	memcpy(k2, k1, 32);
	assert_true(keys_equal(k1, k2));
	k2[31] ^= 1;
	assert_false(keys_equal(k1, k2));
}

static void test_base64(void **state)
{
	uint8_t key[32], back[32];
	char b64[KEY_BASE64_SIZE], bad[64];

	(void)state;
	for (int i = 0; i < 200; i++) {
		keys_generate_private(key);
		keys_to_base64(b64, key);
		assert_int_equal(strlen(b64), 44);
		assert_int_equal(b64[43], '=');
		assert_int_equal(keys_from_base64(back, b64), 0);
		assert_memory_equal(back, key, 32);
	}
	/* A fixed key in wg's format (RFC 7748 Alice's private key). */
	unhex(key, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	keys_to_base64(b64, key);
	assert_string_equal(b64, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");

	const char *rejects[] = {
		"",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",	/* no pad */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",	/* 45 chars */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",	/* non-canonical bits */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC*=",	/* bad char */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L Co=",	/* space */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==",	/* 31 bytes */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n",	/* trailing newline */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=x",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo-",	/* url variant pad */
	};
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		memset(back, 0xaa, sizeof(back));
		if (keys_from_base64(back, rejects[i]) != -EINVAL)
			fail_msg("accepted bad base64 #%zu \"%s\"", i, rejects[i]);
	}
	assert_int_equal(keys_from_base64(back, NULL), -EINVAL);
	/* url-safe alphabet is not wg's */
	snprintf(bad, sizeof(bad), "%s", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
	bad[5] = '_';
	assert_int_equal(keys_from_base64(back, bad), -EINVAL);
}

/* Text around one key (a key file, an argument): whitespace on either side
 * is skipped, anything else is what keys_from_base64 would reject. */
static void test_base64_text(void **state)
{
	static const char *const accepts[] = {
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n",
		" \t dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\r\n\n",
	};
	static const char *const rejects[] = {
		"",
		" \n",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",		/* no pad */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==\n",	/* 45 chars */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=\n",	/* non-canonical */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L Co=",		/* inner space */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= x",	/* trailing word */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=",
	};
	uint8_t key[32], back[32];

	(void)state;
	unhex(key, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	for (size_t i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		memset(back, 0, sizeof(back));
		if (keys_from_base64_text(back, accepts[i]) != 0)
			fail_msg("rejected good text #%zu", i);
		assert_memory_equal(back, key, 32);
	}
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		memset(back, 0xaa, sizeof(back));
		if (keys_from_base64_text(back, rejects[i]) != -EINVAL)
			fail_msg("accepted bad text #%zu \"%s\"", i, rejects[i]);
		assert_true(keys_is_zero(back));	/* wiped on failure */
	}
	assert_int_equal(keys_from_base64_text(back, NULL), -EINVAL);
}

/* The 14 encodings of the Curve25519 points of small order (the 7 of
 * libsodium's blocklist, each also with the ignored top bit set). */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

static void test_low_order(void **state)
{
	uint8_t priv[32], pub[32], out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		unhex(pub, low_order[i]);
		for (int j = 0; j < 10; j++) {
			keys_generate_private(priv);
			memset(out, 0xaa, sizeof(out));
			if (keys_dh(out, priv, pub) != -EINVAL)
				fail_msg("low-order point #%zu accepted", i);
			assert_true(keys_is_zero(out));	/* wiped */
		}
	}
	/* A good point still works. */
	keys_generate_private(priv);
	assert_int_equal(keys_public_from_private(pub, priv), 0);
	keys_generate_private(priv);
	assert_int_equal(keys_dh(out, priv, pub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748),
		cmocka_unit_test(test_generate_clamped),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_text),
		cmocka_unit_test(test_low_order),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
