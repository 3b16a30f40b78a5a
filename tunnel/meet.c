/* Registration with the rendezvous servers and what their answers mean for
 * the link. The clients are state machines; this file moves their bytes
 * over the link's socket and turns their events into link changes. */
#include "tunnel/meet.h"

#include <errno.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/messages.h"
#include "rendezvous/demux.h"
#include "tunnel/local_addrs.h"
#include "tunnel/pmtu.h"
#include "tunnel/punch.h"
#include "tunnel/receive.h"
#include "tunnel/tunnel.h"

enum { IPV6_MIN_MTU = 1280 };

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
	size_t n = 0;

	/* The router's mapping first: it is the one that works from anywhere. */
	if (t->meet.portmap.proto != PORTMAP_NONE && max > 0 &&
	    rdv_endpoint_from_sockaddr(&out[n], (const struct sockaddr *)&t->meet.portmap.external) == 0)
		n++;
	if (local_addrs_gather(&la, &t->cfg, NULL) != 0)
		return n;
	return n + local_addrs_candidates(&la, t->udp.port, t->udp.ipv6, out + n, max - n);
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

		if (local_addrs_route(&lan[i], t->routing.fwmark, ifname) != 0)
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

/* Asks server i for the relay channel to the peer (CHANNEL_OPEN, with the
 * id we hold, if any). */
static void channel_ask(struct tunnel *t, struct meet_server *s, uint64_t now_ms)
{
	static const uint8_t none[RDV_CHANNEL_ID_LEN];
	struct meet *m = &t->meet;
	size_t len;

	if (rdv_client_build_channel_open(&s->client, t->cfg.peer_public_key,
					  s->has_chan ? s->chan : none, m->out, sizeof(m->out),
					  &len) == 0 &&
	    udp_send(&t->udp, &s->addr, m->out, len) != 0)
		log_debug("%s: cannot send to rendezvous server", t->cfg.name);
	if (!s->has_chan) {
		/* Until a CHANNEL comes (an old server never sends one), ask
		 * again with back-off; RELAY messages carry the data meanwhile. */
		s->chan_ask_ms = now_ms + s->chan_retry_ms;
		s->chan_retry_ms = MIN(s->chan_retry_ms * 2, (uint64_t)MEET_CHANNEL_RETRY_MAX_MS);
	}
}

/* Starts asking server i for a channel now (after an introduction: the
 * peer may be new, and with it the pair's channel). */
