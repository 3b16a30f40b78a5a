/* Path probe authentication: keyed BLAKE2s from libb2, constant-time MAC
 * comparison from libsodium. */
#include "crypto/probe.h"

#include <blake2.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "common/bytes.h"

static const char probe_label[] = "tunnel path probe v1";

void probe_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t static_static[static NOISE_PUBLIC_KEY_LEN])
{
	blake2s(key, probe_label, static_static, NOISE_SYMMETRIC_KEY_LEN, sizeof(probe_label) - 1,
		NOISE_PUBLIC_KEY_LEN);
}

static void probe_mac(uint8_t mac[static PROBE_MAC_LEN], const uint8_t *msg,
		      const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN])
{
	blake2s_state st;

	blake2s_init_key(&st, PROBE_MAC_LEN, key, NOISE_SYMMETRIC_KEY_LEN);
	blake2s_update(&st, sender_public, NOISE_PUBLIC_KEY_LEN);
	blake2s_update(&st, msg, PROBE_MAC_OFFSET);
	blake2s_final(&st, mac, PROBE_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

void probe_build(uint8_t out[static PROBE_LEN], const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		 const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN], enum probe_kind kind,
		 uint64_t token)
{
	memset(out, 0, PROBE_LEN);
	out[0] = PROBE_TYPE;
	out[1] = (uint8_t)kind;
	store_le64(out + PROBE_TOKEN_OFFSET, token);
	probe_mac(out + PROBE_MAC_OFFSET, out, key, sender_public);
}

int probe_parse(const uint8_t *msg, size_t len, const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN], enum probe_kind *kind,
		uint64_t *token)
{
	uint8_t mac[PROBE_MAC_LEN];

	if (len != PROBE_LEN || msg[0] != PROBE_TYPE || msg[2] != 0 || msg[3] != 0 ||
	    (msg[1] != PROBE_REQUEST && msg[1] != PROBE_RESPONSE))
		return -EINVAL;
	probe_mac(mac, msg, key, sender_public);
	if (sodium_memcmp(mac, msg + PROBE_MAC_OFFSET, PROBE_MAC_LEN) != 0)
		return -EBADMSG;
	*kind = (enum probe_kind)msg[1];
	*token = load_le64(msg + PROBE_TOKEN_OFFSET);
	return 0;
}
