/* ChaCha20-Poly1305 from libsodium or OpenSSL: see crypto/aead.h. */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

const char *const aead_backend_names[AEAD_BACKEND_COUNT] = {
	[AEAD_LIBSODIUM] = "libsodium",
	[AEAD_OPENSSL] = "OpenSSL",
};

/* One context per direction, its cipher chosen once: a packet then costs
 * only a nonce load (see nonce_param_ok), plus a re-key when
 * its key is not the one the context holds (a run of packets shares one:
 * re-keying every packet cost about 5 % of a bulk transfer). No
 * allocation. The program is single-threaded (the event loop). */
static EVP_CIPHER_CTX *seal_ctx, *open_ctx;
static uint8_t seal_key[AEAD_KEY_LEN], open_key[AEAD_KEY_LEN];
static bool seal_keyed, open_keyed, evp_failed;

static void evp_free(void)
{
	EVP_CIPHER_CTX_free(seal_ctx); /* cleanses the key schedule */
	EVP_CIPHER_CTX_free(open_ctx);
	seal_ctx = open_ctx = NULL;
	sodium_memzero(seal_key, sizeof(seal_key));
	sodium_memzero(open_key, sizeof(open_key));
	seal_keyed = open_keyed = false;
}

/* Do two keys differ? Constant time, like sodium_memcmp, but inline: it
 * runs on every packet, where the library call cost 2.5 % of a transfer.
 * memcpy loads: any alignment. */
static bool keys_differ(const uint8_t a[static AEAD_KEY_LEN], const uint8_t b[static AEAD_KEY_LEN])
{
	uint64_t x, y, diff = 0;

	_Static_assert(AEAD_KEY_LEN % sizeof(uint64_t) == 0, "whole words");
	for (size_t i = 0; i < AEAD_KEY_LEN; i += sizeof(uint64_t)) {
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		diff |= x ^ y;
	}
	return diff != 0;
}

/* The key argument for EVP_*Init_ex: NULL when ctx already holds `key`.
 * A failed init leaves the context unkeyed, so the next call re-keys. */
static const uint8_t *key_to_load(uint8_t held[static AEAD_KEY_LEN], bool *keyed,
				  const uint8_t *key)
{
	if (*keyed && !keys_differ(held, key))
		return NULL;
	*keyed = false;
	memcpy(held, key, AEAD_KEY_LEN);
	return key;
}

static bool evp_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		     const uint8_t *plain, size_t len, uint8_t *out);
static int evp_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		    const uint8_t *cipher, size_t len, uint8_t *out);

/* The nonce alone, without EVP_*Init_ex: OpenSSL 3.0's provider takes it
 * as the "tlsivfixed" parameter, which sets the ChaCha20 nonce; a finished
 * packet (EVP_*Final_ex, verified or not) has already reset the rest of
 * the state that an IV load resets (the Poly1305 key is derived again
 * from block 0 on the next packet). That skips EVP_*Init_ex's IV-length
 * query and generic init: about 700 of the 3500 instructions of a
 * 64-byte seal. It leans on provider internals, so it is used only after
 * nonce_param_works() saw it agree with libsodium at start-up, and only
 * after a packet that finished: any failure sends the next packet through
 * a full EVP_*Init_ex (the *_keyed flags). */
static bool nonce_param_ok;

static OSSL_PARAM nonce_param(const uint8_t *nonce)
{
	return (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED,
						   (void *)nonce, AEAD_NONCE_LEN);
}

/* Seals and opens a few packets both ways (a full init, then nonce-only
 * loads, across a forgery) and compares with libsodium. */
static bool nonce_param_works(void)
{
	static const uint8_t key[AEAD_KEY_LEN] = { 0x42 };
	uint8_t nonce[AEAD_NONCE_LEN] = { 0 }, plain[100], got[sizeof(plain) + AEAD_TAG_LEN],
		want[sizeof(got)], back[sizeof(plain)];
	bool ok = true;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13);
	for (uint8_t i = 1; i <= 3 && ok; i++) {
		size_t len = sizeof(plain) - i * 7u; /* neither 16- nor 64-aligned */

		nonce[4] = i;
		crypto_aead_chacha20poly1305_ietf_encrypt(want, NULL, plain, len, NULL, 0, NULL,
							  nonce, key);
		ok = evp_seal(key, nonce, NULL, 0, plain, len, got) &&
		     !memcmp(got, want, len + AEAD_TAG_LEN);
		want[0] ^= 1; /* a forgery first, then the real one */
		ok = ok && evp_open(key, nonce, NULL, 0, want, len + AEAD_TAG_LEN, back) == 0;
		want[0] ^= 1;
		ok = ok && evp_open(key, nonce, NULL, 0, want, len + AEAD_TAG_LEN, back) == 1 &&
		     !memcmp(back, plain, len);
	}
	return ok;
}

