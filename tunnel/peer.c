/* The peer's lifetime and the link state machine's transitions. The state
 * is only ever changed through peer_set_state, which logs each change once
 * with its reason. */
#include "tunnel/peer.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/keys.h"
#include "tunnel/allowedips.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

static const char *const state_names[] = {
	[LINK_CONNECTING] = "connecting",
	[LINK_PUNCHING] = "punching",
	[LINK_ESTABLISHED] = "established",
	[LINK_RELAYED] = "relayed",
	[LINK_DOWN] = "down",
};

static const char *const path_names[] = {
	[PATH_NONE] = "none",
	[PATH_DIRECT] = "direct",
	[PATH_RELAY] = "relay",
};

const char *peer_state_name(enum link_state state)
{
	return state_names[state];
}

const char *peer_path_name(enum link_path path)
{
	return path_names[path];
}

int peer_init(struct peer *peer, struct tunnel *t)
{
	const struct config *cfg = &t->cfg;
	int r;

	memset(peer, 0, sizeof(*peer));
	peer->tunnel = t;
	peer->state = LINK_CONNECTING;
	peer->path = PATH_NONE;
	snprintf(peer->reason, sizeof(peer->reason), "starting");
	r = noise_handshake_init(&peer->handshake, &t->local, cfg->peer_public_key,
				 cfg->has_preshared_key ? cfg->preshared_key : NULL);
	if (r)
		return r;
	session_keypairs_init(&peer->keypairs);
	cookie_maker_init(&peer->cookie, cfg->peer_public_key);
	timers_init(peer);
	punch_init(peer);
	for (size_t i = 0; i < PEER_STAGED_MAX; i++) {
		peer->staged[i] = malloc(t->packet_max);
		if (!peer->staged[i]) {
			peer_destroy(peer);
			return -ENOMEM;
		}
	}
	if (cfg->has_endpoint) {
		r = rdv_endpoint_from_sockaddr(&peer->endpoint,
					       (const struct sockaddr *)&cfg->endpoint.addr);
		if (r) {
			peer_destroy(peer);
			return r;
		}
		peer->has_endpoint = true;
		peer->path = PATH_DIRECT;
		punch_add_candidate(peer, &peer->endpoint, CANDIDATE_STATIC);
	}
	peer->persistent_keepalive_s = cfg->persistent_keepalive_s;
	return 0;
}

void peer_destroy(struct peer *peer)
{
	if (peer->tunnel) {
		timers_stop(peer);
		punch_destroy(peer);
	}
	for (size_t i = 0; i < PEER_STAGED_MAX; i++) {
		if (peer->staged[i])
			sodium_memzero(peer->staged[i], peer->tunnel->packet_max);
		free(peer->staged[i]);
		peer->staged[i] = NULL;
	}
	session_keypairs_clear(&peer->keypairs);
	noise_handshake_destroy(&peer->handshake);
	cookie_maker_clear(&peer->cookie);
}

void peer_set_state(struct peer *peer, enum link_state state, enum link_path path,
		    const char *reason)
{
	char ep[RDV_ENDPOINT_STR];

	if (peer->state == state && peer->path == path && !strcmp(peer->reason, reason))
		return;
	if (state == LINK_ESTABLISHED || state == LINK_RELAYED)
		log_info("%s: %s, %s path to %s", peer->tunnel->cfg.name, state_names[state],
			 path_names[path],
			 peer->has_endpoint ? rdv_endpoint_str(&peer->endpoint, ep, sizeof(ep))
					    : "nowhere");
	else
		log_info("%s: %s: %s", peer->tunnel->cfg.name, state_names[state], reason);
	peer->state = state;
	peer->path = path;
	snprintf(peer->reason, sizeof(peer->reason), "%s", reason);
}

void peer_update_state(struct peer *peer)
{
	if (!peer->keypairs.current.valid && !peer->keypairs.next.valid)
		return;
	if (peer->path == PATH_RELAY)
		peer_set_state(peer, LINK_RELAYED, PATH_RELAY,
			       "no direct path answered (a symmetric NAT?); traffic goes through "
			       "the relay while probing goes on");
	else
		peer_set_state(peer, LINK_ESTABLISHED, PATH_DIRECT, "");
}

bool peer_endpoint_in_tunnel(const struct peer *peer, const struct rdv_endpoint *ep)
{
	const struct config *cfg = &peer->tunnel->cfg;

	return allowedips_contains(cfg->allowed_ips, cfg->n_allowed_ips, ep->family, ep->addr);
}

bool peer_has_path(const struct peer *peer)
{
	return peer->path == PATH_RELAY || peer->has_endpoint;
}

void peer_set_endpoint(struct peer *peer, const struct rdv_endpoint *ep)
{
	char old[RDV_ENDPOINT_STR], new[RDV_ENDPOINT_STR];

	if (peer->has_endpoint && rdv_endpoint_equal(&peer->endpoint, ep))
		return;
	if (peer->has_endpoint)
		log_info("%s: peer moved from %s to %s", peer->tunnel->cfg.name,
			 rdv_endpoint_str(&peer->endpoint, old, sizeof(old)),
			 rdv_endpoint_str(ep, new, sizeof(new)));
	peer->endpoint = *ep;
	peer->has_endpoint = true;
}

uint32_t peer_new_index(const struct peer *peer)
{
	const struct keypairs *k = &peer->keypairs;

	for (;;) {
		uint32_t idx = noise_index_random();

		if ((!k->current.valid || k->current.local_index != idx) &&
		    (!k->previous.valid || k->previous.local_index != idx) &&
		    (!k->next.valid || k->next.local_index != idx))
			return idx;
	}
}
