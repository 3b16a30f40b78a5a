/* The generic Noise layers (Noise spec rev. 34), independent of WireGuard:
 * crypto/noise.h builds WireGuard's handshake on top of them.
 *
 * Layer 1, the SymmetricState (§5.2) with BLAKE2s, HMAC-BLAKE2s/HKDF and
 * ChaCha20-Poly1305: noise_symmetric_*, noise_mix_*, noise_cipher_*.
 *
 * Layer 2, the IK / IKpsk2 message pattern with any prologue:
 *     <- s
 *     ...
 *     -> e, es, s, ss
 *     <- e, ee, se[, psk]
 * as token steps (noise_ik_write_e_es_s_ss, ...) that write or read their
 * fields wherever the caller's message layout puts them, and as a complete
 * handshake object over Noise's own contiguous layout (noise_ik_*), which
 * the published-vector tests drive.
 *
 * No I/O, no clock reads. Every function wipes its intermediate secrets. */
#ifndef CRYPTO_NOISE_CORE_H
#define CRYPTO_NOISE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IK_NAME "Noise_IK_25519_ChaChaPoly_BLAKE2s"

enum noise_ik_lengths {
	/* The `s` token: a static public key and its tag. */
	NOISE_ENCRYPTED_STATIC_LEN = NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN,
};

/* ---- Layer 1: symmetric state ---------------------------------------- */

struct noise_symmetric {
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
	uint8_t k[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t n;
	bool has_k;
};

/* InitializeSymmetric(protocol_name) then MixHash(prologue). */
void noise_symmetric_init(struct noise_symmetric *ss, const char *protocol_name,
			  const uint8_t *prologue, size_t prologue_len);
void noise_mix_hash(struct noise_symmetric *ss, const uint8_t *data, size_t len);
void noise_mix_key(struct noise_symmetric *ss, const uint8_t *ikm, size_t len);
void noise_mix_key_and_hash(struct noise_symmetric *ss, const uint8_t *ikm, size_t len);
/* MixKey(DH(priv, pub)); -EINVAL for a low-order `pub`. */
must_check int noise_mix_dh(struct noise_symmetric *ss, const uint8_t priv[static NOISE_PRIVATE_KEY_LEN],
			    const uint8_t pub[static NOISE_PUBLIC_KEY_LEN]);
/* Writes len (+16 once a key is set) bytes to `out`. -EOVERFLOW when the
 * nonce is spent. */
must_check int noise_encrypt_and_hash(struct noise_symmetric *ss, uint8_t *out,
				      const uint8_t *plain, size_t len);
/* `len` includes the tag when a key is set. -EBADMSG on a bad tag. */
must_check int noise_decrypt_and_hash(struct noise_symmetric *ss, uint8_t *out,
				      const uint8_t *cipher, size_t len);
/* Split(): the two CipherState keys (initiator->responder first). */
void noise_split(const struct noise_symmetric *ss, uint8_t k1[static NOISE_SYMMETRIC_KEY_LEN],
		 uint8_t k2[static NOISE_SYMMETRIC_KEY_LEN]);
void noise_symmetric_clear(struct noise_symmetric *ss);

/* ENCRYPT(k, n, ad, plain) of Noise's ChaChaPoly: nonce = 32 zero bits then
 * n little-endian, the one place that nonce is built (WireGuard's transport
 * data uses it too). `out` gets len + 16 bytes and may equal `plain`. */
void noise_cipher_encrypt(const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint64_t n,
			  const uint8_t *ad, size_t ad_len, const uint8_t *plain, size_t len,
			  uint8_t *out);
/* DECRYPT; `len` includes the tag, `out` may equal `cipher`. -EBADMSG on a
 * bad tag or a `len` shorter than the tag. */
must_check int noise_cipher_decrypt(const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN], uint64_t n,
				    const uint8_t *ad, size_t ad_len, const uint8_t *cipher,
				    size_t len, uint8_t *out);

/* GENERATE_KEYPAIR(): a fresh random X25519 key pair (for `e`). */
must_check int noise_generate_keypair(uint8_t priv[static NOISE_PRIVATE_KEY_LEN],
				      uint8_t pub[static NOISE_PUBLIC_KEY_LEN]);

/* ---- Layer 2: the IK / IKpsk2 token steps ------------------------------ */

/* Each runs the tokens of one message (before its payload, which follows
 * with noise_encrypt_and_hash / noise_decrypt_and_hash) on `ss`, which holds
 * the state after the pre-message. `psk_mode` selects IKpsk2, where the `e`
 * token also mixes e into the key. They stop at the first failure and leave
 * `ss` half-updated: run them on a copy and commit it on success. */

/* Initiator, message 1: e, es, s, ss. `ss_dh` is DH(s, rs), which WireGuard
 * precomputes per peer. Writes e.pub to `e_out` and the encrypted s.pub to
 * `s_out`. */
