/* Known answers for the Noise core: every vector of
 * Noise_IK_25519_ChaChaPoly_BLAKE2s.json and
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.json (tests/vectors/noise),
 * reproduced byte for byte with the vector's prologue, keys and injected
 * ephemerals: handshake ciphertexts, decrypted payloads, the handshake hash
 * where given, and the transport messages after Split(). Flipping a byte of
 * each ciphertext must make the reader fail. */
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

#include "crypto/noise_test_hooks.h"
#include "vectors.h"

/* Hex string of a JSON field into a fresh buffer; *len gets its length. */
static uint8_t *hex_field(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);
	const char *hex;
	size_t hlen, out_len = 0;
	uint8_t *out;

	assert_non_null(v);
	hex = json_string_value(v);
	assert_non_null(hex);
	hlen = strlen(hex);
	out = malloc(hlen / 2 + 1);
	assert_non_null(out);
	assert_int_equal(sodium_hex2bin(out, hlen / 2 + 1, hex, hlen, NULL, &out_len, NULL), 0);
	assert_int_equal(out_len * 2, hlen);
	if (len)
		*len = out_len;
	return out;
}

static uint8_t *hex_string(json_t *s, size_t *len)
{
	json_t *wrap = json_pack("{sO}", "x", s);
	uint8_t *out = hex_field(wrap, "x", len);

	json_decref(wrap);
	return out;
}

static void key_field(json_t *obj, const char *key, uint8_t out[static 32])
{
	size_t len;
	uint8_t *b = hex_field(obj, key, &len);

	assert_int_equal(len, 32);
	memcpy(out, b, 32);
	free(b);
}