static void channel_want(struct tunnel *t, struct meet_server *s, uint64_t now_ms)
{
	s->chan_retry_ms = MEET_CHANNEL_RETRY_MIN_MS;
	s->chan_ask_ms = now_ms;
	channel_ask(t, s, now_ms);
	if (s->has_chan)
		s->chan_ask_ms = 0;
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
		if (!s->has_chan && s->chan_ask_ms && now_ms >= s->chan_ask_ms)
			channel_ask(t, s, now_ms);
		if (!s->has_chan && s->chan_ask_ms)
			next = MIN(next, s->chan_ask_ms);
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
	/* The router's mapping is the link's port's, not the servers': a new
	 * set of clients (a reload, new keys, a name that resolved) keeps it,
	 * and its renewal timer stays armed as it is (same address, same
	 * bytes, so the loop's list of armed timers stays right). */
	struct portmap portmap = m->portmap;
	struct loop_timer portmap_timer = m->portmap_timer;
	uint8_t want[1][RDV_KEY_LEN];
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_lan;
	int r;

	memset(m, 0, sizeof(*m));
	m->portmap = portmap;
	m->portmap_timer = portmap_timer;
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

/* Our candidates changed (a mapping came or went): register them again. */
static void announce_candidates(struct tunnel *t)
{
	struct meet *m = &t->meet;
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_lan = lan_candidates(t, lan, RDV_LAN_MAX);

	for (size_t i = 0; i < m->n_servers; i++) {
		if (rdv_client_set_lan(&m->servers[i].client, lan, n_lan, now(t)) != 0)
			log_error("%s: too many LAN addresses", t->cfg.name);
	}
}

static void portmap_arm(struct tunnel *t)
{
	struct meet *m = &t->meet;
	/* Renew at half the lifetime the router granted (RFC 6886 §3.3 and
	 * RFC 6887 §11.2.1 suggest renewing well before expiry). */
	uint64_t half_ms = MAX(m->portmap.lifetime_s, 2u) * 1000ULL / 2;

	loop_timer_arm(&t->loop, &m->portmap_timer, now(t) + half_ms);
}

static void portmap_renew_now(struct loop_timer *timer, uint64_t now_ms)
{
	struct tunnel *t = container_of(timer, struct tunnel, meet.portmap_timer);
	struct portmap *pm = &t->meet.portmap;
	struct sockaddr_in before = pm->external;
	char ep[RDV_ENDPOINT_STR];
	struct rdv_endpoint e;

	(void)now_ms;
	if (portmap_renew(pm) != 0) {
		/* The router stopped answering or refused: withdraw the
		 * candidate rather than advertise a dead one. */
		log_warn("%s: router port mapping lost: %s", t->cfg.name, pm->reason);
		announce_candidates(t);
		poll_servers(&t->meet.timer, t->loop.now_ms);
		return;
	}
	if (before.sin_port != pm->external.sin_port ||
	    before.sin_addr.s_addr != pm->external.sin_addr.s_addr) {
		if (rdv_endpoint_from_sockaddr(&e, (const struct sockaddr *)&pm->external) == 0)
			log_info("%s: router port mapping moved to %s", t->cfg.name,
				 rdv_endpoint_str(&e, ep, sizeof(ep)));
		announce_candidates(t);
		poll_servers(&t->meet.timer, t->loop.now_ms);
	}
	log_info("%s: router port mapping renewed for %llu s", t->cfg.name,
		 (unsigned long long)pm->lifetime_s);
	portmap_arm(t);
}

void meet_portmap_start(struct tunnel *t)
{
	struct meet *m = &t->meet;
	uint64_t start = clock_now_ms();
	char ep[RDV_ENDPOINT_STR];
	struct rdv_endpoint e;

	m->portmap_timer.expired = portmap_renew_now;
	if (!t->cfg.port_mapping) {
		snprintf(m->portmap.reason, sizeof(m->portmap.reason), "PortMapping = off");
		return;
	}
	if (portmap_create(&m->portmap, t->udp.port) != 0) {
		log_info("%s: no router port mapping (%s); asking took %llu ms", t->cfg.name,
			 m->portmap.reason, (unsigned long long)(clock_now_ms() - start));
		return;
	}
	if (rdv_endpoint_from_sockaddr(&e, (const struct sockaddr *)&m->portmap.external) == 0)
		log_info("%s: router port mapping by %s: %s for %llu s (took %llu ms)",
			 t->cfg.name, portmap_proto_name(m->portmap.proto),
			 rdv_endpoint_str(&e, ep, sizeof(ep)),
			 (unsigned long long)m->portmap.lifetime_s,
			 (unsigned long long)(clock_now_ms() - start));
	t->loop.now_ms = clock_now_ms();
	announce_candidates(t);
	portmap_arm(t);
}

void meet_portmap_stop(struct tunnel *t)
{
	struct meet *m = &t->meet;

	loop_timer_cancel(&t->loop, &m->portmap_timer);
	if (m->portmap.proto == PORTMAP_NONE)
		return;
	portmap_delete(&m->portmap);
	log_info("%s: router port mapping deleted", t->cfg.name);
}

static void natcheck_end(struct tunnel *t)
{
	struct meet *m = &t->meet;
	const struct netcheck_family *f;
	char ep[RDV_ENDPOINT_STR];

	if (!m->natcheck_running)
		return;
	loop_timer_cancel(&t->loop, &m->natcheck_timer);
	if (m->natcheck.fd4 >= 0)
		loop_watch_remove(&t->loop, &m->natcheck_w4);
	if (m->natcheck.fd6 >= 0)
		loop_watch_remove(&t->loop, &m->natcheck_w6);
	netcheck_finish(&m->natcheck);
	m->natcheck_running = false;
	m->natcheck_done = true;
	f = m->servers[0].addr.family == AF_INET ? &m->natcheck.report.v4 : &m->natcheck.report.v6;
	if (f->answered)
		log_info("%s: NAT mapping %s (public %s)", t->cfg.name,
			 netcheck_mapping_name(f->mapping),
			 rdv_endpoint_str(&f->public_ep, ep, sizeof(ep)));
}

static void natcheck_next(struct tunnel *t, uint64_t now_ms)
{
	uint64_t next = netcheck_poll(&t->meet.natcheck, now_ms);

	if (next == 0)
		natcheck_end(t);
	else
		loop_timer_arm(&t->loop, &t->meet.natcheck_timer, next);
}

static void natcheck_fired(struct loop_timer *timer, uint64_t now_ms)
{
	natcheck_next(container_of(timer, struct tunnel, meet.natcheck_timer), now_ms);
}

static void natcheck_ready4(struct loop_watch *w, uint32_t events)
{
	struct tunnel *t = container_of(w, struct tunnel, meet.natcheck_w4);

	(void)events;
	netcheck_receive(&t->meet.natcheck, w->fd, t->loop.now_ms);
	natcheck_next(t, t->loop.now_ms);
}

static void natcheck_ready6(struct loop_watch *w, uint32_t events)
{
	struct tunnel *t = container_of(w, struct tunnel, meet.natcheck_w6);

	(void)events;
	netcheck_receive(&t->meet.natcheck, w->fd, t->loop.now_ms);
	natcheck_next(t, t->loop.now_ms);
}

void meet_natcheck_start(struct tunnel *t)
{
	struct meet *m = &t->meet;
	struct rdv_endpoint servers[CONFIG_MAX_RENDEZVOUS];
	int r;

	if (m->n_servers == 0)
		return;
	for (size_t i = 0; i < m->n_servers; i++)
		servers[i] = m->servers[i].addr;
	m->natcheck_timer.expired = natcheck_fired;
	m->natcheck_w4.ready = natcheck_ready4;
	m->natcheck_w6.ready = natcheck_ready6;
	r = netcheck_start(&m->natcheck, servers, m->n_servers, now(t), MEET_NATCHECK_MS);
	m->natcheck_w4.fd = m->natcheck.fd4;
	m->natcheck_w6.fd = m->natcheck.fd6;
	/* Nothing sent yet (netcheck_poll sends): a full tunnel's mark keeps
	 * the test on the real route, as the link's own socket. */
	if (r == 0 && m->natcheck.fd4 >= 0)
		r = udp_set_mark(m->natcheck.fd4, t->routing.fwmark);
	if (r == 0 && m->natcheck.fd6 >= 0)
		r = udp_set_mark(m->natcheck.fd6, t->routing.fwmark);
	if (r == 0 && m->natcheck.fd4 >= 0)
		r = loop_watch_add(&t->loop, &m->natcheck_w4, EPOLLIN);
	if (r == 0 && m->natcheck.fd6 >= 0 && (r = loop_watch_add(&t->loop, &m->natcheck_w6, EPOLLIN)))
		if (m->natcheck.fd4 >= 0)
			loop_watch_remove(&t->loop, &m->natcheck_w4);
	if (r) {
		/* Not worth failing the link: status says "unknown". */
		log_debug("%s: no NAT mapping test: %s", t->cfg.name, strerror(-r));
		netcheck_finish(&m->natcheck);
		return;
	}
	m->natcheck_running = true;
	natcheck_next(t, now(t));
}

enum meet_nat_mapping meet_nat_mapping(const struct tunnel *t)
{
	const struct meet *m = &t->meet;
	const struct meet_server *first = NULL;

	if (m->natcheck_done && m->n_servers > 0) {
		const struct netcheck_family *f = m->servers[0].addr.family == AF_INET
							  ? &m->natcheck.report.v4
							  : &m->natcheck.report.v6;

		if (f->mapping == NETCHECK_MAPPING_DEPENDENT)
			return MEET_NAT_ENDPOINT_DEPENDENT;
		if (f->mapping == NETCHECK_MAPPING_INDEPENDENT || f->mapping == NETCHECK_MAPPING_NONE)
			return MEET_NAT_ENDPOINT_INDEPENDENT;
	}

	for (size_t i = 0; i < m->n_servers; i++) {
		const struct meet_server *s = &m->servers[i];

		if (!s->answered)
			continue;
		if (!first) {
			first = s;
			continue;
		}
		/* the same server twice tells nothing */
		if (rdv_endpoint_equal(&s->addr, &first->addr))
			continue;
		if (!rdv_endpoint_equal(&s->reflexive, &first->reflexive))
			return MEET_NAT_ENDPOINT_DEPENDENT;
		return MEET_NAT_ENDPOINT_INDEPENDENT;
	}
	return MEET_NAT_UNKNOWN;
}

void meet_destroy(struct tunnel *t)
{
	struct meet *m = &t->meet;

	/* Not the router's mapping (meet_init keeps it): meet_portmap_stop
	 * ends that, at `down`. */
	loop_timer_cancel(&t->loop, &m->timer);
	natcheck_end(t);
	for (size_t i = 0; i < m->n_servers; i++)
		rdv_client_wipe(&m->servers[i].client);
	m->n_servers = 0;
	free(m->chan_buf);
	m->chan_buf = NULL;
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
	if (s->has_chan && !rdv_endpoint_equal(&s->reflexive, &reg->reflexive)) {
		/* The server ended the channel with our old address. */
		s->has_chan = false;
		channel_want(t, s, now(t));
	} else if (s->has_chan) {
		/* Check it still lives (the server may have expired us, or the
		 * peer): the answer is the pair's channel, maybe a new one. */
		channel_ask(t, s, now(t));
	}
	s->answered = true;
	s->reflexive = reg->reflexive;
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
	channel_want(t, &m->servers[index], now(t));
}

static void on_channel(struct tunnel *t, size_t index, const struct rdv_channel *ch)
{
	struct meet_server *s = &t->meet.servers[index];

	if (sodium_memcmp(ch->peer, t->cfg.peer_public_key, RDV_KEY_LEN) != 0) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "channel to a peer we did not ask for");
		return;
	}
	if (!s->has_chan || memcmp(s->chan, ch->chan, RDV_CHANNEL_ID_LEN) != 0)
		log_info("%s: relay channel to the peer open", t->cfg.name);
	memcpy(s->chan, ch->chan, RDV_CHANNEL_ID_LEN);
	s->has_chan = true;
	s->chan_ask_ms = 0;
}

