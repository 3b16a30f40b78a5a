/* Candidates, probe bursts and the choice of the direct path. */
#include "tunnel/punch.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "tunnel/birthday.h"
#include "tunnel/meet.h"
#include "tunnel/peer.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

static const char *const kind_names[] = {
	[CANDIDATE_LAN] = "LAN",
	[CANDIDATE_STATIC] = "configured",
	[CANDIDATE_REFLEXIVE] = "public",
	[CANDIDATE_LEARNED] = "learned",
	[CANDIDATE_BIRTHDAY] = "birthday",
};

static void punch_forget_index(struct peer *peer, size_t i);

static uint64_t now(const struct peer *peer)
{
	return peer->tunnel->loop.now_ms;
}

/* With a session, requests are made with its key, so they die with it;
 * before one exists, with the pair's static key. */
int punch_request_build(struct peer *peer, uint64_t token, size_t len, uint8_t *msg, size_t cap)
{
	const struct keypair *kp = &peer->keypairs.current;
	struct probe req = { .kind = PROBE_REQUEST, .len = len, .sent_ms = now(peer),
			     .token = token };
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int r;

	if (kp->valid) {
		req.key = PROBE_KEY_SESSION;
		probe_session_key_derive(key, kp->send_key);
	} else {
		req.key = PROBE_KEY_STATIC;
		memcpy(key, peer->punch.key, sizeof(key));
	}
	r = probe_build(msg, cap, &req, key, peer->tunnel->local.public_key);
	sodium_memzero(key, sizeof(key));
	return r;
}

static void send_request(struct peer *peer, struct candidate *c)
{
	uint8_t msg[PROBE_LEN];

	if (!c->token)
		c->token = probe_new_token();
	c->sent_ms = now(peer);
	if (punch_request_build(peer, c->token, PROBE_LEN, msg, sizeof(msg)) == 0 &&
	    udp_send(&peer->tunnel->udp, &c->ep, msg, sizeof(msg)) == 0)
		peer->punch.probes_sent++;
}

static void send_burst_round(struct peer *peer)
{
	struct punch *p = &peer->punch;

	for (size_t i = 0; i < p->n_candidates; i++)
		send_request(peer, &p->candidates[i]);
}

/* Candidate i answered and ranks above the path in use: peer.c moves
 * WireGuard onto it. */
static void choose(struct peer *peer, size_t i)
{
	struct punch *p = &peer->punch;
	struct candidate *c = &p->candidates[i];
	char ep[RDV_ENDPOINT_STR];

	p->has_chosen = true;
	p->chosen = i;
	p->rtt_ms = (int64_t)(now(peer) - c->sent_ms);
	log_info("%s: direct path to %s (%s address) answered in %lld ms", peer->tunnel->cfg.name,
		 rdv_endpoint_str(&c->ep, ep, sizeof(ep)), kind_names[c->kind],
		 (long long)p->rtt_ms);
	peer_direct_path_answered(peer, &c->ep);
}

/* Learned candidates come from the network: one that did not answer a
 * whole burst was a replayed request or a mapping that is gone. */
static void forget_silent_learned(struct peer *peer)
{
	struct punch *p = &peer->punch;

	for (size_t i = p->n_candidates; i-- > 0;) {
		const struct candidate *c = &p->candidates[i];

		if (c->kind >= CANDIDATE_LEARNED && !c->answered && !(p->has_chosen && p->chosen == i))
			punch_forget_index(peer, i);
	}
}

static void burst_over(struct peer *peer)
{
	struct punch *p = &peer->punch;
	char ep[RDV_ENDPOINT_STR];

	p->active = false;
	forget_silent_learned(peer);
	if (peer->path == PATH_DIRECT && peer->has_endpoint) {
		bool answered = false;

		/* The endpoint in use still works if it answered a probe or
		 * carried authenticated traffic during this burst, whatever the
		 * candidate list says now (an introduction may have replaced
		 * it, WireGuard roaming may have moved it, the other side may
		 * have chosen it). */
		for (size_t i = 0; i < p->n_candidates && !answered; i++)
			answered = p->candidates[i].answered &&
				   rdv_endpoint_equal(&p->candidates[i].ep, &peer->endpoint);
		if (answered || peer->last_direct_rx_ms >= p->window_end_ms - PUNCH_WINDOW_MS)
			return;
		log_info("%s: the direct path to %s stopped answering", peer->tunnel->cfg.name,
			 rdv_endpoint_str(&peer->endpoint, ep, sizeof(ep)));
		p->has_chosen = false;
	}
	peer_no_direct_path(peer);
	timers_burst_ended(peer);
}

