/* Curve25519 keys on libsodium: see crypto/keys.h. */
#include "crypto/keys.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

void keys_clamp(uint8_t key[static KEY_LEN])
{
	key[0] &= 248;
	key[31] = (uint8_t)((key[31] & 127) | 64);
}

void keys_generate_private(uint8_t priv[static KEY_LEN])
{
	randombytes_buf(priv, KEY_LEN);
	keys_clamp(priv);
}

int keys_public_from_private(uint8_t pub[static KEY_LEN], const uint8_t priv[static KEY_LEN])
{
	/* libsodium clamps internally and fails only on an all-zero result. */
	if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
		sodium_memzero(pub, KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

void keys_to_base64(char out[static KEY_BASE64_SIZE], const uint8_t key[static KEY_LEN])
{
	sodium_bin2base64(out, KEY_BASE64_SIZE, key, KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int keys_from_base64(uint8_t key[static KEY_LEN], const char *b64)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (!b64 || strnlen(b64, KEY_BASE64_SIZE) != KEY_BASE64_LEN ||
	    b64[KEY_BASE64_LEN - 1] != '=')
		return -EINVAL;
	/* libsodium rejects non-canonical padding bits and stray characters;
	 * `end` must reach the end so nothing trails the key. */
	if (sodium_base642bin(key, KEY_LEN, b64, KEY_BASE64_LEN, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != KEY_LEN || end != b64 + KEY_BASE64_LEN) {
		sodium_memzero(key, KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

int keys_from_base64_text(uint8_t key[static KEY_LEN], const char *text)
{
	char b64[KEY_BASE64_SIZE];
	size_t len;
	int r;

	if (!text)
		return -EINVAL;
	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len != KEY_BASE64_LEN) {
		sodium_memzero(key, KEY_LEN);
		return -EINVAL;
	}
	memcpy(b64, text, KEY_BASE64_LEN);
	b64[KEY_BASE64_LEN] = '\0';
	r = keys_from_base64(key, b64);
	sodium_memzero(b64, sizeof(b64));
	return r;
}

bool keys_equal(const uint8_t a[static KEY_LEN], const uint8_t b[static KEY_LEN])
{
	return sodium_memcmp(a, b, KEY_LEN) == 0;
}

bool keys_is_zero(const uint8_t key[static KEY_LEN])
{
	return sodium_is_zero(key, KEY_LEN) == 1;
}

int keys_dh(uint8_t out[static KEY_LEN], const uint8_t priv[static KEY_LEN],
	    const uint8_t pub[static KEY_LEN])
{
	/* crypto_scalarmult returns -1 exactly when the output is all zero,
	 * i.e. `pub` is one of the low-order points (whitepaper §5.4). */
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0) {
		sodium_memzero(out, KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

void keys_wipe(uint8_t key[static KEY_LEN])
{
	sodium_memzero(key, KEY_LEN);
}
