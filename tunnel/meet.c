/* Registration with the rendezvous servers and what their answers mean for
 * the link. The clients are state machines; this file moves their bytes
 * over the link's socket and turns their events into link changes. */
#include "tunnel/meet.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "tunnel/punch.h"
#include "tunnel/receive.h"
#include "tunnel/tunnel.h"

static uint64_t now(const struct tunnel *t)
{
	return t->loop.now_ms;
}

/* Our own addresses with the link's port: where a peer on the same LAN
 * can reach us without going through the NAT. */
static size_t lan_candidates(const struct tunnel *t, struct rdv_endpoint *out, size_t max)
{
	struct ifaddrs *ifs, *ifa;
	size_t n = 0;

	if (getifaddrs(&ifs) != 0)
		return 0;
	for (ifa = ifs; ifa && n < max; ifa = ifa->ifa_next) {
		struct rdv_endpoint ep;

		if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK) ||
		    !strcmp(ifa->ifa_name, t->cfg.name))
			continue;
		if (rdv_endpoint_from_sockaddr(&ep, ifa->ifa_addr) != 0)
			continue;
		/* link-local IPv6 needs a scope id the peer cannot know */
		if (ep.family == AF_INET6 && ep.addr[0] == 0xfe && (ep.addr[1] & 0xc0) == 0x80)
			continue;
		if (ep.family == AF_INET6 && !t->udp.ipv6)
			continue;
		ep.port = t->udp.port;
		out[n++] = ep;
	}
	freeifaddrs(ifs);
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
		struct meet_server *s = &m->servers[m->n_servers];

		/* A name not resolved yet: tunnel/resolve.c calls meet_init
		 * again once it has an address. */
		if (t->cfg.rendezvous[i].addr_len == 0)
			continue;
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
		m->n_servers++;
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
	punch_introduced(peer, in->lan, in->n_lan, &in->reflexive);
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
			/* A WireGuard datagram from the peer; its source for the
			 * cookie MACs is the server's address. */
			struct udp_datagram inner = { .data = ev.msg.relay.data,
						      .len = ev.msg.relay.len,
						      .from = m->servers[i].addr };

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
