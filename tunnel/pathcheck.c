/* Path MTU and liveness checks on the path in use (pathcheck.h). */
#include "tunnel/pathcheck.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "crypto/probe.h"
#include "tunnel/meet.h"
#include "tunnel/peer.h"
#include "tunnel/ping.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

static uint64_t now(const struct peer *peer)
{
	return peer->tunnel->loop.now_ms;
}

/* The inner MTU a path can carry at most: the interface's, or what fits a
 * RELAY's data (a channel datagram's message has the same limit). */
static unsigned path_max(const struct peer *peer, bool relay)
{
	unsigned mtu = peer->tunnel->cfg.mtu;

	if (relay)
		mtu = MIN(mtu, (unsigned)pmtu_inner_for_outer(RDV_RELAY_DATA_MAX));
	return mtu;
}

/* The safe start of a path (pmtu.h): what a 1280-byte path carries inside
 * our headers, less a relay channel's header or the RELAY envelope (at most
 * the difference between the largest rendezvous datagram and the relay's
 * payload). */
static unsigned path_base(bool relay, bool chan)
{
	if (!relay)
		return PMTU_BASE_MTU;
	return PMTU_BASE_MTU -
	       (chan ? RDV_CHANNEL_HEADER_LEN : RDV_DATAGRAM_MAX - RDV_RELAY_DATA_MAX);
}

/* UDP payload of the relayed datagram carrying a full-size data message of
 * `inner` bytes: in a channel, or in a RELAY. */
static size_t relay_wire_len(bool chan, unsigned inner)
{
	size_t msg = pmtu_data_outer_len(inner, inner);

	return chan ? RDV_CHANNEL_HEADER_LEN + msg : meet_relay_len(msg);
}

/* The largest inner size whose relayed datagram (relay_wire_len) is at most
 * `wire` bytes. */
static unsigned relay_inner_for_wire(bool chan, size_t wire)
{
	/* The envelope's overhead for a message of some hundred bytes: every
	 * full-size message is that long (PMTU_MIN_MTU and more). */
	size_t over = chan ? RDV_CHANNEL_HEADER_LEN : meet_relay_len(PMTU_MIN_MTU) - PMTU_MIN_MTU;

	return wire > over ? (unsigned)pmtu_inner_for_outer(wire - over) : 0;
}

/* The length of the probe request that tests `inner` bytes on a path. Path
 * probes are not WireGuard messages, so the relay's go in RELAY messages
 * even while a channel carries the data (the server forwards only
 * WireGuard messages in a channel): for a channel, the probe is a RELAY
 * whose datagram is as large as the channel datagram it stands for; the
 * server forwards a RELAY as large as it came, a channel datagram as it
 * is, on the same paths. */
static size_t probe_len(bool relay, bool chan, unsigned inner)
{
	size_t msg = pmtu_data_outer_len(inner, inner), wire, len;

	if (!relay || !chan)
		return msg;
	wire = relay_wire_len(true, inner);
	len = wire - MIN(wire, meet_relay_len(msg) - msg);
	while (len < RDV_RELAY_DATA_MAX && meet_relay_len(len) < wire) /* a shorter length field */
		len++;
	return MAX(len, (size_t)PROBE_LEN);
}

/* Sends a probe request of `inner` bytes (0: the smallest) along the path
 * in use, or to `to`; a path MTU probe is `len` bytes (probe_len). Returns
 * 0, or a negative errno (-EMSGSIZE: larger than the local interface
 * allows). */
static int send_probe_len(struct peer *peer, bool relay, const struct rdv_endpoint *to,
			  uint64_t token, size_t len)
{
	static uint8_t msg[PROBE_MAX_LEN];
	int r = punch_request_build(peer, token, len, msg, sizeof(msg));

	if (r)
		return r;
	if (relay) {
		if (len > RDV_RELAY_DATA_MAX)
			return -EMSGSIZE;
		meet_send_relay(peer->tunnel, msg, len);
		return 0;
	}
	return udp_send(&peer->tunnel->udp, to, msg, len);
}

static int send_probe(struct peer *peer, bool relay, const struct rdv_endpoint *to,
		      uint64_t token, unsigned inner)
{
	return send_probe_len(peer, relay, to, token,
			      inner ? pmtu_data_outer_len(inner, inner) : PROBE_LEN);
}

static void set_path_mtu(struct peer *peer, unsigned mtu)
{
	struct tunnel *t = peer->tunnel;

	if (t->path_mtu == mtu)
		return;
	if (mtu < t->path_mtu)
		log_info("%s: path MTU %u (was %u)", t->cfg.name, mtu, t->path_mtu);
	else
		log_debug("%s: path MTU %u (was %u)", t->cfg.name, mtu, t->path_mtu);
	t->path_mtu = mtu;
}

