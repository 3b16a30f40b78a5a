/* The server logic and the client state machine together, in memory: no
 * sockets, a fake clock, datagrams handed over by hand. Covers the cookie
 * exchange, mutual intent, no leaks to strangers, endpoint changes, relay
 * and its limits, replay, the wrong server key, leases, --max-peers, STUN
 * limits and the client's timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "crypto/keys.h"
#include "rendezvous/allowed.h"
#include "rendezvous/client.h"
#include "rendezvous/demux.h"
#include "rendezvous/server.h"
#include "rendezvous/stun.h"

struct peer {
	struct rdv_client c;
	struct sockaddr_in addr; /* where the "NAT" maps it */
	struct sockaddr_in6 addr6; /* used instead when v6 */
	bool v6;
	uint8_t pk[RDV_KEY_LEN];
	/* events received, latest of each kind */
	int n_registered, n_introduced, n_relay, n_error, n_challenge, n_channel;
	struct rdv_msg last_intro, last_relay, last_error, last_registered, last_channel;
	uint8_t intro_from[4][RDV_KEY_LEN];
};

struct world {
	struct rdv_server *srv;
	struct rdv_server_config cfg;
	uint8_t server_pk[RDV_KEY_LEN];
	uint64_t now;
	struct rdv_outbox out;
	struct rdv_datagram slots[64];
	struct peer *peers[128];
	size_t n_peers;
};

static void addr_of(struct sockaddr_in *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
}

static void world_init_source(struct world *w, size_t max_peers, uint32_t relay_rate,
			      size_t max_per_source)
{
	struct rdv_server_config cfg;

	memset(w, 0, sizeof(*w));
	assert_true(sodium_init() >= 0);
	rdv_server_config_defaults(&cfg);
	randombytes_buf(cfg.private_key, sizeof(cfg.private_key));
	cfg.max_peers = max_peers;
	if (max_per_source)
		cfg.max_per_source = max_per_source;
	w->cfg = cfg;
	cfg.relay_rate = relay_rate;
	w->srv = rdv_server_new(&cfg);
	assert_non_null(w->srv);
	memcpy(w->server_pk, rdv_server_public_key(w->srv), RDV_KEY_LEN);
	w->now = 5000;
	w->out = (struct rdv_outbox){ .d = w->slots, .cap = ARRAY_SIZE(w->slots) };
}

static void world_init(struct world *w, size_t max_peers, uint32_t relay_rate)
{
	world_init_source(w, max_peers, relay_rate, 0);
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < w->n_peers; i++) {
		rdv_client_wipe(&w->peers[i]->c);
		free(w->peers[i]);
	}
	rdv_server_free(w->srv);
}

static struct peer *peer_new(struct world *w, const char *ip, uint16_t port,
			     const uint8_t *server_pk)
{
	struct peer *p = calloc(1, sizeof(*p));
	uint8_t sk[RDV_KEY_LEN];

	assert_non_null(p);
	randombytes_buf(sk, sizeof(sk));
	assert_int_equal(rdv_client_init(&p->c, sk, server_pk ? server_pk : w->server_pk, w->now),
			 0);
	memcpy(p->pk, p->c.public_key, RDV_KEY_LEN);
	addr_of(&p->addr, ip, port);
	w->peers[w->n_peers++] = p;
	return p;
}

/* Delivers the server's outbox to the peers whose address matches. Returns
 * how many datagrams went out, CHALLENGEs not counted. */
static size_t deliver(struct world *w)
{
	size_t n = w->out.n;

	for (size_t i = 0; i < w->out.n; i++) {
		struct rdv_datagram *d = &w->out.d[i];

		for (size_t j = 0; j < w->n_peers; j++) {
			struct peer *p = w->peers[j];
			struct sockaddr_in *to = (struct sockaddr_in *)&d->to;
			struct rdv_event ev;

			if (p->v6) {
				struct sockaddr_in6 *to6 = (struct sockaddr_in6 *)&d->to;

				if (d->to.ss_family != AF_INET6 || to6->sin6_port != p->addr6.sin6_port ||
				    memcmp(&to6->sin6_addr, &p->addr6.sin6_addr, 16) != 0)
					continue;
			} else if (d->to.ss_family != AF_INET || to->sin_port != p->addr.sin_port ||
				   to->sin_addr.s_addr != p->addr.sin_addr.s_addr) {
				continue;
			}
			if (rdv_client_consume(&p->c, d->buf, d->len, w->now, &ev) != RDV_OK)
				continue;
			switch (ev.type) {
			case RDV_EVENT_REGISTERED:
				p->n_registered++;
				p->last_registered = ev.msg;
				break;
			case RDV_EVENT_INTRODUCED:
				memcpy(p->intro_from[p->n_introduced % 4], ev.msg.introduce.peer,
				       RDV_KEY_LEN);
				p->n_introduced++;
				p->last_intro = ev.msg;
				break;
			case RDV_EVENT_RELAY:
				p->n_relay++;
				p->last_relay = ev.msg;
				break;
			case RDV_EVENT_ERROR:
				p->n_error++;
				p->last_error = ev.msg;
				break;
			case RDV_EVENT_CHALLENGE:
				p->n_challenge++;
				n--;
				break;
			case RDV_EVENT_CHANNEL:
				p->n_channel++;
				p->last_channel = ev.msg;
				break;
			case RDV_EVENT_NONE:
				break;
			}
		}
	}
	w->out.n = 0;
	return n;
}

static void send_raw(struct world *w, struct peer *p, const uint8_t *buf, size_t len)
{
	if (p->v6)
		rdv_server_handle(w->srv, 3, (struct sockaddr *)&p->addr6, buf, len, w->now, &w->out);
	else
		rdv_server_handle(w->srv, 3, (struct sockaddr *)&p->addr, buf, len, w->now, &w->out);
}

/* Lets the client send what is due, hands it to the server, delivers
 * replies; again while the client has something due at once (the REGISTER
 * that answers a CHALLENGE). Returns the datagrams delivered, CHALLENGEs not
 * counted; *sent is the last datagram the client sent. */
static size_t step(struct world *w, struct peer *p, uint8_t *sent, size_t *sent_len)
{
	uint8_t buf[RDV_DATAGRAM_MAX];
	size_t len, n = 0;

	for (int round = 0; round < 3 && rdv_client_next_ms(&p->c) <= w->now; round++) {
		if (rdv_client_poll(&p->c, w->now, buf, sizeof(buf), &len) != 1)
			break;
		if (sent) {
			memcpy(sent, buf, len);
			*sent_len = len;
		}
		send_raw(w, p, buf, len);
		n += deliver(w);
	}
	return n;
}

