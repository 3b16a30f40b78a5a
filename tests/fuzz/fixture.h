/* The fixed world the fuzz targets parse against, shared with the seed
 * generator (make_seeds.c) so that seeds are valid for the targets:
 *  - a deterministic libsodium random source (installed before sodium_init),
 *    so every ephemeral key, index, cookie secret and nonce is the same on
 *    each run and a crash reproduces from its input alone;
 *  - two fixed WireGuard identities, "local" (the one the targets play) and
 *    "peer", with a psk, and the states a receiver holds before it
 *    authenticates anything: a cookie checker, a handshake waiting for a
 *    response, a cookie maker waiting for a reply, installed keypairs;
 *  - one valid message of each WireGuard type addressed to "local";
 *  - a fixed rendezvous session and a fixed path-probe key.
 * Test code only: nothing here is secret. */
#ifndef TESTS_FUZZ_FIXTURE_H
#define TESTS_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/messages.h"
#include "crypto/noise.h"
#include "crypto/probe.h"
#include "crypto/session.h"
#include "rendezvous/envelope.h"

enum fixture_consts {
	FIXTURE_NOW_MS = 10 * 1000,
	FIXTURE_SOURCE_LEN = 6,	/* 192.0.2.1:51820, as the engine encodes it */
	FIXTURE_DATA_MAX = 96,
	FIXTURE_DATA_SEEDS = 3,
	/* The engine's rendezvous client session and the server's (the
	 * client's last counter is sequence FIXTURE_RDV_CLIENT_SEQ, so a
	 * REGISTERED or CHALLENGE echoing sequence 1 of it is fresh). */
	FIXTURE_RDV_CLIENT_EPOCH = 0x0c11e7,
	FIXTURE_RDV_CLIENT_SEQ = 1000,
	FIXTURE_RDV_SERVER_EPOCH = 0x5e5e5e,
};

#define FIXTURE_RDV_ECHO (((uint64_t)FIXTURE_RDV_CLIENT_EPOCH << RDV_SEQ_BITS) | 1)

extern const uint8_t fixture_source[FIXTURE_SOURCE_LEN];

struct wg_fixture {
	struct noise_local local;
	struct noise_local peer;
	/* local's handshake with peer, nothing in flight (consume_initiation). */
	struct noise_handshake idle;
	/* the same after local sent `local_initiation` (consume_response). */
	struct noise_handshake pending;
	struct cookie_checker checker;	/* local's */
	struct cookie_maker maker;	/* local's, for peer, after sending mac1 */
	struct keypairs keypairs;	/* local's, after the handshake */

	/* Valid messages peer -> local. */
	uint8_t initiation[MESSAGE_INITIATION_LEN];
	uint8_t response[MESSAGE_RESPONSE_LEN];
	uint8_t cookie_reply[MESSAGE_COOKIE_LEN];
	uint8_t data[FIXTURE_DATA_SEEDS][FIXTURE_DATA_MAX];
	size_t data_len[FIXTURE_DATA_SEEDS];
	/* The initiation local sent to peer: the two messages above answer it. */
	uint8_t local_initiation[MESSAGE_INITIATION_LEN];
	/* Peer's sending half of `keypairs`, after it sealed `data` (its next
	 * counter is FIXTURE_DATA_SEEDS): lets a target seal more data. */
	struct keypair peer_keypair;
	uint8_t psk[NOISE_SYMMETRIC_KEY_LEN];
};

/* Installs the deterministic random source and calls sodium_init(). Call
 * once, first, before anything else touches libsodium. Aborts on failure. */
void fixture_sodium_init(void);

/* Builds the WireGuard world above (calls the RNG in a fixed order, so call
 * it right after fixture_sodium_init). Aborts on any failure. */
void fixture_wg_build(struct wg_fixture *f);

/* The rendezvous session between the fixed peer and server keys, and the
 * fixed keys themselves. */
void fixture_rdv_session(struct rdv_session *s, uint8_t peer_pk[static RDV_KEY_LEN],
			 uint8_t server_pk[static RDV_KEY_LEN]);

/* The rendezvous session as the fixed server sees it for a client whose
 * private key is `client_sk` (the engine registers with its link key), and
 * the server's public key. */
void fixture_rdv_server_session(struct rdv_session *s, const uint8_t client_sk[static RDV_KEY_LEN],
				uint8_t server_pk[static RDV_KEY_LEN]);

/* The random stream's position: a target that builds its world once can
 * rewind the stream before each input, so every input sees the same
 * "random" values and a finding reproduces from the input alone. */
uint64_t fixture_rng_tell(void);
void fixture_rng_seek(uint64_t pos);

/* The path-probe key of the fixed pair and the sender's public key. */
void fixture_probe_key(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		       uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN]);

/* A fixed key derived from one byte: 32 bytes of `v`, clamped. */
void fixture_private_key(uint8_t key[static NOISE_PRIVATE_KEY_LEN], uint8_t v);

/* abort() with a message when `ok` is false: the fixture is broken. */
void fixture_check(int ok, const char *what);

#endif
