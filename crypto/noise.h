/* WireGuard v1's handshake (whitepaper §5.4), built on the generic Noise
 * layers of crypto/noise_core.h: IKpsk2 with the construction
 * "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", the identifier
 * "WireGuard v1 zx2c4 Jason@zx2c4.com" as prologue, a TAI64N timestamp as
 * the first payload, an empty second payload, a psk of zeros when none is
 * configured, and sender/receiver indexes around it, in the messages of
 * crypto/messages.h. It runs the same IK token steps as the published
 * vectors. MAC1/MAC2 are crypto/cookie.h's job: add them after create_*,
 * check them before consume_*.
 *
 * No I/O and no clock reads: callers pass the TAI64N timestamp and now_ms.
 * Every function wipes its intermediate secrets on all exit paths. */
#ifndef CRYPTO_NOISE_H
#define CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"
#include "crypto/session.h"

#define NOISE_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
/* The prologue of a bridge-mode link (docs/PROTOCOL.md 2.6):
 * knowingly not WireGuard, so neither a routed link nor a stock WireGuard
 * peer can complete a handshake with a bridging one. */
#define NOISE_IDENTIFIER_BRIDGE "tunnel bridge v1: Ethernet frames, not IP packets"

/* Which prologue our handshakes use: the link's Mode. */
enum noise_mode {
	NOISE_MODE_ROUTED,	/* WireGuard's own identifier */
	NOISE_MODE_BRIDGE,	/* NOISE_IDENTIFIER_BRIDGE */
};

/* Our static identity. */
struct noise_local {
	uint8_t private_key[NOISE_PRIVATE_KEY_LEN];
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	enum noise_mode mode;	/* NOISE_MODE_ROUTED after noise_local_init */
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

/* One per peer, owned by the engine's peer. The first block is set once by
 * noise_handshake_init; the rest is the handshake in flight. */
struct noise_handshake {
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];

	/* Newest TAI64N accepted from this peer: older or equal is a replay. */
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	/* When we last consumed an initiation (for the flood limit of
	 * INITIATIONS_PER_SECOND); valid when has_consumed_initiation. */
	uint64_t last_initiation_consumed_ms;
	bool has_consumed_initiation;

	enum noise_handshake_state state;
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t ephemeral_private[NOISE_PRIVATE_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint32_t local_index;	/* ours, the peer echoes it as receiver */
	uint32_t remote_index;	/* the peer's sender index */
};

/* Called by consume_initiation with the initiator's decrypted static key:
 * the engine returns that peer's handshake, or NULL for an unknown key. */
typedef struct noise_handshake *(*noise_lookup_fn)(void *ctx,
						   const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]);

/* Sets our identity from a private key (derives the public one). */
must_check int noise_local_init(struct noise_local *local,
				const uint8_t private_key[static NOISE_PRIVATE_KEY_LEN]);
void noise_local_clear(struct noise_local *local);

/* Prepares a peer: remembers its key and psk (NULL: none, i.e. zeros) and
 * precomputes DH(our static, its static). -EINVAL for a low-order key or
 * our own key. */
must_check int noise_handshake_init(struct noise_handshake *hs, const struct noise_local *local,
				    const uint8_t remote_static[static NOISE_PUBLIC_KEY_LEN],
				    const uint8_t *preshared_key);

/* Forgets the handshake in flight (keeps the peer's keys and timestamps). */
void noise_handshake_clear(struct noise_handshake *hs);

/* Wipes everything, the peer's keys included. */
void noise_handshake_destroy(struct noise_handshake *hs);

/* A random 32-bit index. The engine keeps the index table: it draws with
 * this, retries on a collision, and passes the result as sender_index. */
uint32_t noise_index_random(void);

/* Builds an initiation (MACs zero) into `out` for `hs`'s peer, with our
 * `sender_index` and the current TAI64N `timestamp`. Any earlier handshake
 * in flight is replaced. */
must_check int noise_create_initiation(struct noise_handshake *hs, const struct noise_local *local,
				       uint32_t sender_index,
				       const uint8_t timestamp[static NOISE_TIMESTAMP_LEN],
				       uint8_t out[static MESSAGE_INITIATION_LEN]);

/* Consumes an initiation whose header and MAC1 the caller has validated.
 * Decrypts the initiator's static key, asks `lookup` for its peer, checks
 * the timestamp is newer than the last accepted one and the flood limit,
 * then commits it into that peer's handshake (*out_hs).
 * -EBADMSG: does not decrypt; -ENOENT: unknown peer; -EALREADY: replayed
 * timestamp; -EPROTONOSUPPORT: a whole, authentic initiation from that
 * peer, but with the other mode's prologue (a Mode mismatch, not a bad key); -EBUSY: more than INITIATIONS_PER_SECOND; -EINVAL: bad length
 * or low-order key. Nothing changes on error. */
must_check int noise_consume_initiation(const struct noise_local *local, const uint8_t *msg,
					size_t len, noise_lookup_fn lookup, void *ctx,
					uint64_t now_ms, struct noise_handshake **out_hs);

/* Builds the response (MACs zero) to the initiation just consumed.
 * -EPROTO if none was. */
must_check int noise_create_response(struct noise_handshake *hs, uint32_t sender_index,
				     uint8_t out[static MESSAGE_RESPONSE_LEN]);

/* Consumes a response (header and MAC1 validated by the caller) to the
 * initiation we created; the engine found `hs` by the receiver index.
 * -EPROTO: no initiation pending; -ENOENT: wrong receiver index;
 * -EBADMSG: does not authenticate. Nothing changes on error. */
must_check int noise_consume_response(struct noise_handshake *hs, const struct noise_local *local,
				      const uint8_t *msg, size_t len);

/* After create_response (responder) or consume_response (initiator):
 * derives the transport keypair into `kp` (born at now_ms) and clears the
 * handshake in flight. Hand `kp` to session_keypairs_insert(). -EPROTO in
 * any other state. */
must_check int noise_derive_keypair(struct noise_handshake *hs, struct keypair *kp,
				    uint64_t now_ms);

#endif