static void want(struct world *w, struct peer *p, const struct peer *q)
{
	uint8_t keys[1][RDV_KEY_LEN];

	memcpy(keys[0], q->pk, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&p->c, (const uint8_t(*)[RDV_KEY_LEN])keys, 1, w->now),
			 0);
}

/* An INTRODUCE lost on the way (A was registered first, then B asked):
 * A asks again within seconds, not at its next refresh a third of a lease
 * away, and then backs off while nothing is missing. */
static void test_lost_introduction_is_asked_again_within_seconds(void **state)
{
	struct world w;
	struct peer *a, *b;
	in_port_t a_port;

	(void)state;
	world_init(&w, 100, 1 << 20);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	want(&w, a, b);
	assert_int_equal(step(&w, a, NULL, NULL), 1);
	assert_int_equal(a->n_introduced, 0);

	/* B asks for A; the INTRODUCE to A is lost (nobody at A's address). */
	a_port = a->addr.sin_port;
	a->addr.sin_port = htons(1);
	want(&w, b, a);
	step(&w, b, NULL, NULL);
	a->addr.sin_port = a_port;
	assert_int_equal(b->n_introduced, 1);
	assert_int_equal(a->n_introduced, 0);

	/* 2.2 s later (2 s and its jitter) A's REGISTER asks again. */
	w.now += 2200;
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(a->n_introduced, 1);
	assert_memory_equal(a->last_intro.introduce.peer, b->pk, RDV_KEY_LEN);
	/* Introduced: the next REGISTER is the refresh, a third of the lease. */
	w.now += 30000;
	assert_int_equal(step(&w, a, NULL, NULL), 0);
	world_free(&w);
}

static void test_mutual_introduction(void **state)
{
	struct world w;
	struct peer *a, *b, *c;
	struct rdv_endpoint lan;
	char s[RDV_ENDPOINT_STR];

	(void)state;
	world_init(&w, 100, 1 << 20);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	c = peer_new(&w, "192.0.2.3", 40003, NULL);
	assert_int_equal(rdv_endpoint_parse(&lan, "192.168.1.10:51820", false), 0);
	assert_int_equal(rdv_client_set_lan(&a->c, &lan, 1, w.now), 0);

	/* A asks for B, B has not asked yet: A is registered, nothing else. */
	want(&w, a, b);
	assert_int_equal(step(&w, a, NULL, NULL), 1);
	assert_int_equal(a->n_registered, 1);
	assert_int_equal(a->c.state, RDV_CLIENT_REGISTERED);
	assert_string_equal(rdv_endpoint_str(&a->c.reflexive, s, sizeof(s)), "198.51.100.1:40001");
	assert_int_equal(a->n_introduced, 0);

	/* C asks for A: A never asked for C, so C learns nothing. */
	want(&w, c, a);
	assert_int_equal(step(&w, c, NULL, NULL), 1);
	assert_int_equal(c->n_introduced, 0);
	assert_int_equal(a->n_introduced, 0);

	/* B asks for A: both are introduced, with reflexive and LAN candidates. */
	want(&w, b, a);
	assert_int_equal(step(&w, b, NULL, NULL), 3);
	assert_int_equal(b->n_introduced, 1);
	assert_memory_equal(b->last_intro.introduce.peer, a->pk, RDV_KEY_LEN);
	assert_string_equal(rdv_endpoint_str(&b->last_intro.introduce.reflexive, s, sizeof(s)),
			    "198.51.100.1:40001");
	assert_int_equal(b->last_intro.introduce.n_lan, 1);
	assert_true(rdv_endpoint_equal(&b->last_intro.introduce.lan[0], &lan));
	assert_int_equal(a->n_introduced, 1);
	assert_memory_equal(a->last_intro.introduce.peer, b->pk, RDV_KEY_LEN);
	assert_string_equal(rdv_endpoint_str(&a->last_intro.introduce.reflexive, s, sizeof(s)),
			    "203.0.113.2:40002");
	assert_int_equal(c->n_introduced, 0);

	/* A refreshes from the same place: nothing changed, so nobody is
	 * introduced again (no INTRODUCE is sent twice unasked), and the
	 * verified address needs no new cookie. */
	w.now += 45000;
	assert_int_equal(step(&w, a, NULL, NULL), 1);
	assert_int_equal(a->n_introduced, 1);
	assert_int_equal(b->n_introduced, 1);
	assert_int_equal(a->n_challenge, 1);

	/* A lost its introduction (the link asks again): told once more. */
	rdv_client_request_introductions(&a->c, w.now);
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(a->n_introduced, 2);
	assert_int_equal(b->n_introduced, 1);
	assert_int_equal(step(&w, a, NULL, NULL), 0); /* nothing due any more */

	/* A's NAT mapping changes: the new address must prove itself (a
	 * CHALLENGE, then the REGISTER with its cookie), then B hears about the
	 * new endpoint at once; A learns nothing new about B. */
	addr_of(&a->addr, "198.51.100.1", 40999);
	w.now += 45000;
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(a->n_challenge, 2);
	assert_int_equal(a->n_introduced, 2);
	assert_int_equal(b->n_introduced, 2);
	assert_string_equal(rdv_endpoint_str(&b->last_intro.introduce.reflexive, s, sizeof(s)),
			    "198.51.100.1:40999");
	assert_int_equal(rdv_server_stats(w.srv)->endpoint_changes, 1);
	assert_int_equal(c->n_introduced, 0);

	/* A's LAN candidates change (same reflexive): B hears about them too. */
	assert_int_equal(rdv_endpoint_parse(&lan, "192.168.7.7:51820", false), 0);
	assert_int_equal(rdv_client_set_lan(&a->c, &lan, 1, w.now), 0);
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(b->n_introduced, 3);
	assert_true(rdv_endpoint_equal(&b->last_intro.introduce.lan[0], &lan));
	assert_int_equal(rdv_server_stats(w.srv)->endpoint_changes, 2);
	assert_int_equal(c->n_introduced, 0);
	world_free(&w);
}

