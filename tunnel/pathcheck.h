/* Checks on the path in use, with padded path probes (crypto/probe.h):
 *  - its MTU, by RFC 8899 datagram PLPMTUD (tunnel/pmtu.h), one search per
 *    path (the direct endpoint, or the relay), whose result is the
 *    t->path_mtu the send path follows;
 *  - its liveness, when data goes out and nothing authenticated comes back
 *    (timers.c's liveness timer): a small probe and a full-size one to the
 *    endpoint, twice. Neither answered: the path is dead (peer.c moves to
 *    the relay). Only the small one: a black hole for large packets (back
 *    to the base MTU at once). Both: the peer is only quiet.
 * Only peers of ours answer probes: until the peer has answered one, none
 * of this runs, and the socket keeps the kernel's fragmentation (a plain
 * WireGuard peer behind a small MTU still gets fragments, as before). */
#ifndef TUNNEL_PATHCHECK_H
#define TUNNEL_PATHCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rendezvous/endpoint.h"
#include "tunnel/loop.h"
#include "tunnel/pmtu.h"

struct peer;
struct udp_datagram;

enum pathcheck_timing {
	/* Silence (PUNCH_QUIET_MS) + PATHCHECK_GIVE_UP_MS stays well under
	 * the 2 s a failover may take. */
	PATHCHECK_RETRY_MS = 300,  /* a liveness check's second probes */
	PATHCHECK_GIVE_UP_MS = 600, /* ...and its verdict */
	PATHCHECK_HELLO_MS = 1000, /* does the peer answer probes? retried */
	PATHCHECK_HELLO_TRIES = 3,
};

struct pathcheck {
	bool peer_answers;           /* the peer answered a probe: it is ours */
	unsigned hellos;             /* probes sent to find that out */
	uint64_t hello_token;

	/* PLPMTUD for the path in use */
	bool measuring;
	bool relay;                  /* measuring the relay, else `ep` */
	bool chan;                   /* ...for a relay channel, else RELAY messages */
	struct rdv_endpoint ep;
	struct pmtu pmtu;
	uint64_t pmtu_token;         /* of the probe in flight, 0: none */
	unsigned pmtu_size;
	size_t pmtu_len;             /* its length: what the answer must acknowledge */
	struct loop_timer pmtu_timer;
	bool parked;                 /* settled and the link idle: no probes */

	/* a liveness check */
	bool checking;
	unsigned rounds;
	uint64_t check_started_ms;
	uint64_t small_token, big_token;
	unsigned big_size;
	bool small_answered, big_answered;
	struct loop_timer check_timer;

	uint64_t checks, dead, blackholes;
};

/* Sets up the timers' callbacks; call once from peer_init. */
void pathcheck_init(struct peer *peer);

/* Should be called by peer.c after the path or endpoint changed, or a
 * session appeared, and by meet.c when the relay channel opened or closed:
 * starts measuring the path in use if it is new. The relay is measured for
 * what carries its data: a channel (a 12-byte header) or RELAY messages (the
 * envelope); a switch between them starts from what the datagram size
 * already known to pass carries in the other. */
void pathcheck_path_changed(struct peer *peer);

/* Should be called by meet.c when the relay channel may have opened or
 * closed: while the relay is measured for the other carrier (a channel or
 * RELAY messages), its path MTU search follows (pathcheck_path_changed). */
void pathcheck_relay_carrier_changed(struct peer *peer);

/* Should be called when data went out and nothing authenticated came back
 * (timers.c): checks the direct path in use. False when no check can run
 * (no direct path, or a peer that does not answer probes). */
bool pathcheck_liveness(struct peer *peer);

/* Should be called when data is sent: an idle link does not probe its
 * settled path MTU (it would keep NAT mappings open the user let close). */
void pathcheck_data_sent(struct peer *peer);

/* Sends a probe request of `inner` bytes (0: the smallest) through the
 * relay or to `to`, as the checks do (tunnel/ping.c uses it). */
must_check int pathcheck_send_probe(struct peer *peer, bool relay, const struct rdv_endpoint *to,
				    uint64_t token, unsigned inner);

/* A probe response that matched no candidate of punch.c: true if it
 * answers one of our checks, or a `tunnelctl ping` (tunnel/ping.h). */
bool pathcheck_answered(struct peer *peer, const struct rdv_endpoint *from, bool via_relay,
			uint64_t token, unsigned acked_len);

#endif
