/* Hole punching: after an introduction both peers fire authenticated probes
 * (crypto/probe.h) at every candidate endpoint of the other at once, every
 * PUNCH_INTERVAL_MS with jitter. A candidate whose response comes back
 * carrying our token has worked both ways; the best one wins (LAN over a
 * static Endpoint over reflexive over learned), WireGuard moves onto it.
 *
 * A valid request from an address we did not know, while a burst runs, is
 * a "learned" (peer-reflexive) candidate, as in ICE: the fresh mapping a
 * symmetric NAT made for the peer. We probe it back, which is how a
 * symmetric NAT on one side still gets a direct path when the other side
 * lets it in. Learned candidates that answer nothing in a burst are
 * forgotten (a replayed request must not buy lasting traffic).
 *
 * If nothing answers within PUNCH_WINDOW_MS the link falls back to the
 * relay and keeps probing every PUNCH_BACKGROUND_MS, moving to a direct
 * path as soon as one answers.
 *
 * Liveness: when we send data and nothing authenticated comes back for
 * PUNCH_QUIET_MS, the path may have died (NAT state flushed, an address
 * changed, the peer restarted). We then re-register with the rendezvous
 * servers (which re-introduce us if either side moved) and probe again; a
 * burst in which the path in use stays silent drops it for the relay. */
#ifndef TUNNEL_PUNCH_H
#define TUNNEL_PUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/probe.h"
#include "rendezvous/endpoint.h"
#include "tunnel/local_addrs.h"
#include "tunnel/probe_guard.h"
#include "tunnel/loop.h"

struct peer;
struct udp_datagram;

enum punch_timing {
	PUNCH_INTERVAL_MS = 200,
	PUNCH_JITTER_MS = 50,
	PUNCH_WINDOW_MS = 4000,
	PUNCH_BACKGROUND_MS = 2000,
	PUNCH_QUIET_MS = 700,      /* data out, nothing back: check the path */
	HANDSHAKE_DEFER_MS = 1000, /* the larger key waits for the peer's initiation */
};

enum punch_limits {
	PUNCH_MAX_CANDIDATES = 20,
	PUNCH_MAX_LEARNED = 4,
};

/* Lower is better. */
enum candidate_kind {
	CANDIDATE_LAN,
	CANDIDATE_STATIC,
	CANDIDATE_REFLEXIVE,
	CANDIDATE_LEARNED,
	CANDIDATE_BIRTHDAY,  /* found by birthday probing (tunnel/birthday.h) */
};

struct candidate {
	struct rdv_endpoint ep;
	enum candidate_kind kind;
	uint64_t token;      /* of the last request we sent it, 0: none */
	uint64_t sent_ms;
	bool answered;
	bool stale;          /* not repeated by the latest introduction (yet) */
	bool portmap;        /* the peer's router mapping: its first LAN candidate
			      * on its reflexive address, on another port */
};

struct punch {
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	struct candidate candidates[PUNCH_MAX_CANDIDATES];
	size_t n_candidates;
	bool active;             /* probing now */
	bool has_chosen;
	size_t chosen;           /* index into candidates */
	uint64_t window_end_ms;  /* end of the current burst */
	int64_t rtt_ms;          /* of the chosen path, -1: unknown */
	struct loop_timer timer;     /* armed only by tunnel/timers.c */
	struct loop_timer liveness;
	uint64_t probes_sent, probes_answered;
	/* what a request must pass (tunnel/probe_guard.h) */
	struct probe_freshness static_fresh, session_fresh;
	struct probe_budget budget;
	struct local_addrs own;  /* never candidates; refreshed at each introduction */
	bool has_peer_reflexive;
	struct rdv_endpoint peer_reflexive;     /* from the latest introduction */
};

/* Derives the probe key; call once the peer's handshake state exists. */
void punch_init(struct peer *peer);

/* Wipes the key and stops the timer. */
void punch_destroy(struct peer *peer);

/* Adds a candidate (duplicates are merged, keeping the better kind). */
void punch_add_candidate(struct peer *peer, const struct rdv_endpoint *ep, enum candidate_kind kind);

/* An introduction gave the peer's LAN and public candidates: they replace
 * the ones the last introduction gave (those it repeats keep their probe
 * state; the one carrying the link stays until a better one answers), and
 * a burst starts. */
void punch_introduced(struct peer *peer, const struct rdv_endpoint *lan, size_t n_lan,
		      const struct rdv_endpoint *reflexive);

/* Starts a burst of probes at every candidate now; while one runs, new
 * candidates join it and its end stays where it was (re-registrations
 * must not keep a burst going forever). */
void punch_start(struct peer *peer);

/* The probe timer expired (tunnel/timers.c): the next round of a burst,
 * the end of a burst, or a background burst. */
void punch_round_due(struct peer *peer, uint64_t now_ms);

/* Handles a probe datagram (DEMUX_PROBE) received directly from d->from,
 * or through the relay (answered the same way; teaches no candidate). */
void punch_receive(struct peer *peer, const struct udp_datagram *d, bool via_relay);

/* What birthday probing (tunnel/birthday.c) and the path checks
 * (tunnel/pathcheck.c) share with plain probes. */

/* Builds a request of `len` bytes (PROBE_LEN..PROBE_MAX_LEN, at most `cap`)
 * carrying `token`, made with the session's key when there is one, else
 * the pair's static key: every request of ours (punch.c's, birthday.c's,
 * pathcheck.c's padded ones). */
must_check int punch_request_build(struct peer *peer, uint64_t token, size_t len, uint8_t *msg,
				   size_t cap);

/* Parses and authenticates a probe datagram received directly; counts a
 * drop and returns non-zero when it is not the peer's. */
must_check int punch_authenticate(struct peer *peer, const struct udp_datagram *d,
				  struct probe *pr, uint64_t *generation);

/* The response to an authenticated request, if it is fresh and its source
 * within its budget (tunnel/probe_guard.h); non-zero (a drop counted)
 * otherwise. */
must_check int punch_response_build(struct peer *peer, const struct udp_datagram *d,
				    const struct probe *req, uint64_t generation,
				    uint8_t msg[static PROBE_LEN]);

/* Birthday probing found `ep` answering (the easy side: the peer's mapping
 * it hit; the hard side: the peer's reflexive endpoint, now reached from
 * the link's new socket): it becomes an answered candidate, chosen as any
 * other is. */
void punch_birthday_answered(struct peer *peer, const struct rdv_endpoint *ep, uint64_t sent_ms);

/* How the path in use was found, for status: lan | portmap | static |
 * reflexive | birthday | relay | "" (no path), and into `why` (size
 * bytes) the reason the better ones failed ("" when there is none to
 * give). */
const char *punch_path_origin(const struct peer *peer, char *why, size_t size);

#endif
