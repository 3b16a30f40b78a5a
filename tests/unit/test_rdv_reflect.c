/* The amplification table (issue 12 item 7), computed against the real
 * server logic in memory. For every kind of unauthenticated or
 * spoofed-source input, 200 datagrams arrive "from" a victim address that
 * never sent anything; the test counts what the server sends to the victim
 * and to anyone else, prints bytes and packets out per byte and packet in,
 * and fails if
 *   - any ratio is above 1.0 (the STUN Binding response: 1.6, and then only
 *     within its rate limit),
 *   - input that fails authentication (bad MAC, replay, a key not allowed,
 *     junk) gets anything back at all,
 *   - a spoofed input makes the server send anything to a third party
 *     (an INTRODUCE to a registered peer, relayed data, a channel datagram).
 * docs/PROTOCOL.md section 3.6 holds the table this prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "rendezvous/allowed.h"
#include "rendezvous/client.h"
#include "rendezvous/demux.h"
#include "rendezvous/server.h"
#include "rendezvous/stun.h"

enum { N = 200, STEP_MS = 10 };

struct node {
	struct rdv_client c;
	struct sockaddr_in addr;
};

static struct rdv_server *srv;
static struct rdv_datagram slots[64];
static struct rdv_outbox out = { .d = slots, .cap = 64 };
static uint64_t now = 1000;
static struct sockaddr_in victim;

static void addr_of(struct sockaddr_in *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
}

static void node_init(struct node *n, const char *ip, uint16_t port)
{
	uint8_t sk[RDV_KEY_LEN];

	randombytes_buf(sk, sizeof(sk));
	assert_int_equal(rdv_client_init(&n->c, sk, rdv_server_public_key(srv), now), 0);
	addr_of(&n->addr, ip, port);
}

static bool same_addr(const struct rdv_datagram *d, const struct sockaddr_in *a)
{
	const struct sockaddr_in *to = (const struct sockaddr_in *)&d->to;

	return d->to.ss_family == AF_INET && to->sin_port == a->sin_port &&
	       to->sin_addr.s_addr == a->sin_addr.s_addr;
}

/* Hands the outbox to whichever node it is for; counts what goes to the
 * victim and elsewhere. */
struct tally {
	uint64_t in_p, in_b, victim_p, victim_b, other_p, other_b;
	double max_one; /* the largest bytes out / bytes in of one datagram */
};

static void flush(struct node **nodes, size_t n_nodes, struct tally *t)
{
	for (size_t i = 0; i < out.n; i++) {
		struct rdv_datagram *d = &out.d[i];

		if (t && same_addr(d, &victim)) {
			t->victim_p++;
			t->victim_b += d->len;
			continue;
		}
		if (t) {
			t->other_p++;
			t->other_b += d->len;
		}
		for (size_t j = 0; j < n_nodes; j++) {
			struct rdv_event ev;

			if (same_addr(d, &nodes[j]->addr))
				(void)rdv_client_consume(&nodes[j]->c, d->buf, d->len, now, &ev);
		}
	}
	out.n = 0;
}

static void from(const struct sockaddr_in *src, const uint8_t *p, size_t len, struct tally *t)
{
	if (t) {
		t->in_p++;
		t->in_b += len;
	}
	rdv_server_handle(srv, 3, (const struct sockaddr *)src, p, len, now, &out);
}

/* The node sends what is due from its own address; the replies reach it. */
static void settle(struct node *n, struct node **all, size_t n_all)
{
	uint8_t buf[RDV_DATAGRAM_MAX];
	size_t len;

	for (int i = 0; i < 3; i++) {
		if (rdv_client_poll(&n->c, now, buf, sizeof(buf), &len) != 1)
			break;
		from(&n->addr, buf, len, NULL);
		flush(all, n_all, NULL);
	}
}

/* A fresh REGISTER of n, whatever its timers say. */
static size_t next_register(struct node *n, uint8_t *buf)
{
	size_t len;

	n->c.next_ms = now;
	assert_int_equal(rdv_client_poll(&n->c, now, buf, RDV_DATAGRAM_MAX, &len), 1);
	return len;
}

