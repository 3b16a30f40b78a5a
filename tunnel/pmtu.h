/* Datagram packetization-layer path MTU discovery (RFC 8899), one instance
 * per path. No socket, no clock: callers pass now_ms and send the padded,
 * authenticated probes themselves; this file only decides which size to
 * probe when, and what the path carries.
 *
 * Sizes are INNER MTU values (the largest IP packet the TUN may carry over
 * this path); pmtu_data_outer_len turns one into the UDP payload of the
 * WireGuard data message that carries it.
 *
 * States (RFC 8899 §5.2; DISABLED is the caller not creating one):
 *
 *   BASE ------ base size acked ------> SEARCH ---- high - low <= RESOLUTION
 *    |  ^                                 ^   |      or low == max ----------+
 *    |  |                                 |   |                              v
 *    |  +-- black hole ------------------ | --+------------------- SEARCH_COMPLETE
 *    |  |                                 +--- PMTU_RAISE_TIMER_MS ---------+ |
 *    |  +-- black hole / confirmation probe lost PMTU_MAX_PROBES times -------+
 *    |
 *    +-- base size lost PMTU_MAX_PROBES times --> ERROR: the path does not
 *        carry the base; search downward between PMTU_MIN_MTU and the base
 *        (then SEARCH_COMPLETE below the base; the raise timer tries the
 *        base again).
 *
 * One probe is in flight at a time. A size is given up after PMTU_MAX_PROBES
 * probes of it went unacknowledged for PMTU_PROBE_TIMEOUT_MS each. The
 * search is a binary search between `low` (the largest size known to pass)
 * and `high` (the smallest size known to fail, or max + 1), starting with
 * one optimistic probe of the configured maximum.
 *
 * Use, per path: pmtu_init(&pm, max) when the path comes into use (max:
 * the interface MTU, or less where the path's envelope is smaller); a loop
 * timer at the time pmtu_next_probe returns; when it gives a size, send an
 * authenticated probe whose UDP payload is pmtu_data_outer_len(size, size)
 * bytes, with DF (IP_PMTUDISC_PROBE); its answer -> pmtu_probe_acked(size);
 * EMSGSIZE on sending it -> pmtu_probe_lost(size); after every event set
 * t->path_mtu = pmtu_current(&pm) and re-arm the timer. */
#ifndef TUNNEL_PMTU_H
#define TUNNEL_PMTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pmtu_state {
	PMTU_BASE,             /* using the base size; probing it */
	PMTU_SEARCH,           /* base confirmed; searching upward */
	PMTU_SEARCH_COMPLETE,  /* settled; confirms now and then, raises later */
	PMTU_ERROR,            /* the base does not pass: searching below it */
};

enum pmtu_limits {
	/* The safe start (RFC 8899 BASE_PLPMTU): what any IPv6 path, whose
	 * links carry at least 1280 bytes, carries inside our IPv6/UDP and
	 * WireGuard headers: 1280 - 40 - 8 - 32. */
	PMTU_BASE_MTU = 1200,
	PMTU_MIN_MTU = 576,       /* inner IPv4 minimum: the floor below the base */
	PMTU_MAX_PROBES = 3,      /* RFC 8899 MAX_PROBES */
	PMTU_RESOLUTION = 8,      /* the search stops within this many bytes */
};

enum pmtu_timing {
	/* RFC 8899 PROBE_TIMER: MUST NOT be below 1 s. We stay at the floor
	 * rather than the suggested 15 s: our peer answers a probe at once,
	 * and a search (a few lost sizes) must end in seconds, not minutes. */
	PMTU_PROBE_TIMEOUT_MS = 1000,
	/* RFC 8899 PMTU_RAISE_TIMER: a settled path below its maximum is
	 * probed upward again after this long (the RFC's 600 s). */
	PMTU_RAISE_TIMER_MS = 600 * 1000,
	/* RFC 8899 CONFIRMATION_TIMER, made short: a settled path probes its
	 * current size this often, so a path that shrank (a black hole) is
	 * seen within PMTU_CONFIRM_MS + PMTU_MAX_PROBES * PMTU_PROBE_TIMEOUT_MS
	 * even when the engine does not report one. One padded packet every
	 * 5 s is negligible beside data. */
	PMTU_CONFIRM_MS = 5000,
};

struct pmtu {
	enum pmtu_state state;
	unsigned max;            /* configured (interface) MTU: never above */
	unsigned base;           /* MIN(PMTU_BASE_MTU, max) */
	unsigned current;        /* what the path may use now (pmtu_current) */
	unsigned low, high;      /* search bounds: low passes, high fails */
	bool tried_max;          /* the optimistic first probe of `max` went out */

	unsigned target;         /* size being probed, 0 when none */
	unsigned probe_count;    /* probes of target sent without an ack */
	bool in_flight;          /* a probe of target awaits its ack */
	uint64_t probe_sent_ms;  /* when the one in flight went out */
	uint64_t next_probe_ms;  /* no probe before this */
	uint64_t raise_ms;       /* SEARCH_COMPLETE: search upward again */
	uint64_t confirm_ms;     /* SEARCH_COMPLETE: probe `current` again */
};

/* Starts in BASE (current = the base size, or max if smaller), with the
 * first probe due at once. max_mtu is the configured inner MTU. */
void pmtu_init(struct pmtu *p, unsigned max_mtu);

/* The same with another safe start, for a path whose own envelope eats
 * into the base (the relay: its RELAY message wraps each datagram). */
void pmtu_init_base(struct pmtu *p, unsigned max_mtu, unsigned base_mtu);

/* Should be called when the time it returned last has come, and after any
 * other pmtu_* event. Counts a probe whose timer ran out as lost, then:
 * if a probe should go out now, sets *size to its inner size (the caller
 * must send it; it is counted as sent at now_ms), else sets *size to 0.
 * Returns when to call again (the in-flight probe's deadline, the next
 * probe, or a timer of SEARCH_COMPLETE). */
uint64_t pmtu_next_probe(struct pmtu *p, uint64_t now_ms, unsigned *size);

/* Should be called when the peer acknowledged a probe of `size` bytes: the
 * path carries at least that much. */
void pmtu_probe_acked(struct pmtu *p, unsigned size, uint64_t now_ms);

/* Should be called when a probe of `size` is known lost before its timer
 * (e.g. the local stack refused it with EMSGSIZE): one loss, as a timeout. */
void pmtu_probe_lost(struct pmtu *p, unsigned size, uint64_t now_ms);

/* Should be called when the engine sees full-size data go unanswered while
 * small packets get through: back to the base at once, search again. */
void pmtu_blackhole_suspected(struct pmtu *p, uint64_t now_ms);

/* The inner MTU the path may use now. */
unsigned pmtu_current(const struct pmtu *p);

/* "base", "search", "search_complete", "error" (status and logs). */
const char *pmtu_state_name(enum pmtu_state s);

/* UDP payload of the WireGuard data message that carries an inner packet of
 * inner_len bytes: header (16) + the packet padded to a multiple of 16 but
 * not beyond pad_cap (the MTU the sender pads to, 0: no cap) + tag (16).
 * A probe of inner size S is the message pmtu_data_outer_len(S, S). */
size_t pmtu_data_outer_len(size_t inner_len, size_t pad_cap);

/* The largest inner MTU whose full-size data message fits a UDP payload of
 * udp_payload bytes, when the sender pads up to that same MTU (0 if none). */
size_t pmtu_inner_for_outer(size_t udp_payload);

#endif