static void pmtu_step(struct peer *peer)
{
	struct pathcheck *c = &peer->pathcheck;
	unsigned size;
	uint64_t next = pmtu_next_probe(&c->pmtu, now(peer), &size);

	/* A size the local stack refuses is lost at once; the next one goes
	 * out now (a handful at most: each refusal halves the search). */
	for (int tries = 0; size && tries < 16; tries++) {
		log_debug("%s: path MTU probe of %u (%s)", peer->tunnel->cfg.name, size,
			  pmtu_state_name(c->pmtu.state));
		c->pmtu_token = probe_new_token();
		c->pmtu_size = size;
		c->pmtu_len = probe_len(c->relay, c->chan, size);
		if (send_probe_len(peer, c->relay, &c->ep, c->pmtu_token, c->pmtu_len) != -EMSGSIZE)
			break;
		pmtu_probe_lost(&c->pmtu, size, now(peer));
		next = pmtu_next_probe(&c->pmtu, now(peer), &size);
	}
	set_path_mtu(peer, pmtu_current(&c->pmtu));
	timers_pmtu_due(peer, next);
}

static void pmtu_due(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, pathcheck.pmtu_timer);
	struct pathcheck *c = &peer->pathcheck;

	if (!c->measuring)
		return;
	/* A settled path is confirmed (and raised) only while it carries
	 * data; data sent later wakes it up (pathcheck_data_sent). */
	if (c->pmtu.state == PMTU_SEARCH_COMPLETE && !c->pmtu_token &&
	    now_ms - peer->last_data_sent_ms > PMTU_CONFIRM_MS) {
		c->parked = true;
		return;
	}
	pmtu_step(peer);
}

void pathcheck_data_sent(struct peer *peer)
{
	struct pathcheck *c = &peer->pathcheck;

	if (c->parked) {
		c->parked = false;
		timers_pmtu_due(peer, now(peer));
	}
}

/* The verdict of a liveness check, or its second round. */
static void check_due(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, pathcheck.check_timer);
	struct pathcheck *c = &peer->pathcheck;

	(void)now_ms;
	if (!c->checking)
		return;
	if (peer->path != PATH_DIRECT) {
		c->checking = false;    /* the path changed meanwhile */
		return;
	}
	if (c->small_answered && c->big_answered) {
		c->checking = false;
		return;
	}
	if (c->rounds < 2) {
		c->rounds++;
		if (!c->small_answered)
			(void)send_probe(peer, false, &c->ep, c->small_token, 0);
		if (!c->big_answered)
			(void)send_probe(peer, false, &c->ep, c->big_token, c->big_size);
		timers_pathcheck_due(peer, PATHCHECK_GIVE_UP_MS - PATHCHECK_RETRY_MS);
		return;
	}
	c->checking = false;
	/* Authenticated WireGuard from the path during the check proves it,
	 * whatever happened to the probes. */
	if (!c->small_answered && peer->last_direct_rx_ms < c->check_started_ms) {
		c->dead++;
		peer_direct_path_lost(peer);
		return;
	}
	if (!c->small_answered)
		return;
	/* Small probes pass, large ones do not: a black hole. */
	c->blackholes++;
	log_info("%s: packets of %u bytes stopped crossing; path MTU back to %u",
		 peer->tunnel->cfg.name, c->big_size, (unsigned)PMTU_BASE_MTU);
	if (c->measuring) {
		pmtu_blackhole_suspected(&c->pmtu, now(peer));
		pmtu_step(peer);
	}
}

static void hello_due(struct peer *peer)
{
	struct pathcheck *c = &peer->pathcheck;

	if (c->peer_answers || c->hellos >= PATHCHECK_HELLO_TRIES || peer->path != PATH_DIRECT ||
	    !peer->has_endpoint || !peer->keypairs.current.valid)
		return;
	c->hellos++;
	c->hello_token = probe_new_token();
	(void)send_probe(peer, false, &peer->endpoint, c->hello_token, 0);
	timers_pmtu_due(peer, now(peer) + PATHCHECK_HELLO_MS);
}

static void pmtu_or_hello_due(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, pathcheck.pmtu_timer);

	if (!peer->pathcheck.peer_answers)
		hello_due(peer);
	else
		pmtu_due(t, now_ms);
}

void pathcheck_init(struct peer *peer)
{
	peer->pathcheck.pmtu_timer.expired = pmtu_or_hello_due;
	peer->pathcheck.check_timer.expired = check_due;
}

