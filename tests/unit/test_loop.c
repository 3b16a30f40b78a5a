/* The event loop: descriptors wake their watch, timers fire in deadline
 * order once each, and cancel/re-arm from inside callbacks behave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "tunnel/loop.h"

struct fixture {
	struct loop loop;
	struct loop_watch pipe_watch;
	struct loop_timer a, b, c, stopper;
	int pipe_fds[2];
	char log[32];
	size_t n_log;
	uint64_t fired_at[3];
};

static void note(struct fixture *f, char what)
{
	if (f->n_log < sizeof(f->log) - 1)
		f->log[f->n_log++] = what;
}

static void pipe_ready(struct loop_watch *w, uint32_t events)
{
	struct fixture *f = container_of(w, struct fixture, pipe_watch);
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fd, &c, 1), 1);
	note(f, c);
}

static void a_expired(struct loop_timer *t, uint64_t now)
{
	struct fixture *f = container_of(t, struct fixture, a);

	f->fired_at[0] = now;
	note(f, 'A');
	/* A cancels C, which is due in the same wake-up or later. */
	loop_timer_cancel(&f->loop, &f->c);
}

static void b_expired(struct loop_timer *t, uint64_t now)
{
	struct fixture *f = container_of(t, struct fixture, b);

	f->fired_at[1] = now;
	note(f, 'B');
}

static void c_expired(struct loop_timer *t, uint64_t now)
{
	struct fixture *f = container_of(t, struct fixture, c);

	(void)now;
	note(f, 'C');
}

static void stop_expired(struct loop_timer *t, uint64_t now)
{
	struct fixture *f = container_of(t, struct fixture, stopper);

	(void)now;
	note(f, '.');
	loop_stop(&f->loop);
}

static void test_timers_and_watch(void **state)
{
	struct fixture f = { 0 };
	uint64_t start;

	(void)state;
	assert_int_equal(loop_init(&f.loop), 0);
	assert_int_equal(pipe(f.pipe_fds), 0);
	f.pipe_watch = (struct loop_watch){ .fd = f.pipe_fds[0], .ready = pipe_ready };
	assert_int_equal(loop_watch_add(&f.loop, &f.pipe_watch, EPOLLIN), 0);
	f.a.expired = a_expired;
	f.b.expired = b_expired;
	f.c.expired = c_expired;
	f.stopper.expired = stop_expired;

	/* Deadlines hundreds of ms out: on a loaded machine the arming and the
	 * pipe write must still come before the first timer is due, or the
	 * order checked below is not the order under test. */
	start = clock_now_ms();
	assert_int_equal(loop_timer_arm(&f.loop, &f.b, start + 600), 0);
	assert_int_equal(loop_timer_arm(&f.loop, &f.a, start + 200), 0);
	assert_int_equal(loop_timer_arm(&f.loop, &f.c, start + 400), 0);
	/* re-arming moves a timer instead of adding it twice */
	assert_int_equal(loop_timer_arm(&f.loop, &f.b, start + 300), 0);
	assert_int_equal(loop_timer_arm(&f.loop, &f.stopper, start + 800), 0);
	assert_int_equal(f.loop.n_timers, 4);
	assert_int_equal(write(f.pipe_fds[1], "p", 1), 1);

	assert_int_equal(loop_run(&f.loop), 0);
	f.log[f.n_log] = '\0';
	/* the descriptor first, then A (which cancels C), B, the stopper */
	assert_string_equal(f.log, "pAB.");
	assert_true(f.fired_at[0] >= start + 200);
	assert_true(f.fired_at[1] >= start + 300);
	assert_true(f.fired_at[1] < start + 5000);
	assert_int_equal(f.loop.n_timers, 0);

	loop_watch_remove(&f.loop, &f.pipe_watch);
	close(f.pipe_fds[0]);
	close(f.pipe_fds[1]);
	loop_destroy(&f.loop);
}

/* Two timers due in one wake-up: the first cancels the second, which must
 * not fire even though it was already collected as due. */
static void test_cancel_due_timer(void **state)
{
	struct fixture f = { 0 };
	uint64_t now;

	(void)state;
	assert_int_equal(loop_init(&f.loop), 0);
	f.a.expired = a_expired;
	f.c.expired = c_expired;
	f.stopper.expired = stop_expired;
	now = clock_now_ms();
	assert_int_equal(loop_timer_arm(&f.loop, &f.a, now), 0);
	assert_int_equal(loop_timer_arm(&f.loop, &f.c, now), 0);
	assert_int_equal(loop_timer_arm(&f.loop, &f.stopper, now + 10), 0);
	assert_int_equal(loop_run(&f.loop), 0);
	f.log[f.n_log] = '\0';
	assert_string_equal(f.log, "A.");
	loop_destroy(&f.loop);
}

static void test_timer_capacity(void **state)
{
	struct loop loop;
	struct loop_timer timers[LOOP_MAX_TIMERS + 1] = { 0 };

	(void)state;
	assert_int_equal(loop_init(&loop), 0);
	for (size_t i = 0; i < LOOP_MAX_TIMERS; i++)
		assert_int_equal(loop_timer_arm(&loop, &timers[i], 1000 + i), 0);
	assert_int_equal(loop_timer_arm(&loop, &timers[LOOP_MAX_TIMERS], 1), -ENOSPC);
	loop_timer_cancel(&loop, &timers[3]);
	loop_timer_cancel(&loop, &timers[3]);
	assert_int_equal(loop.n_timers, LOOP_MAX_TIMERS - 1);
	assert_int_equal(loop_timer_arm(&loop, &timers[LOOP_MAX_TIMERS], 1), 0);
	loop_destroy(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_and_watch),
		cmocka_unit_test(test_cancel_due_timer),
		cmocka_unit_test(test_timer_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