void meet_receive(struct tunnel *t, struct udp_datagram *d)
{
	struct meet *m = &t->meet;
	struct rdv_event ev;
	enum rdv_status st;
	uint32_t down_epoch;
	uint64_t due;
	size_t i;

	for (i = 0; i < m->n_servers; i++) {
		if (rdv_endpoint_equal(&m->servers[i].addr, &d->from))
			break;
	}
	if (i == m->n_servers) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "rendezvous message from no server of ours");
		return;
	}
	down_epoch = m->servers[i].client.down.epoch;
	st = rdv_client_consume(&m->servers[i].client, d->data, d->len, now(t), &ev);
	if (st == RDV_OK && down_epoch != m->servers[i].client.down.epoch)
		m->servers[i].has_chan = false; /* a restarted server knows no channel */
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
	case RDV_EVENT_CHANNEL:
		on_channel(t, i, &ev.msg.channel);
		break;
	case RDV_EVENT_CHALLENGE:
	case RDV_EVENT_NONE:
		break;
	}
	/* A channel may have opened or closed (or a reload forgot it). */
	pathcheck_relay_carrier_changed(&t->peer);
	/* A reply may have made a REGISTER (e.g. lease changes) or a
	 * CHANNEL_OPEN (after an introduction) due sooner. */
	due = rdv_client_next_ms(&m->servers[i].client);
	if (!m->servers[i].has_chan && m->servers[i].chan_ask_ms)
		due = MIN(due, m->servers[i].chan_ask_ms);
	if (due < m->timer.deadline_ms)
		loop_timer_arm(&t->loop, &m->timer, due);
}

