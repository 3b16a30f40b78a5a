/* `tunnelctl ping`: one authenticated path probe (crypto/probe.h, the same
 * request pathcheck.c sends) per "ping" request of the control socket, on
 * the path in use: to the peer's endpoint when direct, through the
 * rendezvous server's relay when relayed. The request's random token ties
 * the response to it (probe_guard.h's budgets on the peer's side apply as
 * to any probe). The reply is deferred: the loop never waits; the
 * response, or a timer after CONTROL_PING_TIMEOUT_MS, answers the client. */
#ifndef TUNNEL_PING_H
#define TUNNEL_PING_H

#include <stdbool.h>
#include <stdint.h>

#include "rendezvous/endpoint.h"
#include "tunnel/control.h"
#include "tunnel/control_socket.h"
#include "tunnel/loop.h"

struct tunnel;

/* One ping in flight. */
struct ping_slot {
	struct tunnel *tunnel;
	struct control_client *client;  /* NULL: the slot is free */
	uint64_t token;
	uint64_t sent_us;               /* CLOCK_MONOTONIC */
	bool relay;
	struct rdv_endpoint to;         /* the peer's endpoint, or the relay server */
	struct loop_timer timer;
};

struct ping {
	struct ping_slot slots[CONTROL_MAX_CLIENTS];
};

/* Sends a probe for client `c` (control_ops.ping): 0, or -ENOTCONN with a
 * line in `error` when there is no path to probe or no session yet. */
int ping_start(struct tunnel *t, struct control_client *c, char error[static CONTROL_ERROR_MAX]);

/* Forgets the ping of `c` (control_ops.ping_cancel). */
void ping_cancel(struct tunnel *t, struct control_client *c);

/* A probe response that answered nothing else (pathcheck_answered): true
 * if it answers a ping, which is then replied to. */
bool ping_answered(struct tunnel *t, const struct rdv_endpoint *from, bool via_relay,
		   uint64_t token);

#endif
