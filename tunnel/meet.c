/* Registration with the rendezvous servers and what their answers mean for
 * the link. The clients are state machines; this file moves their bytes
 * over the link's socket and turns their events into link changes. */
#include "tunnel/meet.h"

#include <errno.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "rendezvous/demux.h"
#include "tunnel/local_addrs.h"
#include "tunnel/punch.h"
#include "tunnel/receive.h"
#include "tunnel/tunnel.h"

static uint64_t now(const struct tunnel *t)
{
	return t->loop.now_ms;
}

/* Our own addresses with the link's port: where a peer on the same LAN
 * can reach us without going through the NAT. Only ordinary LAN interfaces
 * (tunnel/local_addrs.h), so that the link never runs inside another VPN. */
static size_t lan_candidates(const struct tunnel *t, struct rdv_endpoint *out, size_t max)
{
	struct local_addrs la;

	if (local_addrs_gather(&la, &t->cfg, NULL) != 0)
		return 0;
	return local_addrs_candidates(&la, t->udp.port, t->udp.ipv6, out, max);
}

/* The peer's LAN addresses worth probing from here: not those we would
 * reach through another tunnel or a container bridge (a VPN between the
 * two hosts that carries their LAN prefixes makes the peer's LAN address
 * answer, through that VPN). */
static size_t peer_lan_candidates(const struct tunnel *t, const struct rdv_endpoint *lan,
				  size_t n_lan, struct rdv_endpoint *out)
{
	struct local_addrs la;
	size_t n = 0;

	if (local_addrs_gather(&la, &t->cfg, NULL) != 0) {
		memcpy(out, lan, n_lan * sizeof(*lan));
		return n_lan;
	}
	for (size_t i = 0; i < n_lan; i++) {
		char ifname[IF_NAMESIZE] = "", ep[RDV_ENDPOINT_STR];

		if (local_addrs_route(&lan[i], ifname) != 0)
			ifname[0] = '\0';
		if (local_addrs_peer_lan_usable(&la, &lan[i], ifname))
			out[n++] = lan[i];
		else
			log_debug("%s: not a path: the peer's LAN address %s is reached through %s, "
				 "not a LAN interface of ours", t->cfg.name,
				 rdv_endpoint_str(&lan[i], ep, sizeof(ep)), ifname[0] ? ifname : "?");
	}
	return n;
}

static void poll_servers(struct loop_timer *timer, uint64_t now_ms)
{
	struct tunnel *t = container_of(timer, struct tunnel, meet.timer);
	struct meet *m = &t->meet;
	uint64_t next = now_ms + 60000;
	bool any_answered = false;

	for (size_t i = 0; i < m->n_servers; i++) {
		struct meet_server *s = &m->servers[i];
		size_t len;

		if (rdv_client_poll(&s->client, now_ms, m->out, sizeof(m->out), &len) == 1 &&
		    udp_send(&t->udp, &s->addr, m->out, len) != 0)
			log_debug("%s: cannot send to rendezvous server", t->cfg.name);
		next = MIN(next, rdv_client_next_ms(&s->client));
		any_answered |= s->answered;
	}
	if (!any_answered && now_ms - m->started_ms >= MEET_UNREACHABLE_MS) {
		char reason[CONTROL_REASON_MAX], ep[RDV_ENDPOINT_STR];

		snprintf(reason, sizeof(reason), "rendezvous %s%s unreachable (no answer in %d s)",
			 rdv_endpoint_str(&m->servers[0].addr, ep, sizeof(ep)),
			 m->n_servers > 1 ? " and the others" : "", MEET_UNREACHABLE_MS / 1000);
		peer_rendezvous_progress(&t->peer, reason);
	}
	if (!any_answered && now_ms - m->started_ms < MEET_UNREACHABLE_MS)
		next = MIN(next, m->started_ms + MEET_UNREACHABLE_MS);
	loop_timer_arm(&t->loop, &m->timer, MAX(next, now_ms + 10));
}