static void test_relay(void **state)
{
	struct world w;
	struct peer *a, *b, *c;
	uint8_t buf[RDV_DATAGRAM_MAX], data[RDV_RELAY_DATA_MAX];
	size_t len;

	(void)state;
	world_init(&w, 100, 100000);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	c = peer_new(&w, "192.0.2.3", 40003, NULL);

	/* Before registering: a CHALLENGE (smaller than the RELAY), which
	 * makes a REGISTER due at once. */
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, 1, w.now, buf, sizeof(buf),
						&len), 0);
	send_raw(&w, a, buf, len);
	assert_int_equal(w.out.n, 1);
	assert_true(w.out.d[0].len <= len);
	deliver(&w);
	assert_int_equal(a->n_challenge, 1);
	assert_int_equal(a->n_error, 0);
	assert_true(rdv_client_next_ms(&a->c) <= w.now);

	want(&w, a, b);
	step(&w, a, NULL, NULL);
	/* A wants B but B does not want A: not-introduced, nothing reaches B. */
	assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, 100, w.now, buf, sizeof(buf),
						&len), 0);
	send_raw(&w, a, buf, len);
	deliver(&w);
	assert_int_equal(a->n_error, 1);
	assert_int_equal(a->last_error.error.code, RDV_ERROR_NOT_INTRODUCED);
	assert_memory_equal(a->last_error.error.peer, b->pk, RDV_KEY_LEN);
	assert_int_equal(b->n_relay, 0);

	want(&w, b, a);
	step(&w, b, NULL, NULL);
	want(&w, c, a);
	step(&w, c, NULL, NULL);
	/* Mutual: data arrives byte for byte, tagged with its origin. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, sizeof(data), w.now, buf,
						sizeof(buf), &len), 0);
	send_raw(&w, a, buf, len);
	assert_int_equal(deliver(&w), 1);
	assert_int_equal(b->n_relay, 1);
	assert_memory_equal(b->last_relay.relay.peer, a->pk, RDV_KEY_LEN);
	assert_int_equal(b->last_relay.relay.len, sizeof(data));
	assert_memory_equal(b->last_relay.relay.data, data, sizeof(data));
	/* C wants A but A does not want C: C cannot relay to A. */
	assert_int_equal(rdv_client_build_relay(&c->c, a->pk, data, 10, w.now, buf, sizeof(buf),
						&len), 0);
	send_raw(&w, c, buf, len);
	deliver(&w);
	assert_int_equal(a->n_relay, 0);
	assert_int_equal(c->last_error.error.code, RDV_ERROR_NOT_INTRODUCED);

	/* Rate limit: 100 kB/s with a 64 KiB burst. 200 x 1600 B at one instant:
	 * only the burst passes; a second later, one more second's worth. */
	b->n_relay = 0;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, sizeof(data), w.now, buf,
							sizeof(buf), &len), 0);
		send_raw(&w, a, buf, len);
		deliver(&w);
	}
	assert_true(b->n_relay >= 65536 / 1600 - 1 && b->n_relay <= 65536 / 1600 + 1);
	assert_true(rdv_server_stats(w.srv)->relay_rate_limited > 0);
	w.now += 500;
	b->n_relay = 0;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, sizeof(data), w.now, buf,
							sizeof(buf), &len), 0);
		send_raw(&w, a, buf, len);
		deliver(&w);
	}
	assert_true(b->n_relay >= 50000 / 1600 - 1 && b->n_relay <= 50000 / 1600 + 1);
	world_free(&w);
}

/* A restarted server (same key, no state) has everyone registered again
 * within a round trip or two, relay included; a restarted client (same key,
 * new session) too, and its old session's messages are no use to anyone. */
static void test_restarts(void **state)
{
	struct world w;
	struct peer *a, *b;
	uint8_t buf[RDV_DATAGRAM_MAX], old_reg[RDV_DATAGRAM_MAX], sk[RDV_KEY_LEN];
	size_t len, old_len = 0;
	struct rdv_client old;
	const struct rdv_server_stats *st;

	(void)state;
	world_init(&w, 100, 1 << 20);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	want(&w, a, b);
	want(&w, b, a);
	step(&w, a, NULL, NULL);
	step(&w, b, NULL, NULL);
	assert_int_equal(a->n_introduced, 1);

	/* The server restarts: same key and address, nothing remembered. */
	rdv_server_free(w.srv);
	w.srv = rdv_server_new(&w.cfg);
	assert_non_null(w.srv);
	st = rdv_server_stats(w.srv);
	w.now += 1000;
	/* A's next RELAY earns a CHALLENGE, which makes a REGISTER due now;
	 * one more round trip and A is registered again. */
	assert_int_equal(rdv_client_build_relay(&a->c, b->pk, (const uint8_t *)"x", 1, w.now, buf,
						sizeof(buf), &len), 0);
	send_raw(&w, a, buf, len);
	deliver(&w);
	assert_int_equal(a->n_challenge, 2);
	assert_true(rdv_client_next_ms(&a->c) <= w.now);
	assert_int_equal(step(&w, a, NULL, NULL), 1);
	assert_int_equal(a->n_registered, 2);
	/* B's next refresh (due whenever) does the same in one step; they are
	 * introduced again and relay works. */
	b->c.next_ms = w.now;
	assert_int_equal(step(&w, b, NULL, NULL), 3);
	assert_int_equal(a->n_introduced, 2);
	assert_int_equal(b->n_introduced, 2);
	assert_int_equal(rdv_client_build_relay(&a->c, b->pk, (const uint8_t *)"y", 1, w.now, buf,
						sizeof(buf), &len), 0);
	send_raw(&w, a, buf, len);
	deliver(&w);
	assert_int_equal(b->n_relay, 1);
	assert_int_equal(st->peers, 2);

	/* A restarts: same key, new session, same address. Its old session's
	 * last REGISTER is kept to replay. */
	a->c.next_ms = w.now;
	old_len = 0;
	assert_int_equal(step(&w, a, old_reg, &old_len), 1);
	memcpy(sk, a->c.private_key, RDV_KEY_LEN);
	old = a->c;
	assert_int_equal(rdv_client_init(&a->c, sk, w.server_pk, w.now), 0);
	assert_int_not_equal(a->c.epoch, old.epoch);
	want(&w, a, b);
	w.now += 1000;
	/* CHALLENGE, then registered; A (new session) is told about B again. */
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(a->n_introduced, 3);
	assert_int_equal(st->new_sessions, 1);
	/* The old session's REGISTER replayed from elsewhere: a CHALLENGE to
	 * elsewhere (smaller than it), and A's registration does not move. */
	addr_of(&a->addr, "192.0.2.99", 999);
	send_raw(&w, a, old_reg, old_len);
	assert_int_equal(w.out.n, 1);
	assert_true(w.out.d[0].len < old_len);
	w.out.n = 0;
	addr_of(&a->addr, "198.51.100.1", 40001);
	a->c.next_ms = w.now;
	assert_int_equal(step(&w, a, NULL, NULL), 1); /* verified: no CHALLENGE */
	assert_int_equal(st->endpoint_changes, 0);
	/* The old client's messages mean nothing to the new one. */
	assert_int_equal(rdv_client_build_relay(&b->c, a->pk, (const uint8_t *)"z", 1, w.now, buf,
						sizeof(buf), &len), 0);
	send_raw(&w, b, buf, len);
	assert_int_equal(w.out.n, 1);
	{
		struct rdv_event ev;

		assert_int_not_equal(rdv_client_consume(&old, w.out.d[0].buf, w.out.d[0].len, w.now,
							&ev), RDV_OK);
	}
	deliver(&w);
	assert_int_equal(a->n_relay, 1);
	rdv_client_wipe(&old);
	world_free(&w);
}

