/* Birthday probing: the extra sockets, the random ports and the pacing. */
#include "tunnel/birthday.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "crypto/probe.h"
#include "rendezvous/demux.h"
#include "tunnel/meet.h"
#include "tunnel/peer.h"
#include "tunnel/tunnel.h"

static const char *const role_names[] = {
	[BIRTHDAY_NONE] = "none",
	[BIRTHDAY_HARD] = "hard",
	[BIRTHDAY_EASY] = "easy",
};

void birthday_ports_reset(struct birthday_ports *p)
{
	memset(p, 0, sizeof(*p));
}

uint16_t birthday_ports_pick(struct birthday_ports *p)
{
	uint32_t left = BIRTHDAY_PORT_COUNT - (uint32_t)p->n_used;
	uint32_t i, skip;

	if (left == 0)
		return 0;
	/* Uniform among the ports left: a random port, again while it was
	 * used (an attempt uses at most 3 % of them, so this nearly always
	 * ends at once); past a few misses, the skip-th free one. */
	for (int tries = 0; tries < 16; tries++) {
		i = randombytes_uniform(BIRTHDAY_PORT_COUNT);
		if (!(p->used[i / 8] & (1u << (i % 8))))
			goto take;
	}
	skip = randombytes_uniform(left);
	for (i = 0; i < BIRTHDAY_PORT_COUNT; i++) {
		if (i % 8 == 0 && p->used[i / 8] == 0xff) {
			i += 7;
			continue;
		}
		if (!(p->used[i / 8] & (1u << (i % 8))) && skip-- == 0)
			goto take;
	}
	return 0; /* not reached: `left` free bits exist */
take:
	p->used[i / 8] |= (uint8_t)(1u << (i % 8));
	p->n_used++;
	return (uint16_t)(BIRTHDAY_PORT_MIN + i);
}

size_t birthday_probes_due(uint64_t started_ms, uint64_t now_ms, size_t sent)
{
	uint64_t allowed;

	if (now_ms < started_ms)
		return 0;
	/* the tick at started_ms already carries one tick's worth */
	allowed = (now_ms - started_ms + BIRTHDAY_TICK_MS) * BIRTHDAY_RATE / 1000;
	if (allowed > BIRTHDAY_PROBES)
		allowed = BIRTHDAY_PROBES;
	return allowed > sent ? (size_t)(allowed - sent) : 0;
}

double birthday_probability(size_t n_sockets, size_t m_probes)
{
	return 100.0 * (1.0 - exp(-(double)n_sockets * (double)m_probes / BIRTHDAY_PORT_COUNT));
}

static uint64_t now(const struct peer *peer)
{
	return peer->tunnel->loop.now_ms;
}

/* An extra socket, as udp.c sends on it. */
static struct udp_socket as_udp(const struct peer *peer, int fd)
{
	return (struct udp_socket){ .fd = fd, .ipv6 = peer->tunnel->udp.ipv6 };
}

static void close_socket(struct peer *peer, struct birthday_socket *s)
{
	if (s->watch.fd < 0)
		return;
	loop_watch_remove(&peer->tunnel->loop, &s->watch);
	close(s->watch.fd);
	s->watch.fd = -1;
}

static void close_sockets(struct peer *peer)
{
	struct birthday *b = &peer->birthday;

	for (size_t i = 0; i < b->n_sockets; i++)
		close_socket(peer, &b->sockets[i]);
	b->n_sockets = 0;
}

static void end_attempt(struct peer *peer, bool hit)
{
	struct birthday *b = &peer->birthday;
	size_t n_sockets = b->n_sockets;
	char ep[RDV_ENDPOINT_STR];

	loop_timer_cancel(&peer->tunnel->loop, &b->timer);
	close_sockets(peer);
	if (hit) {
		b->hits++;
		/* Not again while the path it found comes up (a re-introduction
		 * starts a burst at once); again if that fails. */
		b->backoff_ms = 0;
		b->next_attempt_ms = now(peer) + BIRTHDAY_BACKOFF_MS;
		snprintf(b->outcome, sizeof(b->outcome),
			 "birthday probing (%s side): a hit after %zu probes in %llu ms",
			 role_names[b->role], b->probes_sent,
			 (unsigned long long)(now(peer) - b->started_ms));
		log_info("%s: birthday probing found a direct path to %s after %zu probes in %llu ms",
			 peer->tunnel->cfg.name, rdv_endpoint_str(&b->won_ep, ep, sizeof(ep)),
			 b->probes_sent, (unsigned long long)(now(peer) - b->started_ms));
	} else {
		b->backoff_ms = b->backoff_ms ? MIN(b->backoff_ms * 2, (uint64_t)BIRTHDAY_BACKOFF_MAX_MS)
					      : BIRTHDAY_BACKOFF_MS;
		b->next_attempt_ms = now(peer) + b->backoff_ms;
		if (b->role == BIRTHDAY_EASY)
			snprintf(b->outcome, sizeof(b->outcome),
				 "birthday probing: no hit after %zu probes", b->probes_sent);
		else
			snprintf(b->outcome, sizeof(b->outcome),
				 "birthday probing: no hit on %zu sockets", n_sockets);
		log_info("%s: birthday probing (%s side) found nothing after %zu probes; "
			 "next attempt in %llu s", peer->tunnel->cfg.name, role_names[b->role],
			 b->probes_sent, (unsigned long long)(b->backoff_ms / 1000));
	}
	b->role = BIRTHDAY_NONE;
}

