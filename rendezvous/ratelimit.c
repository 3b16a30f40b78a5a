/* Token buckets keyed by a SipHash of the source (libsodium crypto_shorthash
 * with a random key, so an attacker cannot aim collisions at a victim). */
#include "rendezvous/ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int ratelimit_init(struct ratelimit *rl, size_t n_slots, const uint32_t rate[static RATELIMIT_KINDS],
		   const uint32_t burst[static RATELIMIT_KINDS])
{
	size_t n = 1;

	memset(rl, 0, sizeof(*rl));
	while (n < n_slots && n < ((size_t)1 << 24))
		n <<= 1;
	rl->n_slots = n;
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	for (int k = 0; k < RATELIMIT_KINDS; k++) {
		rl->rate[k] = rate[k];
		rl->burst[k] = burst[k] ? burst[k] : 1;
		rl->slots[k] = calloc(n, sizeof(struct ratelimit_bucket));
		if (!rl->slots[k]) {
			ratelimit_free(rl);
			return -ENOMEM;
		}
	}
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	for (int k = 0; k < RATELIMIT_KINDS; k++) {
		free(rl->slots[k]);
		rl->slots[k] = NULL;
	}
}

bool ratelimit_allow(struct ratelimit *rl, enum ratelimit_kind kind,
		     const struct rdv_endpoint *src, uint64_t now_ms)
{
	uint8_t in[1 + 8], h[crypto_shorthash_BYTES];
	uint64_t idx, cap = (uint64_t)rl->burst[kind] * 1000;
	struct ratelimit_bucket *b;

	/* The source is the address, not the port (a flood can pick any port),
	 * and for IPv6 the /64, which one host usually owns whole (as WireGuard's
	 * ratelimiter does). */
	memset(in, 0, sizeof(in));
	in[0] = src->family;
	memcpy(in + 1, src->addr, src->family == AF_INET ? 4 : 8);
	crypto_shorthash(h, in, sizeof(in), rl->hash_key);
	memcpy(&idx, h, sizeof(idx));
	b = &rl->slots[kind][idx & (rl->n_slots - 1)];
	if (b->last_ms == 0) {
		b->millitokens = cap; /* never used: starts full */
	} else if (now_ms > b->last_ms) {
		/* rate tokens per second is rate millitokens per millisecond. */
		uint64_t add = (now_ms - b->last_ms) * rl->rate[kind];

		b->millitokens = add >= cap - MIN(b->millitokens, cap) ? cap : b->millitokens + add;
	}
	b->last_ms = now_ms ? now_ms : 1;
	if (b->millitokens < 1000)
		return false;
	b->millitokens -= 1000;
	return true;
}
