/* Birthday probing (docs/BEHAVIOUR.md, "Birthday probing"): a direct path
 * when exactly one NAT maps per destination (symmetric, "hard") and the
 * other does not ("easy"), which plain punching (tunnel/punch.h) cannot
 * find when the easy side also filters by port.
 *
 * It runs beside a background burst (tunnel/punch.h), so while the relay
 * carries the link after a burst in which no candidate answered, and only
 * with Punch = birthday (the default). Our role
 * comes from our own mapping test (meet_nat_mapping): the rendezvous does
 * not tell us the peer's, so a failed burst stands for "the other side is
 * the other kind".
 *   hard  opens BIRTHDAY_SOCKETS extra UDP sockets and sends one
 *         authenticated probe request from each to the peer's reflexive
 *         endpoint: N fresh mappings in our NAT, each open to that endpoint
 *         only.
 *   easy  sends authenticated requests from the link's socket to
 *         BIRTHDAY_PROBES distinct random ports (1024-65535) of the peer's
 *         public address, at most BIRTHDAY_RATE a second: each opens our
 *         NAT towards that port, and one landing in one of the N mappings
 *         is answered from it. P(hit) = 1 - exp(-N*M/64512).
 * A request arriving on an extra socket is answered from it (probe_guard's
 * freshness and budget apply, as on the link's socket), and that socket
 * sends its own request again. The first authentic response to an extra
 * socket's own request makes that socket the link's (tunnel_replace_socket:
 * the loop's watch, buffers, offloads and DF setting move with it, and the
 * rendezvous servers are registered with again from it); the other extra
 * sockets close at once. Nothing else arriving on an extra socket changes
 * anything. The easy side's hit is a response carrying the attempt's token
 * from the peer's public address: a "birthday" candidate (tunnel/punch.h).
 *
 * Bounded: one attempt at a time, BIRTHDAY_ATTEMPT_MS long; a failed one
 * waits BIRTHDAY_BACKOFF_MS before the next, doubling to
 * BIRTHDAY_BACKOFF_MAX_MS. Each attempt is logged once when it starts and
 * once when it ends. */
#ifndef TUNNEL_BIRTHDAY_H
#define TUNNEL_BIRTHDAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rendezvous/endpoint.h"
#include "tunnel/loop.h"

struct peer;

enum birthday_limits {
	BIRTHDAY_SOCKETS = 256,        /* N: the hard side's extra sockets */
	BIRTHDAY_PROBES = 2048,        /* M: the easy side's probes per attempt */
	BIRTHDAY_RATE = 1000,          /* the easy side's probes per second, at most */
	BIRTHDAY_TICK_MS = 10,         /* the easy side sends every tick */
	BIRTHDAY_EASY_DELAY_MS = 200,  /* lets the hard side open its sockets first */
	BIRTHDAY_ATTEMPT_MS = 4000,    /* an attempt ends by then */
	BIRTHDAY_BACKOFF_MS = 10000,   /* after the first failed attempt; doubles */
	BIRTHDAY_BACKOFF_MAX_MS = 600000,
	BIRTHDAY_PORT_MIN = 1024,
	BIRTHDAY_PORT_COUNT = 65536 - BIRTHDAY_PORT_MIN, /* 64512 */
};

enum birthday_role {
	BIRTHDAY_NONE,
	BIRTHDAY_HARD, /* our mapping is endpoint-dependent */
	BIRTHDAY_EASY, /* ours is endpoint-independent */
};

/* Distinct random ports: each port of 1024-65535 at most once. */
struct birthday_ports {
	uint8_t used[BIRTHDAY_PORT_COUNT / 8];
	size_t n_used;
};

struct birthday_socket {
	struct loop_watch watch; /* fd -1: closed */
	size_t index;            /* in birthday.sockets (no pointer back: the
				  * fuzz fixture copies the link whole) */
	uint64_t token;          /* of its own request */
	uint64_t sent_ms;
};

struct birthday {
	enum birthday_role role;  /* of the attempt running; NONE: none runs */
	struct rdv_endpoint target; /* hard: the peer's reflexive; easy: its public address */
	uint64_t token;           /* easy: of every request this attempt */
	uint64_t started_ms, ends_ms;
	size_t probes_sent;       /* this attempt */
	struct birthday_ports ports;
	struct birthday_socket sockets[BIRTHDAY_SOCKETS];
	size_t n_sockets;         /* opened this attempt */
	struct loop_timer timer;
	uint64_t next_attempt_ms; /* back-off: no attempt before */
	uint64_t backoff_ms;
	unsigned attempts, hits;
	uint64_t probes_total;
	bool won;                 /* the last attempt found the path in use */
	struct rdv_endpoint won_ep; /* the peer's endpoint it found */
	char outcome[128];        /* the last attempt's, for status ("" none) */
};

/* Sets up the extra sockets' watches (all closed); nothing runs. */
void birthday_init(struct peer *peer);

/* A burst starts while the relay carries the link: starts an attempt if
 * Punch = birthday, our mapping is known, the peer's public endpoint is
 * known, none runs and the back-off allows. */
void birthday_maybe_start(struct peer *peer);

/* Ends an attempt (closing its sockets) without an outcome: the link goes
 * down, or a direct path was found otherwise. */
void birthday_stop(struct peer *peer);

/* A response on the link's socket (already authenticated by punch.c) with
 * `token` from `from`: true when it is the easy side's hit, which it
 * reports (punch_birthday_answered) and ends the attempt with. */
bool birthday_response(struct peer *peer, const struct rdv_endpoint *from, uint64_t token);

/* Picks a port of 1024-65535 not picked since the last reset, uniformly
 * among those left; 0 when all are used. */
uint16_t birthday_ports_pick(struct birthday_ports *p);
void birthday_ports_reset(struct birthday_ports *p);

/* How many of the easy side's probes may go now: at most BIRTHDAY_RATE a
 * second since `started_ms` (one tick's worth at once), never past
 * BIRTHDAY_PROBES in all. */
size_t birthday_probes_due(uint64_t started_ms, uint64_t now_ms, size_t sent);

/* P(hit) of one attempt, in percent: 1 - exp(-n*m/64512). */
double birthday_probability(size_t n_sockets, size_t m_probes);

#endif