/* [0xf3, 0, 0, 0, channel id, message] into out. */
static size_t channel_frame(const struct meet_server *s, const uint8_t *data, size_t len,
			    uint8_t *out)
{
	out[0] = DEMUX_TYPE_CHANNEL;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, s->chan, RDV_CHANNEL_ID_LEN);
	memcpy(out + RDV_CHANNEL_HEADER_LEN, data, len);
	return RDV_CHANNEL_HEADER_LEN + len;
}

/* Only WireGuard messages go through a channel (the server checks their
 * header); path probes keep travelling in RELAY messages. */
static bool channel_fits(const struct meet_server *s, const uint8_t *data, size_t len)
{
	return s->has_chan && len <= RDV_RELAY_DATA_MAX &&
	       message_validate_header(data, len) != MESSAGE_INVALID;
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
	if (channel_fits(s, data, len)) {
		out_len = channel_frame(s, data, len, m->out);
		if (udp_send(&t->udp, &s->addr, m->out, out_len) == 0)
			t->peer.tx_bytes += len;
		return;
	}
	/* Data sealed for a larger path than RELAY messages carry (for a
	 * channel that closed since) never goes in one: the RELAY would be
	 * lost on the way or fragmented. IPv6 packets up to 1280 go on whole,
	 * as on any path (send.c). */
	if (t->peer.path == PATH_RELAY && message_validate_header(data, len) == MESSAGE_DATA &&
	    len > pmtu_data_outer_len(MAX(t->path_mtu, (unsigned)IPV6_MIN_MTU),
				      MAX(t->path_mtu, (unsigned)IPV6_MIN_MTU))) {
		tunnel_drop(t, DROP_TOO_BIG, "data sealed for a relay channel that closed");
		return;
	}
	if (rdv_client_build_relay(&s->client, t->cfg.peer_public_key, data, len, now(t), m->out,
				   sizeof(m->out), &out_len) == 0 &&
	    udp_send(&t->udp, &s->addr, m->out, out_len) == 0)
		t->peer.tx_bytes += len;
}

