/* RFC 8899 PLPMTUD (tunnel/pmtu.c) against a fake path on a fake clock:
 * the path carries inner packets up to `true_mtu` and acks a probe after
 * RTT_MS; anything larger vanishes. Table-driven: the search converges
 * within PMTU_RESOLUTION below the true value (never above), a black hole
 * goes back to the base at once and converges again, the raise timer finds
 * a path that grew, and no size is probed more than PMTU_MAX_PROBES times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tunnel/pmtu.h"

enum { RTT_MS = 20, MAX_MTU = 1420, SIZES = 2048 };

struct fake_path {
	unsigned true_mtu;
	uint64_t now;
	unsigned probes;                 /* probes sent in all */
	unsigned per_size[SIZES];        /* lost probes of each size since reset */
	uint64_t last_unacked_ms;        /* when the last lost probe went out */
	bool had_unacked;
	uint64_t min_unacked_gap;        /* closest two lost probes ever were */
};

static void path_reset_counts(struct fake_path *f)
{
	memset(f->per_size, 0, sizeof(f->per_size));
}

/* Runs the state machine until `until` (fake clock). */
static void run_until(struct pmtu *p, struct fake_path *f, uint64_t until)
{
	for (unsigned steps = 0; f->now < until; steps++) {
		unsigned size;
		uint64_t when = pmtu_next_probe(p, f->now, &size);

		assert_true(steps < 1000000);
		if (size == 0) {
			assert_true(when > f->now);   /* never asks to be called in the past */
			f->now = when < until ? when : until;
			continue;
		}
		assert_true(size <= MAX_MTU);
		assert_true(size < SIZES);
		f->probes++;
		if (size <= f->true_mtu) {
			f->now += RTT_MS;
			pmtu_probe_acked(p, size, f->now);
			continue;
		}
		if (f->had_unacked && f->now - f->last_unacked_ms < f->min_unacked_gap)
			f->min_unacked_gap = f->now - f->last_unacked_ms;
		f->had_unacked = true;
		f->per_size[size]++;
		f->last_unacked_ms = f->now;
		/* lost: the next call comes at its deadline */
		f->now = when < until ? when : until;
	}
}

static void check_converged(const struct pmtu *p, unsigned true_mtu)
{
	unsigned cur = pmtu_current(p), want = true_mtu < MAX_MTU ? true_mtu : MAX_MTU;

	assert_int_equal(p->state, PMTU_SEARCH_COMPLETE);
	assert_true(cur <= want);
	assert_true(cur + PMTU_RESOLUTION >= want);
}

static const struct converge_case {
	unsigned true_mtu;
	enum pmtu_state after_base;   /* SEARCH if the base passes, ERROR if not */
} converge_cases[] = {
	/* a 1280-byte underlay carries 1220 inner over IPv4, 1200 over IPv6 */
	{ 1200, PMTU_SEARCH }, { 1220, PMTU_SEARCH },
	{ 1280, PMTU_SEARCH }, { 1281, PMTU_SEARCH }, { 1300, PMTU_SEARCH },
	{ 1350, PMTU_SEARCH }, { 1400, PMTU_SEARCH }, { 1419, PMTU_SEARCH },
	{ 1420, PMTU_SEARCH }, { 9000, PMTU_SEARCH },
	/* below the base */
	{ 1199, PMTU_ERROR }, { 1000, PMTU_ERROR }, { 600, PMTU_ERROR }, { 576, PMTU_ERROR },
};

