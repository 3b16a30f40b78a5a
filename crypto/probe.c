/* Path probe encoding and authentication: keyed BLAKE2s from libb2,
 * constant-time MAC comparison from libsodium. */
#include "crypto/probe.h"

#include <blake2.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "common/bytes.h"

static const char static_label[] = "tunnel path probe v2";
static const char session_label[] = "tunnel path probe session v2";

void probe_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t static_static[static NOISE_PUBLIC_KEY_LEN])
{
	blake2s(key, static_label, static_static, NOISE_SYMMETRIC_KEY_LEN,
		sizeof(static_label) - 1, NOISE_PUBLIC_KEY_LEN);
}

void probe_session_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			      const uint8_t transport_key[static NOISE_SYMMETRIC_KEY_LEN])
{
	blake2s(key, session_label, transport_key, NOISE_SYMMETRIC_KEY_LEN,
		sizeof(session_label) - 1, NOISE_SYMMETRIC_KEY_LEN);
}

static void probe_mac(uint8_t mac[static PROBE_MAC_LEN], const uint8_t *msg, size_t covered,
		      const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN])
{
	blake2s_state st;

	blake2s_init_key(&st, PROBE_MAC_LEN, key, NOISE_SYMMETRIC_KEY_LEN);
	blake2s_update(&st, sender_public, NOISE_PUBLIC_KEY_LEN);
	blake2s_update(&st, msg, covered);
	blake2s_final(&st, mac, PROBE_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

static bool length_fits(enum probe_kind kind, size_t len)
{
	if (kind == PROBE_RESPONSE)
		return len == PROBE_LEN;
	return len >= PROBE_LEN && len <= PROBE_MAX_LEN;
}

int probe_build(uint8_t *out, size_t cap, const struct probe *p,
		const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN])
{
	if ((p->kind != PROBE_REQUEST && p->kind != PROBE_RESPONSE) || !length_fits(p->kind, p->len) ||
	    p->len > cap)
		return -EINVAL;
	memset(out, 0, p->len);
	out[0] = PROBE_TYPE;
	out[1] = (uint8_t)p->kind;
	store_le64(out + PROBE_TOKEN_OFFSET, p->token);
	if (p->kind == PROBE_REQUEST) {
		out[PROBE_KEY_OFFSET] = (uint8_t)p->key;
		store_le64(out + PROBE_STAMP_OFFSET, p->sent_ms);
	} else {
		store_be16(out + PROBE_STAMP_OFFSET, p->acked_len);
	}
	probe_mac(out + p->len - PROBE_MAC_LEN, out, p->len - PROBE_MAC_LEN, key, sender_public);
	return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

int probe_parse(const uint8_t *msg, size_t len, struct probe *p)
{
	if (len < PROBE_LEN || msg[0] != PROBE_TYPE ||
	    (msg[1] != PROBE_REQUEST && msg[1] != PROBE_RESPONSE) || msg[3] != 0 ||
	    !length_fits((enum probe_kind)msg[1], len))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->kind = (enum probe_kind)msg[1];
	p->token = load_le64(msg + PROBE_TOKEN_OFFSET);
	p->len = len;
	if (p->kind == PROBE_REQUEST) {
		if (msg[PROBE_KEY_OFFSET] != PROBE_KEY_STATIC &&
		    msg[PROBE_KEY_OFFSET] != PROBE_KEY_SESSION)
			return -EINVAL;
		if (!all_zero(msg + PROBE_HEADER_LEN, len - PROBE_LEN))
			return -EINVAL;
		p->key = (enum probe_key_kind)msg[PROBE_KEY_OFFSET];
		p->sent_ms = load_le64(msg + PROBE_STAMP_OFFSET);
	} else {
		if (msg[PROBE_KEY_OFFSET] != 0 || !all_zero(msg + PROBE_STAMP_OFFSET + 2, 6))
			return -EINVAL;
		p->acked_len = load_be16(msg + PROBE_STAMP_OFFSET);
	}
	return 0;
}

int probe_verify(const uint8_t *msg, size_t len, const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		 const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN])
{
	uint8_t mac[PROBE_MAC_LEN];

	if (len < PROBE_LEN)
		return -EBADMSG;
	probe_mac(mac, msg, len - PROBE_MAC_LEN, key, sender_public);
	return sodium_memcmp(mac, msg + len - PROBE_MAC_LEN, PROBE_MAC_LEN) == 0 ? 0 : -EBADMSG;
}

uint64_t probe_new_token(void)
{
	uint64_t token;

	do
		randombytes_buf(&token, sizeof(token));
	while (token == 0);
	return token;
}
