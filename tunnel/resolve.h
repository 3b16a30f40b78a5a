/* Host names in Endpoint and Rendezvous, resolved by the daemon rather than
 * by the config loader: a name that does not resolve yet (a machine that
 * boots before its network has DNS, a dynamic-DNS name not yet updated) is
 * not a config error; `up` then reports the link as not up (exit 1) and the
 * daemon keeps trying.
 *
 * Each name is looked up asynchronously (getaddrinfo_a, so the loop never
 * blocks on DNS) when the link starts, then:
 *   after a failure    again after RESOLVE_RETRY_MIN_MS, doubling up to
 *                      RESOLVE_RETRY_MAX_MS, with up to 10 % jitter
 *                      (systemd-networkd's peer_next_resolve_usec)
 *   while the peer answers        every RESOLVE_REFRESH_MS
 *   while it does not (the link not up, or a handshake retrying)
 *                      every RESOLVE_UNANSWERED_MS: a home behind a
 *                      dynamic-DNS name is found again at its new address
 * When a name's address changes, traffic follows: an Endpoint moves as with
 * `wg set ... endpoint` (peer_endpoint_configured), a rendezvous server is
 * registered with again at its new address. The first address getaddrinfo
 * returns is used. */
#ifndef TUNNEL_RESOLVE_H
#define TUNNEL_RESOLVE_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "tunnel/config.h"
#include "tunnel/loop.h"

struct tunnel;

enum resolve_timing {
	RESOLVE_RETRY_MIN_MS = 1000,
	RESOLVE_RETRY_MAX_MS = 30000,
	RESOLVE_REFRESH_MS = 300000,
	RESOLVE_UNANSWERED_MS = 10000,
	RESOLVE_POLL_MS = 50,        /* how often a lookup under way is checked */
};

enum { RESOLVE_ENDPOINT = CONFIG_MAX_RENDEZVOUS }; /* slot of the Endpoint */

struct resolve_name {
	size_t slot;                     /* a Rendezvous index, or RESOLVE_ENDPOINT */
	char host[CONFIG_HOST_MAX + 1];  /* what getaddrinfo_a reads while pending */
	char service[6];
	struct addrinfo hints;
	struct gaicb req;
	bool pending;
	unsigned failures;               /* in a row */
	int last_error;                  /* EAI_*, to log a new error once */
	uint64_t next_ms;                /* next lookup (when not pending) */
	uint64_t resolved_ms;            /* last success, 0: never */
};

struct resolver {
	struct resolve_name names[CONFIG_MAX_RENDEZVOUS + 1];
	size_t n;
	struct loop_timer timer;
};

/* Starts looking up every host name of t->cfg now (none: nothing to do).
 * Called when the link starts and after a reload. */
void resolve_start(struct tunnel *t);

/* Cancels the lookups, waiting for one that is already being answered
 * (getaddrinfo_a reads its buffers until then). Called before teardown and
 * before a reload replaces t->cfg. */
void resolve_stop(struct tunnel *t);

#endif
