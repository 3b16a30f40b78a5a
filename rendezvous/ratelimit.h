/* Per-source token buckets for the server's costly answers (STUN replies,
 * X25519 for unknown keys). A source is an IPv4 address or an IPv6 /64, any
 * port. A fixed table indexed by a keyed hash of the source: memory is fixed
 * at start, and sources that collide share one bucket, which can only make
 * the limit stricter. */
#ifndef RENDEZVOUS_RATELIMIT_H
#define RENDEZVOUS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"

enum ratelimit_kind {
	RATELIMIT_STUN,   /* Binding responses (the one reply larger than its request) */
	RATELIMIT_CRYPTO, /* X25519 for a key that holds no registration */
	RATELIMIT_KINDS
};

struct ratelimit_bucket {
	uint64_t last_ms;
	uint64_t millitokens;
};

struct ratelimit {
	size_t n_slots; /* power of two */
	struct ratelimit_bucket *slots[RATELIMIT_KINDS];
	uint8_t hash_key[16];
	uint32_t rate[RATELIMIT_KINDS];  /* tokens per second */
	uint32_t burst[RATELIMIT_KINDS];
};

/* Allocates n_slots (rounded up to a power of two) buckets per kind, full. */
must_check int ratelimit_init(struct ratelimit *rl, size_t n_slots,
			      const uint32_t rate[static RATELIMIT_KINDS],
			      const uint32_t burst[static RATELIMIT_KINDS]);

void ratelimit_free(struct ratelimit *rl);

/* Takes one token from the bucket of src's address for `kind`; false when
 * it is empty. */
bool ratelimit_allow(struct ratelimit *rl, enum ratelimit_kind kind,
		     const struct rdv_endpoint *src, uint64_t now_ms);

#endif
