/* The daemon's one event loop: epoll for file descriptors, a small set of
 * one-shot timers on the monotonic clock, and nothing else. Single-threaded;
 * callbacks run to completion and may arm or cancel any timer.
 *
 * Watches and timers are embedded in their owner's struct and found back
 * with container_of, so the loop itself never allocates. */
#ifndef TUNNEL_LOOP_H
#define TUNNEL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

enum loop_limits {
	LOOP_MAX_TIMERS = 64,  /* a link has about ten */
	LOOP_MAX_EVENTS = 16,  /* epoll events taken per wake-up */
};

struct loop_watch {
	int fd;
	void (*ready)(struct loop_watch *w, uint32_t events);
};

struct loop_timer {
	uint64_t deadline_ms;
	bool armed;
	bool pending; /* due in the current wake-up, not yet fired */
	void (*expired)(struct loop_timer *t, uint64_t now_ms);
};

struct loop {
	int epoll_fd;
	bool stopping;
	uint64_t now_ms;                         /* refreshed on every wake-up */
	struct loop_timer *timers[LOOP_MAX_TIMERS]; /* the armed ones, unordered */
	size_t n_timers;
	/* Called by loop_run after each wake-up's events and timers, when
	 * what they changed is settled (NULL: none). */
	void (*settled)(struct loop *loop);
};

/* Creates the epoll instance. */
must_check int loop_init(struct loop *loop);

/* Closes the epoll instance (not the watched descriptors). */
void loop_destroy(struct loop *loop);

/* Starts calling w->ready when w->fd has any of `events` (EPOLLIN...). */
must_check int loop_watch_add(struct loop *loop, struct loop_watch *w, uint32_t events);

/* Changes the events a watch waits for (e.g. adds EPOLLOUT under backpressure). */
must_check int loop_watch_modify(struct loop *loop, struct loop_watch *w, uint32_t events);

/* Stops watching; call before closing the descriptor. A callback may remove
 * its own watch, not another one that may be in the same batch of events. */
void loop_watch_remove(struct loop *loop, struct loop_watch *w);

/* Arms (or re-arms) `t` to expire at `deadline_ms` on the monotonic clock.
 * Fails (-ENOSPC, and logs it) only when LOOP_MAX_TIMERS are already
 * armed, a programming error: callers need not check. */
int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t deadline_ms);

/* Disarms `t`; harmless if it is not armed. */
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);

/* Fires every timer due at loop->now_ms once (loop_run does this on each
 * wake-up; the engine's fuzz target drives it with its own clock). */
void loop_run_timers(struct loop *loop);

/* Runs until loop_stop(). Returns 0, or a negative errno if epoll fails. */
must_check int loop_run(struct loop *loop);

/* Makes loop_run() return after the current callback. */
void loop_stop(struct loop *loop);

#endif
