/* The remote MAC table: see tunnel/mactable.h. */
#include "tunnel/mactable.h"

#include <string.h>

static bool fresh(const struct mactable_entry *e, uint64_t now_ms)
{
	return e->used && now_ms - e->seen_ms < MACTABLE_AGE_MS;
}

static struct mactable_entry *set_of(const struct mactable *mt,
				     const uint8_t mac[static MACTABLE_MAC_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, mac, MACTABLE_MAC_LEN, mt->key);
	/* The cast drops const only to share this helper; callers that hold
	 * a const table only read through it. */
	return (struct mactable_entry *)mt->sets[h[0] % MACTABLE_BUCKETS];
}

void mactable_init(struct mactable *mt)
{
	memset(mt, 0, sizeof(*mt));
	crypto_shorthash_keygen(mt->key);
}

void mactable_learn(struct mactable *mt, const uint8_t mac[static MACTABLE_MAC_LEN],
		    uint64_t now_ms)
{
	struct mactable_entry *set = set_of(mt, mac), *slot = NULL;

	if (mac[0] & 1)
		return;	/* a group address */
	for (size_t i = 0; i < MACTABLE_WAYS; i++) {
		struct mactable_entry *e = &set[i];

		if (e->used && !memcmp(e->mac, mac, MACTABLE_MAC_LEN)) {
			e->seen_ms = now_ms;
			return;
		}
		/* a free or aged-out slot first, else the stalest */
		if (!slot || (fresh(slot, now_ms) &&
			      (!fresh(e, now_ms) || e->seen_ms < slot->seen_ms)))
			slot = e;
	}
	memcpy(slot->mac, mac, MACTABLE_MAC_LEN);
	slot->used = true;
	slot->seen_ms = now_ms;
}

bool mactable_contains(const struct mactable *mt, const uint8_t mac[static MACTABLE_MAC_LEN],
		       uint64_t now_ms)
{
	const struct mactable_entry *set = set_of(mt, mac);

	for (size_t i = 0; i < MACTABLE_WAYS; i++)
		if (fresh(&set[i], now_ms) && !memcmp(set[i].mac, mac, MACTABLE_MAC_LEN))
			return true;
	return false;
}

size_t mactable_count(const struct mactable *mt, uint64_t now_ms)
{
	size_t n = 0;

	for (size_t b = 0; b < MACTABLE_BUCKETS; b++)
		for (size_t i = 0; i < MACTABLE_WAYS; i++)
			n += fresh(&mt->sets[b][i], now_ms);
	return n;
}