void pathcheck_path_changed(struct peer *peer)
{
	struct pathcheck *c = &peer->pathcheck;
	bool relay = peer->path == PATH_RELAY;
	bool chan = relay && meet_channel_open(peer->tunnel);
	unsigned base;

	if (!peer->keypairs.current.valid || (peer->path == PATH_DIRECT && !peer->has_endpoint) ||
	    peer->path == PATH_NONE)
		return;
	if (!c->peer_answers) {
		/* Links with a rendezvous server talk to peers of ours. */
		if (peer->tunnel->meet.n_servers == 0) {
			if (!c->hellos)
				hello_due(peer);
			return;
		}
		c->peer_answers = true;
		udp_probe_mtu(&peer->tunnel->udp);
	}
	if (c->measuring && c->relay == relay &&
	    (relay ? c->chan == chan : rdv_endpoint_equal(&c->ep, &peer->endpoint)))
		return;
	base = path_base(relay, chan);
	/* The relay switched between a channel and RELAY messages: the
	 * datagram size its search confirmed passes whatever it carries, so
	 * the other starts from what that size carries (at once smaller for
	 * the envelope: nothing sealed for the channel goes in a RELAY it
	 * does not fit) and confirms it with its first probe. */
	if (c->measuring && c->relay && relay &&
	    (c->pmtu.state == PMTU_SEARCH || c->pmtu.state == PMTU_SEARCH_COMPLETE))
		base = MAX(base, relay_inner_for_wire(chan, relay_wire_len(c->chan,
									  pmtu_current(&c->pmtu))));
	if (c->measuring && c->relay && relay)
		log_info("%s: relayed data now %s; path MTU search from %u", peer->tunnel->cfg.name,
			 chan ? "in a relay channel" : "in RELAY messages",
			 MIN(base, path_max(peer, relay)));
	c->measuring = true;
	c->relay = relay;
	c->chan = chan;
	if (!relay)
		c->ep = peer->endpoint;
	c->pmtu_token = 0;
	c->parked = false;
	/* A relayed datagram travels inside a channel datagram or a RELAY
	 * message: what fits a 1280-byte path is smaller by its header. */
	pmtu_init_base(&c->pmtu, path_max(peer, relay), base);
	pmtu_step(peer);
}

void pathcheck_relay_carrier_changed(struct peer *peer)
{
	const struct pathcheck *c = &peer->pathcheck;

	if (peer->path == PATH_RELAY && c->measuring && c->relay &&
	    c->chan != meet_channel_open(peer->tunnel))
		pathcheck_path_changed(peer);
}

bool pathcheck_liveness(struct peer *peer)
{
	struct pathcheck *c = &peer->pathcheck;

	if (!c->peer_answers || peer->path != PATH_DIRECT || !peer->has_endpoint)
		return false;
	if (c->checking)
		return true;
	c->checking = true;
	c->check_started_ms = now(peer);
	c->checks++;
	c->rounds = 1;
	c->ep = peer->endpoint;
	c->small_answered = c->big_answered = false;
	c->small_token = probe_new_token();
	c->big_token = probe_new_token();
	c->big_size = peer->tunnel->path_mtu;
	(void)send_probe(peer, false, &c->ep, c->small_token, 0);
	if (send_probe(peer, false, &c->ep, c->big_token, c->big_size) == -EMSGSIZE)
		c->big_answered = true; /* nothing to learn: the local stack refuses it */
	timers_pathcheck_due(peer, PATHCHECK_RETRY_MS);
	return true;
}

bool pathcheck_answered(struct peer *peer, const struct rdv_endpoint *from, bool via_relay,
			uint64_t token, unsigned acked_len)
{
	struct pathcheck *c = &peer->pathcheck;
	bool direct_ok = !via_relay && rdv_endpoint_equal(from, &c->ep);

	if (token == c->hello_token && !via_relay) {
		c->hello_token = 0;
		c->peer_answers = true;
		udp_probe_mtu(&peer->tunnel->udp);
		pathcheck_path_changed(peer);
		return true;
	}
	if (c->checking && direct_ok && (token == c->small_token || token == c->big_token)) {
		if (token == c->small_token)
			c->small_answered = true;
		else if (acked_len >= pmtu_data_outer_len(c->big_size, c->big_size))
			c->big_answered = true;
		return true;
	}
	if (c->measuring && c->pmtu_token && token == c->pmtu_token &&
	    (c->relay ? via_relay : direct_ok) && acked_len >= c->pmtu_len) {
		c->pmtu_token = 0;
		pmtu_probe_acked(&c->pmtu, c->pmtu_size, now(peer));
		pmtu_step(peer);
		return true;
	}
	return ping_answered(peer->tunnel, from, via_relay, token);
}

int pathcheck_send_probe(struct peer *peer, bool relay, const struct rdv_endpoint *to,
			 uint64_t token, unsigned inner)
{
	return send_probe(peer, relay, to, token, inner);
}
