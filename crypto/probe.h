/* Path probes (docs/PROTOCOL.md section 4): the small authenticated
 * datagrams two peers fire at each other's candidate endpoints while
 * punching. Only the two peers can make them, so nobody can steer the path.
 *
 *   offset size  field
 *   0      1     type 0xf2 (DEMUX_TYPE_PROBE)
 *   1      1     kind: 1 request, 2 response
 *   2      2     reserved, zero
 *   4      8     token: random per request, echoed by the response
 *   12     16    mac
 *
 *   probe_key = BLAKE2s-256(key = DH(our static, peer static),
 *                           "tunnel path probe v1")
 *   mac       = BLAKE2s-128(key = probe_key, sender's static public || bytes 0..12)
 *
 * The sender's public key inside the MAC makes a probe valid in one
 * direction only: a probe reflected back at its sender does not verify.
 * No I/O, no clock. */
#ifndef CRYPTO_PROBE_H
#define CRYPTO_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"

enum probe_layout {
	PROBE_TYPE = 0xf2,
	PROBE_LEN = 28,
	PROBE_TOKEN_OFFSET = 4,
	PROBE_TOKEN_LEN = 8,
	PROBE_MAC_OFFSET = 12,
	PROBE_MAC_LEN = 16,
};

enum probe_kind {
	PROBE_REQUEST = 1,
	PROBE_RESPONSE = 2,
};

/* Derives the pair's probe key from the static-static DH both peers can
 * compute (noise_handshake.precomputed_static_static). */
void probe_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t static_static[static NOISE_PUBLIC_KEY_LEN]);

/* Builds a probe of `kind` carrying `token`, authenticated as coming from
 * the holder of `sender_public`. */
void probe_build(uint8_t out[static PROBE_LEN], const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		 const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN], enum probe_kind kind,
		 uint64_t token);

/* Checks a received datagram: exact length, type, kind, zero reserved
 * bytes and a MAC made by `sender_public`. -EINVAL malformed, -EBADMSG bad
 * MAC; on success sets *kind and *token. */
must_check int probe_parse(const uint8_t *msg, size_t len,
			   const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			   const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN],
			   enum probe_kind *kind, uint64_t *token);

#endif