int meet_init(struct tunnel *t)
{
	struct meet *m = &t->meet;
	uint8_t want[1][RDV_KEY_LEN];
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_lan;
	int r;

	memset(m, 0, sizeof(*m));
	m->timer.expired = poll_servers;
	if (t->cfg.n_rendezvous == 0)
		return 0;
	memcpy(want[0], t->cfg.peer_public_key, RDV_KEY_LEN);
	n_lan = lan_candidates(t, lan, RDV_LAN_MAX);
	for (size_t i = 0; i < t->cfg.n_rendezvous; i++) {
		struct meet_server *s = &m->servers[i];

		r = rdv_endpoint_from_sockaddr(&s->addr,
					       (const struct sockaddr *)&t->cfg.rendezvous[i].addr);
		if (r)
			return r;
		r = rdv_client_init(&s->client, t->cfg.private_key, t->cfg.rendezvous_key, now(t));
		if (r == 0)
			r = rdv_client_set_wants(&s->client, (const uint8_t(*)[RDV_KEY_LEN])want, 1,
						 now(t));
		if (r == 0)
			r = rdv_client_set_lan(&s->client, lan, n_lan, now(t));
		/* Keep the mapping towards the server as alive as the direct path. */
		rdv_client_set_refresh_max(&s->client, t->cfg.persistent_keepalive_s * 1000ULL);
		m->n_servers = i + 1;
		if (r)
			return r;
	}
	return 0;
}

void meet_start(struct tunnel *t)
{
	struct meet *m = &t->meet;
	char reason[CONTROL_REASON_MAX], ep[RDV_ENDPOINT_STR];

	if (m->n_servers == 0)
		return;
	m->started_ms = now(t);
	snprintf(reason, sizeof(reason), "registering with rendezvous %s",
		 rdv_endpoint_str(&m->servers[0].addr, ep, sizeof(ep)));
	peer_rendezvous_progress(&t->peer, reason);
	poll_servers(&m->timer, now(t));
}

void meet_refresh(struct tunnel *t)
{
	struct meet *m = &t->meet;
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_lan = lan_candidates(t, lan, RDV_LAN_MAX);

	if (m->n_servers == 0)
		return;
	for (size_t i = 0; i < m->n_servers; i++) {
		if (rdv_client_set_lan(&m->servers[i].client, lan, n_lan, now(t)) != 0)
			log_error("%s: too many LAN addresses", t->cfg.name);
		/* The peer may have moved too: ask for its endpoints again. */
		rdv_client_request_introductions(&m->servers[i].client, now(t));
	}
	poll_servers(&m->timer, now(t));
}

void meet_destroy(struct tunnel *t)
{
	struct meet *m = &t->meet;

	loop_timer_cancel(&t->loop, &m->timer);
	for (size_t i = 0; i < m->n_servers; i++)
		rdv_client_wipe(&m->servers[i].client);
	m->n_servers = 0;
}

static void on_registered(struct tunnel *t, size_t index, const struct rdv_registered *reg)
{
	struct meet *m = &t->meet;
	struct meet_server *s = &m->servers[index];
	char ep[RDV_ENDPOINT_STR], srv[RDV_ENDPOINT_STR], reason[CONTROL_REASON_MAX];

	if (!s->answered || !m->has_reflexive || !rdv_endpoint_equal(&m->reflexive, &reg->reflexive))
		log_info("%s: registered with rendezvous %s, which sees us as %s", t->cfg.name,
			 rdv_endpoint_str(&s->addr, srv, sizeof(srv)),
			 rdv_endpoint_str(&reg->reflexive, ep, sizeof(ep)));
	s->answered = true;
	if (!m->has_reflexive || index == 0) {
		m->reflexive = reg->reflexive;
		m->has_reflexive = true;
	}
	snprintf(reason, sizeof(reason),
		 "registered with rendezvous %s; the peer is not online there (or does not "
		 "list our key)", rdv_endpoint_str(&s->addr, srv, sizeof(srv)));
	peer_rendezvous_progress(&t->peer, reason);
}

