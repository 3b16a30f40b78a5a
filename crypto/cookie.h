/* MAC1/MAC2 and cookie replies (whitepaper §5.4.4, §5.4.7), the DoS
 * defence of WireGuard handshakes.
 *
 *   mac1 = MAC(HASH("mac1----" || receiver's static public), msg[0:mac1])
 *   mac2 = MAC(cookie, msg[0:mac2]), or zeros without a fresh cookie
 *   cookie = MAC(secret, source address), secret rerolled every 120 s
 *   cookie reply = XAEAD(HASH("cookie--" || responder's static public),
 *                        random 24-byte nonce, cookie, aad = the mac1 it answers)
 * MAC is keyed BLAKE2s with 16 bytes of output (libb2), XAEAD is
 * XChaCha20-Poly1305 (libsodium).
 *
 * The checker is the receiving side (one per local identity); the maker is
 * the sending side (one per peer). Whether we are "under load" is the
 * engine's decision, passed in. No clock reads: now_ms comes from callers. */
#ifndef CRYPTO_COOKIE_H
#define CRYPTO_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"

struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birth_ms;
	bool has_secret;
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
};

struct cookie_maker {
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth_ms;
	bool has_cookie;
	uint8_t last_mac1_sent[COOKIE_LEN];
	bool has_sent_mac1;
};

enum cookie_mac_state {
	COOKIE_MAC_INVALID,		/* drop */
	COOKIE_MAC_VALID_NO_COOKIE,	/* mac1 ok; under load: send a cookie reply */
	COOKIE_MAC_VALID_WITH_COOKIE,	/* mac1 and mac2 ok: process even under load */
};

/* Largest source address encoding accepted (IPv6 address + port). */
enum { COOKIE_MAX_SOURCE_LEN = 18 };

/* Sets up the checker for our static public key. */
void cookie_checker_init(struct cookie_checker *c, const uint8_t local_public[static NOISE_PUBLIC_KEY_LEN]);

/* Sets up the maker for a peer's static public key. */
void cookie_maker_init(struct cookie_maker *m, const uint8_t remote_public[static NOISE_PUBLIC_KEY_LEN]);

void cookie_checker_clear(struct cookie_checker *c);
void cookie_maker_clear(struct cookie_maker *m);

/* Checks the MACs of a validated initiation or response. `source` is the
 * sender's address as the engine encodes it (IP bytes then port, network
 * order; at most COOKIE_MAX_SOURCE_LEN bytes). mac2 is looked at only when
 * `under_load`; otherwise a valid mac1 gives COOKIE_MAC_VALID_NO_COOKIE. */
enum cookie_mac_state cookie_checker_validate(struct cookie_checker *c, const uint8_t *msg,
					      size_t len, const uint8_t *source,
					      size_t source_len, bool under_load,
					      uint64_t now_ms);

/* Builds a cookie reply to `msg` (an initiation or response whose mac1 was
 * valid) into `out`: receiver index = msg's sender index. -EINVAL for a bad
 * message or source. */
must_check int cookie_reply_create(struct cookie_checker *c, uint8_t out[static MESSAGE_COOKIE_LEN],
				   const uint8_t *msg, size_t len, const uint8_t *source,
				   size_t source_len, uint64_t now_ms);

/* Fills mac1 (and mac2, while we hold a cookie younger than
 * COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY) of an initiation or
 * response we built. Remembers mac1 to authenticate a cookie reply. */
must_check int cookie_maker_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
				     uint64_t now_ms);

/* Takes in a cookie reply (header validated, receiver index matched to this
 * peer by the engine). -EBADMSG when it does not decrypt against the last
 * mac1 we sent; -EPROTO when we sent nothing to answer. */
must_check int cookie_maker_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len,
					  uint64_t now_ms);

#endif
