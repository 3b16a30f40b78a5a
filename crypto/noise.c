/* WireGuard's handshake (whitepaper §5.4) on the generic Noise layers of
 * crypto/noise_core.h: see crypto/noise.h.
 *
 *   Initiator                                   Responder
 *   e = random; h ^= e.pub; ck ^= e.pub
 *   ck, k = HKDF(ck, DH(e, S_r))      es
 *   enc(s.pub)                        s
 *   ck, k = HKDF(ck, DH(s, S_r))      ss (precomputed per peer)
 *   enc(payload: TAI64N)              -------------------------->
 *                                     e = random; h ^= e; ck ^= e
 *                                     ck = HKDF(ck, DH(e, E_i))     ee
 *                                     ck = HKDF(ck, DH(e, S_i))     se
 *                                     ck, t, k = HKDF(ck, psk)      psk
 *                                     enc(empty)
 *   <--------------------------------
 *   T_send, T_recv = HKDF(ck, "")    (swapped for the responder)
 *
 * ("h ^= x" is MixHash, "ck ^= x" MixKey; the MixKey of e only in psk mode.)
 * This file owns what is WireGuard's own: the identifier as prologue, the
 * messages of crypto/messages.h with their indices, the TAI64N replay and
 * flood checks, and the keypair handed to crypto/session.c. Messages are
 * built in and parsed from those structs, copied to and from the caller's
 * bytes with memcpy; their integers hold wire (little-endian) bytes. */
#include "crypto/noise.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "common/bytes.h"
#include "crypto/keys.h"
#include "crypto/noise_core.h"

/* ---- Layer 3: WireGuard ----------------------------------------------- */

static void wg_symmetric_init(struct noise_symmetric *ss, enum noise_mode mode)
{
	const char *id = mode == NOISE_MODE_BRIDGE ? NOISE_IDENTIFIER_BRIDGE : NOISE_IDENTIFIER;

	noise_symmetric_init(ss, NOISE_CONSTRUCTION, (const uint8_t *)id, strlen(id));
}

/* Restores the between-messages state (h, ck) of a handshake. */
static void wg_symmetric_load(struct noise_symmetric *ss, const struct noise_handshake *hs)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss->h, hs->hash, NOISE_HASH_LEN);
	memcpy(ss->ck, hs->chaining_key, NOISE_HASH_LEN);
}

static void wg_symmetric_store(struct noise_handshake *hs, const struct noise_symmetric *ss)
{
	memcpy(hs->hash, ss->h, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, ss->ck, NOISE_HASH_LEN);
}

int noise_local_init(struct noise_local *local, const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN])
{
	int r;

	memcpy(local->private_key, private_key, NOISE_PRIVATE_KEY_LEN);
	local->mode = NOISE_MODE_ROUTED;
	r = keys_public_from_private(local->public_key, local->private_key);
	if (r < 0)
		noise_local_clear(local);
	return r;
}

void noise_local_clear(struct noise_local *local)
{
	sodium_memzero(local, sizeof(*local));
}

int noise_handshake_init(struct noise_handshake *hs, const struct noise_local *local,
			 const uint8_t remote_static[static NOISE_PUBLIC_KEY_LEN],
			 const uint8_t *preshared_key)
{
	int r;

	sodium_memzero(hs, sizeof(*hs));
	if (keys_equal(remote_static, local->public_key))
		return -EINVAL;
	r = keys_dh(hs->precomputed_static_static, local->private_key, remote_static);
	if (r < 0)
		return r;
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	return 0;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	hs->state = HANDSHAKE_ZEROED;
	sodium_memzero(hs->hash, sizeof(hs->hash));
	sodium_memzero(hs->chaining_key, sizeof(hs->chaining_key));
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = 0;
	hs->remote_index = 0;
}