static bool evp_ready(void)
{
	if (seal_ctx)
		return true;
	if (evp_failed)
		return false;
	seal_ctx = EVP_CIPHER_CTX_new();
	open_ctx = EVP_CIPHER_CTX_new();
	if (!seal_ctx || !open_ctx ||
	    EVP_EncryptInit_ex(seal_ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex(open_ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL) != 1) {
		evp_free();
		evp_failed = true;
		return false;
	}
	/* After OpenSSL's own initialisation registered its exit handler, so
	 * ours runs first (atexit runs in reverse). */
	atexit(evp_free);
	nonce_param_ok = true;
	nonce_param_ok = nonce_param_works();
	seal_keyed = open_keyed = false; /* the test's key */
	return true;
}

static bool evp_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		     const uint8_t *plain, size_t len, uint8_t *out)
{
	/* The tag straight from the provider: EVP_CIPHER_CTX_ctrl builds
	 * the same OSSL_PARAM on every packet, then makes this call, about
	 * 110 instructions more (3 % of a 64-byte seal). */
	OSSL_PARAM tag[] = { OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + len,
						     AEAD_TAG_LEN),
			     OSSL_PARAM_END };
	OSSL_PARAM iv[] = { nonce_param(nonce), OSSL_PARAM_END };
	const uint8_t *load;
	int n = 0, fin = 0;
	bool ok;

	if (len > INT_MAX / 2 || ad_len > INT_MAX / 2 || !evp_ready())
		return false;
	load = key_to_load(seal_key, &seal_keyed, key);
	if (load || !nonce_param_ok)
		ok = EVP_EncryptInit_ex(seal_ctx, NULL, NULL, load, nonce) == 1;
	else
		ok = EVP_CIPHER_CTX_set_params(seal_ctx, iv) == 1;
	ok = ok && (!ad_len || EVP_EncryptUpdate(seal_ctx, NULL, &n, ad, (int)ad_len) == 1) &&
	     (!len || EVP_EncryptUpdate(seal_ctx, out, &n, plain, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(seal_ctx, out + len, &fin) == 1 &&
	     EVP_CIPHER_CTX_get_params(seal_ctx, tag) == 1;
	seal_keyed = ok;
	return ok;
}

/* 1: verified, 0: forged, -1: OpenSSL could not run (use libsodium). */
static int evp_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		    const uint8_t *cipher, size_t len, uint8_t *out)
{
	size_t plain_len = len - AEAD_TAG_LEN;
	uint8_t tag[AEAD_TAG_LEN];
	/* The tag set straight in the provider, as evp_seal reads it (120
	 * instructions fewer than EVP_CIPHER_CTX_ctrl), with the nonce when
	 * that is all there is to load. */
	OSSL_PARAM params[] = { OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
							sizeof(tag)),
				nonce_param(nonce), OSSL_PARAM_END };
	const uint8_t *load;
	int n = 0, fin = 0;
	bool ok;

	if (len > INT_MAX / 2 || ad_len > INT_MAX / 2 || !evp_ready())
		return -1;
	/* Copied first: in place, the plaintext overwrites the ciphertext
	 * but never reaches the tag; copied anyway for clarity of aliasing. */
	memcpy(tag, cipher + plain_len, sizeof(tag));
	load = key_to_load(open_key, &open_keyed, key);
	if (load || !nonce_param_ok) {
		params[1] = (OSSL_PARAM)OSSL_PARAM_END; /* the init loads the nonce */
		ok = EVP_DecryptInit_ex(open_ctx, NULL, NULL, load, nonce) == 1;
	} else {
		ok = true;
	}
	ok = ok && EVP_CIPHER_CTX_set_params(open_ctx, params) == 1 &&
	     (!ad_len || EVP_DecryptUpdate(open_ctx, NULL, &n, ad, (int)ad_len) == 1) &&
	     (!plain_len || EVP_DecryptUpdate(open_ctx, out, &n, cipher, (int)plain_len) == 1);
	if (!ok) {
		open_keyed = false; /* the next packet re-inits */
		return -1;
	}
	/* A forgery also finishes the packet, but re-init after it anyway:
	 * the cost falls only on forged packets. */
	open_keyed = EVP_DecryptFinal_ex(open_ctx, out + plain_len, &fin) == 1;
	return open_keyed;
}

void aead_seal(enum aead_backend b, const uint8_t key[static AEAD_KEY_LEN],
	       const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *ad, size_t ad_len,
	       const uint8_t *plain, size_t len, uint8_t *out)
{
	if (b == AEAD_OPENSSL && evp_seal(key, nonce, ad, ad_len, plain, len, out))
		return;
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad, ad_len, NULL, nonce,
						  key);
}

int aead_open(enum aead_backend b, const uint8_t key[static AEAD_KEY_LEN],
	      const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *ad, size_t ad_len,
	      const uint8_t *cipher, size_t len, uint8_t *out)
{
	int r = -1;

	if (len < AEAD_TAG_LEN)
		return -EBADMSG;
	if (b == AEAD_OPENSSL)
		r = evp_open(key, nonce, ad, ad_len, cipher, len, out);
	if (r < 0)
		r = crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, cipher, len, ad,
							      ad_len, nonce, key) == 0;
	if (r == 1)
		return 0;
	sodium_memzero(out, len - AEAD_TAG_LEN);
	return -EBADMSG;
}
