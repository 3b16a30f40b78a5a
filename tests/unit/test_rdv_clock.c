/* Clocks across a suspend, in memory. clock_gettime() is wrapped at link
 * time (-Wl,--wrap=clock_gettime, tests/unit/rendezvous.cmake), so the test
 * owns CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_REALTIME and can do what a
 * laptop does: sleep 10 minutes (monotonic frozen, boot time and wall clock
 * advance), or have its wall clock stepped by hours. The daemon's clock
 * (clock_now_ms) must see the sleep, key lifetimes must end across it, and
 * the rendezvous client, driven by that clock against an in-memory server,
 * must be registered again within a few seconds of waking up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/session.h"
#include "rendezvous/client.h"
#include "rendezvous/server.h"

/* The machine's clocks, in ms, and the server's (another machine, never
 * asleep, with a clock of its own). */
static uint64_t fake_mono = 1000000, fake_boot = 1000000, fake_real = 1700000000000ull;
static uint64_t fake_srv = 987654321;

int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __real_clock_gettime(clockid_t id, struct timespec *ts);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	uint64_t ms;

	switch (id) {
	case CLOCK_MONOTONIC:
		ms = fake_mono;
		break;
	case CLOCK_BOOTTIME:
		ms = fake_boot;
		break;
	case CLOCK_REALTIME:
		ms = fake_real;
		break;
	default:
		return __real_clock_gettime(id, ts);
	}
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
	return 0;
}

/* Time passes while the machine is awake: every clock moves. */
static void awake(uint64_t ms)
{
	fake_mono += ms;
	fake_boot += ms;
	fake_real += ms;
	fake_srv += ms;
}

/* The machine sleeps: CLOCK_MONOTONIC stops, the others do not. */
static void suspend(uint64_t ms)
{
	fake_boot += ms;
	fake_real += ms;
	fake_srv += ms;
}

static void test_now_counts_suspend(void **state)
{
	uint64_t before = clock_now_ms();

	(void)state;
	suspend(600000);
	assert_true(clock_now_ms() - before == 600000);
	/* Stepping the wall clock moves no timer, either way. */
	before = clock_now_ms();
	fake_real += 3600000;
	assert_true(clock_now_ms() == before);
	fake_real -= 7200000;
	assert_true(clock_now_ms() == before);
	awake(5);
	assert_true(clock_now_ms() == before + 5);
}

/* A keypair born before a 10-minute sleep is past REJECT_AFTER_TIME after
 * it on the daemon's clock (it would not be on a frozen monotonic clock). */
static void test_key_lifetime_across_suspend(void **state)
{
	struct keypair kp;

	(void)state;
	memset(&kp, 0, sizeof(kp));
	kp.valid = true;
	kp.is_initiator = true;
	kp.birth_ms = clock_now_ms();
	uint64_t mono_before = clock_ms_of(CLOCK_MONOTONIC);

	awake(1000);
	assert_false(session_expired(&kp, clock_now_ms()));
	assert_false(session_should_rekey_on_send(&kp, clock_now_ms()));
	suspend(600000);
	assert_true(session_expired(&kp, clock_now_ms()));
	assert_true(session_should_rekey_on_send(&kp, clock_now_ms()));
	/* The counterfactual: the old clock saw one second go by. */
	assert_true(clock_ms_of(CLOCK_MONOTONIC) - mono_before == 1000);
	assert_false(session_expired(&kp, kp.birth_ms + (clock_ms_of(CLOCK_MONOTONIC) - mono_before)));
}

struct world {
	struct rdv_server *srv;
	struct rdv_client c;
	struct sockaddr_in addr;
	struct rdv_outbox out;
	struct rdv_datagram slots[64];
	int registered, challenged;
};

static uint64_t srv_now(const struct world *w)
{
	(void)w;
	return fake_srv;
}

/* One turn of the client's loop at clock_now_ms(): send what is due, the
 * server answers, the answers come back. */
