/* Transport AEAD and keypair slots: see crypto/session.h.
 *
 * Data message: | type=4 (le32) | receiver (le32) | counter (le64) | AEAD |
 * AEAD = ChaCha20-Poly1305 IETF, key = direction key, nonce = 4 zero bytes
 * then the counter little-endian, empty associated data: Noise's ENCRYPT,
 * so it goes through noise_cipher_*, the one builder of that nonce. */
#include "crypto/session.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "common/bytes.h"
#include "crypto/noise_core.h"

size_t session_padded_len(size_t len, size_t mtu)
{
	size_t padded = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);

	if (padded < len)	/* overflow */
		return len;
	if (mtu && padded > mtu)
		padded = mtu > len ? mtu : len;
	return padded;
}

static bool too_old(const struct keypair *kp, uint64_t now_ms, uint64_t limit_ms)
{
	/* A clock that went backwards (it should not) counts as age 0. */
	return now_ms >= kp->birth_ms && now_ms - kp->birth_ms >= limit_ms;
}

bool session_expired(const struct keypair *kp, uint64_t now_ms)
{
	return !kp->valid || too_old(kp, now_ms, REJECT_AFTER_TIME_MS) ||
	       kp->send_counter >= REJECT_AFTER_MESSAGES;
}

int session_seal(struct keypair *kp, uint8_t *buf, size_t buf_len, size_t plain_len,
		 uint64_t now_ms, size_t *out_len)
{
	uint64_t counter;

	if (!kp->valid || !buf || plain_len > SIZE_MAX - MESSAGE_DATA_MIN_LEN ||
	    buf_len < session_message_len(plain_len))
		return -EINVAL;
	if (session_expired(kp, now_ms))
		return -ESTALE;
	counter = kp->send_counter++;
	store_le32(buf, MESSAGE_DATA);
	store_le32(buf + 4, kp->remote_index);
	store_le64(buf + 8, counter);
	/* In place: crypto/aead.c allows the output to be the input. */
	noise_cipher_encrypt(kp->send_key, counter, NULL, 0, buf + MESSAGE_DATA_HEADER_LEN,
			     plain_len, buf + MESSAGE_DATA_HEADER_LEN);
	*out_len = MESSAGE_DATA_HEADER_LEN + plain_len + NOISE_AUTHTAG_LEN;
	return 0;
}

int session_open(struct keypair *kp, uint8_t *buf, size_t len, uint64_t now_ms,
		 uint8_t **plain, size_t *plain_len)
{
	uint64_t counter;

	if (!kp->valid || message_validate_header(buf, len) != MESSAGE_DATA ||
	    load_le32(buf + 4) != kp->local_index)
		return -EINVAL;
	if (too_old(kp, now_ms, REJECT_AFTER_TIME_MS))
		return -ESTALE;
	counter = load_le64(buf + 8);
	/* Cheap check before the AEAD; committed only once it verified. */
	if (!replay_check(&kp->replay, counter))
		return -EALREADY;
	/* The header check guarantees at least the tag after the header. */
	if (noise_cipher_decrypt(kp->recv_key, counter, NULL, 0, buf + MESSAGE_DATA_HEADER_LEN,
				 len - MESSAGE_DATA_HEADER_LEN, buf + MESSAGE_DATA_HEADER_LEN) != 0)
		return -EBADMSG;
	replay_update(&kp->replay, counter);
	*plain = buf + MESSAGE_DATA_HEADER_LEN;
	*plain_len = len - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN;
	return 0;
}

bool session_should_rekey_on_send(const struct keypair *kp, uint64_t now_ms)
{
	return kp->valid && (kp->send_counter > REKEY_AFTER_MESSAGES ||
			     (kp->is_initiator && too_old(kp, now_ms, REKEY_AFTER_TIME_MS)));
}

bool session_should_rekey_on_receive(const struct keypair *kp, uint64_t now_ms)
{
	return kp->valid && kp->is_initiator &&
	       too_old(kp, now_ms,
		       REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS);
}

void session_keypair_clear(struct keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

void session_keypairs_init(struct keypairs *kps)
{
	sodium_memzero(kps, sizeof(*kps));
}

void session_keypairs_clear(struct keypairs *kps)
{
	session_keypair_clear(&kps->current);
	session_keypair_clear(&kps->previous);
	session_keypair_clear(&kps->next);
}

void session_keypairs_insert(struct keypairs *kps, struct keypair *kp)
{
	if (kp->is_initiator) {
		/* An unconfirmed next is newer than current, so it is the one
		 * the peer may still be sending with. */
		if (kps->next.valid) {
			kps->previous = kps->next;
			session_keypair_clear(&kps->next);
		} else {
			kps->previous = kps->current;
		}
		kps->current = *kp;
	} else {
		kps->next = *kp;
	}
	session_keypair_clear(kp);
}

struct keypair *session_keypairs_find(struct keypairs *kps, uint32_t local_index)
{
	if (kps->current.valid && kps->current.local_index == local_index)
		return &kps->current;
	if (kps->next.valid && kps->next.local_index == local_index)
		return &kps->next;
	if (kps->previous.valid && kps->previous.local_index == local_index)
		return &kps->previous;
	return NULL;
}

int session_keypairs_open(struct keypairs *kps, uint8_t *buf, size_t len, uint64_t now_ms,
			  uint8_t **plain, size_t *plain_len, bool *rotated)
{
	struct keypair *kp;
	int r;

	*rotated = false;
	if (message_validate_header(buf, len) != MESSAGE_DATA)
		return -EINVAL;
	kp = session_keypairs_find(kps, load_le32(buf + 4));
	if (!kp)
		return -ENOENT;
	r = session_open(kp, buf, len, now_ms, plain, plain_len);
	if (r < 0)
		return r;
	if (kp == &kps->next) {
		/* Responder's confirmation rule: the initiator used the new
		 * keypair, so it is safe for us to send with it too. */
		kps->previous = kps->current;
		kps->current = kps->next;
		session_keypair_clear(&kps->next);
		*rotated = true;
	}
	return 0;
}

int session_keypairs_seal(struct keypairs *kps, uint8_t *buf, size_t buf_len,
			  size_t plain_len, uint64_t now_ms, size_t *out_len)
{
	if (!kps->current.valid)
		return -ENOKEY;
	return session_seal(&kps->current, buf, buf_len, plain_len, now_ms, out_len);
}