enum kind {
	K_JUNK,           /* random bytes */
	K_STUN,           /* a well-formed Binding request (answered, rate-limited) */
	K_STUN_FP,        /* the same with FINGERPRINT */
	K_STUN_BAD,       /* a Binding request with a broken attribute */
	K_WG,             /* WireGuard-shaped (type 1, 148 bytes) */
	K_RDV_UNKNOWN,    /* rendezvous header, unknown key, bad MAC */
	K_RDV_FORGED,     /* rendezvous header naming a registered key, bad MAC */
	K_REPLAY_REG,     /* a captured REGISTER of a registered peer, replayed */
	K_REPLAY_RELAY,   /* a captured RELAY of a registered peer, replayed */
	K_REG_MIN,        /* the smallest REGISTER: own new key, no LAN, no wants */
	K_REG_NEW,        /* REGISTER of the attacker's own new key, 16 wants */
	K_REG_FORGED_CK,  /* the same with a made-up cookie */
	K_REG_OTHER_CK,   /* with a cookie earned at the attacker's real address */
	K_REG_MUTUAL,     /* attacker key registered at its own address, REGISTER from the victim */
	K_RELAY_UNREG,    /* RELAY of an unregistered key */
	K_RELAY_SPOOF,    /* RELAY of an attacker key registered elsewhere, to its mutual peer */
	K_CHAN_OPEN_SPOOF, /* CHANNEL_OPEN of an attacker key registered elsewhere */
	K_CHAN_SPOOF,     /* channel datagram with A and B's live channel id, from the victim */
	K_CHAN_UNKNOWN,   /* channel datagram with an id nobody was given */
	K_NOT_ALLOWED,    /* REGISTER of a key not in --allowed-keys (separate server) */
	K_COUNT
};

static const struct {
	const char *name;
	bool fails_auth; /* must get nothing back */
	double max_ratio;
} kinds[K_COUNT] = {
	[K_JUNK] = { "random bytes", true, 0 },
	[K_STUN] = { "STUN Binding request (20 B)", false, 1.6 },
	[K_STUN_FP] = { "STUN Binding request + FINGERPRINT", false, 1.6 },
	[K_STUN_BAD] = { "STUN request, broken attribute", true, 0 },
	[K_WG] = { "WireGuard initiation-shaped", true, 0 },
	[K_RDV_UNKNOWN] = { "rendezvous, unknown key, bad MAC", true, 0 },
	[K_RDV_FORGED] = { "rendezvous, registered key, bad MAC", true, 0 },
	[K_REPLAY_REG] = { "replayed REGISTER of a peer", true, 0 },
	[K_REPLAY_RELAY] = { "replayed RELAY of a peer", true, 0 },
	[K_REG_MIN] = { "REGISTER, own new key, smallest", false, 1.0 },
	[K_REG_NEW] = { "REGISTER, own new key, 16 wants", false, 1.0 },
	[K_REG_FORGED_CK] = { "REGISTER, made-up cookie", false, 1.0 },
	[K_REG_OTHER_CK] = { "REGISTER, cookie of another address", false, 1.0 },
	[K_REG_MUTUAL] = { "REGISTER, key registered elsewhere", false, 1.0 },
	[K_RELAY_UNREG] = { "RELAY, unregistered key", false, 1.0 },
	[K_RELAY_SPOOF] = { "RELAY, key registered elsewhere", false, 1.0 },
	[K_CHAN_OPEN_SPOOF] = { "CHANNEL_OPEN, key registered elsewhere", false, 1.0 },
	[K_CHAN_SPOOF] = { "channel datagram, live id", true, 0 },
	[K_CHAN_UNKNOWN] = { "channel datagram, unknown id", true, 0 },
	[K_NOT_ALLOWED] = { "REGISTER, key not allowed", true, 0 },
};