/* Reordering inside WireGuard's window loses nothing, upstream (the
 * server's window of A) or downstream (B's window of the server): 1000
 * RELAYs sent in reverse order, forwarded, and delivered in reverse again. */
static void test_relay_reordered(void **state)
{
	enum { R = 1000 };
	struct world w;
	struct peer *a, *b;
	static uint8_t up[R][RDV_DATAGRAM_MAX];
	static struct rdv_datagram down[R];
	size_t up_len[R];
	uint8_t data[64];

	(void)state;
	world_init(&w, 100, 1 << 30);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	want(&w, a, b);
	want(&w, b, a);
	step(&w, a, NULL, NULL);
	step(&w, b, NULL, NULL);
	for (int i = 0; i < R; i++) {
		memset(data, i & 0xff, sizeof(data));
		assert_int_equal(rdv_client_build_relay(&a->c, b->pk, data, sizeof(data), w.now, up[i],
							sizeof(up[i]), &up_len[i]), 0);
	}
	for (int i = R - 1; i >= 0; i--) {
		send_raw(&w, a, up[i], up_len[i]);
		assert_int_equal(w.out.n, 1);
		down[i] = w.out.d[0];
		w.out.n = 0;
	}
	assert_int_equal(rdv_server_stats(w.srv)->rdv_rejected[RDV_E_REPLAY], 0);
	assert_int_equal(rdv_server_stats(w.srv)->relay_packets, R);
	/* down[i] was forwarded at position R - 1 - i: deliver from the end. */
	for (int i = 0; i < R; i++) {
		struct rdv_event ev;

		assert_int_equal(rdv_client_consume(&b->c, down[i].buf, down[i].len, w.now, &ev),
				 RDV_OK);
		assert_int_equal(ev.type, RDV_EVENT_RELAY);
		assert_int_equal(ev.msg.relay.data[0], i & 0xff);
	}
	/* and each only once */
	assert_int_not_equal(rdv_client_consume(&b->c, down[7].buf, down[7].len, w.now,
						&(struct rdv_event){ 0 }), RDV_OK);
	send_raw(&w, a, up[7], up_len[7]);
	assert_int_equal(w.out.n, 0);
	world_free(&w);
}

/* A want list naming one key 16 times is one want; two senders together
 * get no more than one budget through to one destination. */
static void test_dedup_and_dest_budget(void **state)
{
	struct world w;
	struct peer *a, *b, *c;
	uint8_t keys[RDV_WANT_MAX][RDV_KEY_LEN], buf[RDV_DATAGRAM_MAX], data[RDV_RELAY_DATA_MAX];
	size_t len;
	const struct rdv_server_stats *st;

	(void)state;
	world_init(&w, 100, 100000);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	c = peer_new(&w, "192.0.2.3", 40003, NULL);
	memcpy(keys[0], a->pk, RDV_KEY_LEN);
	memcpy(keys[1], c->pk, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&b->c, (const uint8_t(*)[RDV_KEY_LEN])keys, 2, w.now),
			 0);
	assert_int_equal(step(&w, b, NULL, NULL), 1);
	for (int i = 0; i < RDV_WANT_MAX; i++)
		memcpy(keys[i], b->pk, RDV_KEY_LEN);
	memcpy(keys[RDV_WANT_MAX - 1], a->pk, RDV_KEY_LEN); /* and itself */
	assert_int_equal(rdv_client_set_wants(&a->c, (const uint8_t(*)[RDV_KEY_LEN])keys,
					      RDV_WANT_MAX, w.now), 0);
	/* REGISTERED, A told about B once, B told about A once. */
	assert_int_equal(step(&w, a, NULL, NULL), 3);
	assert_int_equal(a->n_introduced, 1);
	assert_int_equal(b->n_introduced, 1);
	/* a refresh asking for everything again still tells A once */
	rdv_client_request_introductions(&a->c, w.now);
	assert_int_equal(step(&w, a, NULL, NULL), 2);
	assert_int_equal(a->n_introduced, 2);
	assert_int_equal(b->n_introduced, 1);
	want(&w, c, b);
	assert_int_equal(step(&w, c, NULL, NULL), 3);

	/* A and C each send 200 x 1600 B to B at one instant: each is within
	 * its own sender budget for 64 KiB, but B's destination budget lets
	 * only 64 KiB through in all. */
	memset(data, 0x77, sizeof(data));
	for (int i = 0; i < 200; i++) {
		struct peer *from = i % 2 ? c : a;

		assert_int_equal(rdv_client_build_relay(&from->c, b->pk, data, sizeof(data), w.now,
							buf, sizeof(buf), &len), 0);
		send_raw(&w, from, buf, len);
		deliver(&w);
	}
	if (b->n_relay > 65536 / 1600 + 1)
		fail_msg("B received %d relayed datagrams, one budget is %d", b->n_relay,
			 65536 / 1600);
	assert_true(b->n_relay >= 65536 / 1600 - 1);
	assert_true(st->relay_dest_limited > 0);
	world_free(&w);
}

static struct peer *peer_new6(struct world *w, const char *ip, uint16_t port)
{
	struct peer *p = peer_new(w, "192.0.2.255", 1, NULL);

	p->v6 = true;
	p->addr6.sin6_family = AF_INET6;
	p->addr6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &p->addr6.sin6_addr), 1);
	return p;
}

/* A flood of new keys from one address (or one IPv6 /64, any ports) gets
 * at most max_per_source registrations and pushes nobody out. */
