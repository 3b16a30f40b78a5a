/* The remote MAC table (tunnel/mactable.h): learning, aging, the bound,
 * and a naive oracle on random input (STYLE.md §10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tunnel/mactable.h"

static void mac_of(uint8_t mac[MACTABLE_MAC_LEN], uint32_t i)
{
	mac[0] = 0x02;	/* locally administered, unicast */
	mac[1] = 0x00;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static void test_learn_and_age(void **state)
{
	static const uint8_t broadcast[MACTABLE_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mdns[MACTABLE_MAC_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct mactable mt;
	uint8_t a[MACTABLE_MAC_LEN], b[MACTABLE_MAC_LEN];

	(void)state;
	mactable_init(&mt);
	mac_of(a, 1);
	mac_of(b, 2);
	assert_false(mactable_contains(&mt, a, 0));
	mactable_learn(&mt, a, 1000);
	assert_true(mactable_contains(&mt, a, 1000));
	assert_false(mactable_contains(&mt, b, 1000));
	assert_int_equal(mactable_count(&mt, 1000), 1);
	/* group addresses are never sources */
	mactable_learn(&mt, broadcast, 1000);
	mactable_learn(&mt, mdns, 1000);
	assert_false(mactable_contains(&mt, broadcast, 1000));
	assert_false(mactable_contains(&mt, mdns, 1000));
	assert_int_equal(mactable_count(&mt, 1000), 1);
	/* aging: the last millisecond in, then out */
	assert_true(mactable_contains(&mt, a, 1000 + MACTABLE_AGE_MS - 1));
	assert_false(mactable_contains(&mt, a, 1000 + MACTABLE_AGE_MS));
	assert_int_equal(mactable_count(&mt, 1000 + MACTABLE_AGE_MS), 0);
	/* seeing it again refreshes it */
	mactable_learn(&mt, a, 2000);
	mactable_learn(&mt, a, 2000 + MACTABLE_AGE_MS - 1);
	assert_true(mactable_contains(&mt, a, 2000 + MACTABLE_AGE_MS + 10));
	assert_int_equal(mactable_count(&mt, 2000 + MACTABLE_AGE_MS + 10), 1);
}

/* Far more MACs than fit: the table never holds more than MACTABLE_MAX,
 * and the newest MAC is always there (a full set drops its stalest). */
static void test_bound(void **state)
{
	struct mactable mt;
	uint8_t mac[MACTABLE_MAC_LEN];

	(void)state;
	mactable_init(&mt);
	for (uint32_t i = 0; i < 20 * MACTABLE_MAX; i++) {
		mac_of(mac, i);
		mactable_learn(&mt, mac, 10 + i);
		assert_true(mactable_contains(&mt, mac, 10 + i));
	}
	assert_true(mactable_count(&mt, 10 + 20 * MACTABLE_MAX) <= MACTABLE_MAX);
	/* Filled from scratch, at least half of the capacity is used. */
	assert_true(mactable_count(&mt, 10 + 20 * MACTABLE_MAX) >= MACTABLE_MAX / 2);
}

/* The set a MAC lives in, computed as the table does (its key is public). */
static const struct mactable_entry *set_of(const struct mactable *mt, const uint8_t *mac)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, mac, MACTABLE_MAC_LEN, mt->key);
	return mt->sets[h[0] % MACTABLE_BUCKETS];
}

/* A naive oracle: a plain array of (mac, last seen). Random learns and
 * lookups: the table never knows a MAC the oracle does not (or one aged
 * out), and forgets one the oracle knows only when its set is full of MACs
 * seen more recently. */
static void test_oracle(void **state)
{
	enum { SPACE = 3000, STEPS = 100000 };
	static uint64_t seen[SPACE];
	static bool known[SPACE];
	struct mactable mt;
	uint64_t now = 0;
	unsigned evicted = 0;

	(void)state;
	mactable_init(&mt);
	for (unsigned step = 0; step < STEPS; step++) {
		uint32_t i = randombytes_uniform(SPACE);
		uint8_t mac[MACTABLE_MAC_LEN];
		bool oracle, table;

		now += randombytes_uniform(400);
		mac_of(mac, i);
		if (randombytes_uniform(2)) {
			mactable_learn(&mt, mac, now);
			known[i] = true;
			seen[i] = now;
		}
		oracle = known[i] && now - seen[i] < MACTABLE_AGE_MS;
		table = mactable_contains(&mt, mac, now);
		if (table && !oracle)
			fail_msg("step %u: MAC %u known to the table only", step, i);
		if (oracle && !table) {
			const struct mactable_entry *set = set_of(&mt, mac);

			for (size_t w = 0; w < MACTABLE_WAYS; w++)
				if (!set[w].used || now - set[w].seen_ms >= MACTABLE_AGE_MS ||
				    set[w].seen_ms < seen[i])
					fail_msg("step %u: MAC %u forgotten with room in its set",
						 step, i);
			evicted++;
		}
		if (step % 100 == 0)
			assert_true(mactable_count(&mt, now) <= MACTABLE_MAX);
	}
	printf("%u lookups forgotten by a full set\n", evicted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_age),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_oracle),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
