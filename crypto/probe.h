/* Path probes (docs/PROTOCOL.md section 4): the small authenticated
 * datagrams two peers fire at each other's candidate endpoints while
 * punching. Only the two peers can make them. They are hints: the path
 * moves only on authenticated WireGuard traffic (tunnel/punch.c).
 *
 *   offset size  field
 *   0      1     type 0xf2 (DEMUX_TYPE_PROBE)
 *   1      1     kind: 1 request, 2 response
 *   2      1     key: 0 the pair's static probe key, 1 the session's
 *                (requests only; 0 in responses)
 *   3      1     reserved, zero
 *   4      8     token: random per request and burst, echoed by the response
 *   12     8     request: the sender's clock (ms) when sent; response: the
 *                length of the request it answers (bytes 12-13, big-endian),
 *                the rest zero
 *   20     n     request only: zero padding (n >= 0; a response has none)
 *   20+n   16    mac
 *
 *   static key  = BLAKE2s-256(key = DH(our static, peer static),
 *                             "tunnel path probe v2")
 *   session key = BLAKE2s-256(key = the sender's transport sending key,
 *                             "tunnel path probe session v2")
 *   mac         = BLAKE2s-128(key, sender's static public || bytes before mac)
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
	PROBE_KEY_OFFSET = 2,
	PROBE_TOKEN_OFFSET = 4,
	PROBE_TOKEN_LEN = 8,
	PROBE_STAMP_OFFSET = 12,
	PROBE_HEADER_LEN = 20,
	PROBE_MAC_LEN = 16,
	PROBE_LEN = PROBE_HEADER_LEN + PROBE_MAC_LEN, /* a response; the smallest request */
	PROBE_MAX_LEN = 9216,                        /* a padded request */
};

enum probe_kind {
	PROBE_REQUEST = 1,
	PROBE_RESPONSE = 2,
};

enum probe_key_kind {
	PROBE_KEY_STATIC = 0,
	PROBE_KEY_SESSION = 1,
};

struct probe {
	enum probe_kind kind;
	enum probe_key_kind key;  /* requests: which key made the MAC */
	uint64_t token;
	uint64_t sent_ms;         /* requests: the sender's clock */
	uint16_t acked_len;       /* responses: the length of the request */
	size_t len;               /* the whole datagram */
};

/* Derives the pair's static probe key from the static-static DH both peers
 * can compute (noise_handshake.precomputed_static_static). */
void probe_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		      const uint8_t static_static[static NOISE_PUBLIC_KEY_LEN]);

/* Derives a session's probe key from a transport key: the sender's sending
 * key, which is the receiver's receiving key of the same keypair. It dies
 * with the keypair, so a request made with it cannot be replayed later. */
void probe_session_key_derive(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			      const uint8_t transport_key[static NOISE_SYMMETRIC_KEY_LEN]);

/* Builds `p` (kind, key, token, sent_ms or acked_len; len: PROBE_LEN for a
 * response, PROBE_LEN..PROBE_MAX_LEN for a request) into `out`,
 * authenticated as coming from the holder of `sender_public`. -EINVAL if
 * the length does not fit the kind or `cap`. */
must_check int probe_build(uint8_t *out, size_t cap, const struct probe *p,
			   const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			   const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN]);

/* Reads a received datagram's header without authenticating it: -EINVAL
 * when the type, kind, key, reserved bytes, padding or length are wrong.
 * The caller picks the key from p->key, then calls probe_verify. */
must_check int probe_parse(const uint8_t *msg, size_t len, struct probe *p);

/* Checks the MAC made by `sender_public` with `key`: 0, or -EBADMSG. */
/* A fresh random token, never 0 (0 means "no request outstanding"). */
uint64_t probe_new_token(void);

must_check int probe_verify(const uint8_t *msg, size_t len,
			    const uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
			    const uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN]);

#endif
