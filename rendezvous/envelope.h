/* The rendezvous envelope (docs/PROTOCOL.md section 3.1): the clear 60-byte
 * header, XChaCha20-Poly1305 over the msgpack body with the header as
 * associated data, per-direction keys derived from X25519 between the peer's
 * static key and the pinned server key, and the replay window.
 *
 *   offset size  field
 *   0      1     type 0xf1 (DEMUX_TYPE_RENDEZVOUS)
 *   1      1     version 1
 *   2      1     direction: 0 peer -> server, 1 server -> peer
 *   3      1     reserved, 0
 *   4      32    the peer's public key (sender upstream, recipient downstream)
 *   36     24    nonce: 8-byte big-endian counter || 16 random bytes
 *   60     n+16  ciphertext of the n-byte body, then the Poly1305 tag
 *
 * The counter is no clock: its top RDV_EPOCH_BITS bits are the sender's
 * session (random, non-zero, drawn when the client or server starts) and the
 * rest a sequence number from 1, one per message. Receivers keep a
 * WireGuard-sized window (crypto/replay.h) over the sequence of one session;
 * which session they accept is settled by the cookie exchange (proto.h). */
#ifndef RENDEZVOUS_ENVELOPE_H
#define RENDEZVOUS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/replay.h"
#include "rendezvous/proto.h"

enum rdv_envelope_limits {
	RDV_VERSION = 1,
	RDV_HEADER_LEN = 60,
	RDV_COUNTER_LEN = 8,
	RDV_NONCE_LEN = 24,
	RDV_NONCE_RANDOM_LEN = 16,
	RDV_TAG_LEN = 16,
	RDV_OVERHEAD = RDV_HEADER_LEN + RDV_TAG_LEN,
	RDV_DATAGRAM_MAX = RDV_OVERHEAD + RDV_BODY_MAX,
	RDV_EPOCH_BITS = 24,
	RDV_SEQ_BITS = 64 - RDV_EPOCH_BITS,
};

#define RDV_SEQ_MASK ((UINT64_C(1) << RDV_SEQ_BITS) - 1)

/* The session and sequence halves of a nonce counter. */
static inline uint32_t rdv_counter_epoch(uint64_t counter)
{
	return (uint32_t)(counter >> RDV_SEQ_BITS);
}

static inline uint64_t rdv_counter_seq(uint64_t counter)
{
	return counter & RDV_SEQ_MASK;
}

/* A new random session: non-zero, RDV_EPOCH_BITS wide. */
uint32_t rdv_epoch_new(void);

enum rdv_direction {
	RDV_DIR_UP = 0,   /* peer -> server */
	RDV_DIR_DOWN = 1, /* server -> peer */
};

/* Keys shared by one peer and the server. Wipe with rdv_session_wipe(). */
struct rdv_session {
	uint8_t peer_pk[RDV_KEY_LEN];
	uint8_t key_up[RDV_KEY_LEN];
	uint8_t key_down[RDV_KEY_LEN];
};

/* Derives both directions' keys. The peer calls it with its private key and
 * the server's public key, the server with its private key and the peer's
 * public key; both get the same session. Returns 0, or -EINVAL if the other
 * key is a low-order point (all-zero shared secret). */
must_check int rdv_session_derive(struct rdv_session *s, const uint8_t own_sk[static RDV_KEY_LEN],
				  const uint8_t other_pk[static RDV_KEY_LEN],
				  const uint8_t peer_pk[static RDV_KEY_LEN],
				  const uint8_t server_pk[static RDV_KEY_LEN]);

void rdv_session_wipe(struct rdv_session *s);

/* The clear header, parsed without any crypto. peer_pk points into pkt. */
struct rdv_header {
	enum rdv_direction dir;
	const uint8_t *peer_pk;
	uint64_t counter;
};

/* Checks the header and the minimum length; cheap, so run it first. */
enum rdv_status rdv_header_parse(const uint8_t *pkt, size_t len, struct rdv_header *h);

/* Encodes and encrypts msg into out. `random` fills the nonce's last 16
 * bytes (randombytes_buf in production, fixed in golden tests). */
must_check int rdv_seal(const struct rdv_session *s, enum rdv_direction dir, uint64_t counter,
			const uint8_t random[static RDV_NONCE_RANDOM_LEN], const struct rdv_msg *msg,
			uint8_t *out, size_t cap, size_t *out_len);

/* Authenticates, decrypts and decodes a datagram sent in direction `dir`
 * under session s. Does not check replay: callers check the returned counter
 * with rdv_replay_check() and commit it with rdv_replay_update() only once
 * they accept the message. */
enum rdv_status rdv_open(const struct rdv_session *s, enum rdv_direction dir, const uint8_t *pkt,
			 size_t len, struct rdv_msg *msg, uint64_t *counter);

/* Replay window of one peer session: the sequence halves of the counters
 * of session `epoch` (0: none yet, every counter is refused). */
struct rdv_replay {
	uint32_t epoch;
	struct replay_window window;
};

/* Starts over for session epoch (a new session was proven fresh). */
void rdv_replay_reset(struct rdv_replay *r, uint32_t epoch);

/* RDV_OK when counter belongs to r's session and is new, RDV_E_REPLAY
 * otherwise (another session, seen, or left of the window). */
enum rdv_status rdv_replay_check(const struct rdv_replay *r, uint64_t counter);

/* Records counter; call after rdv_replay_check() said RDV_OK and the message
 * was accepted. */
void rdv_replay_update(struct rdv_replay *r, uint64_t counter);

#endif
