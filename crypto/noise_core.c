/* The generic Noise layers: see crypto/noise_core.h.
 *
 * HMAC and HKDF are built on libb2's BLAKE2s as in the Noise spec §4.3 and
 * WireGuard's whitepaper §5.4; X25519 comes from libsodium, ChaCha20-Poly1305
 * from crypto/aead.c (OpenSSL). Nothing here knows WireGuard's message layout, identifier or
 * indices: crypto/noise.c adds those. */
#include "crypto/noise_core.h"

#include <errno.h>
#include <string.h>

#include <blake2.h>
#include <sodium.h>

#include "common/bytes.h"
#include "crypto/aead.h"
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
	aead_seal(aead_backend_for(len), key, nonce, ad, ad_len, plain, len, out);
}

int noise_cipher_decrypt(const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint64_t n,
			 const uint8_t *ad, size_t ad_len, const uint8_t *cipher, size_t len,
			 uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	make_nonce(nonce, n);
	return aead_open(aead_backend_for(len), key, nonce, ad, ad_len, cipher, len, out);
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


/* ---- Layer 2: IK token steps -------------------------------------------- */

/* The `e` token: h ^= e.pub, and in psk mode ck ^= e.pub. */
static void token_e(struct noise_symmetric *ss, bool psk_mode,
		    const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN])
{
	noise_mix_hash(ss, e_pub, NOISE_PUBLIC_KEY_LEN);
	if (psk_mode)
		noise_mix_key(ss, e_pub, NOISE_PUBLIC_KEY_LEN);
}

int noise_ik_write_e_es_s_ss(struct noise_symmetric *ss, bool psk_mode,
			     const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
			     const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN],
			     const uint8_t s_pub[static NOISE_PUBLIC_KEY_LEN],
			     const uint8_t rs[static NOISE_PUBLIC_KEY_LEN],
			     const uint8_t ss_dh[static NOISE_PUBLIC_KEY_LEN],
			     uint8_t e_out[static NOISE_PUBLIC_KEY_LEN],
			     uint8_t s_out[static NOISE_ENCRYPTED_STATIC_LEN])
{
	int r;

	memcpy(e_out, e_pub, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, e_pub);
	r = noise_mix_dh(ss, e_priv, rs);
	if (r < 0)
		return r;
	r = noise_encrypt_and_hash(ss, s_out, s_pub, NOISE_PUBLIC_KEY_LEN);
	if (r < 0)
		return r;
	noise_mix_key(ss, ss_dh, NOISE_PUBLIC_KEY_LEN);
	return 0;
}

int noise_ik_read_e_es_s(struct noise_symmetric *ss, bool psk_mode,
			 const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
			 const uint8_t e_in[static NOISE_PUBLIC_KEY_LEN],
			 const uint8_t s_in[static NOISE_ENCRYPTED_STATIC_LEN],
			 uint8_t re[static NOISE_PUBLIC_KEY_LEN], uint8_t rs[static NOISE_PUBLIC_KEY_LEN])
{
	int r;

	memcpy(re, e_in, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, re);
	r = noise_mix_dh(ss, s_priv, re);
	if (r < 0)
		return r;
	return noise_decrypt_and_hash(ss, rs, s_in, NOISE_ENCRYPTED_STATIC_LEN);
}

void noise_ik_read_ss(struct noise_symmetric *ss, const uint8_t ss_dh[static NOISE_PUBLIC_KEY_LEN])
{
	noise_mix_key(ss, ss_dh, NOISE_PUBLIC_KEY_LEN);
}

int noise_ik_write_e_ee_se(struct noise_symmetric *ss, bool psk_mode, const uint8_t *psk,
			   const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
			   const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN],
			   const uint8_t re[static NOISE_PUBLIC_KEY_LEN],
			   const uint8_t rs[static NOISE_PUBLIC_KEY_LEN],
			   uint8_t e_out[static NOISE_PUBLIC_KEY_LEN])
{
	int r;

	memcpy(e_out, e_pub, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, e_pub);
	r = noise_mix_dh(ss, e_priv, re);
	if (r < 0)
		return r;
	r = noise_mix_dh(ss, e_priv, rs);
	if (r < 0)
		return r;
	if (psk_mode)
		noise_mix_key_and_hash(ss, psk, NOISE_SYMMETRIC_KEY_LEN);
	return 0;
}