/* Runs one vector; returns the number of messages checked. */
static unsigned run_vector(json_t *v, bool expect_psk)
{
	struct noise_ik init, resp;
	uint8_t s_i[32], s_r[32], e_i[32], e_r[32], rs[32], psk[32];
	uint8_t *prologue;
	size_t prologue_len;
	json_t *psks = json_object_get(v, "init_psks");
	json_t *msgs = json_object_get(v, "messages");
	bool has_psk = psks && json_array_size(psks) > 0;
	uint8_t i_send[32], i_recv[32], r_send[32], r_recv[32];
	size_t idx;
	json_t *m;

	assert_int_equal(has_psk, expect_psk);
	key_field(v, "init_static", s_i);
	key_field(v, "resp_static", s_r);
	key_field(v, "init_ephemeral", e_i);
	key_field(v, "resp_ephemeral", e_r);
	key_field(v, "init_remote_static", rs);
	if (has_psk) {
		size_t len;
		uint8_t *p = hex_string(json_array_get(psks, 0), &len);

		assert_int_equal(len, 32);
		memcpy(psk, p, 32);
		free(p);
	}
	prologue = hex_field(v, "init_prologue", &prologue_len);

	assert_int_equal(noise_ik_init(&init, true, prologue, prologue_len, s_i, rs,
				       has_psk ? psk : NULL), 0);
	assert_int_equal(noise_ik_init(&resp, false, prologue, prologue_len, s_r, NULL,
				       has_psk ? psk : NULL), 0);
	noise_ik_test_set_ephemeral(&init, e_i);
	noise_ik_test_set_ephemeral(&resp, e_r);

	json_array_foreach(msgs, idx, m) {
		size_t plen, clen, out_len = 0, got_len = 0;
		uint8_t *payload = hex_field(m, "payload", &plen);
		uint8_t *cipher = hex_field(m, "ciphertext", &clen);
		uint8_t *out = malloc(clen + 64), *got = malloc(clen + 64);
		bool from_init = idx % 2 == 0;
		struct noise_ik *w = from_init ? &init : &resp, *r = from_init ? &resp : &init;

		assert_non_null(out);
		assert_non_null(got);
		if (idx < 2) {
			/* A corrupted copy must not read (and must not advance r). */
			uint8_t *bad;

			assert_int_equal(noise_ik_write_message(w, payload, plen, out, clen + 64,
								&out_len), 0);
			assert_int_equal(out_len, clen);
			assert_memory_equal(out, cipher, clen);
			bad = malloc(clen);
			assert_non_null(bad);
			for (size_t b = 0; b < clen; b += 7) {
				memcpy(bad, cipher, clen);
				bad[b] ^= 0x01;
				assert_int_not_equal(noise_ik_read_message(r, bad, clen, got,
									   clen + 64, &got_len), 0);
			}
			free(bad);
			assert_int_equal(noise_ik_read_message(r, cipher, clen, got, clen + 64,
							       &got_len), 0);
			assert_int_equal(got_len, plen);
			assert_memory_equal(got, payload, plen);
			if (idx == 1) {
				json_t *hh = json_object_get(v, "handshake_hash");

				assert_memory_equal(init.ss.h, resp.ss.h, 32);
				if (hh) {
					size_t hlen;
					uint8_t *h = hex_string(hh, &hlen);

					assert_int_equal(hlen, 32);
					assert_memory_equal(init.ss.h, h, 32);
					free(h);
				}
				assert_int_equal(noise_ik_split(&init, i_send, i_recv), 0);
				assert_int_equal(noise_ik_split(&resp, r_send, r_recv), 0);
				assert_memory_equal(i_send, r_recv, 32);
				assert_memory_equal(i_recv, r_send, 32);
			}
		} else {
			/* Transport: nonces count from 0 in each direction. */
			uint64_t n = (idx - 2) / 2;
			const uint8_t *send_key = from_init ? i_send : r_send;
			const uint8_t *recv_key = from_init ? r_recv : i_recv;

			assert_int_equal(clen, plen + 16);
			noise_cipher_encrypt(send_key, n, NULL, 0, payload, plen, out);
			assert_memory_equal(out, cipher, clen);
			assert_int_equal(noise_cipher_decrypt(recv_key, n, NULL, 0, cipher, clen,
							      got), 0);
			assert_memory_equal(got, payload, plen);
			out[clen - 1] ^= 0x80;
			assert_int_not_equal(noise_cipher_decrypt(recv_key, n, NULL, 0, out, clen,
								  got), 0);
			assert_int_not_equal(noise_cipher_decrypt(recv_key, n + 1, NULL, 0, cipher,
								  clen, got), 0);
		}
		free(payload);
		free(cipher);
		free(out);
		free(got);
	}
	free(prologue);
	noise_ik_clear(&init);
	noise_ik_clear(&resp);
	return (unsigned)json_array_size(msgs);
}

static void run_file(const char *name, bool psk, size_t expected_vectors)
{
	char rel[256];
	json_t *root, *v;
	size_t i;
	unsigned total = 0;

	snprintf(rel, sizeof(rel), "noise/%s", name);
	root = vectors_load(rel);
	if (!root)
		fail_msg("cannot load %s", rel);
	assert_true(json_is_array(root));
	assert_int_equal(json_array_size(root), expected_vectors);
	json_array_foreach(root, i, v) {
		const char *proto = json_string_value(json_object_get(v, "protocol_name"));
		json_t *psks = json_object_get(v, "init_psks");

		assert_non_null(proto);
		/* The IK file holds one snow vector with an empty psk list. */
		assert_int_equal(psks && json_array_size(psks) > 0, psk);
		total += run_vector(v, psk);
	}
	printf("%s: %zu vectors, %u messages reproduced\n", name, json_array_size(root), total);
	json_decref(root);
}

static void test_ik_vectors(void **state)
{
	(void)state;
	run_file("Noise_IK_25519_ChaChaPoly_BLAKE2s.json", false, 7);
}

static void test_ikpsk2_vectors(void **state)
{
	(void)state;
	run_file("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.json", true, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ik_vectors),
		cmocka_unit_test(test_ikpsk2_vectors),
	};
	json_t *probe = vectors_load("noise/Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.json");

	if (!probe)
		return 1;
	json_decref(probe);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
