/* Birthday probing's bounds (tunnel/birthday.h), the parts that need no
 * socket: the easy side's ports are distinct, random and inside 1024-65535;
 * its probes keep to BIRTHDAY_RATE a second and BIRTHDAY_PROBES in all; and
 * the probability docs/BEHAVIOUR.md quotes. The sockets and the switch of
 * the link's socket are proved on the lab (tests/lab/test_link_birthday). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tunnel/birthday.h"

static void ports_are_distinct_and_in_range(void **state)
{
	struct birthday_ports *p = malloc(sizeof(*p));
	static uint8_t seen[65536];
	unsigned low_half = 0;

	(void)state;
	assert_non_null(p);
	memset(seen, 0, sizeof(seen));
	birthday_ports_reset(p);
	for (size_t i = 0; i < BIRTHDAY_PROBES; i++) {
		uint16_t port = birthday_ports_pick(p);

		assert_true(port >= BIRTHDAY_PORT_MIN);
		assert_int_equal(seen[port], 0);
		seen[port] = 1;
		low_half += port < BIRTHDAY_PORT_MIN + BIRTHDAY_PORT_COUNT / 2;
	}
	assert_int_equal(p->n_used, BIRTHDAY_PROBES);
	/* Spread over the whole range, not a run from one start: about half
	 * in each half (2048 fair coins: 1024 +- 5 sigma of 23). */
	assert_in_range(low_half, 1024 - 115, 1024 + 115);
	free(p);
}

static void ports_run_out_after_every_port(void **state)
{
	struct birthday_ports *p = malloc(sizeof(*p));
	static uint8_t seen[65536];

	(void)state;
	assert_non_null(p);
	memset(seen, 0, sizeof(seen));
	birthday_ports_reset(p);
	for (size_t i = 0; i < BIRTHDAY_PORT_COUNT; i++) {
		uint16_t port = birthday_ports_pick(p);

		assert_true(port >= BIRTHDAY_PORT_MIN);
		assert_int_equal(seen[port], 0);
		seen[port] = 1;
	}
	assert_int_equal(birthday_ports_pick(p), 0);
	birthday_ports_reset(p);
	assert_true(birthday_ports_pick(p) >= BIRTHDAY_PORT_MIN);
	free(p);
}

static void probes_keep_to_the_rate_and_the_cap(void **state)
{
	const uint64_t t0 = 123456;
	size_t sent = 0, most_in_a_tick = 0;

	(void)state;
	assert_int_equal(birthday_probes_due(t0, t0 - 1, 0), 0);
	/* The first tick: one tick's worth. */
	assert_int_equal(birthday_probes_due(t0, t0, 0), BIRTHDAY_RATE * BIRTHDAY_TICK_MS / 1000);
	/* Ticked every BIRTHDAY_TICK_MS for 5 s: never ahead of the rate
	 * (plus the first tick), and stopping at the cap. */
	for (uint64_t t = t0; t <= t0 + 5000; t += BIRTHDAY_TICK_MS) {
		size_t due = birthday_probes_due(t0, t, sent);

		most_in_a_tick = due > most_in_a_tick ? due : most_in_a_tick;
		sent += due;
		assert_true(sent <= (t - t0 + BIRTHDAY_TICK_MS) * BIRTHDAY_RATE / 1000);
		assert_true(sent <= BIRTHDAY_PROBES);
		if (t - t0 == 1000)
			assert_int_equal(sent, BIRTHDAY_RATE + BIRTHDAY_RATE * BIRTHDAY_TICK_MS / 1000);
	}
	assert_int_equal(sent, BIRTHDAY_PROBES);
	assert_int_equal(most_in_a_tick, BIRTHDAY_RATE * BIRTHDAY_TICK_MS / 1000);
	/* A late tick does not burst past the cap either. */
	assert_int_equal(birthday_probes_due(t0, t0 + 3600000, 0), BIRTHDAY_PROBES);
	assert_int_equal(birthday_probes_due(t0, t0 + 3600000, BIRTHDAY_PROBES), 0);
}

static void probability_as_documented(void **state)
{
	(void)state;
	/* docs/BEHAVIOUR.md: 256 sockets x 2048 probes; the example
	 * 256 x 1024 is about 98 %. */
	assert_in_range((long)(birthday_probability(BIRTHDAY_SOCKETS, BIRTHDAY_PROBES) * 100),
			9996, 9998);
	assert_in_range((long)(birthday_probability(256, 1024) * 10), 982, 983);
	assert_true(birthday_probability(0, BIRTHDAY_PROBES) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ports_are_distinct_and_in_range),
		cmocka_unit_test(ports_run_out_after_every_port),
		cmocka_unit_test(probes_keep_to_the_rate_and_the_cap),
		cmocka_unit_test(probability_as_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
