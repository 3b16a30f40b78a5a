/* WireGuard v1 wire messages and protocol limits: the one C declaration of
 * the formats described in docs/PROTOCOL.md, section "2. WireGuard v1
 * messages". Every multi-byte integer is little-endian on the wire; structs
 * are only ever filled from or copied to a byte buffer with memcpy (never
 * cast onto a packet, which may be unaligned), and byte order is converted
 * in the parse/build code only, with common/bytes.h.
 *
 * The timing and counter limits of the protocol (whitepaper §6) live here, in
 * one place, so the engine's timers and crypto/session.c agree. */
#ifndef CRYPTO_MESSAGES_H
#define CRYPTO_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum noise_lengths {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_PRIVATE_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_HASH_LEN = 32,
	NOISE_AUTHTAG_LEN = 16,
	NOISE_TIMESTAMP_LEN = 12,	/* TAI64N */
	COOKIE_LEN = 16,
	COOKIE_NONCE_LEN = 24,		/* XChaCha20-Poly1305 */
};

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* Protocol limits (whitepaper §6.1, and WireGuard's messages.h). Times are in
 * milliseconds because every caller passes a monotonic `now_ms`. */
enum limits {
	REKEY_AFTER_TIME_MS = 120 * 1000,
	REJECT_AFTER_TIME_MS = 180 * 1000,
	REKEY_TIMEOUT_MS = 5 * 1000,
	REKEY_TIMEOUT_JITTER_MAX_MS = 334,
	REKEY_ATTEMPT_TIME_MS = 90 * 1000,
	KEEPALIVE_TIMEOUT_MS = 10 * 1000,
	COOKIE_SECRET_MAX_AGE_MS = 120 * 1000,
	COOKIE_SECRET_LATENCY_MS = 5 * 1000,
	/* The engine's per-peer flood limit on consumed initiations. */
	INITIATIONS_PER_SECOND = 50,
	MESSAGE_PADDING_MULTIPLE = 16,
	MAX_TIMER_HANDSHAKES = REKEY_ATTEMPT_TIME_MS / REKEY_TIMEOUT_MS,
};

/* Replay window: REPLAY_BITS_TOTAL bits of bitmap, of which one word is the
 * ring's slack, so REPLAY_WINDOW_SIZE counters behind the newest are tracked
 * (RFC 6479). */
enum replay_limits {
	REPLAY_BITS_TOTAL = 8192,
	REPLAY_WORD_BITS = 64,
	REPLAY_WINDOW_SIZE = REPLAY_BITS_TOTAL - REPLAY_WORD_BITS,
};

/* 64-bit limits cannot be C11 enum constants. */
static const uint64_t REKEY_AFTER_MESSAGES = 1ULL << 60;
static const uint64_t REJECT_AFTER_MESSAGES = UINT64_MAX - REPLAY_WINDOW_SIZE - 1;

/* The first 4 bytes of every message: type, then 3 reserved zero bytes. Read
 * as one little-endian u32, so a non-zero reserved byte is an unknown type. */
struct message_header {
	uint32_t type;
};

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
};

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN];
	uint8_t encrypted_timestamp[NOISE_TIMESTAMP_LEN + NOISE_AUTHTAG_LEN];
	struct message_macs macs;
};

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[NOISE_AUTHTAG_LEN];
	struct message_macs macs;
};

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[COOKIE_LEN + NOISE_AUTHTAG_LEN];
};

/* Followed by the encrypted, padded packet and its 16-byte tag. */
struct message_data {
	struct message_header header;
	uint32_t receiver_index;
	uint64_t counter;
};

enum message_lengths {
	MESSAGE_INITIATION_LEN = 148,
	MESSAGE_RESPONSE_LEN = 92,
	MESSAGE_COOKIE_LEN = 64,
	MESSAGE_DATA_HEADER_LEN = 16,
	/* A keepalive: header + the tag of an empty plaintext. */
	MESSAGE_DATA_MIN_LEN = MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN,
	/* Noise payload of an initiation: e, s, timestamp (offset 8..116). */
	MESSAGE_INITIATION_NOISE_OFFSET = 8,
	MESSAGE_INITIATION_NOISE_LEN = 108,
	/* Noise payload of a response: e, empty (offset 12..60). */
	MESSAGE_RESPONSE_NOISE_OFFSET = 12,
	MESSAGE_RESPONSE_NOISE_LEN = 48,
};

_Static_assert(sizeof(struct message_header) == 4, "header is 4 bytes");
_Static_assert(sizeof(struct message_macs) == 32, "macs are 32 bytes");
_Static_assert(sizeof(struct message_handshake_initiation) == MESSAGE_INITIATION_LEN,
	       "initiation is 148 bytes");
_Static_assert(sizeof(struct message_handshake_response) == MESSAGE_RESPONSE_LEN,
	       "response is 92 bytes");
_Static_assert(sizeof(struct message_handshake_cookie) == MESSAGE_COOKIE_LEN,
	       "cookie reply is 64 bytes");
_Static_assert(sizeof(struct message_data) == MESSAGE_DATA_HEADER_LEN,
	       "transport header is 16 bytes");
_Static_assert(offsetof(struct message_handshake_initiation, unencrypted_ephemeral) ==
	       MESSAGE_INITIATION_NOISE_OFFSET, "initiation noise offset");
_Static_assert(offsetof(struct message_handshake_response, unencrypted_ephemeral) ==
	       MESSAGE_RESPONSE_NOISE_OFFSET, "response noise offset");
_Static_assert(offsetof(struct message_handshake_initiation, macs) ==
	       MESSAGE_INITIATION_NOISE_OFFSET + MESSAGE_INITIATION_NOISE_LEN,
	       "initiation noise length");
_Static_assert(offsetof(struct message_handshake_response, macs) ==
	       MESSAGE_RESPONSE_NOISE_OFFSET + MESSAGE_RESPONSE_NOISE_LEN,
	       "response noise length");

/* Call first on every datagram: returns the message type if `len` is right
 * for the type the first 4 bytes claim (exact for handshake messages, at
 * least MESSAGE_DATA_MIN_LEN for data), MESSAGE_INVALID otherwise. Nothing
 * else of the buffer is read. */
enum message_type message_validate_header(const uint8_t *buf, size_t len);

/* The receiver index of a response, cookie reply or data message (offset 8
 * for a response, 4 otherwise); the caller has validated the header. */
uint32_t message_receiver_index(const uint8_t *buf, enum message_type type);

/* The sender index of an initiation or response (offset 4). */
uint32_t message_sender_index(const uint8_t *buf);

#endif
