/* Curve25519 keys: generation, public-from-private, the base64 text form of
 * wg(8), constant-time comparison and the Diffie-Hellman that refuses
 * low-order points. Key bytes are secrets: callers wipe them with
 * sodium_memzero (keys_wipe) when done. */
#ifndef CRYPTO_KEYS_H
#define CRYPTO_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"

enum {
	KEY_LEN = 32,
	/* base64 of 32 bytes with one '=' of padding, as `wg genkey` prints. */
	KEY_BASE64_LEN = 44,
	KEY_BASE64_SIZE = KEY_BASE64_LEN + 1,
};

/* Fills `priv` with a new random, clamped X25519 private key. */
void keys_generate_private(uint8_t priv[static KEY_LEN]);

/* Clamps an X25519 scalar in place (RFC 7748 §5), as `wg genkey` does. */
void keys_clamp(uint8_t key[static KEY_LEN]);

/* Derives the public key of `priv`. -EINVAL if the result is all zero. */
must_check int keys_public_from_private(uint8_t pub[static KEY_LEN],
					const uint8_t priv[static KEY_LEN]);

/* Writes the 44-character base64 form plus a NUL. */
void keys_to_base64(char out[static KEY_BASE64_SIZE], const uint8_t key[static KEY_LEN]);

/* Parses exactly 44 base64 characters (standard alphabet, one '=' pad,
 * canonical trailing bits), as wg does. -EINVAL otherwise; `key` is wiped
 * on failure. */
must_check int keys_from_base64(uint8_t key[static KEY_LEN], const char *b64);

/* The same for text around one key, as a key file or an argument holds it:
 * whitespace before and after the 44 characters is skipped. -EINVAL
 * otherwise; `key` is wiped on failure. */
must_check int keys_from_base64_text(uint8_t key[static KEY_LEN], const char *text);

/* Constant-time equality of two keys. */
bool keys_equal(const uint8_t a[static KEY_LEN], const uint8_t b[static KEY_LEN]);

/* Constant-time test for the all-zero key (an unset key). */
bool keys_is_zero(const uint8_t key[static KEY_LEN]);

/* X25519(priv, pub) into `out`. -EINVAL when `pub` is a low-order point
 * (the shared secret would be all zero); `out` is wiped then. */
must_check int keys_dh(uint8_t out[static KEY_LEN], const uint8_t priv[static KEY_LEN],
		       const uint8_t pub[static KEY_LEN]);

/* sodium_memzero on a key. */
void keys_wipe(uint8_t key[static KEY_LEN]);

#endif
