/* epoll and timers. Timers live in a short unordered array: a link arms
 * about ten, so a linear scan per wake-up costs less than keeping a heap,
 * and the scan happens once per batch of packets, not per packet. */
#include "tunnel/loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

int loop_init(struct loop *loop)
{
	*loop = (struct loop){ .epoll_fd = epoll_create1(EPOLL_CLOEXEC) };
	if (loop->epoll_fd < 0)
		return -errno;
	loop->now_ms = clock_now_ms();
	return 0;
}

void loop_destroy(struct loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
	loop->n_timers = 0;
}

int loop_watch_add(struct loop *loop, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int loop_watch_modify(struct loop *loop, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void loop_watch_remove(struct loop *loop, struct loop_watch *w)
{
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
}

int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t deadline_ms)
{
	t->pending = false;
	if (!t->armed) {
		if (loop->n_timers == LOOP_MAX_TIMERS) {
			log_error("timer table full (%d timers): a timer was not armed",
				  LOOP_MAX_TIMERS);
			return -ENOSPC;
		}
		loop->timers[loop->n_timers++] = t;
		t->armed = true;
	}
	t->deadline_ms = deadline_ms;
	return 0;
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	t->pending = false;
	if (!t->armed)
		return;
	for (size_t i = 0; i < loop->n_timers; i++) {
		if (loop->timers[i] == t) {
			loop->timers[i] = loop->timers[--loop->n_timers];
			break;
		}
	}
	t->armed = false;
}

void loop_stop(struct loop *loop)
{
	loop->stopping = true;
}

/* Milliseconds epoll may sleep before the earliest timer is due (-1: none). */
static int next_timeout(const struct loop *loop)
{
	uint64_t earliest = UINT64_MAX;

	for (size_t i = 0; i < loop->n_timers; i++)
		earliest = MIN(earliest, loop->timers[i]->deadline_ms);
	if (earliest == UINT64_MAX)
		return -1;
	if (earliest <= loop->now_ms)
		return 0;
	return (int)MIN(earliest - loop->now_ms, (uint64_t)60000);
}

/* Fires every due timer once. A callback may re-arm its own timer or others;
 * a timer re-armed for "now" waits for the next wake-up, so a callback that
 * keeps re-arming cannot starve the descriptors. */
void loop_run_timers(struct loop *loop)
{
	struct loop_timer *due[LOOP_MAX_TIMERS];
	size_t n_due = 0;

	for (size_t i = 0; i < loop->n_timers;) {
		struct loop_timer *t = loop->timers[i];

		if (t->deadline_ms <= loop->now_ms) {
			loop->timers[i] = loop->timers[--loop->n_timers];
			t->armed = false;
			t->pending = true;
			due[n_due++] = t;
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < n_due && !loop->stopping; i++) {
		/* An earlier callback may have re-armed or cancelled this one. */
		if (due[i]->pending) {
			due[i]->pending = false;
			due[i]->expired(due[i], loop->now_ms);
		}
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event events[LOOP_MAX_EVENTS];

	loop->stopping = false;
	while (!loop->stopping) {
		int n = epoll_wait(loop->epoll_fd, events, LOOP_MAX_EVENTS, next_timeout(loop));

		if (n < 0 && errno != EINTR)
			return -errno;
		loop->now_ms = clock_now_ms();
		for (int i = 0; i < n && !loop->stopping; i++) {
			struct loop_watch *w = events[i].data.ptr;

			w->ready(w, events[i].events);
		}
		if (!loop->stopping)
			loop_run_timers(loop);
		if (loop->settled)
			loop->settled(loop);
	}
	return 0;
}