int noise_ik_read_e_ee_se(struct noise_symmetric *ss, bool psk_mode, const uint8_t *psk,
			  const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
			  const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
			  const uint8_t e_in[static NOISE_PUBLIC_KEY_LEN],
			  uint8_t re[static NOISE_PUBLIC_KEY_LEN])
{
	int r;

	memcpy(re, e_in, NOISE_PUBLIC_KEY_LEN);
	token_e(ss, psk_mode, re);
	r = noise_mix_dh(ss, e_priv, re);
	if (r < 0)
		return r;
	r = noise_mix_dh(ss, s_priv, re);
	if (r < 0)
		return r;
	if (psk_mode)
		noise_mix_key_and_hash(ss, psk, NOISE_SYMMETRIC_KEY_LEN);
	return 0;
}

int noise_generate_keypair(uint8_t priv[static NOISE_PRIVATE_KEY_LEN],
			   uint8_t pub[static NOISE_PUBLIC_KEY_LEN])
{
	keys_generate_private(priv);
	return keys_public_from_private(pub, priv);
}

/* ---- Layer 2: a whole handshake in Noise's own layout ----------------- */

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

/* Noise's layout: message 1 is e || s || payload, message 2 e || payload. */
enum {
	IK_MSG1_S = NOISE_PUBLIC_KEY_LEN,
	IK_MSG1_PAYLOAD = IK_MSG1_S + NOISE_ENCRYPTED_STATIC_LEN,
	IK_MSG2_PAYLOAD = NOISE_PUBLIC_KEY_LEN,
};

size_t noise_ik_message_len(unsigned msg_index, size_t payload_len)
{
	return (msg_index == 0 ? IK_MSG1_PAYLOAD : IK_MSG2_PAYLOAD) + payload_len +
	       NOISE_AUTHTAG_LEN;
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
		r = noise_generate_keypair(hs->e_priv, hs->e_pub);
	if (r < 0)
		goto out;
	if (idx == 0) {
		r = keys_dh(ss_dh, hs->s_priv, hs->rs);
		if (r < 0)
			goto out;
		r = noise_ik_write_e_es_s_ss(&next, hs->has_psk, hs->e_priv, hs->e_pub, hs->s_pub,
					     hs->rs, ss_dh, out, out + IK_MSG1_S);
		if (r < 0)
			goto out;
		r = noise_encrypt_and_hash(&next, out + IK_MSG1_PAYLOAD, payload, payload_len);
	} else {
		r = noise_ik_write_e_ee_se(&next, hs->has_psk, hs->psk, hs->e_priv, hs->e_pub,
					   hs->re, hs->rs, out);
		if (r < 0)
			goto out;
		r = noise_encrypt_and_hash(&next, out + IK_MSG2_PAYLOAD, payload, payload_len);
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
		r = noise_ik_read_e_es_s(&next, hs->has_psk, hs->s_priv, msg, msg + IK_MSG1_S, re,
					 rs);
		if (r < 0)
			goto out;
		r = keys_dh(ss_dh, hs->s_priv, rs);
		if (r < 0)
			goto out;
		noise_ik_read_ss(&next, ss_dh);
		r = noise_decrypt_and_hash(&next, payload, msg + IK_MSG1_PAYLOAD,
					   len - IK_MSG1_PAYLOAD);
		if (r < 0)
			goto out;
		memcpy(hs->rs, rs, sizeof(rs));
	} else {
		r = noise_ik_read_e_ee_se(&next, hs->has_psk, hs->psk, hs->e_priv, hs->s_priv, msg,
					  re);
		if (r < 0)
			goto out;
		r = noise_decrypt_and_hash(&next, payload, msg + IK_MSG2_PAYLOAD,
					   len - IK_MSG2_PAYLOAD);
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