static void test_source_cap(void **state)
{
	struct world w;
	struct peer *legit, *legit6, *other, *p;
	const struct rdv_server_stats *st;
	int got = 0;
	char ip[64];

	(void)state;
	world_init_source(&w, 100, 1 << 20, 4);
	st = rdv_server_stats(w.srv);
	legit = peer_new(&w, "203.0.113.50", 1000, NULL);
	legit6 = peer_new6(&w, "2001:db8:1:3::1", 1000);
	assert_int_equal(step(&w, legit, NULL, NULL), 1);
	assert_int_equal(step(&w, legit6, NULL, NULL), 1);
	/* 100 ms apart: the per-source X25519 budget (20/s) is not what stops
	 * them here. */
	for (int i = 0; i < 40; i++) {
		w.now += 100;
		p = peer_new(&w, "198.51.100.9", (uint16_t)(2000 + i), NULL);
		step(&w, p, NULL, NULL);
		got += p->n_registered;
		if (!p->n_registered)
			assert_int_equal(p->last_error.error.code, RDV_ERROR_SERVER_FULL);
	}
	assert_int_equal(got, 4);
	for (int i = 0; i < 40; i++) {
		w.now += 100;
		snprintf(ip, sizeof(ip), "2001:db8:1:2::%x", i + 1);
		p = peer_new6(&w, ip, (uint16_t)(3000 + i));
		step(&w, p, NULL, NULL);
		got += p->n_registered;
	}
	assert_int_equal(got, 8);
	assert_int_equal(st->refused_source_full, 72);
	assert_int_equal(st->peers, 10);
	/* The legitimate peers are still there and refresh as before. */
	w.now += 30000;
	legit->c.next_ms = legit6->c.next_ms = w.now;
	assert_int_equal(step(&w, legit, NULL, NULL), 1);
	assert_int_equal(step(&w, legit6, NULL, NULL), 1);
	assert_int_equal(legit->n_registered, 2);
	assert_int_equal(legit6->n_registered, 2);
	assert_int_equal(legit->n_challenge + legit6->n_challenge, 2);
	/* Another address is not held back by the flood. */
	other = peer_new(&w, "198.51.100.10", 2000, NULL);
	assert_int_equal(step(&w, other, NULL, NULL), 1);
	assert_int_equal(other->n_registered, 1);
	assert_int_equal(st->peers, 11);
	world_free(&w);
}

/* --allowed-keys: an unknown key gets nothing back and costs no X25519; a
 * listed one registers; a reload drops a registration no longer listed. */
static void test_allowed_keys(void **state)
{
	struct world w;
	struct peer *a, *b, *stranger;
	struct rdv_allowed al;
	const struct rdv_server_stats *st;
	char path[] = "/tmp/test_rdv_allowed.XXXXXX", b64[KEY_BASE64_SIZE];
	size_t bad_line = 0;
	FILE *f;
	int fd;

	(void)state;
	world_init(&w, 100, 1 << 20);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "198.51.100.2", 40002, NULL);
	stranger = peer_new(&w, "198.51.100.3", 40003, NULL);
	assert_int_equal(step(&w, b, NULL, NULL), 1); /* before any list */

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	keys_to_base64(b64, a->pk);
	fprintf(f, "# the laptop\n\n  %s   # a comment after the key\n", b64);
	keys_to_base64(b64, a->pk);
	fprintf(f, "%s\n", b64); /* twice is once */
	fclose(f);
	assert_int_equal(rdv_allowed_load(path, &al, &bad_line), 0);
	assert_int_equal(al.n, 1);
	rdv_server_set_allowed(w.srv, &al);
	assert_null(al.keys);
	assert_int_equal(st->revoked, 1); /* b was registered, is not listed */
	assert_int_equal(st->peers, 0);

	assert_int_equal(step(&w, a, NULL, NULL), 1);
	assert_int_equal(a->n_registered, 1);
	for (int i = 0; i < 5; i++) {
		stranger->c.next_ms = w.now;
		assert_int_equal(step(&w, stranger, NULL, NULL), 0);
		assert_int_equal(w.out.n, 0);
	}
	b->c.next_ms = w.now;
	assert_int_equal(step(&w, b, NULL, NULL), 0);
	assert_int_equal(stranger->n_challenge + stranger->n_error + stranger->n_registered, 0);
	assert_int_equal(st->refused_key, 6);
	assert_int_equal(st->rdv_rejected[RDV_E_BAD_MAC], 0);

	/* A bad line is named, and nothing is half-loaded. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n# ok\nnot-a-key\n", b64);
	fclose(f);
	assert_int_equal(rdv_allowed_load(path, &al, &bad_line), -EINVAL);
	assert_int_equal(bad_line, 3);
	/* An empty list allows nobody; NULL allows everyone again. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(rdv_allowed_load(path, &al, &bad_line), 0);
	rdv_server_set_allowed(w.srv, &al);
	assert_int_equal(st->peers, 0);
	rdv_server_set_allowed(w.srv, NULL);
	b->c.next_ms = w.now;
	assert_int_equal(step(&w, b, NULL, NULL), 1);
	unlink(path);
	world_free(&w);
}

static void test_replay_stale_wrong_key(void **state)
{
	struct world w;
	struct peer *a, *skewed, *wrong;
	uint8_t sent[RDV_DATAGRAM_MAX], other_pk[RDV_KEY_LEN];
	size_t len = 0; /* set by step(); 0 keeps -O2 from guessing */
	const struct rdv_server_stats *st;

	(void)state;
	world_init(&w, 100, 1 << 20);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	assert_int_equal(step(&w, a, sent, &len), 1);
	/* The same datagram again, from the same place or another: dropped, silent. */
	send_raw(&w, a, sent, len);
	assert_int_equal(w.out.n, 0);
	addr_of(&a->addr, "192.0.2.66", 666);
	send_raw(&w, a, sent, len);
	assert_int_equal(w.out.n, 0);
	assert_int_equal(st->rdv_rejected[RDV_E_REPLAY], 2);
	assert_int_equal(st->peers, 1);

	/* A client on a clock five hours ahead of the server's registers all
	 * the same: no message carries a time. */
	skewed = peer_new(&w, "198.51.100.2", 40002, NULL);
	w.now += 5 * 3600 * 1000ull;
	skewed->c.next_ms = w.now;
	assert_int_equal(step(&w, skewed, NULL, NULL), 1);
	assert_int_equal(skewed->n_registered, 1);
	w.now -= 5 * 3600 * 1000ull;

	/* A client that pinned the wrong server key: bad MAC, no reply. */
	randombytes_buf(other_pk, sizeof(other_pk));
	crypto_scalarmult_base(other_pk, other_pk);
	wrong = peer_new(&w, "198.51.100.3", 40003, other_pk);
	assert_int_equal(step(&w, wrong, NULL, NULL), 0);
	assert_int_equal(wrong->n_registered, 0);
	assert_int_equal(st->rdv_rejected[RDV_E_BAD_MAC], 1);
	assert_int_equal(st->peers, 2);
	assert_int_equal(st->tx_packets, 4); /* two CHALLENGEs, two REGISTEREDs */
	world_free(&w);
}

