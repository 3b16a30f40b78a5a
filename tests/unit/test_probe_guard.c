/* What a received path probe must pass (tunnel/probe_guard.h): requests
 * expire relative to the newest one seen, whatever the two clocks read;
 * answers are budgeted per source and in total; candidates that cannot be
 * another host's address are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tunnel/probe_guard.h"

/* The sender's clock is hours away from ours: only differences count. */
static const uint64_t SENDER_T0 = 5ULL * 3600 * 1000, OUR_T0 = 42;

static void requests_expire_relative_to_the_newest(void **state)
{
	struct probe_freshness f = { 0 };
	static const struct {
		uint64_t sent, at; /* offsets from SENDER_T0 / OUR_T0 */
		bool fresh;
	} steps[] = {
		{ 0, 0, true },          /* the first one sets the reference */
		{ 1000, 1000, true },    /* on time */
		{ 500, 1200, true },     /* reordered, 0.7 s late */
		{ 1000, 1000 + PROBE_FRESH_MS, true },      /* a replay, just within */
		{ 1000, 1001 + PROBE_FRESH_MS, false },     /* a replay, expired */
		{ 60000, 60000, true },  /* the sender's next burst */
		{ 1000, 60001, false },  /* an old capture replayed */
		{ 59000, 61000, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		assert_int_equal(probe_fresh(&f, 0, SENDER_T0 + steps[i].sent, OUR_T0 + steps[i].at),
				 steps[i].fresh);
}

/* A new session starts over (a rebooted peer's clock may be behind); a
 * request made under an older session than the newest is stale. */
static void a_new_session_starts_over(void **state)
{
	struct probe_freshness f = { 0 };

	(void)state;
	assert_true(probe_fresh(&f, 100, 900000, 1000));
	assert_true(probe_fresh(&f, 200, 5, 2000));   /* new session, sender clock reset */
	assert_false(probe_fresh(&f, 100, 901000, 2000));
	assert_true(probe_fresh(&f, 200, 6, 2001));
	assert_false(probe_fresh(&f, 200, 5, 2001 + PROBE_FRESH_MS + 5));
}

static struct rdv_endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct rdv_endpoint ep = { .family = AF_INET, .port = port };

	ep.addr[0] = a, ep.addr[1] = b, ep.addr[2] = c, ep.addr[3] = d;
	return ep;
}

static void answers_are_budgeted_per_source(void **state)
{
	struct probe_budget b;
	struct rdv_endpoint x = v4(198, 51, 100, 9, 1000), x2 = v4(198, 51, 100, 9, 2000);
	struct rdv_endpoint y = v4(198, 51, 100, 10, 1000);
	size_t n = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	while (probe_budget_allow(&b, n % 2 ? &x : &x2, 1000) && n < 1000)
		n++;
	assert_int_equal(n, PROBE_ANSWER_BURST); /* any port of one address */
	assert_true(probe_budget_allow(&b, &y, 1000)); /* another source has its own */
	assert_false(probe_budget_allow(&b, &x, 1000 + 1000 / PROBE_ANSWER_RATE - 1));
	assert_true(probe_budget_allow(&b, &x, 1000 + 1000 / PROBE_ANSWER_RATE));
}

/* Many sources, each within its own budget, still meet the total. */
static void answers_are_budgeted_in_total(void **state)
{
	struct probe_budget b;
	size_t n = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	for (unsigned i = 0; i < 10000; i++) {
		struct rdv_endpoint src = v4(10, (uint8_t)(i >> 8), (uint8_t)i, 1, 1);

		n += probe_budget_allow(&b, &src, 5000);
	}
	assert_int_equal(n, PROBE_ANSWER_TOTAL_BURST);
}

static void unusable_candidates_are_refused(void **state)
{
	static const struct {
		struct rdv_endpoint ep;
		bool usable;
	} cases[] = {
		{ { AF_INET, { 203, 0, 113, 7 }, 51820 }, true },
		{ { AF_INET, { 192, 168, 1, 2 }, 51820 }, true },
		{ { AF_INET, { 127, 0, 0, 1 }, 51820 }, false },
		{ { AF_INET, { 0, 0, 0, 0 }, 51820 }, false },
		{ { AF_INET, { 224, 0, 0, 251 }, 5353 }, false },
		{ { AF_INET, { 255, 255, 255, 255 }, 51820 }, false },
		{ { AF_INET, { 169, 254, 1, 1 }, 51820 }, false },
		{ { AF_INET, { 203, 0, 113, 7 }, 0 }, false },
		{ { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 51820 }, true },
		{ { AF_INET6, { [15] = 1 }, 51820 }, false },
		{ { AF_INET6, { 0 }, 51820 }, false },
		{ { AF_INET6, { 0xff, 0x02, [15] = 1 }, 51820 }, false },
		{ { AF_INET6, { 0xfe, 0x80, [15] = 1 }, 51820 }, false },
		{ { 7, { 1, 2, 3, 4 }, 51820 }, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(probe_candidate_usable(&cases[i].ep), cases[i].usable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests_expire_relative_to_the_newest),
		cmocka_unit_test(a_new_session_starts_over),
		cmocka_unit_test(answers_are_budgeted_per_source),
		cmocka_unit_test(answers_are_budgeted_in_total),
		cmocka_unit_test(unusable_candidates_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
