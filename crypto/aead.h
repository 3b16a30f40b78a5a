/* ChaCha20-Poly1305 (RFC 8439, 96-bit nonce), the AEAD of WireGuard's
 * handshake and transport messages, from either of two libraries that
 * compute the same function: libsodium, and OpenSSL's EVP interface, which
 * has vectorised Poly1305 and so runs about twice as fast on x86-64 (see
 * tests/bench/aead) on long messages, while its per-call overhead makes it
 * slower on short ones. noise_cipher_* picks by length (aead_backend_for);
 * the bench and the known-answer tests name a backend to hold both to the
 * same vectors. */
#ifndef TUNNEL_CRYPTO_AEAD_H
#define TUNNEL_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum {
	AEAD_KEY_LEN = 32,
	AEAD_NONCE_LEN = 12,
	AEAD_TAG_LEN = 16,
};

enum aead_backend {
	AEAD_LIBSODIUM,
	AEAD_OPENSSL,
	AEAD_BACKEND_COUNT,
};

/* Messages from this many bytes on go to OpenSSL; shorter ones (keepalives,
 * TCP acknowledgements, handshakes) to libsodium, whose call costs less.
 * The crossover measured with tests/bench/aead on x86-64 (docs/BEHAVIOUR.md). */
enum { AEAD_OPENSSL_MIN_LEN = 128 };

/* The faster backend for a message of len bytes. A call to OpenSSL that
 * fails in OpenSSL itself (out of memory) is done by libsodium: never a
 * wrong result, never a failure. */
static inline enum aead_backend aead_backend_for(size_t len)
{
	return len >= AEAD_OPENSSL_MIN_LEN ? AEAD_OPENSSL : AEAD_LIBSODIUM;
}

extern const char *const aead_backend_names[AEAD_BACKEND_COUNT];

/* out = ciphertext || tag (len + AEAD_TAG_LEN bytes); out may be plain
 * (in place). */
void aead_seal(enum aead_backend b, const uint8_t key[static AEAD_KEY_LEN],
	       const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *ad, size_t ad_len,
	       const uint8_t *plain, size_t len, uint8_t *out);

/* cipher holds len bytes, the tag last; out gets len - AEAD_TAG_LEN bytes
 * and may be cipher (in place). -EBADMSG when the tag does not verify (or
 * len is shorter than a tag); out is then zeroed, never left holding
 * unauthenticated plaintext. */
must_check int aead_open(enum aead_backend b, const uint8_t key[static AEAD_KEY_LEN],
			 const uint8_t nonce[static AEAD_NONCE_LEN], const uint8_t *ad,
			 size_t ad_len, const uint8_t *cipher, size_t len, uint8_t *out);

#endif
