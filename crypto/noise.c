/* Noise core and WireGuard handshake: see crypto/noise.h.
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
 * HMAC and HKDF are built on libb2's BLAKE2s as in the whitepaper §5.4;
 * X25519 and ChaCha20-Poly1305 come from libsodium. */
#include "crypto/noise.h"

#include <errno.h>
#include <string.h>

#include <blake2.h>
#include <sodium.h>

#include "common/bytes.h"
#include "crypto/keys.h"

enum { BLAKE2S_BLOCK = 64 };

static void hash2(uint8_t out[static NOISE_HASH_LEN], const uint8_t *a, size_t a_len,
		  const uint8_t *b, size_t b_len)
{
	blake2s_state st;

	blake2s_init(&st, NOISE_HASH_LEN);
	blake2s_update(&st, a, a_len);
	blake2s_update(&st, b, b_len);
	blake2s_final(&st, out, NOISE_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* HMAC-BLAKE2s (RFC 2104 with a 64-byte block). */
static void hmac(uint8_t out[static NOISE_HASH_LEN], const uint8_t *key, size_t key_len,
		 const uint8_t *in, size_t in_len)
{
	uint8_t k[BLAKE2S_BLOCK] = { 0 }, pad[BLAKE2S_BLOCK], inner[NOISE_HASH_LEN];
	blake2s_state st;

	if (key_len > BLAKE2S_BLOCK)
		blake2s(k, key, NULL, NOISE_HASH_LEN, key_len, 0);
	else
		memcpy(k, key, key_len);
	for (size_t i = 0; i < BLAKE2S_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	blake2s_init(&st, NOISE_HASH_LEN);
	blake2s_update(&st, pad, BLAKE2S_BLOCK);
	blake2s_update(&st, in, in_len);
	blake2s_final(&st, inner, NOISE_HASH_LEN);
	for (size_t i = 0; i < BLAKE2S_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	blake2s_init(&st, NOISE_HASH_LEN);
	blake2s_update(&st, pad, BLAKE2S_BLOCK);
	blake2s_update(&st, inner, NOISE_HASH_LEN);
	blake2s_final(&st, out, NOISE_HASH_LEN);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

/* HKDF(ck, ikm) into up to three outputs (whitepaper's Kdf1/2/3). */
static void kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[static NOISE_HASH_LEN],
		const uint8_t *ikm, size_t ikm_len)
{
	uint8_t prk[NOISE_HASH_LEN], t[NOISE_HASH_LEN + 1];

	hmac(prk, ck, NOISE_HASH_LEN, ikm, ikm_len);
	t[0] = 1;
	hmac(t, prk, NOISE_HASH_LEN, t, 1);
	if (out1)
		memcpy(out1, t, NOISE_HASH_LEN);
	if (out2 || out3) {
		t[NOISE_HASH_LEN] = 2;
		hmac(t, prk, NOISE_HASH_LEN, t, NOISE_HASH_LEN + 1);
		if (out2)
			memcpy(out2, t, NOISE_HASH_LEN);
	}
	if (out3) {
		t[NOISE_HASH_LEN] = 3;
		hmac(t, prk, NOISE_HASH_LEN, t, NOISE_HASH_LEN + 1);
		memcpy(out3, t, NOISE_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

/* ---- Layer 1 ---------------------------------------------------------- */

/* The one ChaCha20 nonce of Noise and WireGuard: 32 zero bits, then the
 * 64-bit counter little-endian (whitepaper §5.4.6, Noise spec §12.3). Every
 * ChaCha20-Poly1305 call with a counter nonce goes through noise_cipher_*. */
static void make_nonce(uint8_t nonce[static crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
		       uint64_t n)
{
	memset(nonce, 0, 4);
	store_le64(nonce + 4, n);
}

void noise_cipher_encrypt(const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint64_t n,
			  const uint8_t *ad, size_t ad_len, const uint8_t *plain, size_t len,
			  uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	make_nonce(nonce, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad, ad_len, NULL, nonce,
						  key);
}

int noise_cipher_decrypt(const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint64_t n,
			 const uint8_t *ad, size_t ad_len, const uint8_t *cipher, size_t len,
			 uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (len < NOISE_AUTHTAG_LEN)
		return -EBADMSG;
	make_nonce(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, cipher, len, ad, ad_len,
						      nonce, key) != 0)
		return -EBADMSG;
	return 0;
}

void noise_symmetric_init(struct noise_symmetric *ss, const char *protocol_name,
			  const uint8_t *prologue, size_t prologue_len)
{
	size_t name_len = strlen(protocol_name);

	memset(ss, 0, sizeof(*ss));
	/* A name that fits HASHLEN is zero-padded, a longer one hashed. */
	if (name_len <= NOISE_HASH_LEN)
		memcpy(ss->h, protocol_name, name_len);
	else
		blake2s(ss->h, protocol_name, NULL, NOISE_HASH_LEN, name_len, 0);
	memcpy(ss->ck, ss->h, NOISE_HASH_LEN);
	noise_mix_hash(ss, prologue, prologue_len);
}

void noise_mix_hash(struct noise_symmetric *ss, const uint8_t *data, size_t len)
{
	hash2(ss->h, ss->h, NOISE_HASH_LEN, data, len);
}

void noise_mix_key(struct noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
	kdf(ss->ck, ss->k, NULL, ss->ck, ikm, len);
	ss->n = 0;
	ss->has_k = true;
}

void noise_mix_key_and_hash(struct noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
	uint8_t t[NOISE_HASH_LEN];

	kdf(ss->ck, t, ss->k, ss->ck, ikm, len);
	noise_mix_hash(ss, t, sizeof(t));
	sodium_memzero(t, sizeof(t));
	ss->n = 0;
	ss->has_k = true;
}

int noise_mix_dh(struct noise_symmetric *ss, const uint8_t priv[static NOISE_PRIVATE_KEY_LEN],
		 const uint8_t pub[static NOISE_PUBLIC_KEY_LEN])
{
	uint8_t shared[NOISE_PUBLIC_KEY_LEN];
	int r = keys_dh(shared, priv, pub);

	if (r == 0)
		noise_mix_key(ss, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return r;
}

int noise_encrypt_and_hash(struct noise_symmetric *ss, uint8_t *out, const uint8_t *plain,
			   size_t len)
{
	if (!ss->has_k) {
		memmove(out, plain, len);
		noise_mix_hash(ss, out, len);
		return 0;
	}
	if (ss->n == UINT64_MAX)	/* reserved by the Noise spec */
		return -EOVERFLOW;
	noise_cipher_encrypt(ss->k, ss->n++, ss->h, NOISE_HASH_LEN, plain, len, out);
	noise_mix_hash(ss, out, len + NOISE_AUTHTAG_LEN);
	return 0;
}

int noise_decrypt_and_hash(struct noise_symmetric *ss, uint8_t *out, const uint8_t *cipher,
			   size_t len)
{
	uint8_t h[NOISE_HASH_LEN];

	if (!ss->has_k) {
		noise_mix_hash(ss, cipher, len);
		memmove(out, cipher, len);
		return 0;
	}
	if (ss->n == UINT64_MAX)
		return -EOVERFLOW;
	/* h must cover the ciphertext, so compute it before `out` (which may
	 * alias `cipher`) is overwritten. */
	hash2(h, ss->h, NOISE_HASH_LEN, cipher, len);
	if (noise_cipher_decrypt(ss->k, ss->n, ss->h, NOISE_HASH_LEN, cipher, len, out) != 0) {
		sodium_memzero(h, sizeof(h));
		return -EBADMSG;
	}
	ss->n++;
	memcpy(ss->h, h, NOISE_HASH_LEN);
	return 0;
}

void noise_split(const struct noise_symmetric *ss, uint8_t k1[static NOISE_SYMMETRIC_KEY_LEN],
		 uint8_t k2[static NOISE_SYMMETRIC_KEY_LEN])
{
	kdf(k1, k2, NULL, ss->ck, NULL, 0);
}

void noise_symmetric_clear(struct noise_symmetric *ss)
{
	sodium_memzero(ss, sizeof(*ss));
}

/* ---- Shared IK steps (used by both layer 2 and layer 3) ---------------- */

/* The `e` token: h ^= e.pub, and in psk mode ck ^= e.pub. */
static void token_e(struct noise_symmetric *ss, bool psk_mode,
		    const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN])
{
	noise_mix_hash(ss, e_pub, NOISE_PUBLIC_KEY_LEN);
	if (psk_mode)
		noise_mix_key(ss, e_pub, NOISE_PUBLIC_KEY_LEN);
}

/* Message 1 by the initiator: e, es, s, ss, payload. `ss_dh` is DH(s, rs),
 * precomputed by WireGuard peers. out = e(32) || s(48) || payload+16. */
static int msg1_write(struct noise_symmetric *ss, bool psk_mode,
		      const uint8_t e_priv[static 32], const uint8_t e_pub[static 32],
		      const uint8_t s_pub[static 32], const uint8_t rs[static 32],
		      const uint8_t ss_dh[static 32], const uint8_t *payload, size_t payload_len,
		      uint8_t *out)
{
	int r;

	memcpy(out, e_pub, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, e_pub);
	r = noise_mix_dh(ss, e_priv, rs);
	if (r < 0)
		return r;
	r = noise_encrypt_and_hash(ss, out + 32, s_pub, NOISE_PUBLIC_KEY_LEN);
	if (r < 0)
		return r;
	noise_mix_key(ss, ss_dh, NOISE_PUBLIC_KEY_LEN);
	return noise_encrypt_and_hash(ss, out + 32 + 48, payload, payload_len);
}

/* Message 1 by the responder, first half: e, es, s. Gives re and rs. */
static int msg1_read_start(struct noise_symmetric *ss, bool psk_mode,
			   const uint8_t s_priv[static 32], const uint8_t *msg,
			   uint8_t re[static 32], uint8_t rs[static 32])
{
	int r;

	memcpy(re, msg, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, re);
	r = noise_mix_dh(ss, s_priv, re);
	if (r < 0)
		return r;
	return noise_decrypt_and_hash(ss, rs, msg + 32, NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN);
}

/* Message 1 by the responder, second half: ss, payload. */
static int msg1_read_finish(struct noise_symmetric *ss, const uint8_t ss_dh[static 32],
			    const uint8_t *msg, size_t len, uint8_t *payload)
{
	noise_mix_key(ss, ss_dh, NOISE_PUBLIC_KEY_LEN);
	return noise_decrypt_and_hash(ss, payload, msg + 80, len - 80);
}

/* Message 2 by the responder: e, ee, se, [psk], payload. */
static int msg2_write(struct noise_symmetric *ss, bool psk_mode, const uint8_t *psk,
		      const uint8_t e_priv[static 32], const uint8_t e_pub[static 32],
		      const uint8_t re[static 32], const uint8_t rs[static 32],
		      const uint8_t *payload, size_t payload_len, uint8_t *out)
{
	int r;

	memcpy(out, e_pub, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, e_pub);
	r = noise_mix_dh(ss, e_priv, re);
	if (r < 0)
		return r;
	r = noise_mix_dh(ss, e_priv, rs);
	if (r < 0)
		return r;
	if (psk_mode)
		noise_mix_key_and_hash(ss, psk, NOISE_SYMMETRIC_KEY_LEN);
	return noise_encrypt_and_hash(ss, out + 32, payload, payload_len);
}

/* Message 2 by the initiator. */
static int msg2_read(struct noise_symmetric *ss, bool psk_mode, const uint8_t *psk,
		     const uint8_t e_priv[static 32], const uint8_t s_priv[static 32],
		     const uint8_t *msg, size_t len, uint8_t re[static 32], uint8_t *payload)
{
	int r;

	memcpy(re, msg, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, re);
	r = noise_mix_dh(ss, e_priv, re);
	if (r < 0)
		return r;
	r = noise_mix_dh(ss, s_priv, re);
	if (r < 0)
		return r;
	if (psk_mode)
		noise_mix_key_and_hash(ss, psk, NOISE_SYMMETRIC_KEY_LEN);
	return noise_decrypt_and_hash(ss, payload, msg + 32, len - 32);
}

static int new_ephemeral(uint8_t e_priv[static 32], uint8_t e_pub[static 32])
{
	keys_generate_private(e_priv);
	return keys_public_from_private(e_pub, e_priv);
}

/* ---- Layer 2 ---------------------------------------------------------- */

int noise_ik_init(struct noise_ik *hs, bool initiator, const uint8_t *prologue,
		  size_t prologue_len, const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
		  const uint8_t *rs, const uint8_t *psk)
{
	int r;

	memset(hs, 0, sizeof(*hs));
	if (initiator != (rs != NULL))
		return -EINVAL;
	hs->initiator = initiator;
	hs->has_psk = psk != NULL;
	if (psk)
		memcpy(hs->psk, psk, NOISE_SYMMETRIC_KEY_LEN);
	memcpy(hs->s_priv, s_priv, NOISE_PRIVATE_KEY_LEN);
	r = keys_public_from_private(hs->s_pub, s_priv);
	if (r < 0)
		goto fail;
	if (rs)
		memcpy(hs->rs, rs, NOISE_PUBLIC_KEY_LEN);
	noise_symmetric_init(&hs->ss, psk ? NOISE_CONSTRUCTION : NOISE_IK_NAME, prologue,
			     prologue_len);
	/* Pre-message "<- s": both sides hash the responder's static key. */
	noise_mix_hash(&hs->ss, initiator ? hs->rs : hs->s_pub, NOISE_PUBLIC_KEY_LEN);
	return 0;
fail:
	noise_ik_clear(hs);
	return r;
}

void noise_ik_test_set_ephemeral(struct noise_ik *hs, const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_PRIVATE_KEY_LEN);
	hs->e_injected = true;
}

size_t noise_ik_message_len(unsigned msg_index, size_t payload_len)
{
	return (msg_index == 0 ? 32 + 48 : 32) + payload_len + NOISE_AUTHTAG_LEN;
}

int noise_ik_write_message(struct noise_ik *hs, const uint8_t *payload, size_t payload_len,
			   uint8_t *out, size_t out_size, size_t *out_len)
{
	uint8_t ss_dh[NOISE_PUBLIC_KEY_LEN];
	unsigned idx = (unsigned)hs->step;
	struct noise_symmetric next = hs->ss;	/* commit only on success */
	int r;

	if (hs->step > 1 || hs->initiator != (hs->step == 0))
		return -EPROTO;
	if (out_size < noise_ik_message_len(idx, payload_len))
		return -ENOSPC;
	if (hs->e_injected)
		r = keys_public_from_private(hs->e_pub, hs->e_priv);
	else
		r = new_ephemeral(hs->e_priv, hs->e_pub);
	if (r < 0)
		goto out;
	if (idx == 0) {
		r = keys_dh(ss_dh, hs->s_priv, hs->rs);
		if (r < 0)
			goto out;
		r = msg1_write(&next, hs->has_psk, hs->e_priv, hs->e_pub, hs->s_pub, hs->rs,
			       ss_dh, payload, payload_len, out);
	} else {
		r = msg2_write(&next, hs->has_psk, hs->psk, hs->e_priv, hs->e_pub, hs->re,
			       hs->rs, payload, payload_len, out);
	}
	if (r < 0)
		goto out;
	hs->ss = next;
	hs->step++;
	hs->e_injected = false;
	*out_len = noise_ik_message_len(idx, payload_len);
out:
	sodium_memzero(ss_dh, sizeof(ss_dh));
	noise_symmetric_clear(&next);
	return r;
}

int noise_ik_read_message(struct noise_ik *hs, const uint8_t *msg, size_t len, uint8_t *payload,
			  size_t payload_size, size_t *payload_len)
{
	uint8_t ss_dh[NOISE_PUBLIC_KEY_LEN], re[NOISE_PUBLIC_KEY_LEN], rs[NOISE_PUBLIC_KEY_LEN];
	unsigned idx = (unsigned)hs->step;
	struct noise_symmetric next = hs->ss;
	size_t plen;
	int r;

	if (hs->step > 1 || hs->initiator != (hs->step == 1))
		return -EPROTO;
	if (len < noise_ik_message_len(idx, 0))
		return -EINVAL;
	plen = len - noise_ik_message_len(idx, 0);
	if (payload_size < plen)
		return -ENOSPC;
	if (idx == 0) {
		r = msg1_read_start(&next, hs->has_psk, hs->s_priv, msg, re, rs);
		if (r < 0)
			goto out;
		r = keys_dh(ss_dh, hs->s_priv, rs);
		if (r < 0)
			goto out;
		r = msg1_read_finish(&next, ss_dh, msg, len, payload);
		if (r < 0)
			goto out;
		memcpy(hs->rs, rs, sizeof(rs));
	} else {
		r = msg2_read(&next, hs->has_psk, hs->psk, hs->e_priv, hs->s_priv, msg, len, re,
			      payload);
		if (r < 0)
			goto out;
	}
	memcpy(hs->re, re, sizeof(re));
	hs->ss = next;
	hs->step++;
	*payload_len = plen;
out:
	sodium_memzero(ss_dh, sizeof(ss_dh));
	noise_symmetric_clear(&next);
	return r;
}

int noise_ik_split(const struct noise_ik *hs, uint8_t send_key[static NOISE_SYMMETRIC_KEY_LEN],
		   uint8_t recv_key[static NOISE_SYMMETRIC_KEY_LEN])
{
	if (hs->step != 2)
		return -EPROTO;
	if (hs->initiator)
		noise_split(&hs->ss, send_key, recv_key);
	else
		noise_split(&hs->ss, recv_key, send_key);
	return 0;
}

void noise_ik_clear(struct noise_ik *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

/* ---- Layer 3: WireGuard ----------------------------------------------- */

static void wg_symmetric_init(struct noise_symmetric *ss)
{
	noise_symmetric_init(ss, NOISE_CONSTRUCTION, (const uint8_t *)NOISE_IDENTIFIER,
			     strlen(NOISE_IDENTIFIER));
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

int noise_create_initiation(struct noise_handshake *hs, const struct noise_local *local,
			    uint32_t sender_index, const uint8_t timestamp[static NOISE_TIMESTAMP_LEN],
			    uint8_t out[static MESSAGE_INITIATION_LEN])
{
	struct noise_symmetric ss;
	uint8_t e_priv[NOISE_PRIVATE_KEY_LEN], e_pub[NOISE_PUBLIC_KEY_LEN];
	int r;

	memset(out, 0, MESSAGE_INITIATION_LEN);
	wg_symmetric_init(&ss);
	noise_mix_hash(&ss, hs->remote_static, NOISE_PUBLIC_KEY_LEN);	/* <- s */
	r = new_ephemeral(e_priv, e_pub);
	if (r < 0)
		goto out;
	r = msg1_write(&ss, true, e_priv, e_pub, local->public_key, hs->remote_static,
		       hs->precomputed_static_static, timestamp, NOISE_TIMESTAMP_LEN,
		       out + MESSAGE_INITIATION_NOISE_OFFSET);
	if (r < 0)
		goto out;
	store_le32(out, MESSAGE_HANDSHAKE_INITIATION);
	store_le32(out + 4, sender_index);
	noise_handshake_clear(hs);
	wg_symmetric_store(hs, &ss);
	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
out:
	if (r < 0)
		sodium_memzero(out, MESSAGE_INITIATION_LEN);
	noise_symmetric_clear(&ss);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

int noise_consume_initiation(const struct noise_local *local, const uint8_t *msg, size_t len,
			     noise_lookup_fn lookup, void *ctx, uint64_t now_ms,
			     struct noise_handshake **out_hs)
{
	const uint8_t *noise_msg = msg + MESSAGE_INITIATION_NOISE_OFFSET;
	struct noise_symmetric ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], rs[NOISE_PUBLIC_KEY_LEN], t[NOISE_TIMESTAMP_LEN];
	struct noise_handshake *hs;
	int r;

	*out_hs = NULL;
	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_INITIATION)
		return -EINVAL;
	wg_symmetric_init(&ss);
	noise_mix_hash(&ss, local->public_key, NOISE_PUBLIC_KEY_LEN);	/* <- s */
	r = msg1_read_start(&ss, true, local->private_key, noise_msg, re, rs);
	if (r < 0)
		goto out;
	hs = lookup(ctx, rs);
	if (!hs || !keys_equal(hs->remote_static, rs)) {
		r = -ENOENT;
		goto out;
	}
	r = msg1_read_finish(&ss, hs->precomputed_static_static, noise_msg,
			     MESSAGE_INITIATION_NOISE_LEN, t);
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
	hs->remote_index = message_sender_index(msg);
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	*out_hs = hs;
out:
	noise_symmetric_clear(&ss);
	sodium_memzero(re, sizeof(re));
	sodium_memzero(rs, sizeof(rs));
	sodium_memzero(t, sizeof(t));
	return r;
}

int noise_create_response(struct noise_handshake *hs, uint32_t sender_index,
			  uint8_t out[static MESSAGE_RESPONSE_LEN])
{
	struct noise_symmetric ss;
	uint8_t e_priv[NOISE_PRIVATE_KEY_LEN], e_pub[NOISE_PUBLIC_KEY_LEN];
	int r;

	memset(out, 0, MESSAGE_RESPONSE_LEN);
	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return -EPROTO;
	wg_symmetric_load(&ss, hs);
	r = new_ephemeral(e_priv, e_pub);
	if (r < 0)
		goto out;
	r = msg2_write(&ss, true, hs->preshared_key, e_priv, e_pub, hs->remote_ephemeral,
		       hs->remote_static, NULL, 0, out + MESSAGE_RESPONSE_NOISE_OFFSET);
	if (r < 0)
		goto out;
	store_le32(out, MESSAGE_HANDSHAKE_RESPONSE);
	store_le32(out + 4, sender_index);
	store_le32(out + 8, hs->remote_index);
	wg_symmetric_store(hs, &ss);
	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
out:
	if (r < 0)
		sodium_memzero(out, MESSAGE_RESPONSE_LEN);
	noise_symmetric_clear(&ss);
	sodium_memzero(e_priv, sizeof(e_priv));
	return r;
}

int noise_consume_response(struct noise_handshake *hs, const struct noise_local *local,
			   const uint8_t *msg, size_t len)
{
	struct noise_symmetric ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], empty[1];
	int r;

	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_RESPONSE)
		return -EINVAL;
	if (hs->state != HANDSHAKE_CREATED_INITIATION)
		return -EPROTO;
	if (message_receiver_index(msg, MESSAGE_HANDSHAKE_RESPONSE) != hs->local_index)
		return -ENOENT;
	wg_symmetric_load(&ss, hs);
	r = msg2_read(&ss, true, hs->preshared_key, hs->ephemeral_private, local->private_key,
		      msg + MESSAGE_RESPONSE_NOISE_OFFSET, MESSAGE_RESPONSE_NOISE_LEN, re, empty);
	if (r < 0)
		goto out;
	wg_symmetric_store(hs, &ss);
	memcpy(hs->remote_ephemeral, re, sizeof(re));
	hs->remote_index = message_sender_index(msg);
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