void noise_handshake_destroy(struct noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

uint32_t noise_index_random(void)
{
	return randombytes_random();
}

/* The structs' integer fields hold the wire's little-endian bytes. */
static void set_le32(uint32_t *field, uint32_t v)
{
	store_le32((uint8_t *)field, v);
}

static uint32_t get_le32(const uint32_t *field)
{
	return load_le32((const uint8_t *)field);
}

int noise_create_initiation(struct noise_handshake *hs, const struct noise_local *local,
			    uint32_t sender_index, const uint8_t timestamp[static NOISE_TIMESTAMP_LEN],
			    uint8_t out[static MESSAGE_INITIATION_LEN])
{
	struct message_handshake_initiation m;
	struct noise_symmetric ss;
	uint8_t e_priv[NOISE_PRIVATE_KEY_LEN], e_pub[NOISE_PUBLIC_KEY_LEN];
	int r;

	memset(&m, 0, sizeof(m));	/* MACs zero: crypto/cookie.h adds them */
	memset(out, 0, MESSAGE_INITIATION_LEN);
	wg_symmetric_init(&ss, local->mode);
	noise_mix_hash(&ss, hs->remote_static, NOISE_PUBLIC_KEY_LEN);	/* <- s */
	r = noise_generate_keypair(e_priv, e_pub);
	if (r < 0)
		goto out;
	r = noise_ik_write_e_es_s_ss(&ss, true, e_priv, e_pub, local->public_key,
				     hs->remote_static, hs->precomputed_static_static,
				     m.unencrypted_ephemeral, m.encrypted_static);
	if (r < 0)
		goto out;
	r = noise_encrypt_and_hash(&ss, m.encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN);
	if (r < 0)
		goto out;
	set_le32(&m.header.type, MESSAGE_HANDSHAKE_INITIATION);
	set_le32(&m.sender_index, sender_index);
	memcpy(out, &m, sizeof(m));
	noise_handshake_clear(hs);
	wg_symmetric_store(hs, &ss);
	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
out:
	noise_symmetric_clear(&ss);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

/* Reads an initiation under `mode`'s prologue up to its timestamp: the
 * initiator's static key, its peer (*out_hs) and the TAI64N in t. */
static int read_initiation(const struct noise_local *local, enum noise_mode mode,
			   const struct message_handshake_initiation *m, noise_lookup_fn lookup,
			   void *ctx, struct noise_symmetric *ss,
			   uint8_t re[static NOISE_PUBLIC_KEY_LEN],
			   uint8_t t[static NOISE_TIMESTAMP_LEN], struct noise_handshake **out_hs)
{
	uint8_t rs[NOISE_PUBLIC_KEY_LEN];
	struct noise_handshake *hs;
	int r;

	wg_symmetric_init(ss, mode);
	noise_mix_hash(ss, local->public_key, NOISE_PUBLIC_KEY_LEN);	/* <- s */
	r = noise_ik_read_e_es_s(ss, true, local->private_key, m->unencrypted_ephemeral,
				 m->encrypted_static, re, rs);
	if (r < 0)
		goto out;
	hs = lookup(ctx, rs);
	if (!hs || !keys_equal(hs->remote_static, rs)) {
		r = -ENOENT;
		goto out;
	}
	noise_ik_read_ss(ss, hs->precomputed_static_static);
	r = noise_decrypt_and_hash(ss, t, m->encrypted_timestamp, sizeof(m->encrypted_timestamp));
	if (r == 0)
		*out_hs = hs;
out:
	sodium_memzero(rs, sizeof(rs));
	return r;
}

int noise_consume_initiation(const struct noise_local *local, const uint8_t *msg, size_t len,
			     noise_lookup_fn lookup, void *ctx, uint64_t now_ms,
			     struct noise_handshake **out_hs)
{
	struct message_handshake_initiation m;
	struct noise_symmetric ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], t[NOISE_TIMESTAMP_LEN];
	struct noise_handshake *hs = NULL;
	int r;

	*out_hs = NULL;
	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_INITIATION)
		return -EINVAL;
	memcpy(&m, msg, sizeof(m));
	r = read_initiation(local, local->mode, &m, lookup, ctx, &ss, re, t, &hs);
	if (r == -EBADMSG) {
		/* Not under our prologue: is it the peer, in the other mode? Only
		 * an initiation that authenticates whole (ss and timestamp: only
		 * the peer's private key makes those) says so, so nobody else can
		 * make us report a mismatch. It is never answered. */
		enum noise_mode other = local->mode == NOISE_MODE_BRIDGE ? NOISE_MODE_ROUTED
									 : NOISE_MODE_BRIDGE;

		noise_symmetric_clear(&ss);
		if (read_initiation(local, other, &m, lookup, ctx, &ss, re, t, &hs) == 0)
			r = -EPROTONOSUPPORT;
		goto out;
	}
	if (r < 0)
		goto out;
	/* TAI64N is big-endian, so bytewise order is time order. */
	if (memcmp(t, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0) {
		r = -EALREADY;
		goto out;
	}
	/* Checked only after authentication, so a forger cannot use up a
	 * peer's allowance. */
	if (hs->has_consumed_initiation && now_ms >= hs->last_initiation_consumed_ms &&
	    now_ms - hs->last_initiation_consumed_ms < 1000 / INITIATIONS_PER_SECOND) {
		r = -EBUSY;
		goto out;
	}
	noise_handshake_clear(hs);
	memcpy(hs->latest_timestamp, t, NOISE_TIMESTAMP_LEN);
	hs->last_initiation_consumed_ms = now_ms;
	hs->has_consumed_initiation = true;
	wg_symmetric_store(hs, &ss);
	memcpy(hs->remote_ephemeral, re, sizeof(re));
	hs->remote_index = get_le32(&m.sender_index);
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	*out_hs = hs;
out:
	noise_symmetric_clear(&ss);
	sodium_memzero(re, sizeof(re));
	sodium_memzero(t, sizeof(t));
	return r;
}

int noise_create_response(struct noise_handshake *hs, uint32_t sender_index,
			  uint8_t out[static MESSAGE_RESPONSE_LEN])
{
	struct message_handshake_response m;
	struct noise_symmetric ss;
	uint8_t e_priv[NOISE_PRIVATE_KEY_LEN], e_pub[NOISE_PUBLIC_KEY_LEN];
	int r;

	memset(&m, 0, sizeof(m));	/* MACs zero: crypto/cookie.h adds them */
	memset(out, 0, MESSAGE_RESPONSE_LEN);
	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return -EPROTO;
	wg_symmetric_load(&ss, hs);
	r = noise_generate_keypair(e_priv, e_pub);
	if (r < 0)
		goto out;
	r = noise_ik_write_e_ee_se(&ss, true, hs->preshared_key, e_priv, e_pub,
				   hs->remote_ephemeral, hs->remote_static,
				   m.unencrypted_ephemeral);
	if (r < 0)
		goto out;
	r = noise_encrypt_and_hash(&ss, m.encrypted_nothing, NULL, 0);
	if (r < 0)
		goto out;
	set_le32(&m.header.type, MESSAGE_HANDSHAKE_RESPONSE);
	set_le32(&m.sender_index, sender_index);
	set_le32(&m.receiver_index, hs->remote_index);
	memcpy(out, &m, sizeof(m));
	wg_symmetric_store(hs, &ss);
	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
out:
	noise_symmetric_clear(&ss);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

int noise_consume_response(struct noise_handshake *hs, const struct noise_local *local,
			   const uint8_t *msg, size_t len)
{
	struct message_handshake_response m;
	struct noise_symmetric ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], empty[1];
	int r;

	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_RESPONSE)
		return -EINVAL;
	if (hs->state != HANDSHAKE_CREATED_INITIATION)
		return -EPROTO;
	memcpy(&m, msg, sizeof(m));
	if (get_le32(&m.receiver_index) != hs->local_index)
		return -ENOENT;
	wg_symmetric_load(&ss, hs);
	r = noise_ik_read_e_ee_se(&ss, true, hs->preshared_key, hs->ephemeral_private,
				  local->private_key, m.unencrypted_ephemeral, re);
	if (r < 0)
		goto out;
	/* The empty payload: nothing comes out, but the tag is checked. */
	r = noise_decrypt_and_hash(&ss, empty, m.encrypted_nothing, sizeof(m.encrypted_nothing));
	if (r < 0)
		goto out;
	wg_symmetric_store(hs, &ss);
	memcpy(hs->remote_ephemeral, re, sizeof(re));
	hs->remote_index = get_le32(&m.sender_index);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
out:
	noise_symmetric_clear(&ss);
	sodium_memzero(re, sizeof(re));
	return r;
}

int noise_derive_keypair(struct noise_handshake *hs, struct keypair *kp, uint64_t now_ms)
{
	struct noise_symmetric ss;
	bool initiator;

	if (hs->state == HANDSHAKE_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs->state == HANDSHAKE_CREATED_RESPONSE)
		initiator = false;
	else
		return -EPROTO;
	session_keypair_clear(kp);
	wg_symmetric_load(&ss, hs);
	if (initiator)
		noise_split(&ss, kp->send_key, kp->recv_key);
	else
		noise_split(&ss, kp->recv_key, kp->send_key);
	replay_init(&kp->replay);
	kp->birth_ms = now_ms;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->is_initiator = initiator;
	kp->valid = true;
	noise_symmetric_clear(&ss);
	noise_handshake_clear(hs);
	return 0;
}

