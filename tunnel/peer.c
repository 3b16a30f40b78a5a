/* The peer's lifetime and the link's state machine (the table in peer.h).
 * Only this file writes peer->state, peer->path and peer->endpoint: the
 * other files report events and the functions below decide. Each change
 * of state goes through set_state, which logs it once with its reason. */
#include "tunnel/peer.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/keys.h"
#include "tunnel/allowedips.h"
#include "tunnel/meet.h"
#include "tunnel/send.h"
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
	pathcheck_init(peer);
	punch_init(peer);
	for (size_t i = 0; i < PEER_STAGED_MAX; i++) {
		peer->staged[i] = malloc(t->packet_max);
		if (!peer->staged[i]) {
			peer_destroy(peer);
			return -ENOMEM;
		}
	}
	/* An Endpoint name comes later, once resolved (tunnel/resolve.c). */
	if (cfg->has_endpoint && cfg->endpoint.addr_len) {
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

static void set_state(struct peer *peer, enum link_state state, enum link_path path,
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

bool peer_endpoint_in_tunnel(const struct peer *peer, const struct rdv_endpoint *ep)
{
	const struct tunnel *t = peer->tunnel;
	const struct config *cfg = &t->cfg;
	bool full = t->routing.full[ep->family == AF_INET6];

	/* A full tunnel's default route does not count: our own datagrams
	 * carry its fwmark and take the real route (tun/policy.h). */
	for (size_t i = 0; i < cfg->n_allowed_ips; i++) {
		if (full && cfg->allowed_ips[i].len == 0)
			continue;
		if (allowedips_contains(&cfg->allowed_ips[i], 1, ep->family, ep->addr))
			return true;
	}
	return false;
}

bool peer_has_path(const struct peer *peer)
{
	return peer->path == PATH_RELAY || peer->has_endpoint;
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

/* Points the WireGuard traffic at `ep`, logging a move. */
static void set_endpoint(struct peer *peer, const struct rdv_endpoint *ep)
{
	char old[RDV_ENDPOINT_STR], new[RDV_ENDPOINT_STR];

	if (peer->has_endpoint && rdv_endpoint_equal(&peer->endpoint, ep))
		return;
	if (peer->has_endpoint) {
		log_info("%s: peer moved from %s to %s", peer->tunnel->cfg.name,
			 rdv_endpoint_str(&peer->endpoint, old, sizeof(old)),
			 rdv_endpoint_str(ep, new, sizeof(new)));
		peer->path_changes++;
	}
	peer->endpoint = *ep;
	peer->has_endpoint = true;
}

static bool has_session(const struct peer *peer)
{
	return peer->keypairs.current.valid || peer->keypairs.next.valid;
}

void peer_start(struct peer *peer)
{
	char ep[RDV_ENDPOINT_STR], reason[CONTROL_REASON_MAX];

	if (!peer->has_endpoint)
		return;
	snprintf(reason, sizeof(reason), "handshake with %s not answered yet",
		 rdv_endpoint_str(&peer->endpoint, ep, sizeof(ep)));
	set_state(peer, LINK_CONNECTING, PATH_NONE, reason);
	send_handshake_initiation(peer, false);
}

void peer_mode_mismatch(struct peer *peer, bool bridge)
{
	/* A session of ours in the new mode outranks an old initiation. */
	if (has_session(peer))
		return;
	set_state(peer, peer->state, peer->path,
		  bridge ? "mode mismatch: the peer is in routed mode (or plain WireGuard), this "
			   "link in bridge mode; set the same Mode on both ends"
			 : "mode mismatch: the peer is in bridge mode, this link in routed mode; "
			   "set the same Mode on both ends");
}

void peer_stop(struct peer *peer)
{
	set_state(peer, LINK_DOWN, PATH_NONE, "stopped");
}

void peer_rendezvous_progress(struct peer *peer, const char *reason)
{
	/* Only while still looking for the peer: later states explain themselves. */
	if (peer->state == LINK_CONNECTING)
		set_state(peer, LINK_CONNECTING, peer->path, reason);
}

void peer_probing_started(struct peer *peer, size_t n_candidates)
{
	char reason[CONTROL_REASON_MAX];

	if (peer->state != LINK_CONNECTING)
		return;
	snprintf(reason, sizeof(reason), "probing %zu candidate endpoint%s of the peer",
		 n_candidates, n_candidates == 1 ? "" : "s");
	set_state(peer, LINK_PUNCHING, peer->path, reason);
}

void peer_direct_path_answered(struct peer *peer, const struct rdv_endpoint *ep)
{
	bool had_path = peer->path == PATH_DIRECT;

	if (peer->keypairs.current.valid) {
		/* Probes are hints: with a session, the path moves only when
		 * authenticated WireGuard traffic comes back from `ep`
		 * (peer_authenticated_from). An authenticated keepalive sent
		 * there asks the peer for it. */
		if (!(had_path && peer->has_endpoint && rdv_endpoint_equal(&peer->endpoint, ep)))
			send_path_check(peer, ep);
		return;
	}
	set_endpoint(peer, ep);
	peer->path = PATH_DIRECT;
	set_state(peer, LINK_PUNCHING, PATH_DIRECT,
		  "direct path found, WireGuard handshake under way");
	/* No session yet: the handshake is the round trip. A new path
	 * deserves one now, whatever the rate limit. Both sides usually find
	 * it within a round trip of each other, and two crossing initiations
	 * overwrite each other's handshake state, costing a REKEY_TIMEOUT: the
	 * side with the larger public key leaves the first initiation to the
	 * other and only sends its own (by the retransmit timer) if none
	 * arrives. */
	if (had_path && peer->handshake_attempts)
		return;
	if (sodium_compare(peer->tunnel->local.public_key, peer->handshake.remote_static,
			   NOISE_PUBLIC_KEY_LEN) <= 0)
		send_handshake_initiation(peer, true);
	else
		timers_handshake_deferred(peer);
}

void peer_no_direct_path(struct peer *peer)
{
	struct tunnel *t = peer->tunnel;

	if (!t->meet.has_relay) {
		set_state(peer, LINK_PUNCHING, PATH_NONE,
			  "punching failed: no candidate answered (a symmetric NAT on both "
			  "sides?) and no relay is available");
		return;
	}
	if (peer->path != PATH_RELAY) {
		log_info("%s: no direct path answers; using the relay, still probing every %d s",
			 t->cfg.name, PUNCH_BACKGROUND_MS / 1000);
		if (peer->path == PATH_DIRECT)
			peer->path_changes++;
	}
	peer->path = PATH_RELAY;
	pathcheck_path_changed(peer);
	if (peer->keypairs.current.valid) {
		peer_session_confirmed(peer);
		return;
	}
	set_state(peer, LINK_PUNCHING, PATH_RELAY,
		  "no direct path answered; WireGuard handshake through the relay");
	send_handshake_initiation(peer, true);
}

void peer_unanswered(struct peer *peer)
{
	/* A direct path is checked with probes first: it may only be quiet. */
	if (pathcheck_liveness(peer))
		return;
	/* Only peers of ours answer probes; a plain WireGuard peer with a
	 * static endpoint is left to WireGuard's own timers. */
	if (peer->tunnel->meet.n_servers == 0)
		return;
	log_debug("%s: no answer from the peer for %d s; looking for it again",
		  peer->tunnel->cfg.name, PUNCH_QUIET_MS / 1000);
	meet_refresh(peer->tunnel);
	if (!peer->punch.active)
		punch_start(peer);
}

void peer_direct_path_lost(struct peer *peer)
{
	char ep[RDV_ENDPOINT_STR];

	log_info("%s: the direct path to %s stopped answering", peer->tunnel->cfg.name,
		 rdv_endpoint_str(&peer->endpoint, ep, sizeof(ep)));
	/* Without a rendezvous server, WireGuard's own retries on the
	 * endpoint are all there is; without a relay, the burst below ends in
	 * "punching failed" if nothing answers. */
	if (peer->tunnel->meet.n_servers == 0)
		return;
	if (peer->tunnel->meet.has_relay)
		peer_no_direct_path(peer);
	meet_refresh(peer->tunnel);
	if (!peer->punch.active)
		punch_start(peer);
}

void peer_authenticated_from(struct peer *peer, const struct rdv_endpoint *from, bool via_relay)
{
	bool moved;

	/* Relayed: it only matters while there is no direct path. */
	if (via_relay) {
		if (peer->path != PATH_DIRECT)
			peer->path = PATH_RELAY;
		return;
	}
	/* Arrived through the tunnel (a source inside AllowedIPs): moving the
	 * endpoint there would nest the tunnel in itself. */
	if (peer_endpoint_in_tunnel(peer, from))
		return;
	peer->last_direct_rx_ms = peer->tunnel->loop.now_ms;
	moved = peer->path != PATH_DIRECT || !peer->has_endpoint ||
		!rdv_endpoint_equal(&peer->endpoint, from);
	if (moved && peer->path == PATH_RELAY)
		peer->path_changes++;
	set_endpoint(peer, from);
	peer->path = PATH_DIRECT;
	if (moved)
		pathcheck_path_changed(peer);
	/* The peer moved us here (its path check, or it roamed): answer on
	 * this path, so it sees a round trip, unless we send something
	 * authenticated first anyway. */
	if (moved && peer->keypairs.current.valid)
		timers_path_moved(peer);
}

void peer_session_confirmed(struct peer *peer)
{
	/* Called for every data message: leave at once when nothing changes. */
	if (peer->state == (peer->path == PATH_RELAY ? LINK_RELAYED : LINK_ESTABLISHED) ||
	    !has_session(peer))
		return;
	if (peer->path == PATH_RELAY)
		set_state(peer, LINK_RELAYED, PATH_RELAY,
			  "no direct path answered (a symmetric NAT?); traffic goes through "
			  "the relay while probing goes on");
	else
		set_state(peer, LINK_ESTABLISHED, PATH_DIRECT, "");
	pathcheck_path_changed(peer);
}

void peer_endpoint_configured(struct peer *peer, const struct rdv_endpoint *ep)
{
	punch_add_candidate(peer, ep, CANDIDATE_STATIC);
	set_endpoint(peer, ep);
	peer->path = PATH_DIRECT;
	if (peer->keypairs.current.valid) {
		timers_path_moved(peer);
		return;
	}
	peer_start(peer);
}
