/* Envelope crypto for rendezvous messages (layout in envelope.h).
 *
 * Why this construction: crypto_box cannot authenticate the clear header, so
 * we use XChaCha20-Poly1305-IETF with the header as associated data; changing
 * any header byte (direction, key, nonce) fails the tag. The key for each
 * direction is BLAKE2b-256("tunnel rdv v1" || dir || X25519 || peer_pk ||
 * server_pk): separate keys per direction mean the server's and the peer's
 * counters can never collide into a reused nonce, and a message cannot be
 * reflected back to its sender. Binding both public keys ties the key to
 * this exact pair. */
#include "rendezvous/envelope.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "common/bytes.h"
#include "rendezvous/demux.h"

static const char kdf_label[] = "tunnel rdv v1";

static void derive_dir(uint8_t out[static RDV_KEY_LEN], uint8_t dir,
		       const uint8_t shared[static crypto_scalarmult_BYTES],
		       const uint8_t peer_pk[static RDV_KEY_LEN],
		       const uint8_t server_pk[static RDV_KEY_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, RDV_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)kdf_label, sizeof(kdf_label) - 1);
	crypto_generichash_update(&st, &dir, 1);
	crypto_generichash_update(&st, shared, crypto_scalarmult_BYTES);
	crypto_generichash_update(&st, peer_pk, RDV_KEY_LEN);
	crypto_generichash_update(&st, server_pk, RDV_KEY_LEN);
	crypto_generichash_final(&st, out, RDV_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

int rdv_session_derive(struct rdv_session *s, const uint8_t own_sk[static RDV_KEY_LEN],
		       const uint8_t other_pk[static RDV_KEY_LEN],
		       const uint8_t peer_pk[static RDV_KEY_LEN],
		       const uint8_t server_pk[static RDV_KEY_LEN])
{
	uint8_t shared[crypto_scalarmult_BYTES];

	/* libsodium refuses low-order points (an all-zero result). */
	if (crypto_scalarmult(shared, own_sk, other_pk) != 0) {
		sodium_memzero(shared, sizeof(shared));
		return -EINVAL;
	}
	memcpy(s->peer_pk, peer_pk, RDV_KEY_LEN);
	derive_dir(s->key_up, RDV_DIR_UP, shared, peer_pk, server_pk);
	derive_dir(s->key_down, RDV_DIR_DOWN, shared, peer_pk, server_pk);
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

void rdv_session_wipe(struct rdv_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

enum rdv_status rdv_header_parse(const uint8_t *pkt, size_t len, struct rdv_header *h)
{
	if (len < RDV_OVERHEAD)
		return RDV_E_SHORT;
	if (pkt[0] != DEMUX_TYPE_RENDEZVOUS || pkt[1] != RDV_VERSION || pkt[2] > RDV_DIR_DOWN ||
	    pkt[3] != 0)
		return RDV_E_HEADER;
	if (len > RDV_DATAGRAM_MAX)
		return RDV_E_OVERSIZE_BODY;
	h->dir = (enum rdv_direction)pkt[2];
	h->peer_pk = pkt + 4;
	h->counter = load_be64(pkt + 36);
	return RDV_OK;
}

int rdv_seal(const struct rdv_session *s, enum rdv_direction dir, uint64_t counter,
	     const uint8_t random[static RDV_NONCE_RANDOM_LEN], const struct rdv_msg *msg,
	     uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t body[RDV_BODY_MAX];
	size_t body_len;
	unsigned long long clen;
	int r;

	r = rdv_body_encode(msg, body, sizeof(body), &body_len);
	if (r < 0)
		return r;
	if (cap < RDV_OVERHEAD + body_len)
		return -ENOBUFS;
	out[0] = DEMUX_TYPE_RENDEZVOUS;
	out[1] = RDV_VERSION;
	out[2] = (uint8_t)dir;
	out[3] = 0;
	memcpy(out + 4, s->peer_pk, RDV_KEY_LEN);
	store_be64(out + 36, counter);
	memcpy(out + 44, random, RDV_NONCE_RANDOM_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + RDV_HEADER_LEN, &clen, body, body_len,
						   out, RDV_HEADER_LEN, NULL, out + 36,
						   dir == RDV_DIR_UP ? s->key_up : s->key_down);
	*out_len = RDV_HEADER_LEN + (size_t)clen;
	return 0;
}

enum rdv_status rdv_open(const struct rdv_session *s, enum rdv_direction dir, const uint8_t *pkt,
			 size_t len, struct rdv_msg *msg, uint64_t *counter)
{
	uint8_t body[RDV_BODY_MAX];
	unsigned long long blen;
	struct rdv_header h;
	enum rdv_status st;

	st = rdv_header_parse(pkt, len, &h);
	if (st != RDV_OK)
		return st;
	if (h.dir != dir)
		return RDV_E_HEADER;
	if (sodium_memcmp(h.peer_pk, s->peer_pk, RDV_KEY_LEN) != 0)
		return RDV_E_WRONG_KEY;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, &blen, NULL, pkt + RDV_HEADER_LEN,
						       len - RDV_HEADER_LEN, pkt, RDV_HEADER_LEN,
						       pkt + 36,
						       dir == RDV_DIR_UP ? s->key_up : s->key_down) != 0)
		return RDV_E_BAD_MAC;
	st = rdv_body_decode(body, (size_t)blen, msg);
	sodium_memzero(body, sizeof(body));
	if (st == RDV_OK)
		*counter = h.counter;
	return st;
}

uint32_t rdv_epoch_new(void)
{
	uint32_t e;

	do
		e = randombytes_random() & ((UINT32_C(1) << RDV_EPOCH_BITS) - 1);
	while (e == 0);
	return e;
}

void rdv_replay_reset(struct rdv_replay *r, uint32_t epoch)
{
	r->epoch = epoch;
	replay_init(&r->window);
}

enum rdv_status rdv_replay_check(const struct rdv_replay *r, uint64_t counter)
{
	if (r->epoch == 0 || rdv_counter_epoch(counter) != r->epoch)
		return RDV_E_REPLAY;
	return replay_check(&r->window, rdv_counter_seq(counter)) ? RDV_OK : RDV_E_REPLAY;
}

void rdv_replay_update(struct rdv_replay *r, uint64_t counter)
{
	if (rdv_counter_epoch(counter) == r->epoch)
		replay_update(&r->window, rdv_counter_seq(counter));
}
