/* Rendezvous messages: the plain structs every other file uses, and the only
 * code that touches msgpack-c (proto.c). docs/PROTOCOL.md section 3 is the
 * prose; this table is the same contract in brief.
 *
 * A message body is one msgpack map with string keys. Key "t" (uint) is the
 * message type; the other keys depend on it. Every listed key is required,
 * no other key is allowed, none may repeat, nesting is at most 2 (the map and
 * the arrays in it). An endpoint is a bin of 6 bytes (IPv4 address, port) or
 * 18 bytes (IPv6 address, port), port big-endian and non-zero. A key is a
 * bin of exactly 32 bytes (X25519 public key).
 *
 *   t  message      direction       fields
 *   1  REGISTER     peer -> server  "lan":    array of 0..8 endpoints (the peer's LAN candidates)
 *                                   "want":   array of 0..16 keys (peers it wants to reach)
 *                                   "cookie": bin of 16 (the last CHALLENGE's, or 16 zero bytes)
 *                                   "again":  uint 0..1 (1: send every introduction again)
 *                                   (the peer's own key is the envelope's key, section 3.1)
 *   2  REGISTERED   server -> peer  "refl":  endpoint (the source address the server saw)
 *                                   "lease": uint 1..86400 (seconds until the registration expires)
 *                                   "echo":  uint (the nonce counter of the REGISTER answered)
 *   3  INTRODUCE    server -> peer  "peer": key (the other peer)
 *                                   "refl": endpoint (its reflexive endpoint)
 *                                   "lan":  array of 0..8 endpoints (its LAN candidates)
 *   4  RELAY        both            "peer": key (upstream: destination; downstream: origin)
 *                                   "data": bin of 1..1600 bytes (opaque, end-to-end encrypted)
 *   5  ERROR        server -> peer  "code": uint, enum rdv_error_code
 *                                   "peer": key (the peer the failed request named, or 32 zero bytes)
 *   6  CHALLENGE    server -> peer  "echo":   uint (the nonce counter of the message answered)
 *                                   "cookie": bin of 16 (to repeat in a REGISTER from the same
 *                                             address and session)
 *   7  CHANNEL_OPEN peer -> server  "peer": key (the peer to relay to, as RELAY's "peer")
 *                                   "chan": bin of 8 (the channel id held for it, or zeros)
 *   8  CHANNEL      server -> peer  "peer": key (the other end of the channel)
 *                                   "chan": bin of 8 (the channel id: relay datagrams 0xf3)
 *
 * Return routability and freshness, without clocks (docs/PROTOCOL.md 3.3):
 * the server acts on a REGISTER only with a valid cookie, or from the
 * address and session it already verified; anything else is answered by a
 * CHALLENGE, which is always smaller than the request it answers. The
 * client takes REGISTERED and CHALLENGE only when they echo one of its own
 * counters newer than the last echo it took, which also tells it the
 * server's current session.
 *
 * The body is at most RDV_BODY_MAX bytes; a datagram is the 60-byte envelope
 * header, the encrypted body and a 16-byte tag (envelope.h).
 */
#ifndef RENDEZVOUS_PROTO_H
#define RENDEZVOUS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"

enum rdv_limits {
	RDV_KEY_LEN = 32,
	RDV_LAN_MAX = 8,
	RDV_WANT_MAX = 16,
	RDV_RELAY_DATA_MAX = 1600,
	RDV_LEASE_MAX_S = 86400,
	RDV_DEPTH_MAX = 2,
	RDV_BODY_MAX = 1700,
	RDV_ENDPOINT4_LEN = 6,
	RDV_ENDPOINT6_LEN = 18,
	RDV_COOKIE_LEN = 16,
	RDV_CHANNEL_ID_LEN = 8,
	RDV_CHANNEL_HEADER_LEN = 12, /* 0xf3, three zero bytes, the channel id */
};

enum rdv_msg_type {
	RDV_MSG_REGISTER = 1,
	RDV_MSG_REGISTERED = 2,
	RDV_MSG_INTRODUCE = 3,
	RDV_MSG_RELAY = 4,
	RDV_MSG_ERROR = 5,
	RDV_MSG_CHALLENGE = 6,
	RDV_MSG_CHANNEL_OPEN = 7,
	RDV_MSG_CHANNEL = 8,
};

/* Reasons the server gives in an ERROR message. */
enum rdv_error_code {
	RDV_ERROR_NOT_REGISTERED = 1, /* reserved: an unregistered sender gets a CHALLENGE */
	RDV_ERROR_NOT_INTRODUCED = 2, /* relay to a peer without mutual intent */
	RDV_ERROR_SERVER_FULL = 3,    /* --max-peers registrations already held */
	RDV_ERROR_RATE_LIMITED = 4,   /* reserved: over-budget relay is dropped silently */
	RDV_ERROR_BAD_REQUEST = 5,    /* reserved: server-only messages are dropped silently */
};