static void test_lease_and_capacity(void **state)
{
	struct world w;
	struct peer *a, *b, *c;
	const struct rdv_server_stats *st;

	(void)state;
	world_init(&w, 2, 1 << 20);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "198.51.100.2", 40002, NULL);
	c = peer_new(&w, "198.51.100.3", 40003, NULL);
	step(&w, a, NULL, NULL);
	step(&w, b, NULL, NULL);
	assert_int_equal(st->peers, 2);
	/* Full: C gets server-full and is not registered. */
	assert_int_equal(step(&w, c, NULL, NULL), 1);
	assert_int_equal(c->n_error, 1);
	assert_int_equal(c->last_error.error.code, RDV_ERROR_SERVER_FULL);
	assert_int_equal(c->c.state, RDV_CLIENT_REGISTERING);
	assert_int_equal(st->refused_full, 1);

	/* A refreshes within its lease, B does not: B expires, C gets in. */
	w.now += 100 * 1000;
	a->c.next_ms = w.now;
	step(&w, a, NULL, NULL);
	w.now += 30 * 1000;
	rdv_server_expire(w.srv, w.now);
	assert_int_equal(st->peers, 1);
	assert_int_equal(st->expired, 1);
	c->c.next_ms = w.now;
	step(&w, c, NULL, NULL);
	assert_int_equal(c->c.state, RDV_CLIENT_REGISTERED);
	assert_int_equal(st->peers, 2);
	world_free(&w);
}

/* Client timers: due at once, backoff while unanswered, refresh at lease/3,
 * back to REGISTERING after a lease without answers. */
static void test_client_timers(void **state)
{
	struct world w;
	struct peer *a;
	uint8_t buf[RDV_DATAGRAM_MAX];
	size_t len;
	uint64_t t0;

	(void)state;
	world_init(&w, 10, 1 << 20);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	t0 = w.now;
	assert_true(rdv_client_next_ms(&a->c) == t0);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 0);
	assert_true(rdv_client_next_ms(&a->c) >= t0 + 1000 && rdv_client_next_ms(&a->c) <= t0 + 1100);
	w.now = rdv_client_next_ms(&a->c);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_true(rdv_client_next_ms(&a->c) >= w.now + 2000 &&
		    rdv_client_next_ms(&a->c) <= w.now + 2200);
	/* this one reaches the server, which challenges it; the answer with
	 * the cookie is due at once and registers */
	send_raw(&w, a, buf, len);
	deliver(&w);
	assert_int_equal(a->n_challenge, 1);
	assert_int_equal(a->c.state, RDV_CLIENT_REGISTERING);
	assert_true(rdv_client_next_ms(&a->c) == w.now);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	send_raw(&w, a, buf, len);
	deliver(&w);
	assert_int_equal(a->c.state, RDV_CLIENT_REGISTERED);
	assert_true(rdv_client_next_ms(&a->c) >= w.now + 40000 &&
		    rdv_client_next_ms(&a->c) <= w.now + 44000);
	/* a link with a 25 s keepalive refreshes as often, jitter included */
	rdv_client_set_refresh_max(&a->c, 25000);
	w.now = rdv_client_next_ms(&a->c);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_true(rdv_client_next_ms(&a->c) >= w.now + 25000 &&
		    rdv_client_next_ms(&a->c) <= w.now + 27500);
	/* that refresh went unanswered: the next one retries after 1 s, then 2 s */
	w.now = rdv_client_next_ms(&a->c);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_true(rdv_client_next_ms(&a->c) >= w.now + 1000 &&
		    rdv_client_next_ms(&a->c) <= w.now + 1100);
	w.now = rdv_client_next_ms(&a->c);
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_true(rdv_client_next_ms(&a->c) >= w.now + 2000 &&
		    rdv_client_next_ms(&a->c) <= w.now + 2200);
	assert_int_equal(a->c.state, RDV_CLIENT_REGISTERED);
	/* server gone for a whole lease: back to registering */
	w.now += 121000;
	assert_int_equal(rdv_client_poll(&a->c, w.now, buf, sizeof(buf), &len), 1);
	assert_int_equal(a->c.state, RDV_CLIENT_REGISTERING);
	/* a datagram from a server that is not ours is rejected */
	buf[70] ^= 1;
	{
		struct rdv_event ev;

		assert_int_not_equal(rdv_client_consume(&a->c, buf, len, w.now, &ev), RDV_OK);
	}
	world_free(&w);
}

/* STUN: answered with the source address, rate-limited per source; garbage
 * and unauthenticated datagrams get nothing. */
static void test_stun_and_garbage(void **state)
{
	struct world w;
	struct peer *a;
	uint8_t req[STUN_HEADER_LEN], txid[STUN_TXID_LEN], junk[512];
	const struct rdv_server_stats *st;
	struct stun_msg m;
	int replies = 0;

	(void)state;
	world_init(&w, 10, 1 << 20);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	randombytes_buf(txid, sizeof(txid));
	assert_int_equal(stun_build_binding_request(txid, req, sizeof(req)), STUN_HEADER_LEN);
	for (int i = 0; i < 1000; i++) {
		send_raw(&w, a, req, sizeof(req));
		if (w.out.n) {
			struct sockaddr_in *sin;

			assert_int_equal(stun_parse(w.out.d[0].buf, w.out.d[0].len, &m), STUN_OK);
			sin = (struct sockaddr_in *)&m.mapped;
			assert_int_equal(sin->sin_port, a->addr.sin_port);
			assert_int_equal(sin->sin_addr.s_addr, a->addr.sin_addr.s_addr);
			replies++;
		}
		w.out.n = 0;
	}
	assert_int_equal(replies, RDV_SERVER_STUN_BURST);
	assert_int_equal(st->stun_rate_limited, 1000 - RDV_SERVER_STUN_BURST);
	/* Another port of the same address shares the bucket... */
	a->addr.sin_port = htons(40777);
	send_raw(&w, a, req, sizeof(req));
	assert_int_equal(w.out.n, 0);
	/* ...another address does not. */
	addr_of(&a->addr, "198.51.100.2", 40001);
	send_raw(&w, a, req, sizeof(req));
	assert_int_equal(w.out.n, 1);
	w.out.n = 0;
	addr_of(&a->addr, "198.51.100.1", 40001);
	w.now += 1000;
	send_raw(&w, a, req, sizeof(req));
	assert_int_equal(w.out.n, 1);
	w.out.n = 0;

	for (int i = 0; i < 5000; i++) {
		size_t n = 1 + randombytes_uniform(sizeof(junk));

		randombytes_buf(junk, n);
		if (i % 3 == 0) {
			/* a plausible header: costs an X25519 */
			uint64_t us = randombytes_random();

			n = RDV_OVERHEAD + randombytes_uniform(200);
			junk[0] = DEMUX_TYPE_RENDEZVOUS, junk[1] = 1, junk[2] = 0, junk[3] = 0;
			for (int b = 0; b < 8; b++)
				junk[36 + b] = (uint8_t)(us >> (56 - 8 * b));
		}
		send_raw(&w, a, junk, n);
		assert_int_equal(w.out.n, 0);
	}
	assert_true(st->crypto_rate_limited > 0);
	assert_int_equal(st->rdv_rejected[RDV_E_BAD_MAC], RDV_SERVER_CRYPTO_BURST);
	world_free(&w);
}