/* Sends extra socket i's own request to the target, with a fresh token. */
static void socket_request(struct peer *peer, struct birthday_socket *s)
{
	struct birthday *b = &peer->birthday;
	struct udp_socket u = as_udp(peer, s->watch.fd);
	uint8_t msg[PROBE_LEN];

	s->token = probe_new_token();
	s->sent_ms = now(peer);
	if (punch_request_build(peer, s->token, PROBE_LEN, msg, sizeof(msg)) == 0 &&
	    udp_send(&u, &b->target, msg, sizeof(msg)) == 0) {
		b->probes_sent++;
		b->probes_total++;
		peer->punch.probes_sent++;
	}
}

/* The first authentic response to one of our extra sockets' requests: that
 * socket's mapping works both ways, and becomes the link's socket. */
static void hard_won(struct peer *peer, struct birthday_socket *s)
{
	struct birthday *b = &peer->birthday;
	struct tunnel *t = peer->tunnel;
	int fd = s->watch.fd;
	uint64_t sent_ms = s->sent_ms;
	int r;

	loop_watch_remove(&t->loop, &s->watch);
	s->watch.fd = -1;
	r = tunnel_replace_socket(t, fd);
	if (r) {
		log_error("%s: birthday probing: cannot move the link to its socket: %s",
			  t->cfg.name, strerror(-r));
		close(fd);
		end_attempt(peer, false);
		return;
	}
	b->won = true;
	b->won_ep = b->target;
	end_attempt(peer, true);
	/* The servers learn the new mapping (and relay through it). */
	meet_refresh(t);
	punch_birthday_answered(peer, &b->won_ep, sent_ms);
}

static void socket_ready(struct loop_watch *w, uint32_t events)
{
	struct birthday_socket *s = container_of(w, struct birthday_socket, watch);
	struct birthday *b = container_of(s - s->index, struct birthday, sockets);
	struct peer *peer = container_of(b, struct peer, birthday);
	uint8_t buf[512];

	(void)events;
	for (int n = 0; n < 16 && w->fd >= 0; n++) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		struct udp_datagram d = { .data = buf };
		struct probe pr;
		uint64_t generation = 0;
		ssize_t len = recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
				       (struct sockaddr *)&ss, &sslen);

		if (len < 0)
			return;
		if ((size_t)len > sizeof(buf) ||
		    rdv_endpoint_from_sockaddr(&d.from, (struct sockaddr *)&ss) != 0 ||
		    demux_classify(buf, (size_t)len) != DEMUX_PROBE) {
			tunnel_drop(peer->tunnel, DROP_UNAUTHENTICATED,
				    "not a probe on a birthday probing socket");
			continue;
		}
		d.len = (size_t)len;
		if (punch_authenticate(peer, &d, &pr, &generation) != 0)
			continue;
		if (pr.kind == PROBE_REQUEST) {
			struct udp_socket u = as_udp(peer, w->fd);
			uint8_t msg[PROBE_LEN];

			/* Answered from this socket, budgeted as on the link's;
			 * then our own request through the mapping it proved. */
			if (punch_response_build(peer, &d, &pr, generation, msg) != 0)
				continue;
			if (udp_send(&u, &d.from, msg, sizeof(msg)) == 0)
				socket_request(peer, s);
			continue;
		}
		if (s->token && pr.token == s->token &&
		    rdv_endpoint_equal(&d.from, &b->target)) {
			hard_won(peer, s);
			return;
		}
		tunnel_drop(peer->tunnel, DROP_REPLAYED, "probe response to no request of ours");
	}
}

void birthday_init(struct peer *peer)
{
	struct birthday *b = &peer->birthday;

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < BIRTHDAY_SOCKETS; i++) {
		b->sockets[i].watch.fd = -1;
		b->sockets[i].watch.ready = socket_ready;
		b->sockets[i].index = i;
	}
	b->timer.expired = NULL; /* set by birthday_maybe_start */
}