void meet_send_relay_batch(struct tunnel *t, const struct udp_datagram *msgs, size_t n)
{
	enum { SLOT = RDV_CHANNEL_HEADER_LEN + RDV_RELAY_DATA_MAX };
	struct meet *m = &t->meet;
	struct meet_server *s = &m->servers[m->relay_server];
	struct udp_datagram out[MEET_CHANNEL_BATCH];

	if (m->has_relay && s->has_chan && !m->chan_buf)
		m->chan_buf = malloc((size_t)MEET_CHANNEL_BATCH * SLOT);
	for (size_t i = 0; i < n;) {
		size_t k = 0, bytes = 0;
		int sent;

		/* Equal-sized framed datagrams to one server: GSO sends them
		 * as one (udp_send_batch). */
		while (m->has_relay && m->chan_buf && i < n && k < MEET_CHANNEL_BATCH &&
		       channel_fits(s, msgs[i].data, msgs[i].len)) {
			out[k] = (struct udp_datagram){ .data = m->chan_buf + k * SLOT,
							.from = s->addr };
			out[k].len = channel_frame(s, msgs[i].data, msgs[i].len, out[k].data);
			k++;
			i++;
		}
		if (k == 0) {
			meet_send_relay(t, msgs[i].data, msgs[i].len);
			i++;
			continue;
		}
		sent = udp_send_batch(&t->udp, out, k, &bytes);
		if (sent > 0) /* the peer's bytes: without our headers */
			t->peer.tx_bytes += bytes - (size_t)sent * RDV_CHANNEL_HEADER_LEN;
	}
}

bool meet_channel_open(const struct tunnel *t)
{
	const struct meet *m = &t->meet;

	return m->has_relay && m->servers[m->relay_server].has_chan;
}

const char *meet_channel_state(const struct tunnel *t)
{
	const struct meet *m = &t->meet;

	if (!m->has_relay)
		return "none";
	if (m->servers[m->relay_server].has_chan)
		return "open";
	return m->servers[m->relay_server].chan_ask_ms ? "asking" : "none";
}

size_t meet_relay_len(size_t n)
{
	static struct rdv_msg msg = { .type = RDV_MSG_RELAY };
	static uint8_t body[RDV_BODY_MAX];
	size_t len;

	msg.relay.len = MIN(MAX(n, (size_t)1), (size_t)RDV_RELAY_DATA_MAX);
	if (rdv_body_encode(&msg, body, sizeof(body), &len) != 0)
		return RDV_DATAGRAM_MAX; /* cannot happen: the largest RELAY fits */
	return RDV_OVERHEAD + len;
}

void meet_receive_channel(struct tunnel *t, struct udp_datagram *d)
{
	struct meet *m = &t->meet;

	for (size_t i = 0; i < m->n_servers; i++) {
		struct meet_server *s = &m->servers[i];
		struct udp_datagram inner;

		if (!s->has_chan || !rdv_endpoint_equal(&s->addr, &d->from) ||
		    d->len < RDV_CHANNEL_HEADER_LEN ||
		    memcmp(d->data + 4, s->chan, RDV_CHANNEL_ID_LEN) != 0)
			continue;
		/* From the peer through our server: its source for the cookie
		 * MACs is the server's address, as for a RELAY. */
		inner = (struct udp_datagram){ .data = d->data + RDV_CHANNEL_HEADER_LEN,
					       .len = d->len - RDV_CHANNEL_HEADER_LEN,
					       .from = s->addr };
		receive_wireguard_channel(t, &inner);
		return;
	}
	tunnel_drop(t, DROP_UNAUTHENTICATED, "channel datagram with a wrong id or from no relay server");
}