static void turn(struct world *w)
{
	uint8_t buf[RDV_DATAGRAM_MAX];
	size_t len;

	rdv_server_expire(w->srv, srv_now(w));
	if (rdv_client_poll(&w->c, clock_now_ms(), buf, sizeof(buf), &len) != 1)
		return;
	rdv_server_handle(w->srv, 3, (struct sockaddr *)&w->addr, buf, len, srv_now(w), &w->out);
	for (size_t i = 0; i < w->out.n; i++) {
		struct rdv_event ev;

		if (rdv_client_consume(&w->c, w->out.d[i].buf, w->out.d[i].len, clock_now_ms(),
				       &ev) != RDV_OK)
			continue;
		w->registered += ev.type == RDV_EVENT_REGISTERED;
		w->challenged += ev.type == RDV_EVENT_CHALLENGE;
	}
	w->out.n = 0;
}

/* Runs the client's loop for up to `ms` in 100 ms steps; returns how long
 * it took until a new REGISTERED arrived (UINT64_MAX: never). */
static uint64_t run_until_registered(struct world *w, uint64_t ms)
{
	int before = w->registered;

	for (uint64_t t = 0; t <= ms; t += 100) {
		turn(w);
		turn(w); /* the answer to a CHALLENGE goes out in the same turn */
		if (w->registered > before)
			return t;
		awake(100);
	}
	return UINT64_MAX;
}

static void test_suspend_reregisters(void **state)
{
	struct rdv_server_config cfg;
	struct world w;
	uint8_t sk[RDV_KEY_LEN];
	uint64_t took;

	(void)state;
	memset(&w, 0, sizeof(w));
	rdv_server_config_defaults(&cfg);
	randombytes_buf(cfg.private_key, sizeof(cfg.private_key));
	w.srv = rdv_server_new(&cfg);
	assert_non_null(w.srv);
	w.out = (struct rdv_outbox){ .d = w.slots, .cap = ARRAY_SIZE(w.slots) };
	w.addr.sin_family = AF_INET;
	w.addr.sin_port = htons(40001);
	inet_pton(AF_INET, "198.51.100.1", &w.addr.sin_addr);
	randombytes_buf(sk, sizeof(sk));
	/* The laptop's wall clock is 3 hours behind. */
	fake_real -= 3 * 3600 * 1000ull;
	assert_int_equal(rdv_client_init(&w.c, sk, rdv_server_public_key(w.srv), clock_now_ms()), 0);
	took = run_until_registered(&w, 5000);
	assert_true(took <= 1000);
	assert_int_equal(w.challenged, 1);

	/* Two minutes of normal life: refreshes keep it registered. */
	for (int i = 0; i < 1200; i++) {
		turn(&w);
		awake(100);
	}
	assert_int_equal(w.c.state, RDV_CLIENT_REGISTERED);
	assert_int_equal(rdv_server_stats(w.srv)->peers, 1);

	/* The lid closes for 10 minutes; the server expires the registration
	 * meanwhile and rotates its cookie secret (the old cookie is dead). */
	suspend(600000);
	rdv_server_expire(w.srv, srv_now(&w));
	assert_int_equal(rdv_server_stats(w.srv)->peers, 0);
	/* The lid opens: registered again within a few seconds. */
	took = run_until_registered(&w, 10000);
	if (took > 3000)
		fail_msg("registered again only after %llu ms", (unsigned long long)took);
	assert_int_equal(rdv_server_stats(w.srv)->peers, 1);
	assert_int_equal(w.challenged, 2);

	/* The wall clock is stepped by +1 h while running: nothing notices. */
	fake_real += 3600000;
	for (int i = 0; i < 1200; i++) {
		turn(&w);
		awake(100);
	}
	assert_int_equal(w.c.state, RDV_CLIENT_REGISTERED);
	assert_int_equal(rdv_server_stats(w.srv)->peers, 1);
	assert_int_equal(rdv_server_stats(w.srv)->expired, 1);

	rdv_client_wipe(&w.c);
	rdv_server_free(w.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_counts_suspend),
		cmocka_unit_test(test_key_lifetime_across_suspend),
		cmocka_unit_test(test_suspend_reregisters),
	};

	log_open("test_rdv_clock", false, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