static void tick(struct loop_timer *timer, uint64_t now_ms)
{
	struct peer *peer = container_of(timer, struct peer, birthday.timer);
	struct birthday *b = &peer->birthday;
	size_t due;

	if (peer->path == PATH_DIRECT) {
		/* Plain punching (or the peer) found a path meanwhile. */
		log_info("%s: birthday probing stopped: a direct path works", peer->tunnel->cfg.name);
		birthday_stop(peer);
		return;
	}
	if (now_ms >= b->ends_ms) {
		end_attempt(peer, false);
		return;
	}
	if (b->role == BIRTHDAY_EASY) {
		struct rdv_endpoint to = b->target;
		uint8_t msg[PROBE_LEN];

		due = birthday_probes_due(b->started_ms + BIRTHDAY_EASY_DELAY_MS, now_ms,
					  b->probes_sent);
		for (size_t i = 0; i < due; i++) {
			to.port = birthday_ports_pick(&b->ports);
			if (to.port == 0 ||
			    punch_request_build(peer, b->token, PROBE_LEN, msg, sizeof(msg)) != 0)
				break;
			/* Counted when handed over or not: the budget is of attempts. */
			b->probes_sent++;
			b->probes_total++;
			if (udp_send(&peer->tunnel->udp, &to, msg, sizeof(msg)) == 0)
				peer->punch.probes_sent++;
		}
		if (b->probes_sent >= BIRTHDAY_PROBES) {
			/* all sent: wait for late answers until the attempt ends */
			loop_timer_arm(&peer->tunnel->loop, &b->timer, b->ends_ms);
			return;
		}
		loop_timer_arm(&peer->tunnel->loop, &b->timer, now_ms + BIRTHDAY_TICK_MS);
		return;
	}
	loop_timer_arm(&peer->tunnel->loop, &b->timer, b->ends_ms);
}

/* Opens the hard side's sockets and sends one request from each. */
static size_t open_sockets(struct peer *peer)
{
	struct birthday *b = &peer->birthday;
	int r = 0;

	for (b->n_sockets = 0; b->n_sockets < BIRTHDAY_SOCKETS; b->n_sockets++) {
		struct birthday_socket *s = &b->sockets[b->n_sockets];
		int fd;

		r = udp_open_extra(&peer->tunnel->udp, &fd);
		if (r)
			break;
		/* In a full tunnel, past the tunnel like the link's own socket
		 * (the winner becomes it). */
		r = udp_set_mark(fd, peer->tunnel->routing.fwmark);
		if (r) {
			close(fd);
			break;
		}
		s->watch.fd = fd;
		r = loop_watch_add(&peer->tunnel->loop, &s->watch, EPOLLIN);
		if (r) {
			close(fd);
			s->watch.fd = -1;
			break;
		}
		socket_request(peer, s);
	}
	if (r)
		log_warn("%s: birthday probing: only %zu sockets (%s)", peer->tunnel->cfg.name,
			 b->n_sockets, strerror(-r));
	return b->n_sockets;
}

void birthday_maybe_start(struct peer *peer)
{
	struct birthday *b = &peer->birthday;
	struct tunnel *t = peer->tunnel;
	enum meet_nat_mapping ours;
	char ep[RDV_ENDPOINT_STR];

	if (t->cfg.punch != CONFIG_PUNCH_BIRTHDAY || b->role != BIRTHDAY_NONE ||
	    !t->meet.has_relay || !peer->punch.has_peer_reflexive || now(peer) < b->next_attempt_ms)
		return;
	ours = meet_nat_mapping(t);
	if (ours == MEET_NAT_UNKNOWN)
		return;
	b->timer.expired = tick;
	b->role = ours == MEET_NAT_ENDPOINT_DEPENDENT ? BIRTHDAY_HARD : BIRTHDAY_EASY;
	b->target = peer->punch.peer_reflexive;
	b->started_ms = now(peer);
	b->ends_ms = b->started_ms + BIRTHDAY_ATTEMPT_MS;
	b->probes_sent = 0;
	b->attempts++;
	b->outcome[0] = '\0';
	if (b->role == BIRTHDAY_HARD) {
		log_info("%s: birthday probing (hard side): %d sockets towards %s", t->cfg.name,
			 BIRTHDAY_SOCKETS, rdv_endpoint_str(&b->target, ep, sizeof(ep)));
		if (open_sockets(peer) == 0) {
			end_attempt(peer, false);
			return;
		}
	} else {
		b->token = probe_new_token();
		birthday_ports_reset(&b->ports);
		log_info("%s: birthday probing (easy side): up to %d probes at %d/s to random ports "
			 "of %s", t->cfg.name, BIRTHDAY_PROBES, BIRTHDAY_RATE,
			 rdv_endpoint_str(&b->target, ep, sizeof(ep)));
	}
	loop_timer_arm(&t->loop, &b->timer,
		       b->role == BIRTHDAY_EASY ? b->started_ms + BIRTHDAY_EASY_DELAY_MS : b->ends_ms);
}

void birthday_stop(struct peer *peer)
{
	struct birthday *b = &peer->birthday;

	if (b->timer.expired)
		loop_timer_cancel(&peer->tunnel->loop, &b->timer);
	close_sockets(peer);
	b->role = BIRTHDAY_NONE;
}

bool birthday_response(struct peer *peer, const struct rdv_endpoint *from, uint64_t token)
{
	struct birthday *b = &peer->birthday;
	size_t alen = from->family == AF_INET ? 4 : 16;

	if (b->role != BIRTHDAY_EASY || token != b->token || from->family != b->target.family ||
	    memcmp(from->addr, b->target.addr, alen) != 0)
		return false;
	b->won = true;
	b->won_ep = *from;
	end_attempt(peer, true);
	/* Our requests all left at most BIRTHDAY_ATTEMPT_MS ago; the round
	 * trip is unknown, so the hit counts as answered now. */
	punch_birthday_answered(peer, from, now(peer));
	return true;
}