void punch_round_due(struct peer *peer, uint64_t now_ms)
{
	struct punch *p = &peer->punch;

	if (!p->active) {
		/* background: another burst while no direct path works */
		if (!(p->has_chosen && peer->path == PATH_DIRECT))
			punch_start(peer);
		return;
	}
	if (now_ms >= p->window_end_ms) {
		burst_over(peer);
		return;
	}
	send_burst_round(peer);
	timers_probe_round_sent(peer);
}

void punch_init(struct peer *peer)
{
	struct punch *p = &peer->punch;

	probe_key_derive(p->key, peer->handshake.precomputed_static_static);
	p->rtt_ms = -1;
	birthday_init(peer);
}

void punch_destroy(struct peer *peer)
{
	birthday_stop(peer);
	sodium_memzero(peer->punch.key, sizeof(peer->punch.key));
}

/* Our own interface addresses, of every kind (tunnel/local_addrs.h): a
 * candidate there would reach ourselves (two hosts with the same container
 * bridge address, say). */
static void refresh_own_addresses(struct peer *peer)
{
	struct punch *p = &peer->punch;

	if (local_addrs_gather(&p->own, &peer->tunnel->cfg, NULL) != 0)
		p->own.n_addrs = 0;
}

void punch_add_candidate(struct peer *peer, const struct rdv_endpoint *ep, enum candidate_kind kind)
{
	struct punch *p = &peer->punch;
	size_t learned = 0, evictable = SIZE_MAX;
	char text[RDV_ENDPOINT_STR];

	if (peer_endpoint_in_tunnel(peer, ep)) {
		log_debug("%s: not a path: %s is inside AllowedIPs", peer->tunnel->cfg.name,
			  rdv_endpoint_str(ep, text, sizeof(text)));
		return;
	}
	/* From the server or the peer: only a configured Endpoint is taken as is. */
	if (kind != CANDIDATE_STATIC && (!probe_candidate_usable(ep) || local_addrs_is_own(&p->own, ep))) {
		log_debug("%s: not a path: %s is no address of another host", peer->tunnel->cfg.name,
			  rdv_endpoint_str(ep, text, sizeof(text)));
		return;
	}
	for (size_t i = 0; i < p->n_candidates; i++) {
		struct candidate *c = &p->candidates[i];

		if (rdv_endpoint_equal(&c->ep, ep)) {
			if (kind < c->kind)
				c->kind = kind;
			c->stale = false;
			return;
		}
		if (c->kind >= CANDIDATE_LEARNED) {
			learned++;
			/* the oldest that neither answered nor carries the link */
			if (evictable == SIZE_MAX && !c->answered && !(p->has_chosen && p->chosen == i))
				evictable = i;
		}
	}
	/* Learned candidates come from the network: keep only a few, so a flood
	 * of replayed requests cannot crowd out the real ones. */
	if (kind >= CANDIDATE_LEARNED && learned >= PUNCH_MAX_LEARNED) {
		if (evictable == SIZE_MAX)
			return;
		punch_forget_index(peer, evictable);
	}
	if (p->n_candidates == PUNCH_MAX_CANDIDATES)
		return;
	p->candidates[p->n_candidates++] = (struct candidate){ .ep = *ep, .kind = kind };
}

/* Removes candidate i, keeping `chosen` pointing at the same endpoint. */
static void punch_forget_index(struct peer *peer, size_t i)
{
	struct punch *p = &peer->punch;

	if (p->has_chosen && p->chosen == i)
		p->has_chosen = false;
	else if (p->has_chosen && p->chosen > i)
		p->chosen--;
	memmove(&p->candidates[i], &p->candidates[i + 1],
		(p->n_candidates - i - 1) * sizeof(p->candidates[0]));
	p->n_candidates--;
}