static void on_introduced(struct tunnel *t, size_t index, const struct rdv_introduce *in)
{
	struct meet *m = &t->meet;
	struct peer *peer = &t->peer;
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_lan;
	char ep[RDV_ENDPOINT_STR];

	if (sodium_memcmp(in->peer, t->cfg.peer_public_key, RDV_KEY_LEN) != 0) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "introduction to a peer we did not ask for");
		return;
	}
	log_info("%s: introduced to the peer at %s with %zu LAN address%s", t->cfg.name,
		 rdv_endpoint_str(&in->reflexive, ep, sizeof(ep)), in->n_lan,
		 in->n_lan == 1 ? "" : "es");
	m->has_relay = true;
	m->relay_server = index;
	/* A new introduction (the peer moved or restarted) replaces the old
	 * candidates; the path in use stays until a better one answers. */
	n_lan = peer_lan_candidates(t, in->lan, MIN(in->n_lan, (size_t)RDV_LAN_MAX), lan);
	punch_introduced(peer, lan, n_lan, &in->reflexive);
}

void meet_receive(struct tunnel *t, struct udp_datagram *d)
{
	struct meet *m = &t->meet;
	struct rdv_event ev;
	enum rdv_status st;
	size_t i;

	for (i = 0; i < m->n_servers; i++) {
		if (rdv_endpoint_equal(&m->servers[i].addr, &d->from))
			break;
	}
	if (i == m->n_servers) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "rendezvous message from no server of ours");
		return;
	}
	st = rdv_client_consume(&m->servers[i].client, d->data, d->len, now(t), &ev);
	if (st != RDV_OK) {
		tunnel_drop(t, st == RDV_E_REPLAY || st == RDV_E_STALE ? DROP_REPLAYED
				: st == RDV_E_BAD_MAC || st == RDV_E_WRONG_KEY ? DROP_UNAUTHENTICATED
									   : DROP_MALFORMED,
			    "rendezvous message rejected");
		return;
	}
	switch (ev.type) {
	case RDV_EVENT_REGISTERED:
		on_registered(t, i, &ev.msg.registered);
		break;
	case RDV_EVENT_INTRODUCED:
		on_introduced(t, i, &ev.msg.introduce);
		break;
	case RDV_EVENT_RELAY:
		if (sodium_memcmp(ev.msg.relay.peer, t->cfg.peer_public_key, RDV_KEY_LEN) == 0) {
			/* A WireGuard datagram from the peer (its source for the
			 * cookie MACs is the server's address), or a path probe
			 * measuring the relay. */
			struct udp_datagram inner = { .data = ev.msg.relay.data,
						      .len = ev.msg.relay.len,
						      .from = m->servers[i].addr };

			if (demux_classify(inner.data, inner.len) == DEMUX_PROBE)
				punch_receive(&t->peer, &inner, true);
			else
				receive_wireguard(t, &inner, true);
		} else
			tunnel_drop(t, DROP_UNAUTHENTICATED, "relayed data from a stranger");
		break;
	case RDV_EVENT_ERROR:
		log_debug("%s: rendezvous server refused a request (code %u)", t->cfg.name,
			  (unsigned)ev.msg.error.code);
		break;
	case RDV_EVENT_CHALLENGE:
	case RDV_EVENT_NONE:
		break;
	}
	/* A reply may have made a REGISTER due sooner (e.g. lease changes). */
	if (rdv_client_next_ms(&m->servers[i].client) < m->timer.deadline_ms)
		loop_timer_arm(&t->loop, &m->timer, rdv_client_next_ms(&m->servers[i].client));
}

void meet_send_relay(struct tunnel *t, const uint8_t *data, size_t len)
{
	struct meet *m = &t->meet;
	struct meet_server *s = &m->servers[m->relay_server];
	size_t out_len;

	if (!m->has_relay || len == 0 || len > RDV_RELAY_DATA_MAX) {
		tunnel_drop(t, DROP_NO_ROUTE, "datagram too large for the relay");
		return;
	}
	if (rdv_client_build_relay(&s->client, t->cfg.peer_public_key, data, len, now(t), m->out,
				   sizeof(m->out), &out_len) == 0 &&
	    udp_send(&t->udp, &s->addr, m->out, out_len) == 0)
		t->peer.tx_bytes += len;
}
