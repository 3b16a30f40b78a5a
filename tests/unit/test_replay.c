/* The replay window, as a numbered table in the shape of WireGuard's
 * selftest/counter.c: edge cases around the window and REJECT_AFTER_MESSAGES,
 * then the bulk fills; plus the check/update split (a checked counter that
 * is never committed stays acceptable) and a naive oracle on random input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/replay.h"

#define T_LIM ((uint64_t)REPLAY_WINDOW_SIZE + 1)
#define RAM REJECT_AFTER_MESSAGES

struct step {
	uint64_t counter;
	bool accept;
};

static const struct step table[] = {
	/*  1 */ { 0, true },
	/*  2 */ { 1, true },
	/*  3 */ { 1, false },
	/*  4 */ { 9, true },
	/*  5 */ { 8, true },
	/*  6 */ { 7, true },
	/*  7 */ { 7, false },
	/*  8 */ { T_LIM, true },
	/*  9 */ { T_LIM - 1, true },
	/* 10 */ { T_LIM - 1, false },
	/* 11 */ { T_LIM - 2, true },
	/* 12 */ { 2, true },
	/* 13 */ { 2, false },
	/* 14 */ { T_LIM + 16, true },
	/* 15 */ { 3, false },
	/* 16 */ { T_LIM + 16, false },
	/* 17 */ { T_LIM * 4, true },
	/* 18 */ { T_LIM * 4 - (T_LIM - 1), true },
	/* 19 */ { 10, false },
	/* 20 */ { T_LIM * 4 - T_LIM, false },
	/* 21 */ { T_LIM * 4 - (T_LIM + 1), false },
	/* 22 */ { T_LIM * 4 - (T_LIM - 2), true },
	/* 23 */ { T_LIM * 4 + 1 - T_LIM, false },
	/* 24 */ { 0, false },
	/* 25 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 1, false },	/* = RAM */
	/* 26 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 2, true },	/* RAM - 1 */
	/* 27 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 1, false },
	/* 28 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 2, false },
	/* 29 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 3, true },
	/* 30 */ { UINT64_MAX - REPLAY_WINDOW_SIZE, false },		/* RAM + 1 */
	/* 31 */ { UINT64_MAX - REPLAY_WINDOW_SIZE + 1, false },	/* RAM + 2 */
	/* 32 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 3, false },
	/* 33 */ { UINT64_MAX - REPLAY_WINDOW_SIZE - 4, true },
	/* 34 */ { 0, false },
};

static void t(struct replay_window *w, unsigned num, uint64_t counter, bool expect)
{
	bool got = replay_check_and_update(w, counter);

	if (got != expect)
		fail_msg("replay case %u: counter %llu: got %d, want %d", num,
			 (unsigned long long)counter, got, expect);
}

static void test_table(void **state)
{
	struct replay_window w;

	(void)state;
	assert_true(RAM == UINT64_MAX - REPLAY_WINDOW_SIZE - 1);
	assert_true(REPLAY_WINDOW_SIZE >= 2048);
	replay_init(&w);
	for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		t(&w, i + 1, table[i].counter, table[i].accept);
}

/* The bulk cases of counter.c, numbered after the table. */
static void test_bulk(void **state)
{
	struct replay_window w;
	unsigned num = 100;

	(void)state;
	/* 101: window filled upwards from 1, then 0 still fits. */
	replay_init(&w);
	for (uint64_t i = 1; i <= REPLAY_WINDOW_SIZE; i++)
		t(&w, num + 1, i, true);
	t(&w, num + 1, 0, true);
	t(&w, num + 1, 0, false);
	/* 102: filled from 2; 1 fits, 0 has fallen out. */
	replay_init(&w);
	for (uint64_t i = 2; i <= REPLAY_WINDOW_SIZE + 1; i++)
		t(&w, num + 2, i, true);
	t(&w, num + 2, 1, true);
	t(&w, num + 2, 0, false);
	/* 103: filled downwards from the top of the window to 0. */
	replay_init(&w);
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 0;)
		t(&w, num + 3, i, true);
	/* 104: downwards from one further: 0 is out. */
	replay_init(&w);
	for (uint64_t i = REPLAY_WINDOW_SIZE + 2; i-- > 1;)
		t(&w, num + 4, i, true);
	t(&w, num + 4, 0, false);
	/* 105 */
	replay_init(&w);
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		t(&w, num + 5, i, true);
	t(&w, num + 5, REPLAY_WINDOW_SIZE + 1, true);
	t(&w, num + 5, 0, false);
	/* 106 */
	replay_init(&w);
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		t(&w, num + 6, i, true);
	t(&w, num + 6, 0, true);
	t(&w, num + 6, REPLAY_WINDOW_SIZE + 1, true);
}

/* Check without update (a packet that failed its AEAD) changes nothing. */
static void test_check_does_not_commit(void **state)
{
	struct replay_window w;

	(void)state;
	replay_init(&w);
	assert_true(replay_check(&w, 5));
	assert_true(replay_check(&w, 5));
	assert_true(replay_check(&w, 1000000));	/* forged far-ahead counter... */
	assert_true(replay_check(&w, 0));	/* ...did not move the window */
	replay_update(&w, 5);
	assert_false(replay_check(&w, 5));
	assert_true(replay_check(&w, 4));
}

/* Against a naive oracle (a set of seen counters plus the max) on random
 * counters clustered so duplicates and window edges are frequent. */
static void test_oracle(void **state)
{
	enum { N = 200000, SPAN = 3 * REPLAY_WINDOW_SIZE };
	struct replay_window w;
	uint8_t *seen = calloc(SPAN + 2 * N, 1);
	uint64_t max_plus1 = 0, base = 0;

	(void)state;
	assert_non_null(seen);
	replay_init(&w);
	for (unsigned i = 0; i < N; i++) {
		uint64_t c = base + randombytes_uniform(SPAN);
		bool expect = !seen[c] && (c + 1 > max_plus1 || c + 1 + REPLAY_WINDOW_SIZE >= max_plus1);
		bool got = replay_check_and_update(&w, c);

		if (got != expect)
			fail_msg("oracle step %u counter %llu: got %d want %d", i,
				 (unsigned long long)c, got, expect);
		if (got) {
			seen[c] = 1;
			if (c + 1 > max_plus1)
				max_plus1 = c + 1;
		}
		if (randombytes_uniform(8) == 0)
			base++;
	}
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_check_does_not_commit),
		cmocka_unit_test(test_oracle),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