/* Sends a CHANNEL_OPEN from p for q (holding nothing) from p's address;
 * returns its length. */
static size_t channel_open(struct world *w, struct peer *p, const struct peer *q)
{
	static const uint8_t none[RDV_CHANNEL_ID_LEN];
	uint8_t buf[RDV_DATAGRAM_MAX];
	size_t len;

	assert_int_equal(rdv_client_build_channel_open(&p->c, q->pk, none, buf, sizeof(buf), &len),
			 0);
	send_raw(w, p, buf, len);
	return len;
}

/* A channel datagram with id `chan` around a WireGuard message of `len`
 * bytes (type 4: transport data, 32 or more). */
static size_t channel_datagram(uint8_t *out, const uint8_t chan[RDV_CHANNEL_ID_LEN], size_t len,
			       uint8_t fill)
{
	out[0] = DEMUX_TYPE_CHANNEL;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, chan, RDV_CHANNEL_ID_LEN);
	memset(out + RDV_CHANNEL_HEADER_LEN, fill, len);
	memcpy(out + RDV_CHANNEL_HEADER_LEN, "\x04\x00\x00\x00", 4);
	return RDV_CHANNEL_HEADER_LEN + len;
}

static void send_from(struct world *w, const char *ip, uint16_t port, const uint8_t *buf,
		      size_t len)
{
	struct sockaddr_in sa;

	addr_of(&sa, ip, port);
	rdv_server_handle(w->srv, 3, (struct sockaddr *)&sa, buf, len, w->now, &w->out);
}

/* The one datagram in the outbox went to p, unchanged. */
static void assert_forwarded(struct world *w, const struct peer *p, const uint8_t *dg, size_t len)
{
	const struct sockaddr_in *to = (const struct sockaddr_in *)&w->out.d[0].to;

	assert_int_equal(w->out.n, 1);
	assert_int_equal(to->sin_port, p->addr.sin_port);
	assert_int_equal(to->sin_addr.s_addr, p->addr.sin_addr.s_addr);
	assert_int_equal(w->out.d[0].len, len);
	assert_memory_equal(w->out.d[0].buf, dg, len);
	w->out.n = 0;
}

/* Relay channels (PROTOCOL.md 3.7): opened under RELAY's rules only,
 * forwarded both ways unchanged and only from the ends' verified
 * addresses, within the relay budgets, never answered when refused, and
 * dead with either registration. */