static void test_amplification_table(void **state)
{
	struct rdv_server_config cfg;
	struct node a, b, x, y, x2, z, m;
	struct node *all[] = { &a, &b, &x, &y, &x2, &z, &m };
	uint8_t buf[RDV_DATAGRAM_MAX], keys[RDV_WANT_MAX][RDV_KEY_LEN];
	uint8_t captured_reg[RDV_DATAGRAM_MAX], captured_relay[RDV_DATAGRAM_MAX];
	uint8_t chan[RDV_CHANNEL_ID_LEN] = { 0 };
	static const uint8_t no_chan[RDV_CHANNEL_ID_LEN];
	size_t len, reg_len, relay_len;
	struct tally t[K_COUNT];
	struct rdv_server *main_srv;
	int failures = 0;

	(void)state;
	assert_true(sodium_init() >= 0);
	memset(t, 0, sizeof(t));
	rdv_server_config_defaults(&cfg);
	randombytes_buf(cfg.private_key, sizeof(cfg.private_key));
	srv = main_srv = rdv_server_new(&cfg);
	assert_non_null(srv);
	addr_of(&victim, "192.0.2.66", 9999);

	/* Legitimate peers A and B, mutual; the attacker's own keys X and Y,
	 * mutual, registered from its real address 198.51.100.66. */
	node_init(&a, "203.0.113.1", 40001);
	node_init(&b, "203.0.113.2", 40002);
	node_init(&x, "198.51.100.66", 50001);
	node_init(&y, "198.51.100.66", 50002);
	node_init(&x2, "198.51.100.66", 50003);
	node_init(&z, "198.51.100.66", 50004);
	node_init(&m, "198.51.100.66", 50005);
	memcpy(keys[0], b.c.public_key, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&a.c, (const uint8_t(*)[RDV_KEY_LEN])keys, 1, now), 0);
	memcpy(keys[0], a.c.public_key, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&b.c, (const uint8_t(*)[RDV_KEY_LEN])keys, 1, now), 0);
	memcpy(keys[0], y.c.public_key, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&x.c, (const uint8_t(*)[RDV_KEY_LEN])keys, 1, now), 0);
	memcpy(keys[0], x.c.public_key, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&y.c, (const uint8_t(*)[RDV_KEY_LEN])keys, 1, now), 0);
	for (int i = 0; i < RDV_WANT_MAX; i++)
		memcpy(keys[i], i % 2 ? a.c.public_key : b.c.public_key, RDV_KEY_LEN);
	assert_int_equal(rdv_client_set_wants(&z.c, (const uint8_t(*)[RDV_KEY_LEN])keys,
					      RDV_WANT_MAX, now), 0);
	assert_int_equal(rdv_client_set_wants(&x2.c, (const uint8_t(*)[RDV_KEY_LEN])keys,
					      RDV_WANT_MAX, now), 0);
	settle(&a, all, ARRAY_SIZE(all));
	settle(&b, all, ARRAY_SIZE(all));
	settle(&x, all, ARRAY_SIZE(all));
	settle(&y, all, ARRAY_SIZE(all));
	assert_int_equal(rdv_server_stats(srv)->peers, 4);
	/* X2 earns a cookie at the attacker's real address (one REGISTER,
	 * the CHALLENGE comes back; it does not answer). */
	len = next_register(&x2, buf);
	from(&x2.addr, buf, len, NULL);
	flush(all, ARRAY_SIZE(all), NULL);
	assert_true(x2.c.cookie[0] | x2.c.cookie[1] | x2.c.cookie[15]);
	/* What an eavesdropper on A's path captured. */
	reg_len = next_register(&a, captured_reg);
	from(&a.addr, captured_reg, reg_len, NULL);
	flush(all, ARRAY_SIZE(all), NULL);
	assert_int_equal(rdv_client_build_relay(&a.c, b.c.public_key, (const uint8_t *)"hello", 5,
						now, captured_relay, sizeof(captured_relay),
						&relay_len), 0);
	from(&a.addr, captured_relay, relay_len, NULL);
	flush(all, ARRAY_SIZE(all), NULL);
	/* A and B open the relay channel; an eavesdropper learns its id from
	 * the channel datagrams that follow. */
	assert_int_equal(rdv_client_build_channel_open(&b.c, a.c.public_key, no_chan, buf, sizeof(buf),
						       &len), 0);
	from(&b.addr, buf, len, NULL);
	flush(all, ARRAY_SIZE(all), NULL);
	assert_int_equal(rdv_client_build_channel_open(&a.c, b.c.public_key, no_chan, buf, sizeof(buf),
						       &len), 0);
	from(&a.addr, buf, len, NULL);
	for (size_t i = 0; i < out.n; i++) {
		struct rdv_event ev;

		if (same_addr(&out.d[i], &a.addr) &&
		    rdv_client_consume(&a.c, out.d[i].buf, out.d[i].len, now, &ev) == RDV_OK &&
		    ev.type == RDV_EVENT_CHANNEL)
			memcpy(chan, ev.msg.channel.chan, sizeof(chan));
	}
	flush(all, ARRAY_SIZE(all), NULL);
	assert_int_equal(rdv_server_stats(srv)->channels, 1);
	assert_true(chan[0] | chan[1] | chan[2] | chan[3] | chan[4] | chan[5] | chan[6] | chan[7]);

	for (int k = 0; k < K_COUNT; k++) {
		if (k == K_NOT_ALLOWED) {
			struct rdv_allowed none = { 0 };

			srv = rdv_server_new(&cfg);
			assert_non_null(srv);
			rdv_server_set_allowed(srv, &none);
		}
		for (int i = 0; i < N; i++) {
			now += STEP_MS;
			switch (k) {
			case K_JUNK:
				len = 1 + randombytes_uniform(1400);
				randombytes_buf(buf, len);
				buf[0] = (uint8_t)(0x40 | (buf[0] & 0x3f)); /* no known first byte */
				break;
			case K_STUN:
			case K_STUN_FP:
			case K_STUN_BAD: {
				uint8_t txid[STUN_TXID_LEN];

				randombytes_buf(txid, sizeof(txid));
				len = (size_t)stun_build_binding_request(txid, buf, sizeof(buf));
				if (k == K_STUN_FP) {
					uint32_t crc;

					/* FINGERPRINT over what precedes it */
					buf[3] = 8;
					crc = stun_fingerprint(buf, len);
					buf[len] = 0x80, buf[len + 1] = 0x28, buf[len + 2] = 0, buf[len + 3] = 4;
					buf[len + 4] = (uint8_t)(crc >> 24), buf[len + 5] = (uint8_t)(crc >> 16);
					buf[len + 6] = (uint8_t)(crc >> 8), buf[len + 7] = (uint8_t)crc;
					len += 8;
				} else if (k == K_STUN_BAD) {
					buf[3] = 8; /* an attribute running past the end */
					buf[len] = 0, buf[len + 1] = 1, buf[len + 2] = 0, buf[len + 3] = 40;
					memset(buf + len + 4, 0, 4);
					len += 8;
				}
				break;
			}
			case K_WG:
				len = 148;
				randombytes_buf(buf, len);
				buf[0] = 1, buf[1] = buf[2] = buf[3] = 0;
				break;
			case K_RDV_UNKNOWN:
			case K_RDV_FORGED:
				len = RDV_OVERHEAD + 40;
				randombytes_buf(buf, len);
				buf[0] = DEMUX_TYPE_RENDEZVOUS, buf[1] = RDV_VERSION, buf[2] = 0, buf[3] = 0;
				if (k == K_RDV_FORGED)
					memcpy(buf + 4, a.c.public_key, RDV_KEY_LEN);
				break;
			case K_REPLAY_REG:
				memcpy(buf, captured_reg, reg_len);
				len = reg_len;
				break;
			case K_REPLAY_RELAY:
				memcpy(buf, captured_relay, relay_len);
				len = relay_len;
				break;
			case K_REG_MIN:
				len = next_register(&m, buf);
				break;
			case K_REG_NEW:
				len = next_register(&z, buf);
				break;
			case K_REG_FORGED_CK:
				randombytes_buf(z.c.cookie, RDV_COOKIE_LEN);
				len = next_register(&z, buf);
				break;
			case K_REG_OTHER_CK:
				len = next_register(&x2, buf);
				break;
			case K_REG_MUTUAL:
				len = next_register(&x, buf);
				break;
			case K_RELAY_UNREG:
				assert_int_equal(rdv_client_build_relay(&z.c, a.c.public_key, buf, 1, now,
									buf, sizeof(buf), &len), 0);
				break;
			case K_RELAY_SPOOF:
				assert_int_equal(rdv_client_build_relay(&x.c, y.c.public_key, buf, 1, now,
									buf, sizeof(buf), &len), 0);
				break;
			case K_CHAN_OPEN_SPOOF:
				assert_int_equal(rdv_client_build_channel_open(&x.c, y.c.public_key, no_chan,
									       buf, sizeof(buf), &len),
						 0);
				break;
			case K_CHAN_SPOOF:
			case K_CHAN_UNKNOWN:
				/* an initiation-shaped WireGuard message inside */
				len = RDV_CHANNEL_HEADER_LEN + 148;
				randombytes_buf(buf, len);
				buf[0] = DEMUX_TYPE_CHANNEL, buf[1] = buf[2] = buf[3] = 0;
				if (k == K_CHAN_SPOOF)
					memcpy(buf + 4, chan, sizeof(chan));
				buf[12] = 1, buf[13] = buf[14] = buf[15] = 0;
				break;
			case K_NOT_ALLOWED:
				len = next_register(&z, buf);
				break;
			}
			uint64_t before = t[k].victim_b;

			from(&victim, buf, len, &t[k]);
			/* Whatever went to the victim is lost to the attacker. */
			flush(all, ARRAY_SIZE(all), &t[k]);
			t[k].max_one = MAX(t[k].max_one, (double)(t[k].victim_b - before) / (double)len);
		}
		if (k == K_NOT_ALLOWED) {
			assert_int_equal(rdv_server_stats(srv)->refused_key, N);
			rdv_server_free(srv);
			srv = main_srv;
		}
	}

	printf("| input (%d datagrams, spoofed source) | bytes in | bytes out | packets out | "
	       "bytes out/in | packets out/in | worst datagram |\n", N);
	printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int k = 0; k < K_COUNT; k++) {
		double rb = (double)t[k].victim_b / (double)t[k].in_b;
		double rp = (double)t[k].victim_p / (double)t[k].in_p;
		bool bad = false;

		printf("| %s | %llu | %llu | %llu | %.2f | %.2f | %.2f |\n", kinds[k].name,
		       (unsigned long long)t[k].in_b, (unsigned long long)t[k].victim_b,
		       (unsigned long long)t[k].victim_p, rb, rp, t[k].max_one);
		if (kinds[k].fails_auth && t[k].victim_p) {
			printf("  FAIL: failed authentication, yet %llu datagrams out\n",
			       (unsigned long long)t[k].victim_p);
			bad = true;
		}
		if (rb > kinds[k].max_ratio + 1e-9 || t[k].max_one > kinds[k].max_ratio + 1e-9 ||
		    rp > 1.0 + 1e-9) {
			printf("  FAIL: ratio above %.1f\n", kinds[k].max_ratio);
			bad = true;
		}
		if (t[k].other_p) {
			printf("  FAIL: %llu datagrams to a third party\n",
			       (unsigned long long)t[k].other_p);
			bad = true;
		}
		failures += bad;
	}
	/* The one reply larger than its request is rate-limited: at most the
	 * burst plus the rate over the time the flood took. */
	{
		uint64_t allowed = RDV_SERVER_STUN_BURST + RDV_SERVER_STUN_RATE * (N * STEP_MS) / 1000 + 1;

		printf("STUN replies: %llu (limit %llu for %d ms of flood)\n",
		       (unsigned long long)(t[K_STUN].victim_p + t[K_STUN_FP].victim_p),
		       (unsigned long long)(2 * allowed), N * STEP_MS);
		if (t[K_STUN].victim_p > allowed || t[K_STUN_FP].victim_p > allowed)
			failures++;
	}
	/* Nothing spoofed moved a registration or reached a peer. */
	assert_int_equal(rdv_server_stats(srv)->peers, 4);
	assert_int_equal(rdv_server_stats(srv)->relay_packets, 1); /* A's own, at capture */
	assert_int_equal(rdv_server_stats(srv)->channel_dropped_source, N);
	assert_int_equal(rdv_server_stats(srv)->channel_dropped_unknown, N);
	assert_int_equal(failures, 0);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		rdv_client_wipe(&all[i]->c);
	rdv_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amplification_table),
	};

	log_open("test_rdv_reflect", false, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
