/* MAC1/MAC2 and cookie replies: see crypto/cookie.h. */
#include "crypto/cookie.h"

#include <errno.h>
#include <string.h>

#include <blake2.h>
#include <sodium.h>

#include "common/bytes.h"

static const char LABEL_MAC1[] = "mac1----";
static const char LABEL_COOKIE[] = "cookie--";

/* HASH(label || key): the per-identity MAC1 and cookie keys. */
static void derive_key(uint8_t out[static NOISE_SYMMETRIC_KEY_LEN], const char *label,
		       const uint8_t pub[static NOISE_PUBLIC_KEY_LEN])
{
	blake2s_state st;

	blake2s_init(&st, NOISE_SYMMETRIC_KEY_LEN);
	blake2s_update(&st, (const uint8_t *)label, strlen(label));
	blake2s_update(&st, pub, NOISE_PUBLIC_KEY_LEN);
	blake2s_final(&st, out, NOISE_SYMMETRIC_KEY_LEN);
}

static void mac(uint8_t out[static COOKIE_LEN], const uint8_t *key, size_t key_len,
		const uint8_t *in, size_t in_len)
{
	blake2s(out, in, key, COOKIE_LEN, in_len, key_len);
}

/* Offsets of the MACs: the last 32 bytes of an initiation or response. */
static bool macs_offsets(const uint8_t *msg, size_t len, size_t *mac1_off, size_t *mac2_off)
{
	enum message_type t = message_validate_header(msg, len);

	if (t != MESSAGE_HANDSHAKE_INITIATION && t != MESSAGE_HANDSHAKE_RESPONSE)
		return false;
	*mac1_off = len - sizeof(struct message_macs);
	*mac2_off = *mac1_off + COOKIE_LEN;
	return true;
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t local_public[static NOISE_PUBLIC_KEY_LEN])
{
	sodium_memzero(c, sizeof(*c));
	derive_key(c->mac1_key, LABEL_MAC1, local_public);
	derive_key(c->cookie_encryption_key, LABEL_COOKIE, local_public);
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t remote_public[static NOISE_PUBLIC_KEY_LEN])
{
	sodium_memzero(m, sizeof(*m));
	derive_key(m->mac1_key, LABEL_MAC1, remote_public);
	derive_key(m->cookie_decryption_key, LABEL_COOKIE, remote_public);
}

void cookie_checker_clear(struct cookie_checker *c)
{
	sodium_memzero(c, sizeof(*c));
}

void cookie_maker_clear(struct cookie_maker *m)
{
	sodium_memzero(m, sizeof(*m));
}

static bool older_than(uint64_t birth_ms, uint64_t now_ms, uint64_t age_ms)
{
	return now_ms < birth_ms || now_ms - birth_ms >= age_ms;
}

/* The cookie for `source` under the current secret, rerolling a secret
 * older than COOKIE_SECRET_MAX_AGE first. */
static void make_cookie(struct cookie_checker *c, uint8_t cookie[static COOKIE_LEN],
			const uint8_t *source, size_t source_len, uint64_t now_ms)
{
	if (!c->has_secret || older_than(c->secret_birth_ms, now_ms, COOKIE_SECRET_MAX_AGE_MS)) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth_ms = now_ms;
		c->has_secret = true;
	}
	mac(cookie, c->secret, sizeof(c->secret), source, source_len);
}

enum cookie_mac_state cookie_checker_validate(struct cookie_checker *c, const uint8_t *msg,
					      size_t len, const uint8_t *source,
					      size_t source_len, bool under_load, uint64_t now_ms)
{
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];
	enum cookie_mac_state ret = COOKIE_MAC_INVALID;
	size_t mac1_off, mac2_off;

	if (!macs_offsets(msg, len, &mac1_off, &mac2_off))
		return COOKIE_MAC_INVALID;
	mac(computed, c->mac1_key, sizeof(c->mac1_key), msg, mac1_off);
	if (sodium_memcmp(computed, msg + mac1_off, COOKIE_LEN) != 0)
		goto out;
	ret = COOKIE_MAC_VALID_NO_COOKIE;
	if (!under_load || !source || source_len == 0 || source_len > COOKIE_MAX_SOURCE_LEN)
		goto out;
	make_cookie(c, cookie, source, source_len, now_ms);
	mac(computed, cookie, sizeof(cookie), msg, mac2_off);
	if (sodium_memcmp(computed, msg + mac2_off, COOKIE_LEN) != 0)
		goto out;
	ret = COOKIE_MAC_VALID_WITH_COOKIE;
out:
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(computed, sizeof(computed));
	return ret;
}

int cookie_reply_create(struct cookie_checker *c, uint8_t out[static MESSAGE_COOKIE_LEN],
			const uint8_t *msg, size_t len, const uint8_t *source, size_t source_len,
			uint64_t now_ms)
{
	uint8_t cookie[COOKIE_LEN];
	size_t mac1_off, mac2_off;
	uint8_t *nonce = out + offsetof(struct message_handshake_cookie, nonce);

	if (!macs_offsets(msg, len, &mac1_off, &mac2_off) || !source || source_len == 0 ||
	    source_len > COOKIE_MAX_SOURCE_LEN)
		return -EINVAL;
	memset(out, 0, MESSAGE_COOKIE_LEN);
	store_le32(out, MESSAGE_HANDSHAKE_COOKIE);
	store_le32(out + 4, message_sender_index(msg));
	randombytes_buf(nonce, COOKIE_NONCE_LEN);
	make_cookie(c, cookie, source, source_len, now_ms);
	/* The aad binds the reply to the message it answers. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + offsetof(struct message_handshake_cookie, encrypted_cookie), NULL, cookie,
		COOKIE_LEN, msg + mac1_off, COOKIE_LEN, NULL, nonce, c->cookie_encryption_key);
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}

int cookie_maker_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len, uint64_t now_ms)
{
	size_t mac1_off, mac2_off;

	if (!macs_offsets(msg, len, &mac1_off, &mac2_off))
		return -EINVAL;
	mac(msg + mac1_off, m->mac1_key, sizeof(m->mac1_key), msg, mac1_off);
	memcpy(m->last_mac1_sent, msg + mac1_off, COOKIE_LEN);
	m->has_sent_mac1 = true;
	/* Stop using a cookie a little before the responder's secret changes. */
	if (m->has_cookie && !older_than(m->cookie_birth_ms, now_ms,
					 COOKIE_SECRET_MAX_AGE_MS - COOKIE_SECRET_LATENCY_MS))
		mac(msg + mac2_off, m->cookie, sizeof(m->cookie), msg, mac2_off);
	else
		memset(msg + mac2_off, 0, COOKIE_LEN);
	return 0;
}

int cookie_maker_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len,
			       uint64_t now_ms)
{
	uint8_t cookie[COOKIE_LEN];

	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_COOKIE)
		return -EINVAL;
	if (!m->has_sent_mac1)
		return -EPROTO;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, NULL, NULL,
		    msg + offsetof(struct message_handshake_cookie, encrypted_cookie),
		    COOKIE_LEN + NOISE_AUTHTAG_LEN, m->last_mac1_sent, COOKIE_LEN,
		    msg + offsetof(struct message_handshake_cookie, nonce),
		    m->cookie_decryption_key) != 0) {
		sodium_memzero(cookie, sizeof(cookie));
		return -EBADMSG;
	}
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birth_ms = now_ms;
	m->has_cookie = true;
	/* One reply per mac1: a replayed reply cannot refresh the cookie. */
	m->has_sent_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}