static void test_channels(void **state)
{
	struct world w;
	struct peer *a, *b, *c;
	uint8_t dg[RDV_DATAGRAM_MAX], id[RDV_CHANNEL_ID_LEN], sk[RDV_KEY_LEN];
	const struct rdv_server_stats *st;
	size_t len, req;
	int passed;

	(void)state;
	world_init(&w, 100, 100000);
	st = rdv_server_stats(w.srv);
	a = peer_new(&w, "198.51.100.1", 40001, NULL);
	b = peer_new(&w, "203.0.113.2", 40002, NULL);
	c = peer_new(&w, "192.0.2.3", 40003, NULL);

	/* Unregistered: a CHALLENGE, smaller than the request; no channel. */
	req = channel_open(&w, a, b);
	assert_int_equal(w.out.n, 1);
	assert_true(w.out.d[0].len < req);
	deliver(&w);
	assert_int_equal(a->n_challenge, 1);
	assert_int_equal(st->channels, 0);

	/* A wants B, B does not want A: not-introduced, nothing for B. */
	want(&w, a, b);
	step(&w, a, NULL, NULL);
	channel_open(&w, a, b);
	deliver(&w);
	assert_int_equal(a->n_error, 1);
	assert_int_equal(a->last_error.error.code, RDV_ERROR_NOT_INTRODUCED);
	assert_int_equal(a->n_channel + b->n_channel, 0);
	assert_int_equal(st->channels, 0);

	/* Mutual intent, but from an address A did not verify: a CHALLENGE
	 * to that address only. */
	want(&w, b, a);
	step(&w, b, NULL, NULL);
	want(&w, c, a);
	step(&w, c, NULL, NULL);
	{
		static const uint8_t none[RDV_CHANNEL_ID_LEN];

		assert_int_equal(rdv_client_build_channel_open(&a->c, b->pk, none, dg, sizeof(dg),
							       &len), 0);
		send_from(&w, "198.51.100.1", 40999, dg, len);
		assert_int_equal(w.out.n, 1);
		assert_true(w.out.d[0].len < len);
		assert_int_equal(((struct sockaddr_in *)&w.out.d[0].to)->sin_port, htons(40999));
		w.out.n = 0;
		assert_int_equal(st->channels, 0);
	}

	/* From the verified address, but B has never asked for a channel (an
	 * old client would not understand one): nobody is told an id yet. */
	channel_open(&w, a, b);
	assert_int_equal(w.out.n, 0);
	assert_int_equal(a->n_channel + b->n_channel, 0);
	/* B asks too: both ends get the same id, each named with the other's
	 * key; no answer is larger than the request. */
	req = channel_open(&w, b, a);
	assert_int_equal(w.out.n, 2);
	for (size_t i = 0; i < w.out.n; i++)
		assert_true(w.out.d[i].len <= req);
	assert_int_equal(deliver(&w), 2);
	assert_int_equal(a->n_channel, 1);
	assert_int_equal(b->n_channel, 1);
	assert_memory_equal(a->last_channel.channel.peer, b->pk, RDV_KEY_LEN);
	assert_memory_equal(b->last_channel.channel.peer, a->pk, RDV_KEY_LEN);
	assert_memory_equal(a->last_channel.channel.chan, b->last_channel.channel.chan,
			    RDV_CHANNEL_ID_LEN);
	memcpy(id, a->last_channel.channel.chan, sizeof(id));
	assert_int_equal(st->channels, 1);
	/* A asks again (its refresh): the pair's one channel, told to A only. */
	channel_open(&w, a, b);
	assert_int_equal(deliver(&w), 1);
	assert_int_equal(a->n_channel, 2);
	assert_memory_equal(a->last_channel.channel.chan, id, RDV_CHANNEL_ID_LEN);
	assert_int_equal(st->channels, 1);
	/* C wants A but A does not want C: no channel. */
	channel_open(&w, c, a);
	deliver(&w);
	assert_int_equal(c->n_channel, 0);
	assert_int_equal(st->channels, 1);

	/* Forwarded unchanged, both ways, and counted as relayed. */
	len = channel_datagram(dg, id, 1452, 0x11);
	send_raw(&w, a, dg, len);
	assert_forwarded(&w, b, dg, len);
	len = channel_datagram(dg, id, 32, 0x22);
	send_raw(&w, b, dg, len);
	assert_forwarded(&w, a, dg, len);
	assert_int_equal(st->channel_packets, 2);
	assert_int_equal(st->channel_bytes, 1452 + 32);
	assert_int_equal(st->relay_packets, 2);
	assert_int_equal(st->relay_bytes, 1452 + 32);

	/* Refused, silently: an unknown id, a spoofed source (another port of
	 * A's address, or a third peer), a malformed inner message. */
	id[0] ^= 1;
	len = channel_datagram(dg, id, 64, 0x33);
	send_raw(&w, a, dg, len);
	assert_int_equal(w.out.n, 0);
	assert_int_equal(st->channel_dropped_unknown, 1);
	id[0] ^= 1;
	len = channel_datagram(dg, id, 64, 0x33);
	send_from(&w, "198.51.100.1", 40999, dg, len);
	send_raw(&w, c, dg, len);
	assert_int_equal(w.out.n, 0);
	assert_int_equal(st->channel_dropped_source, 2);
	len = channel_datagram(dg, id, 64, 0x33);
	dg[RDV_CHANNEL_HEADER_LEN] = 5; /* no WireGuard type */
	send_raw(&w, a, dg, len);
	len = channel_datagram(dg, id, 31, 0x33); /* below WireGuard's minimum */
	send_raw(&w, a, dg, len);
	len = channel_datagram(dg, id, RDV_RELAY_DATA_MAX + 1, 0x33);
	send_raw(&w, a, dg, len);
	len = channel_datagram(dg, id, 64, 0x33);
	dg[2] = 1; /* reserved byte */
	send_raw(&w, a, dg, len);
	assert_int_equal(w.out.n, 0);
	assert_int_equal(st->channel_dropped_malformed, 4);
	assert_int_equal(st->channel_packets, 2);

	/* The relay budget applies: 100 kB/s, burst 64 KiB. */
	passed = 0;
	for (int i = 0; i < 200; i++) {
		len = channel_datagram(dg, id, 1452, 0x44);
		send_raw(&w, a, dg, len);
		passed += (int)w.out.n;
		w.out.n = 0;
	}
	assert_true(passed >= 65536 / 1452 - 1 && passed <= 65536 / 1452 + 1);
	assert_true(st->relay_rate_limited > 0);
	w.now += 1000;

	/* A moves (new NAT mapping): it registers again, and the channel
	 * died with its old address. A new one is drawn for both. */
	addr_of(&a->addr, "198.51.100.1", 41000);
	a->c.next_ms = w.now;
	step(&w, a, NULL, NULL);
	assert_int_equal(st->channels, 0);
	len = channel_datagram(dg, id, 64, 0x55);
	send_raw(&w, a, dg, len);
	send_raw(&w, b, dg, len);
	assert_int_equal(w.out.n, 0);
	channel_open(&w, a, b);
	assert_int_equal(deliver(&w), 2);
	assert_memory_not_equal(a->last_channel.channel.chan, id, RDV_CHANNEL_ID_LEN);
	memcpy(id, a->last_channel.channel.chan, sizeof(id));
	len = channel_datagram(dg, id, 64, 0x55);
	send_raw(&w, b, dg, len);
	assert_forwarded(&w, a, dg, len);

	/* B restarts (same key, new session): the channel dies with B's old
	 * session once B registers again, and the new B must ask before it is
	 * told an id (it might be an old client now). When it asks, A, which
	 * asked in its session, is told the new id at once. */
	memcpy(sk, b->c.private_key, sizeof(sk));
	rdv_client_wipe(&b->c);
	assert_int_equal(rdv_client_init(&b->c, sk, w.server_pk, w.now), 0);
	want(&w, b, a);
	step(&w, b, NULL, NULL);
	assert_int_equal(st->channels, 0);
	send_raw(&w, a, dg, len);
	assert_int_equal(w.out.n, 0);
	channel_open(&w, a, b);
	assert_int_equal(w.out.n, 0);
	channel_open(&w, b, a);
	assert_int_equal(deliver(&w), 2);
	assert_memory_equal(a->last_channel.channel.chan, b->last_channel.channel.chan,
			    RDV_CHANNEL_ID_LEN);

	/* A channel dies when either end stops wanting the other. */
	assert_int_equal(st->channels, 1);
	assert_int_equal(rdv_client_set_wants(&a->c, NULL, 0, w.now), 0);
	step(&w, a, NULL, NULL);
	assert_int_equal(st->channels, 0);
	want(&w, a, b);
	step(&w, a, NULL, NULL);
	channel_open(&w, a, b);
	assert_int_equal(deliver(&w), 2);
	memcpy(id, a->last_channel.channel.chan, sizeof(id));
	assert_int_equal(st->channels, 1);

	/* Expiry: B stops refreshing; past its lease the id is unknown at
	 * once, and the sweep frees the channel. */
	w.now += (uint64_t)w.cfg.lease_s * 1000;
	a->c.next_ms = w.now;
	step(&w, a, NULL, NULL);
	len = channel_datagram(dg, id, 64, 0x66);
	send_raw(&w, a, dg, len);
	assert_int_equal(w.out.n, 0);
	rdv_server_expire(w.srv, w.now);
	assert_int_equal(st->channels, 0);
	assert_int_equal(st->peers, 1); /* A, which refreshed */
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_introduction),
		cmocka_unit_test(test_lost_introduction_is_asked_again_within_seconds),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_restarts),
		cmocka_unit_test(test_relay_reordered),
		cmocka_unit_test(test_dedup_and_dest_budget),
		cmocka_unit_test(test_source_cap),
		cmocka_unit_test(test_allowed_keys),
		cmocka_unit_test(test_replay_stale_wrong_key),
		cmocka_unit_test(test_lease_and_capacity),
		cmocka_unit_test(test_client_timers),
		cmocka_unit_test(test_stun_and_garbage),
		cmocka_unit_test(test_channels),
	};

	log_open("test_rdv_server", false, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
