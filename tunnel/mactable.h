/* The MACs seen behind the peer (Mode = bridge): a bounded table with
 * aging, as a learning bridge keeps, used for one thing only: a frame that
 * comes from our own LAN with a source MAC that lives on the far side is a
 * frame looping back (two paths between the sites, a bridge flooding what
 * we handed it), and is not sent to the peer again.
 *
 * Fixed size, no allocation: MACTABLE_BUCKETS sets of MACTABLE_WAYS
 * entries, the set chosen by a keyed hash (SipHash, random key per table)
 * so that a remote LAN cannot aim its MACs at one set. A MAC not seen for
 * MACTABLE_AGE_MS is forgotten (a host that moved sites is then welcome
 * from our side again); a full set forgets its stalest entry. */
#ifndef TUNNEL_MACTABLE_H
#define TUNNEL_MACTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

enum mactable_limits {
	MACTABLE_MAC_LEN = 6,
	MACTABLE_BUCKETS = 256,
	MACTABLE_WAYS = 4,
	MACTABLE_MAX = MACTABLE_BUCKETS * MACTABLE_WAYS,	/* 1024 MACs */
	/* Linux bridges' default ageing time. */
	MACTABLE_AGE_MS = 300 * 1000,
};

struct mactable_entry {
	uint8_t mac[MACTABLE_MAC_LEN];
	bool used;
	uint64_t seen_ms;
};

struct mactable {
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct mactable_entry sets[MACTABLE_BUCKETS][MACTABLE_WAYS];
};

/* Empties the table and draws its hash key. */
void mactable_init(struct mactable *mt);

/* Records that `mac` was the source of a frame from the peer at now_ms.
 * Group (multicast/broadcast) addresses are never sources: ignored. */
void mactable_learn(struct mactable *mt, const uint8_t mac[static MACTABLE_MAC_LEN],
		    uint64_t now_ms);

/* True when `mac` was learned less than MACTABLE_AGE_MS before now_ms. */
bool mactable_contains(const struct mactable *mt, const uint8_t mac[static MACTABLE_MAC_LEN],
		       uint64_t now_ms);

/* How many MACs are known (not aged out) at now_ms. */
size_t mactable_count(const struct mactable *mt, uint64_t now_ms);

#endif