void punch_introduced(struct peer *peer, const struct rdv_endpoint *lan, size_t n_lan,
		      const struct rdv_endpoint *reflexive)
{
	struct punch *p = &peer->punch;

	p->peer_reflexive = *reflexive;
	p->has_peer_reflexive = true;
	if (peer->tunnel->cfg.punch == CONFIG_PUNCH_OFF) {
		/* Punch = off: the relay, unless a static Endpoint works. */
		if (peer->path != PATH_DIRECT)
			peer_no_direct_path(peer);
		return;
	}
	refresh_own_addresses(peer);
	for (size_t i = 0; i < p->n_candidates; i++) {
		enum candidate_kind k = p->candidates[i].kind;

		p->candidates[i].stale = k == CANDIDATE_LAN || k == CANDIDATE_REFLEXIVE;
	}
	for (size_t i = 0; i < n_lan; i++)
		punch_add_candidate(peer, &lan[i], CANDIDATE_LAN);
	punch_add_candidate(peer, reflexive, CANDIDATE_REFLEXIVE);
	/* The peer's router mapping (tunnel/meet.c registers it first): on its
	 * public address, on another port than its NAT's own mapping. */
	if (n_lan > 0 && lan[0].family == reflexive->family && lan[0].port != reflexive->port &&
	    !memcmp(lan[0].addr, reflexive->addr, lan[0].family == AF_INET ? 4 : 16)) {
		for (size_t i = 0; i < p->n_candidates; i++)
			if (rdv_endpoint_equal(&p->candidates[i].ep, &lan[0]))
				p->candidates[i].portmap = true;
	}
	for (size_t i = p->n_candidates; i-- > 0;) {
		if (p->candidates[i].stale && !(p->has_chosen && p->chosen == i))
			punch_forget_index(peer, i);
	}
	punch_start(peer);
}

void punch_start(struct peer *peer)
{
	struct punch *p = &peer->punch;

	if (p->n_candidates == 0 || p->active || peer->tunnel->cfg.punch == CONFIG_PUNCH_OFF)
		return;
	for (size_t i = 0; i < p->n_candidates; i++) {
		p->candidates[i].token = 0; /* fresh tokens for each burst */
		p->candidates[i].answered = false;
	}
	p->active = true;
	p->window_end_ms = now(peer) + PUNCH_WINDOW_MS;
	peer_probing_started(peer, p->n_candidates);
	send_burst_round(peer);
	timers_probe_round_sent(peer);
	/* A burst while the relay carries the link (the first one failed):
	 * birthday probing runs beside it, if it applies. */
	if (peer->path == PATH_RELAY)
		birthday_maybe_start(peer);
}

/* One response, never larger than the request, to a fresh request within
 * its source's budget. */
int punch_response_build(struct peer *peer, const struct udp_datagram *d, const struct probe *req,
			 uint64_t generation, uint8_t msg[static PROBE_LEN])
{
	struct punch *p = &peer->punch;
	struct probe resp = { .kind = PROBE_RESPONSE, .token = req->token,
			      .acked_len = (uint16_t)req->len, .len = PROBE_LEN };

	if (!probe_fresh(req->key == PROBE_KEY_STATIC ? &p->static_fresh : &p->session_fresh,
			 generation, req->sent_ms, now(peer))) {
		tunnel_drop(peer->tunnel, DROP_REPLAYED, "stale probe request");
		return -EBADMSG;
	}
	if (!probe_budget_allow(&p->budget, &d->from, now(peer))) {
		tunnel_drop(peer->tunnel, DROP_RATE_LIMITED, "probe requests over budget");
		return -EAGAIN;
	}
	return probe_build(msg, PROBE_LEN, &resp, p->key, peer->tunnel->local.public_key);
}

/* Answers a fresh, authenticated request within the source's budget. */
static void handle_request(struct peer *peer, const struct udp_datagram *d,
			   const struct probe *req, uint64_t generation, bool via_relay)
{
	struct punch *p = &peer->punch;
	uint8_t msg[PROBE_LEN];
	bool known = false;

	if (punch_response_build(peer, d, req, generation, msg) != 0)
		return;
	if (via_relay) {
		meet_send_relay(peer->tunnel, msg, sizeof(msg));
		return;
	}
	if (udp_send(&peer->tunnel->udp, &d->from, msg, sizeof(msg)) != 0)
		return;
	/* Learn addresses only while both sides are punching (after an
	 * introduction), never start a burst for one: a learned candidate is
	 * probed, and becomes the path only as any other does. */
	if (!p->active)
		return;
	for (size_t i = 0; i < p->n_candidates && !known; i++)
		known = rdv_endpoint_equal(&p->candidates[i].ep, &d->from);
	if (!known) {
		punch_add_candidate(peer, &d->from, CANDIDATE_LEARNED);
		for (size_t i = 0; i < p->n_candidates; i++) {
			if (rdv_endpoint_equal(&p->candidates[i].ep, &d->from))
				send_request(peer, &p->candidates[i]);
		}
	}
}

