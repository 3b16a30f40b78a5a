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
 * The counter is the sender's wall clock in microseconds since the Unix
 * epoch, strictly increasing per sender; receivers keep a 64-wide window. */
#ifndef RENDEZVOUS_ENVELOPE_H
#define RENDEZVOUS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
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
	RDV_REPLAY_WINDOW = 64,
	/* The server accepts counters within this distance of its own clock.
	 * Shorter than the lease, so a captured message expires before the
	 * registration (and its replay window) it could be replayed against. */
	RDV_FRESHNESS_MS = 60000,
};

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

/* Sliding window over counters (the highest seen and the 64 below it). */
struct rdv_replay {
	uint64_t top;
	uint64_t bitmap; /* bit i: top - i seen */
};

/* RDV_OK when counter is new, RDV_E_REPLAY otherwise. */
enum rdv_status rdv_replay_check(const struct rdv_replay *r, uint64_t counter);
void rdv_replay_update(struct rdv_replay *r, uint64_t counter);

/* RDV_OK when the counter's timestamp is within RDV_FRESHNESS_MS of
 * now_unix_ms, RDV_E_STALE otherwise. */
enum rdv_status rdv_timestamp_check(uint64_t counter, uint64_t now_unix_ms);

#endif