/* Outcome of decoding or opening a message; every rejection has a name. */
enum rdv_status {
	RDV_OK = 0,
	/* envelope (envelope.c) */
	RDV_E_SHORT,           /* shorter than header + tag */
	RDV_E_HEADER,          /* wrong type byte, version, direction or reserved byte */
	RDV_E_WRONG_KEY,       /* envelope names another key than ours */
	RDV_E_BAD_MAC,         /* authentication failed */
	RDV_E_REPLAY,          /* counter of another session, already seen or left of the window */
	RDV_E_STALE,           /* an echo of none of our recent counters */
	RDV_E_OVERSIZE_BODY,   /* body longer than RDV_BODY_MAX */
	/* body (proto.c) */
	RDV_E_MSGPACK,         /* not msgpack (reserved byte 0xc1) */
	RDV_E_TRUNCATED,       /* a length or count runs past the end */
	RDV_E_TRAILING,        /* bytes after the top-level map */
	RDV_E_TOO_DEEP,        /* nesting deeper than RDV_DEPTH_MAX */
	RDV_E_NOT_MAP,         /* the top-level object is not a map */
	RDV_E_WRONG_TYPE,      /* a key or value of the wrong msgpack type */
	RDV_E_UNKNOWN_TYPE,    /* "t" names no message */
	RDV_E_UNKNOWN_FIELD,   /* a key this message does not have */
	RDV_E_DUPLICATE_FIELD, /* a key given twice */
	RDV_E_MISSING_FIELD,   /* a required key is absent */
	RDV_E_OVERSIZE,        /* an array or bin longer than its limit */
	RDV_E_BAD_VALUE,       /* right type, impossible value (key length, port 0...) */
	RDV_E_NOMEM,           /* msgpack-c could not allocate (bounded by input size) */
	RDV_STATUS_COUNT
};

struct rdv_register {
	size_t n_lan;
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_want;
	uint8_t want[RDV_WANT_MAX][RDV_KEY_LEN];
	uint8_t cookie[RDV_COOKIE_LEN];
	bool again;
};

struct rdv_registered {
	struct rdv_endpoint reflexive;
	uint32_t lease_s;
	uint64_t echo;
};

struct rdv_challenge {
	uint64_t echo;
	uint8_t cookie[RDV_COOKIE_LEN];
};

struct rdv_introduce {
	uint8_t peer[RDV_KEY_LEN];
	struct rdv_endpoint reflexive;
	size_t n_lan;
	struct rdv_endpoint lan[RDV_LAN_MAX];
};

struct rdv_relay {
	uint8_t peer[RDV_KEY_LEN];
	size_t len;
	uint8_t data[RDV_RELAY_DATA_MAX];
};

/* CHANNEL_OPEN and CHANNEL (docs/PROTOCOL.md 3.7). */
struct rdv_channel {
	uint8_t peer[RDV_KEY_LEN];
	uint8_t chan[RDV_CHANNEL_ID_LEN];
};

struct rdv_error {
	uint32_t code; /* enum rdv_error_code; unknown codes are passed up */
	uint8_t peer[RDV_KEY_LEN];
};

struct rdv_msg {
	enum rdv_msg_type type;
	union {
		struct rdv_register reg;
		struct rdv_registered registered;
		struct rdv_introduce introduce;
		struct rdv_relay relay;
		struct rdv_error error;
		struct rdv_challenge challenge;
		struct rdv_channel channel; /* CHANNEL_OPEN and CHANNEL */
	};
};

/* Encodes `msg` as a msgpack body into out[0..cap). Deterministic: the same
 * message always gives the same bytes. Returns 0 and sets *len, -EINVAL for
 * a message that breaks a limit, or -ENOBUFS. */
must_check int rdv_body_encode(const struct rdv_msg *msg, uint8_t *out, size_t cap, size_t *len);

/* Decodes and strictly validates one body. On anything but RDV_OK, *msg is
 * unspecified. Memory use is bounded by a small multiple of len. */
enum rdv_status rdv_body_decode(const uint8_t *body, size_t len, struct rdv_msg *msg);

/* Short stable names, for logs, counters and tests ("bad-mac"). */
const char *rdv_status_name(enum rdv_status s);
const char *rdv_error_code_name(uint32_t code);
const char *rdv_msg_type_name(enum rdv_msg_type t);

#endif
