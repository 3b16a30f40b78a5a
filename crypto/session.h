/* Transport keypairs (whitepaper §5.4.6): ChaCha20-Poly1305 seal/open of
 * type-4 messages with the 64-bit counter as nonce, in place in the caller's
 * buffer, plus the three keypair slots a peer keeps (current, previous,
 * next) and WireGuard's rotation rules:
 *  - a keypair we derived as initiator becomes `current` at once;
 *  - one we derived as responder waits in `next` until the first data
 *    message under it arrives (proof the initiator has it), then rotates in.
 * Limits come from crypto/messages.h. No allocation, no clock reads. */
#ifndef CRYPTO_SESSION_H
#define CRYPTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"
#include "crypto/replay.h"

struct keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t send_counter;		/* next nonce to use */
	struct replay_window replay;
	uint64_t birth_ms;		/* monotonic time of derivation */
	uint32_t local_index;		/* receiver index the peer puts in its data */
	uint32_t remote_index;		/* receiver index we put in ours */
	bool is_initiator;
	bool valid;
};

struct keypairs {
	struct keypair current;
	struct keypair previous;
	struct keypair next;
};

/* Length of a plaintext of `len` bytes once padded to a multiple of 16,
 * capped at `mtu` (never below `len`). The caller zero-fills the padding. */
size_t session_padded_len(size_t len, size_t mtu);

/* Bytes a data message of padded plaintext length `len` takes on the wire. */
static inline size_t session_message_len(size_t len)
{
	return MESSAGE_DATA_HEADER_LEN + len + NOISE_AUTHTAG_LEN;
}

/* Encrypts in place. `buf` holds 16 free header bytes, then `plain_len`
 * bytes of (padded) plaintext, then room for the 16-byte tag; `buf_len` is
 * its size. Writes the header (type 4, remote index, counter), sets
 * *out_len to the message length. -ESTALE when the keypair is past
 * REJECT_AFTER_TIME or its counter reached REJECT_AFTER_MESSAGES (do a new
 * handshake), -EINVAL for a bad buffer or invalid keypair. */
must_check int session_seal(struct keypair *kp, uint8_t *buf, size_t buf_len,
			    size_t plain_len, uint64_t now_ms, size_t *out_len);

/* Decrypts a validated data message in place. On success *plain points into
 * `buf` (offset 16) and *plain_len is the padded plaintext length, and the
 * counter is committed to the replay window. -EBADMSG: forged or corrupt;
 * -EALREADY: replayed or too old; -ESTALE: keypair expired; -EINVAL: wrong
 * receiver index or bad length. The buffer is untouched on -EALREADY/-ESTALE
 * and its ciphertext zeroed on -EBADMSG (libsodium's in-place decrypt). */
must_check int session_open(struct keypair *kp, uint8_t *buf, size_t len, uint64_t now_ms,
			    uint8_t **plain, size_t *plain_len);

/* After a send: true when the initiator should start a new handshake
 * (counter past REKEY_AFTER_MESSAGES, or it is the initiator and the keypair
 * is REKEY_AFTER_TIME old). */
bool session_should_rekey_on_send(const struct keypair *kp, uint64_t now_ms);

/* After a receive: true when the initiator's keypair is so old
 * (REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT) that it should
 * rekey before the keypair dies. */
bool session_should_rekey_on_receive(const struct keypair *kp, uint64_t now_ms);

/* True when the keypair may no longer be used (too old or counter spent). */
bool session_expired(const struct keypair *kp, uint64_t now_ms);

/* Empties all three slots. */
void session_keypairs_init(struct keypairs *kps);

/* Wipes all three slots (peer removed, or keys zeroed after
 * REJECT_AFTER_TIME * 3 without a handshake). */
void session_keypairs_clear(struct keypairs *kps);

/* Installs a keypair fresh from noise_derive_keypair(); `kp` is copied and
 * then wiped. Initiator: becomes current (the old current, or an unconfirmed
 * next, becomes previous). Responder: goes to next until confirmed. */
void session_keypairs_insert(struct keypairs *kps, struct keypair *kp);

/* The slot whose local index is `local_index`, or NULL. The pointer is valid
 * until the next insert/confirm on `kps`. */
struct keypair *session_keypairs_find(struct keypairs *kps, uint32_t local_index);

/* Opens a data message for this peer: finds the slot by receiver index,
 * session_open()s it, and if that slot was `next`, rotates it to current
 * (*rotated = true; the engine may now flush queued packets). Same errors as
 * session_open, plus -ENOENT when no slot has that index. */
must_check int session_keypairs_open(struct keypairs *kps, uint8_t *buf, size_t len,
				     uint64_t now_ms, uint8_t **plain, size_t *plain_len,
				     bool *rotated);

/* Seals with the current keypair. -ENOKEY when there is none (handshake
 * first), else as session_seal(). */
must_check int session_keypairs_seal(struct keypairs *kps, uint8_t *buf, size_t buf_len,
				     size_t plain_len, uint64_t now_ms, size_t *out_len);

/* Wipes one keypair. */
void session_keypair_clear(struct keypair *kp);

#endif