/* With a session, one side chooses the path and the other follows it (as
 * WireGuard roams): the side with the smaller public key, the one that
 * also starts the handshake on a new path. Two sides choosing for
 * themselves can pick different candidates and move each other back and
 * forth. */
static bool chooses_path(const struct peer *peer)
{
	return !peer->keypairs.current.valid ||
	       sodium_compare(peer->tunnel->local.public_key, peer->handshake.remote_static,
			      NOISE_PUBLIC_KEY_LEN) < 0;
}

static void handle_response(struct peer *peer, const struct udp_datagram *d,
			    const struct probe *resp)
{
	struct punch *p = &peer->punch;
	uint64_t token = resp->token;

	for (size_t i = 0; i < p->n_candidates; i++) {
		struct candidate *c = &p->candidates[i];

		if (!c->token || c->token != token || !rdv_endpoint_equal(&c->ep, &d->from))
			continue;
		/* The token lives for the whole burst, so each round's answer
		 * counts; only the first one can change the path. */
		p->probes_answered++;
		if (c->answered) {
			if (p->has_chosen && i == p->chosen)
				p->rtt_ms = (int64_t)(now(peer) - c->sent_ms);
			return;
		}
		c->answered = true;
		if (!chooses_path(peer))
			return;
		if (!p->has_chosen || peer->path != PATH_DIRECT ||
		    c->kind < p->candidates[p->chosen].kind)
			choose(peer, i);
		else if (i == p->chosen)
			p->rtt_ms = (int64_t)(now(peer) - c->sent_ms);
		return;
	}
	if (pathcheck_answered(peer, &d->from, false, token, resp->acked_len))
		return;
	if (birthday_response(peer, &d->from, token))
		return;
	tunnel_drop(peer->tunnel, DROP_REPLAYED, "probe response to no request of ours");
}

/* The session whose key made a request: the receiving key of one of our
 * live keypairs is the sender's sending key. Its birth orders sessions. */
static int verify_session_request(struct peer *peer, const struct udp_datagram *d,
				  uint64_t *generation)
{
	const struct keypair *slots[] = { &peer->keypairs.next, &peer->keypairs.current,
					  &peer->keypairs.previous };
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int r = -EBADMSG;

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]) && r; i++) {
		if (!slots[i]->valid)
			continue;
		probe_session_key_derive(key, slots[i]->recv_key);
		r = probe_verify(d->data, d->len, key, peer->handshake.remote_static);
		*generation = slots[i]->birth_ms + 1; /* 0 is the static key's */
	}
	sodium_memzero(key, sizeof(key));
	return r;
}

int punch_authenticate(struct peer *peer, const struct udp_datagram *d, struct probe *pr,
		       uint64_t *generation)
{
	int r;

	*generation = 0;
	if (probe_parse(d->data, d->len, pr) != 0) {
		tunnel_drop(peer->tunnel, DROP_MALFORMED, "malformed probe");
		return -EINVAL;
	}
	if (pr->kind == PROBE_REQUEST && pr->key == PROBE_KEY_SESSION)
		r = verify_session_request(peer, d, generation);
	else
		r = probe_verify(d->data, d->len, peer->punch.key, peer->handshake.remote_static);
	if (r)
		tunnel_drop(peer->tunnel, DROP_UNAUTHENTICATED, "probe not signed by the peer");
	return r;
}

void punch_receive(struct peer *peer, const struct udp_datagram *d, bool via_relay)
{
	struct probe pr;
	uint64_t generation = 0;

	/* A probe that came through the tunnel itself proves nothing about a
	 * path, and answering it would keep a loop going. */
	if (!via_relay && peer_endpoint_in_tunnel(peer, &d->from)) {
		tunnel_drop(peer->tunnel, DROP_NO_ROUTE, "probe from inside the tunnel");
		return;
	}
	if (punch_authenticate(peer, d, &pr, &generation) != 0)
		return;
	if (pr.kind == PROBE_REQUEST)
		handle_request(peer, d, &pr, generation, via_relay);
	else if (via_relay)
		(void)pathcheck_answered(peer, &d->from, true, pr.token, pr.acked_len);
	else
		handle_response(peer, d, &pr);
}