static void test_converges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(converge_cases) / sizeof(converge_cases[0]); i++) {
		const struct converge_case *c = &converge_cases[i];
		struct fake_path f = { .true_mtu = c->true_mtu, .min_unacked_gap = UINT64_MAX };
		struct pmtu p;

		print_message("true mtu %u\n", c->true_mtu);
		pmtu_init(&p, MAX_MTU);
		assert_int_equal(p.state, PMTU_BASE);
		assert_int_equal(pmtu_current(&p), PMTU_BASE_MTU);
		/* the base probe (or its three losses) decides the direction */
		run_until(&p, &f, c->after_base == PMTU_SEARCH ? RTT_MS
			  : (uint64_t)PMTU_MAX_PROBES * PMTU_PROBE_TIMEOUT_MS + 1);
		if (c->true_mtu >= MAX_MTU)
			assert_true(p.state == PMTU_SEARCH || p.state == PMTU_SEARCH_COMPLETE);
		else
			assert_int_equal(p.state, c->after_base);
		/* converged within 30 s, in a bounded number of probes */
		run_until(&p, &f, 30000);
		check_converged(&p, c->true_mtu);
		assert_true(f.probes <= 40);
		for (unsigned s = 0; s < SIZES; s++)
			assert_true(f.per_size[s] <= PMTU_MAX_PROBES);
		/* lost probes are one PROBE_TIMEOUT apart at least */
		assert_true(f.min_unacked_gap >= PMTU_PROBE_TIMEOUT_MS);
		/* and stays there: the confirmation probes are acked */
		run_until(&p, &f, 120000);
		check_converged(&p, c->true_mtu);
	}
}

/* A settled path shrinks; the engine notices: back to the base at once,
 * then the search finds the new value. */
static const unsigned blackhole_cases[][2] = {
	{ 1420, 1300 }, { 1420, 1280 }, { 1400, 1220 }, { 1350, 1340 }, { 1220, 1000 },
};

static void test_blackhole_signal(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(blackhole_cases) / sizeof(blackhole_cases[0]); i++) {
		struct fake_path f = { .true_mtu = blackhole_cases[i][0], .min_unacked_gap = UINT64_MAX };
		struct pmtu p;

		print_message("%u -> %u\n", blackhole_cases[i][0], blackhole_cases[i][1]);
		pmtu_init(&p, MAX_MTU);
		run_until(&p, &f, 30000);
		check_converged(&p, f.true_mtu);
		f.true_mtu = blackhole_cases[i][1];
		pmtu_blackhole_suspected(&p, f.now);
		/* at once: the base, or (already below it) the floor */
		if (blackhole_cases[i][0] >= PMTU_BASE_MTU) {
			assert_int_equal(p.state, PMTU_BASE);
			assert_int_equal(pmtu_current(&p), PMTU_BASE_MTU);
		} else {
			assert_int_equal(p.state, PMTU_ERROR);
			assert_int_equal(pmtu_current(&p), PMTU_MIN_MTU);
		}
		path_reset_counts(&f);
		run_until(&p, &f, f.now + 30000);
		check_converged(&p, f.true_mtu);
		for (unsigned s = 0; s < SIZES; s++)
			assert_true(f.per_size[s] <= PMTU_MAX_PROBES);
	}
}

/* Without the engine's signal the confirmation probes find the black hole:
 * within PMTU_CONFIRM_MS + MAX_PROBES probe timeouts (+ one RTT). */
static void test_blackhole_by_confirmation(void **state)
{
	struct fake_path f = { .true_mtu = 1420, .min_unacked_gap = UINT64_MAX };
	struct pmtu p;
	uint64_t shrunk;

	(void)state;
	pmtu_init(&p, MAX_MTU);
	run_until(&p, &f, 30000);
	check_converged(&p, 1420);
	f.true_mtu = 1300;
	shrunk = f.now;
	run_until(&p, &f, shrunk + PMTU_CONFIRM_MS + PMTU_MAX_PROBES * PMTU_PROBE_TIMEOUT_MS
		  + RTT_MS + 1);
	assert_int_not_equal(p.state, PMTU_SEARCH_COMPLETE);
	assert_true(pmtu_current(&p) <= 1300);
	run_until(&p, &f, f.now + 30000);
	check_converged(&p, 1300);
}

/* A settled path that grows is probed upward after PMTU_RAISE_TIMER_MS,
 * not before. */
