/* RFC 8439 ChaCha20-Poly1305 known answers (tests/vectors/aead): libsodium,
 * and both backends of crypto/aead.c (libsodium and OpenSSL), reproduce
 * ciphertext || tag, decrypt back (also in place), and fail on any flipped
 * ciphertext, tag or aad bit. Vectors whose
 * nonce is 32 zero bits then a 64-bit counter (WireGuard's nonce shape) also
 * go through crypto/'s own noise_cipher_encrypt/decrypt. The OpenSSL
 * backend follows key changes in any byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/messages.h"
#include "crypto/noise_core.h"
#include "vectors.h"

static json_t *vectors; /* aead/rfc8439.json, loaded by main */

static uint8_t *hex_field(json_t *obj, const char *key, size_t *len)
{
	const char *hex = json_string_value(json_object_get(obj, key));
	size_t hlen, out_len = 0;
	uint8_t *out;

	assert_non_null(hex);
	hlen = strlen(hex);
	out = malloc(hlen / 2 + 1);
	assert_non_null(out);
	assert_int_equal(sodium_hex2bin(out, hlen / 2 + 1, hex, hlen, NULL, &out_len, NULL), 0);
	assert_int_equal(out_len * 2, hlen);
	*len = out_len;
	return out;
}

/* One backend of crypto/aead.c against one vector: out of place and in
 * place, and a forgery in any byte fails and leaves no plaintext. */
static void check_backend(enum aead_backend b, const uint8_t *key, const uint8_t *nonce,
			  const uint8_t *aad, size_t alen, const uint8_t *pt, size_t plen,
			  uint8_t *expect)
{
	uint8_t *out = malloc(plen + AEAD_TAG_LEN), *back = malloc(plen + AEAD_TAG_LEN);

	assert_non_null(out);
	assert_non_null(back);
	aead_seal(b, key, nonce, aad, alen, pt, plen, out);
	assert_memory_equal(out, expect, plen + AEAD_TAG_LEN);
	assert_int_equal(aead_open(b, key, nonce, aad, alen, expect, plen + AEAD_TAG_LEN, back), 0);
	assert_memory_equal(back, pt, plen);
	/* In place, as the data path seals and opens. */
	memcpy(out, pt, plen);
	aead_seal(b, key, nonce, aad, alen, out, plen, out);
	assert_memory_equal(out, expect, plen + AEAD_TAG_LEN);
	assert_int_equal(aead_open(b, key, nonce, aad, alen, out, plen + AEAD_TAG_LEN, out), 0);
	assert_memory_equal(out, pt, plen);
	for (size_t i = 0; i < plen + AEAD_TAG_LEN; i++) {
		memcpy(back, expect, plen + AEAD_TAG_LEN);
		back[i] ^= 0x80;
		assert_int_equal(aead_open(b, key, nonce, aad, alen, back, plen + AEAD_TAG_LEN,
					   back), -EBADMSG);
		for (size_t j = 0; j < plen; j++)
			assert_int_equal(back[j], 0);
	}
	printf("  %s: reproduced %zu bytes\n", aead_backend_names[b], plen);
	free(out);
	free(back);
}

