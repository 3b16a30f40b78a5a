/* What a received path probe must pass before it earns anything, so that
 * probes stay hints nobody can abuse (docs/PROTOCOL.md section 4):
 *  - a request must be fresh: its sender's clock, compared with the newest
 *    request seen under the same key, may lag by at most PROBE_FRESH_MS, so a
 *    captured request replayed later is dropped whatever the two clocks say;
 *  - answers are budgeted per source address, and in total;
 *  - a candidate address must be one a path can use (no loopback, multicast,
 *    link-local, unspecified or broadcast address).
 * Socket-free and clock-free: callers pass now_ms. */
#ifndef TUNNEL_PROBE_GUARD_H
#define TUNNEL_PROBE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "rendezvous/endpoint.h"

enum probe_guard_limits {
	PROBE_FRESH_MS = 10000,
	PROBE_ANSWER_RATE = 10,        /* responses per second per source address */
	PROBE_ANSWER_BURST = 20,
	PROBE_ANSWER_TOTAL_RATE = 100, /* and for all sources together */
	PROBE_ANSWER_TOTAL_BURST = 200,
	PROBE_GUARD_SOURCES = 8,       /* sources tracked; the least recent is replaced */
};

/* The newest request seen under one key generation. */
struct probe_freshness {
	bool seen;
	uint64_t generation;    /* 0: the static key; else the session's birth */
	uint64_t newest_sent_ms; /* the sender's clock in it */
	uint64_t newest_at_ms;   /* ours when it arrived */
};

struct probe_bucket {
	struct rdv_endpoint src;  /* the port is ignored */
	uint64_t last_ms;
	uint64_t millitokens;
	bool used;
};

struct probe_budget {
	struct probe_bucket sources[PROBE_GUARD_SOURCES];
	struct probe_bucket total;
};

/* True when a request sent at `sent_ms` (the sender's clock) under key
 * `generation` is fresh; records it. A newer generation (a new session)
 * starts over; an older one is stale. */
bool probe_fresh(struct probe_freshness *f, uint64_t generation, uint64_t sent_ms,
		 uint64_t now_ms);

/* Takes one answer from src's budget (and the total); false when empty. */
bool probe_budget_allow(struct probe_budget *b, const struct rdv_endpoint *src, uint64_t now_ms);

/* True unless `ep` cannot be a path to another host: loopback, multicast,
 * link-local, unspecified, broadcast, IPv4 "this network", port 0. */
bool probe_candidate_usable(const struct rdv_endpoint *ep);

#endif