static void test_raise_timer(void **state)
{
	struct fake_path f = { .true_mtu = 1300, .min_unacked_gap = UINT64_MAX };
	struct pmtu p;
	uint64_t settled;
	unsigned probes;

	(void)state;
	pmtu_init(&p, MAX_MTU);
	run_until(&p, &f, 30000);
	check_converged(&p, 1300);
	settled = f.now;
	f.true_mtu = 1420;
	probes = f.probes;
	run_until(&p, &f, settled + PMTU_RAISE_TIMER_MS - 60000);
	check_converged(&p, 1300);            /* still the old value */
	/* only confirmation probes meanwhile: one per PMTU_CONFIRM_MS */
	assert_true(f.probes - probes <= (PMTU_RAISE_TIMER_MS / PMTU_CONFIRM_MS) + 1);
	run_until(&p, &f, settled + PMTU_RAISE_TIMER_MS + 30000);
	check_converged(&p, 1420);
}

/* A path that carries nothing: the state machine keeps probing, one probe
 * in flight at a time, never faster than PROBE_TIMEOUT, and reports the
 * floor. */
static void test_dead_path_bounded(void **state)
{
	struct fake_path f = { .true_mtu = 0, .min_unacked_gap = UINT64_MAX };
	struct pmtu p;

	(void)state;
	pmtu_init(&p, MAX_MTU);
	run_until(&p, &f, 600000);
	assert_true(f.min_unacked_gap >= PMTU_PROBE_TIMEOUT_MS);
	assert_true(f.probes <= 600);
	assert_int_equal(pmtu_current(&p), PMTU_MIN_MTU);
}

/* A reported loss (EMSGSIZE) counts like a timeout, without the wait. */
static void test_probe_lost_report(void **state)
{
	struct pmtu p;
	unsigned size;

	(void)state;
	pmtu_init(&p, MAX_MTU);
	for (int i = 0; i < PMTU_MAX_PROBES; i++) {
		pmtu_next_probe(&p, 0, &size);
		assert_int_equal(size, PMTU_BASE_MTU);
		pmtu_probe_lost(&p, size, 0);
	}
	assert_int_equal(p.state, PMTU_ERROR);
	pmtu_probe_lost(&p, 9999, 0);  /* not in flight: ignored */
	assert_int_equal(p.state, PMTU_ERROR);
}

/* An interface MTU at or below the base: nothing to search upward. */
static void test_small_max(void **state)
{
	struct fake_path f = { .true_mtu = 1500, .min_unacked_gap = UINT64_MAX };
	struct pmtu p;

	(void)state;
	pmtu_init(&p, 1200);
	assert_int_equal(pmtu_current(&p), 1200);
	run_until(&p, &f, 10000);
	assert_int_equal(p.state, PMTU_SEARCH_COMPLETE);
	assert_int_equal(pmtu_current(&p), 1200);
}

static void test_outer_len(void **state)
{
	(void)state;
	assert_int_equal(pmtu_data_outer_len(1420, 1420), 1452);
	assert_int_equal(pmtu_data_outer_len(1410, 1420), 1452);  /* padding capped */
	assert_int_equal(pmtu_data_outer_len(1, 1420), 48);
	assert_int_equal(pmtu_data_outer_len(17, 1420), 64);
	assert_int_equal(pmtu_data_outer_len(1217, 1220), 1252);
	assert_int_equal(pmtu_data_outer_len(0, 1420), 32);        /* keepalive */
	/* a 1280-byte IPv4 link: 1252 bytes of UDP payload */
	assert_int_equal(pmtu_inner_for_outer(1280 - 28), 1220);
	assert_int_equal(pmtu_data_outer_len(pmtu_inner_for_outer(1252), 1220), 1252);
	assert_int_equal(pmtu_inner_for_outer(32), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_blackhole_signal),
		cmocka_unit_test(test_blackhole_by_confirmation),
		cmocka_unit_test(test_raise_timer),
		cmocka_unit_test(test_dead_path_bounded),
		cmocka_unit_test(test_probe_lost_report),
		cmocka_unit_test(test_small_max),
		cmocka_unit_test(test_outer_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