must_check int noise_ik_write_e_es_s_ss(struct noise_symmetric *ss, bool psk_mode,
					const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
					const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN],
					const uint8_t s_pub[static NOISE_PUBLIC_KEY_LEN],
					const uint8_t rs[static NOISE_PUBLIC_KEY_LEN],
					const uint8_t ss_dh[static NOISE_PUBLIC_KEY_LEN],
					uint8_t e_out[static NOISE_PUBLIC_KEY_LEN],
					uint8_t s_out[static NOISE_ENCRYPTED_STATIC_LEN]);

/* Responder, message 1 up to the initiator's identity: e, es, s. Gives the
 * initiator's ephemeral `re` and static `rs`; the caller then computes or
 * looks up DH(s, rs) and runs the last token with noise_ik_read_ss.
 * -EBADMSG when `s_in` does not decrypt. */
must_check int noise_ik_read_e_es_s(struct noise_symmetric *ss, bool psk_mode,
				    const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
				    const uint8_t e_in[static NOISE_PUBLIC_KEY_LEN],
				    const uint8_t s_in[static NOISE_ENCRYPTED_STATIC_LEN],
				    uint8_t re[static NOISE_PUBLIC_KEY_LEN],
				    uint8_t rs[static NOISE_PUBLIC_KEY_LEN]);

/* Responder, message 1: the `ss` token with `ss_dh` = DH(s, rs). */
void noise_ik_read_ss(struct noise_symmetric *ss, const uint8_t ss_dh[static NOISE_PUBLIC_KEY_LEN]);

/* Responder, message 2: e, ee, se[, psk]. `psk` is read in psk mode only. */
must_check int noise_ik_write_e_ee_se(struct noise_symmetric *ss, bool psk_mode,
				      const uint8_t *psk,
				      const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
				      const uint8_t e_pub[static NOISE_PUBLIC_KEY_LEN],
				      const uint8_t re[static NOISE_PUBLIC_KEY_LEN],
				      const uint8_t rs[static NOISE_PUBLIC_KEY_LEN],
				      uint8_t e_out[static NOISE_PUBLIC_KEY_LEN]);

/* Initiator, message 2: e, ee, se[, psk]. Gives the responder's `re`. */
must_check int noise_ik_read_e_ee_se(struct noise_symmetric *ss, bool psk_mode,
				     const uint8_t *psk,
				     const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN],
				     const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
				     const uint8_t e_in[static NOISE_PUBLIC_KEY_LEN],
				     uint8_t re[static NOISE_PUBLIC_KEY_LEN]);

/* ---- Layer 2: a whole IK / IKpsk2 handshake ----------------------------- */

/* Messages are Noise's own layout: e || [encrypted s ||] encrypted payload. */
struct noise_ik {
	struct noise_symmetric ss;
	bool initiator;
	bool has_psk;		/* IKpsk2 instead of IK */
	bool e_injected;	/* test hook (crypto/noise_test_hooks.h) */
	int step;		/* messages processed: 0, 1, 2 (done) */
	uint8_t psk[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t s_priv[NOISE_PRIVATE_KEY_LEN];
	uint8_t s_pub[NOISE_PUBLIC_KEY_LEN];
	uint8_t e_priv[NOISE_PRIVATE_KEY_LEN];
	uint8_t e_pub[NOISE_PUBLIC_KEY_LEN];
	uint8_t rs[NOISE_PUBLIC_KEY_LEN];
	uint8_t re[NOISE_PUBLIC_KEY_LEN];
};

/* Starts an IK (psk == NULL) or IKpsk2 handshake. The initiator must know
 * the responder's static `rs`; the responder passes NULL and learns it from
 * message 1. */
must_check int noise_ik_init(struct noise_ik *hs, bool initiator, const uint8_t *prologue,
			     size_t prologue_len, const uint8_t s_priv[static NOISE_PRIVATE_KEY_LEN],
			     const uint8_t *rs, const uint8_t *psk);

/* Noise message lengths for a payload of `payload_len` bytes. */
size_t noise_ik_message_len(unsigned msg_index, size_t payload_len);

/* WriteMessage: message 1 by the initiator, message 2 by the responder.
 * -EPROTO out of turn, -ENOSPC for a short `out`. */
must_check int noise_ik_write_message(struct noise_ik *hs, const uint8_t *payload,
				      size_t payload_len, uint8_t *out, size_t out_size,
				      size_t *out_len);

/* ReadMessage: the payload goes to `payload` (at least len - 96 for
 * message 1, len - 48 for message 2). -EBADMSG when it does not
 * authenticate, -EPROTO out of turn, -EINVAL bad length. */
must_check int noise_ik_read_message(struct noise_ik *hs, const uint8_t *msg, size_t len,
				     uint8_t *payload, size_t payload_size, size_t *payload_len);

/* After both messages: our sending and receiving keys. */
must_check int noise_ik_split(const struct noise_ik *hs, uint8_t send_key[static NOISE_SYMMETRIC_KEY_LEN],
			      uint8_t recv_key[static NOISE_SYMMETRIC_KEY_LEN]);

void noise_ik_clear(struct noise_ik *hs);

#endif