static void test_rfc8439(void **state)
{
	json_t *vecs, *v;
	size_t i, checked = 0, via_noise = 0;

	(void)state;
	vecs = json_object_get(vectors, "vectors");
	assert_true(json_array_size(vecs) >= 2);
	json_array_foreach(vecs, i, v) {
		size_t klen, nlen, alen, plen, clen, tlen;
		uint8_t *key = hex_field(v, "key", &klen), *nonce = hex_field(v, "nonce", &nlen);
		uint8_t *aad = hex_field(v, "aad", &alen), *pt = hex_field(v, "plaintext", &plen);
		uint8_t *ct = hex_field(v, "ciphertext", &clen), *tag = hex_field(v, "tag", &tlen);
		uint8_t *expect = malloc(clen + tlen), *out = malloc(plen + 16), *back = malloc(plen + 1);
		unsigned long long out_len = 0, back_len = 0;

		assert_int_equal(klen, 32);
		assert_int_equal(nlen, 12);
		assert_int_equal(tlen, 16);
		assert_int_equal(clen, plen);
		memcpy(expect, ct, clen);
		memcpy(expect + clen, tag, tlen);

		crypto_aead_chacha20poly1305_ietf_encrypt(out, &out_len, pt, plen, aad, alen, NULL,
							  nonce, key);
		assert_int_equal(out_len, plen + 16);
		assert_memory_equal(out, expect, plen + 16);
		assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(back, &back_len, NULL, expect,
									   plen + 16, aad, alen,
									   nonce, key), 0);
		assert_int_equal(back_len, plen);
		assert_memory_equal(back, pt, plen);
		/* Every flipped ciphertext/tag byte and aad byte must fail. */
		for (size_t b = 0; b < plen + 16; b++) {
			expect[b] ^= 0x04;
			assert_int_not_equal(crypto_aead_chacha20poly1305_ietf_decrypt(
						     back, NULL, NULL, expect, plen + 16, aad, alen,
						     nonce, key), 0);
			expect[b] ^= 0x04;
		}
		for (size_t b = 0; b < alen; b++) {
			aad[b] ^= 0x10;
			assert_int_not_equal(crypto_aead_chacha20poly1305_ietf_decrypt(
						     back, NULL, NULL, expect, plen + 16, aad, alen,
						     nonce, key), 0);
			aad[b] ^= 0x10;
		}
		for (int b = 0; b < AEAD_BACKEND_COUNT; b++)
			check_backend(b, key, nonce, aad, alen, pt, plen, expect);
		if (sodium_is_zero(nonce, 4)) {
			uint64_t n = load_le64(nonce + 4);

			noise_cipher_encrypt(key, n, aad, alen, pt, plen, out);
			assert_memory_equal(out, expect, plen + 16);
			assert_int_equal(noise_cipher_decrypt(key, n, aad, alen, expect, plen + 16,
							      back), 0);
			assert_memory_equal(back, pt, plen);
			assert_int_not_equal(noise_cipher_decrypt(key, n ^ 1, aad, alen, expect,
								  plen + 16, back), 0);
			via_noise++;
		}
		checked++;
		free(key); free(nonce); free(aad); free(pt); free(ct); free(tag);
		free(expect); free(out); free(back);
	}
	printf("rfc8439: %zu vectors reproduced (%zu also through noise_cipher_*)\n", checked,
	       via_noise);
	assert_true(via_noise >= 1);
}

/* Short inputs: a ciphertext shorter than a tag never decrypts. */
static void test_short_inputs(void **state)
{
	uint8_t key[32] = { 1 }, buf[16] = { 0 }, out[16];

	(void)state;
	for (size_t len = 0; len < 16; len++)
		assert_int_not_equal(noise_cipher_decrypt(key, 0, NULL, 0, buf, len, out), 0);
	/* The empty plaintext round-trips to a lone tag. */
	noise_cipher_encrypt(key, 7, NULL, 0, NULL, 0, buf);
	assert_int_equal(noise_cipher_decrypt(key, 7, NULL, 0, buf, 16, out), 0);
	assert_int_not_equal(noise_cipher_decrypt(key, 8, NULL, 0, buf, 16, out), 0);
}

/* The OpenSSL backend keeps its key across packets and reloads it only
 * when the caller's differs: a key that differs from the held one in any
 * single byte (or not at all) must seal and open exactly as libsodium does
 * with that key, in either direction, alternating. */
static void test_key_switch(void **state)
{
	uint8_t base[AEAD_KEY_LEN], key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN] = { 0 };
	uint8_t pt[64], want[sizeof(pt) + AEAD_TAG_LEN], got[sizeof(pt) + AEAD_TAG_LEN];

	(void)state;
	randombytes_buf(base, sizeof(base));
	randombytes_buf(pt, sizeof(pt));
	for (size_t i = 0; i <= 2 * AEAD_KEY_LEN; i++) {
		memcpy(key, base, sizeof(key));
		if (i % 2)	/* odd rounds: back to the base key */
			key[i / 2] ^= (uint8_t)(1u << (i % 8));
		nonce[4] = (uint8_t)i;
		aead_seal(AEAD_LIBSODIUM, key, nonce, NULL, 0, pt, sizeof(pt), want);
		aead_seal(AEAD_OPENSSL, key, nonce, NULL, 0, pt, sizeof(pt), got);
		assert_memory_equal(got, want, sizeof(want));
		assert_int_equal(aead_open(AEAD_OPENSSL, key, nonce, NULL, 0, want, sizeof(want),
					   got), 0);
		assert_memory_equal(got, pt, sizeof(pt));
	}
	/* A key one bit off never opens what the other sealed. */
	memcpy(key, base, sizeof(key));
	aead_seal(AEAD_OPENSSL, key, nonce, NULL, 0, pt, sizeof(pt), want);
	key[AEAD_KEY_LEN - 1] ^= 0x80;
	assert_int_equal(aead_open(AEAD_OPENSSL, key, nonce, NULL, 0, want, sizeof(want), got),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8439),
		cmocka_unit_test(test_short_inputs),
		cmocka_unit_test(test_key_switch),
	};
	int r;

	vectors = vectors_load("aead/rfc8439.json");
	if (!vectors)
		return 1;
	if (sodium_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(vectors);
	return r;
}