void punch_birthday_answered(struct peer *peer, const struct rdv_endpoint *ep, uint64_t sent_ms)
{
	struct punch *p = &peer->punch;

	punch_add_candidate(peer, ep, CANDIDATE_BIRTHDAY);
	for (size_t i = 0; i < p->n_candidates; i++) {
		struct candidate *c = &p->candidates[i];

		if (!rdv_endpoint_equal(&c->ep, ep))
			continue;
		c->answered = true;
		c->sent_ms = sent_ms;
		p->probes_answered++;
		/* Both sides choose: the pair of endpoints birthday probing
		 * found is the only one, so they cannot pull different ways,
		 * and the hard side's keepalive from its new socket is what
		 * opens the way back (the easy side's first one may reach the
		 * winning socket before it becomes the link's). */
		if (!p->has_chosen || peer->path != PATH_DIRECT)
			choose(peer, i);
		return;
	}
}

const char *punch_path_origin(const struct peer *peer, char *why, size_t size)
{
	const struct tunnel *t = peer->tunnel;
	const struct punch *p = &peer->punch;
	const struct birthday *b = &peer->birthday;
	enum meet_nat_mapping ours = meet_nat_mapping(t);

	why[0] = '\0';
	if (peer->path == PATH_RELAY) {
		if (t->cfg.punch == CONFIG_PUNCH_OFF)
			snprintf(why, size, "Punch = off");
		else if (ours == MEET_NAT_ENDPOINT_DEPENDENT && t->cfg.punch == CONFIG_PUNCH_BASIC)
			snprintf(why, size, "our NAT is endpoint-dependent and Punch = basic");
		else if (ours == MEET_NAT_ENDPOINT_DEPENDENT)
			snprintf(why, size, "%s%sour NAT is endpoint-dependent and the router maps no port "
				 "(%s)", b->outcome, b->outcome[0] ? "; " : "",
				 t->meet.portmap.reason[0] ? t->meet.portmap.reason : "no mapping");
		else if (b->outcome[0])
			snprintf(why, size, "no candidate answered; %s", b->outcome);
		else
			snprintf(why, size, "no candidate answered%s",
				 ours == MEET_NAT_UNKNOWN ? " (our NAT's mapping is unknown)" : "");
		return "relay";
	}
	if (peer->path != PATH_DIRECT || !peer->has_endpoint)
		return "";
	if (b->won && rdv_endpoint_equal(&b->won_ep, &peer->endpoint)) {
		snprintf(why, size, "one NAT is endpoint-dependent: the public endpoints did not "
			 "answer");
		return "birthday";
	}
	for (size_t i = 0; i < p->n_candidates; i++) {
		const struct candidate *c = &p->candidates[i];

		if (!rdv_endpoint_equal(&c->ep, &peer->endpoint))
			continue;
		switch (c->kind) {
		case CANDIDATE_LAN:
			if (c->portmap)
				return "portmap";
			/* A peer without NAT announces its public address as a
			 * LAN one (so does a router mapping that kept the NAT's
			 * own port): what the rendezvous saw, so reflexive. */
			if (p->has_peer_reflexive && rdv_endpoint_equal(&c->ep, &p->peer_reflexive))
				break;
			return "lan";
		case CANDIDATE_STATIC:
			return "static";
		case CANDIDATE_BIRTHDAY:
			return "birthday";
		case CANDIDATE_REFLEXIVE:
		case CANDIDATE_LEARNED:
			break;
		}
		break;
	}
	if (t->cfg.has_endpoint && !p->has_peer_reflexive)
		return "static";
	for (size_t i = 0; i < p->n_candidates; i++) {
		const struct candidate *c = &p->candidates[i];

		if (c->kind == CANDIDATE_LAN &&
		    !(p->has_peer_reflexive && rdv_endpoint_equal(&c->ep, &p->peer_reflexive))) {
			snprintf(why, size, "no LAN or router-mapped candidate of the peer answered");
			break;
		}
	}
	return "reflexive";
}
