/* Rendezvous server logic (server.h). Invariants:
 * - a registration exists only after an authenticated, non-replayed REGISTER
 *   that carried a valid cookie for its source address and session (so the
 *   address is verified: it received our CHALLENGE); at most cfg.max_peers
 *   exist at once;
 * - to an address not verified the server sends only a CHALLENGE, and only
 *   when it is smaller than the authenticated request it answers;
 * - an endpoint is sent to peer B only inside an INTRODUCE of a peer A that
 *   B asked for while A asked for B (mutual intent), both registered;
 * - relay flows only along such a pair, from the sender's verified address
 *   to the receiver's, within the sender's and the receiver's byte budgets;
 * - an INTRODUCE is sent again only when the endpoints it carries changed,
 *   the receiver's registration or session is new, or it asked ("again");
 * - a datagram that is not authenticated gets no reply, except the STUN
 *   Binding response, which is rate-limited per source;
 * - a relay channel joins two live registrations that want each other; it
 *   dies with either (expiry, new session, new address, revoked key) or
 *   when either stops wanting the other, and forwards only from one end's
 *   verified address to the other's, unchanged (never larger). */
#include "rendezvous/server.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "crypto/messages.h"
#include "rendezvous/allowed.h"
#include "rendezvous/demux.h"
#include "rendezvous/ratelimit.h"
#include "rendezvous/stun.h"

struct want {
	uint8_t key[RDV_KEY_LEN];
	uint64_t told_gen; /* our gen last sent to that peer in an INTRODUCE; 0: never */
};

/* How many registrations one source (IPv4 address or IPv6 /64) holds. */
struct src_count {
	struct src_count *next;
	uint8_t prefix[RDV_SOURCE_PREFIX_LEN];
	size_t n;
};

struct reg;

/* A relay channel between two registrations (docs/PROTOCOL.md 3.7). */
struct chan {
	struct chan *next; /* hash chain, by id */
	uint64_t id;       /* the 8 bytes of the wire id, as stored in memory */
	struct reg *end[2];
	bool told[2];      /* end[i] was sent this id in a CHANNEL */
};

struct reg {
	struct reg *next; /* hash chain */
	struct chan *chans[RDV_WANT_MAX]; /* each with a peer this one wants */
	size_t n_chans;
	bool chan_capable; /* sent a CHANNEL_OPEN in its current session */
	struct src_count *src; /* the source of `reflexive`, counted there */
	struct rdv_session sess;
	struct rdv_replay replay;
	struct rdv_endpoint reflexive;
	int sock;
	size_t n_lan;
	struct rdv_endpoint lan[RDV_LAN_MAX];
	size_t n_want;
	struct want *want; /* n_want entries, owned */
	uint64_t gen;      /* new (server-unique) whenever reflexive or LAN endpoints change */
	uint64_t down_counter; /* last counter sent to this peer: its session and sequence */
	uint64_t expires_ms;
	uint64_t relay_tokens, relay_last_ms;       /* budget as a sender */
	uint64_t relay_in_tokens, relay_in_last_ms; /* budget as a destination */
};

struct rdv_server {
	struct rdv_server_config cfg;
	uint8_t public_key[RDV_KEY_LEN];
	struct reg **buckets;
	size_t n_buckets; /* power of two */
	struct src_count **src_buckets; /* n_buckets of them */
	struct chan **chan_buckets;     /* n_buckets of them */
	struct rdv_allowed allowed;
	bool allowed_on; /* false: any key may register */
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct ratelimit rl;
	uint64_t gen_seq;      /* last registration generation handed out */
	uint64_t req_counter;  /* the counter of the request being answered */
	uint8_t cookie_secret[2][crypto_generichash_KEYBYTES]; /* current, previous */
	uint64_t cookie_rotated_ms;
	bool cookie_started;
	struct rdv_server_stats stats;
	struct log_ratelimit log_rl;
	struct log_ratelimit reg_log_rl; /* registered / moved / expired lines */
	struct rdv_msg scratch; /* the message being handled: no allocation per packet */
	struct {
		int sock;
		struct rdv_endpoint other;
	} others[RDV_SERVER_OTHER_MAX]; /* --alt-port: OTHER-ADDRESS per socket */
	size_t n_others;
};

void rdv_key_fingerprint(const uint8_t key[static RDV_KEY_LEN], char out[static RDV_FINGERPRINT_LEN])
{
	char b64[sodium_base64_ENCODED_LEN(RDV_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), key, RDV_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
	memcpy(out, b64, RDV_FINGERPRINT_LEN - 1);
	out[RDV_FINGERPRINT_LEN - 1] = '\0';
}

void rdv_server_config_defaults(struct rdv_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_peers = RDV_SERVER_MAX_PEERS;
	cfg->max_per_source = RDV_SERVER_MAX_PER_SOURCE;
	cfg->lease_s = RDV_SERVER_LEASE_S;
	cfg->relay_rate = RDV_SERVER_RELAY_RATE;
	cfg->stun_rate = RDV_SERVER_STUN_RATE;
	cfg->stun_burst = RDV_SERVER_STUN_BURST;
	cfg->crypto_rate = RDV_SERVER_CRYPTO_RATE;
	cfg->crypto_burst = RDV_SERVER_CRYPTO_BURST;
}

struct rdv_server *rdv_server_new(const struct rdv_server_config *cfg)
{
	uint32_t rate[RATELIMIT_KINDS] = { cfg->stun_rate, cfg->crypto_rate };
	uint32_t burst[RATELIMIT_KINDS] = { cfg->stun_burst, cfg->crypto_burst };
	struct rdv_server *srv;
	size_t n = 1024;

	if (cfg->max_peers == 0 || cfg->max_per_source == 0 || cfg->lease_s == 0 || cfg->lease_s > RDV_LEASE_MAX_S ||
	    cfg->relay_rate == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->cfg = *cfg;
	srv->reg_log_rl.burst = 100;
	crypto_scalarmult_base(srv->public_key, cfg->private_key);
	while (n < cfg->max_peers && n < ((size_t)1 << 24))
		n <<= 1;
	srv->n_buckets = n;
	srv->buckets = calloc(n, sizeof(*srv->buckets));
	srv->src_buckets = calloc(n, sizeof(*srv->src_buckets));
	srv->chan_buckets = calloc(n, sizeof(*srv->chan_buckets));
	randombytes_buf(srv->hash_key, sizeof(srv->hash_key));
	randombytes_buf(srv->cookie_secret, sizeof(srv->cookie_secret));
	if (!srv->buckets || !srv->src_buckets || !srv->chan_buckets || ratelimit_init(&srv->rl, RDV_SERVER_RATELIMIT_SLOTS, rate, burst) < 0) {
		rdv_server_free(srv);
		errno = ENOMEM;
		return NULL;
	}
	return srv;
}

static void source_put(struct rdv_server *srv, struct src_count *sc);

static struct chan **chan_bucket(struct rdv_server *srv, uint64_t id)
{
	/* Ids are drawn at random by us, so their low bits spread well. */
	return &srv->chan_buckets[id & (srv->n_buckets - 1)];
}

static struct chan *chan_find(struct rdv_server *srv, uint64_t id)
{
	for (struct chan *c = *chan_bucket(srv, id); c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Which end of c the registration r is (0 or 1). */
static size_t chan_side(const struct chan *c, const struct reg *r)
{
	return c->end[0] == r ? 0 : 1;
}

/* The channel between r and k, or NULL. */
static struct chan *chan_between(const struct reg *r, const struct reg *k)
{
	for (size_t i = 0; i < r->n_chans; i++) {
		struct chan *c = r->chans[i];

		if (c->end[0] == k || c->end[1] == k)
			return c;
	}
	return NULL;
}

static void chan_detach(struct reg *r, const struct chan *c)
{
	for (size_t i = 0; i < r->n_chans; i++) {
		if (r->chans[i] == c) {
			r->chans[i] = r->chans[--r->n_chans];
			r->chans[r->n_chans] = NULL;
			return;
		}
	}
}

/* Ends a channel: its id is unknown from now on. */
static void chan_kill(struct rdv_server *srv, struct chan *c)
{
	for (struct chan **pp = chan_bucket(srv, c->id); *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	chan_detach(c->end[0], c);
	chan_detach(c->end[1], c);
	srv->stats.channels--;
	free(c);
}

static void chan_kill_all(struct rdv_server *srv, struct reg *r)
{
	while (r->n_chans > 0)
		chan_kill(srv, r->chans[0]);
}

static void reg_free(struct rdv_server *srv, struct reg *r)
{
	chan_kill_all(srv, r);
	if (r->src)
		source_put(srv, r->src);
	free(r->want);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

void rdv_server_free(struct rdv_server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; srv->buckets && i < srv->n_buckets; i++) {
		struct reg *r = srv->buckets[i], *next;

		for (; r; r = next) {
			next = r->next;
			reg_free(srv, r);
		}
	}
	free(srv->buckets);
	free(srv->src_buckets); /* every count went with its registration */
	free(srv->chan_buckets); /* every channel went with its registrations */
	rdv_allowed_free(&srv->allowed);
	ratelimit_free(&srv->rl);
	sodium_memzero(srv, sizeof(*srv));
	free(srv);
}

const uint8_t *rdv_server_public_key(const struct rdv_server *srv)
{
	return srv->public_key;
}

void rdv_server_set_allowed(struct rdv_server *srv, struct rdv_allowed *allowed)
{
	rdv_allowed_free(&srv->allowed);
	srv->allowed_on = allowed != NULL;
	if (!allowed)
		return;
	srv->allowed = *allowed;
	*allowed = (struct rdv_allowed){ 0 };
	for (size_t i = 0; i < srv->n_buckets; i++) {
		struct reg **pp = &srv->buckets[i];

		while (*pp) {
			struct reg *r = *pp;

			if (rdv_allowed_has(&srv->allowed, r->sess.peer_pk)) {
				pp = &r->next;
				continue;
			}
			*pp = r->next;
			srv->stats.peers--;
			srv->stats.revoked++;
			reg_free(srv, r);
		}
	}
}

const struct rdv_server_stats *rdv_server_stats(const struct rdv_server *srv)
{
	return &srv->stats;
}

static struct reg **bucket_of(struct rdv_server *srv, const uint8_t key[static RDV_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t idx;

	crypto_shorthash(h, key, RDV_KEY_LEN, srv->hash_key);
	memcpy(&idx, h, sizeof(idx));
	return &srv->buckets[idx & (srv->n_buckets - 1)];
}

static void source_prefix(const struct rdv_endpoint *ep, uint8_t out[static RDV_SOURCE_PREFIX_LEN])
{
	memset(out, 0, RDV_SOURCE_PREFIX_LEN);
	out[0] = ep->family == AF_INET6 ? 6 : 4;
	memcpy(out + 1, ep->addr, ep->family == AF_INET6 ? 8 : 4);
}

static struct src_count **source_bucket(struct rdv_server *srv,
					const uint8_t prefix[static RDV_SOURCE_PREFIX_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t idx;

	crypto_shorthash(h, prefix, RDV_SOURCE_PREFIX_LEN, srv->hash_key);
	memcpy(&idx, h, sizeof(idx));
	return &srv->src_buckets[idx & (srv->n_buckets - 1)];
}

/* The count of ep's source (created at 0 when `create`), or NULL. */
static struct src_count *source_find(struct rdv_server *srv, const struct rdv_endpoint *ep,
				     bool create)
{
	uint8_t prefix[RDV_SOURCE_PREFIX_LEN];
	struct src_count **b, *sc;

	source_prefix(ep, prefix);
	b = source_bucket(srv, prefix);
	for (sc = *b; sc; sc = sc->next)
		if (memcmp(sc->prefix, prefix, RDV_SOURCE_PREFIX_LEN) == 0)
			return sc;
	if (!create)
		return NULL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	memcpy(sc->prefix, prefix, RDV_SOURCE_PREFIX_LEN);
	sc->next = *b;
	*b = sc;
	return sc;
}

static bool source_full(struct rdv_server *srv, const struct rdv_endpoint *ep)
{
	struct src_count *sc = source_find(srv, ep, false);

	return sc && sc->n >= srv->cfg.max_per_source;
}

static void source_put(struct rdv_server *srv, struct src_count *sc)
{
	struct src_count **pp;

	if (--sc->n > 0)
		return;
	for (pp = source_bucket(srv, sc->prefix); *pp; pp = &(*pp)->next) {
		if (*pp == sc) {
			*pp = sc->next;
			free(sc);
			return;
		}
	}
}

/* Counts r under ep's source (after source_full() said no). */
static int source_take(struct rdv_server *srv, struct reg *r, const struct rdv_endpoint *ep)
{
	struct src_count *sc = source_find(srv, ep, true);

	if (!sc)
		return -ENOMEM;
	sc->n++;
	if (r->src)
		source_put(srv, r->src);
	r->src = sc;
	return 0;
}

/* The live registration of key, or NULL (an expired one counts as absent). */
static struct reg *reg_find(struct rdv_server *srv, const uint8_t key[static RDV_KEY_LEN],
			    uint64_t now_ms)
{
	for (struct reg *r = *bucket_of(srv, key); r; r = r->next)
		if (memcmp(r->sess.peer_pk, key, RDV_KEY_LEN) == 0)
			return now_ms < r->expires_ms ? r : NULL;
	return NULL;
}

static void reg_unlink(struct rdv_server *srv, struct reg *victim)
{
	struct reg **pp = bucket_of(srv, victim->sess.peer_pk);

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			srv->stats.peers--;
			return;
		}
	}
}

void rdv_server_expire(struct rdv_server *srv, uint64_t now_ms)
{
	for (size_t i = 0; i < srv->n_buckets; i++) {
		struct reg **pp = &srv->buckets[i];

		while (*pp) {
			struct reg *r = *pp;
			char fp[RDV_FINGERPRINT_LEN];

			if (now_ms < r->expires_ms) {
				pp = &r->next;
				continue;
			}
			*pp = r->next;
			rdv_key_fingerprint(r->sess.peer_pk, fp);
			if (log_ratelimit_allow(&srv->reg_log_rl, now_ms))
				log_info("peer %s expired", fp);
			srv->stats.peers--;
			srv->stats.expired++;
			reg_free(srv, r);
		}
	}
}

/* The counter of the next message to `key`: every registration has a
 * session of its own (random when it is made) and a sequence, so what a
 * peer sees is one gap-free sequence whatever the server sends to others
 * (reordering within the window is all its window has to absorb). A key
 * without a registration is answered statelessly: the session is a keyed
 * hash of its key and client session, the sequence that of the request
 * answered (srv->req_counter), so a CHALLENGE and a later ERROR to one
 * client session are in one window. The client takes either session on an
 * echo alone. */
static uint64_t counter_for(struct rdv_server *srv, const uint8_t key[static RDV_KEY_LEN])
{
	uint8_t in[RDV_KEY_LEN + 4], h[crypto_shorthash_BYTES];
	uint32_t epoch;

	for (struct reg *r = *bucket_of(srv, key); r; r = r->next) {
		if (memcmp(r->sess.peer_pk, key, RDV_KEY_LEN) != 0)
			continue;
		if (r->down_counter == 0 || rdv_counter_seq(r->down_counter) == RDV_SEQ_MASK)
			r->down_counter = (uint64_t)rdv_epoch_new() << RDV_SEQ_BITS;
		return ++r->down_counter;
	}
	memcpy(in, key, RDV_KEY_LEN);
	store_be32(in + RDV_KEY_LEN, rdv_counter_epoch(srv->req_counter));
	crypto_shorthash(h, in, sizeof(in), srv->hash_key);
	epoch = load_be32(h) & ((UINT32_C(1) << RDV_EPOCH_BITS) - 1);
	return ((uint64_t)(epoch ? epoch : 1) << RDV_SEQ_BITS) | rdv_counter_seq(srv->req_counter);
}

/* Rotates the cookie secret every RDV_SERVER_COOKIE_ROTATE_MS, keeping the
 * previous one, so a cookie lives between one and two periods. */
static void cookie_rotate(struct rdv_server *srv, uint64_t now_ms)
{
	if (!srv->cookie_started) {
		srv->cookie_started = true;
		srv->cookie_rotated_ms = now_ms;
	}
	for (int i = 0; i < 2 && now_ms - srv->cookie_rotated_ms >= RDV_SERVER_COOKIE_ROTATE_MS;
	     i++) {
		memcpy(srv->cookie_secret[1], srv->cookie_secret[0], sizeof(srv->cookie_secret[0]));
		randombytes_buf(srv->cookie_secret[0], sizeof(srv->cookie_secret[0]));
		srv->cookie_rotated_ms += RDV_SERVER_COOKIE_ROTATE_MS;
	}
	if (now_ms - srv->cookie_rotated_ms >= RDV_SERVER_COOKIE_ROTATE_MS)
		srv->cookie_rotated_ms = now_ms; /* a long jump: both secrets are new */
}

/* cookie = BLAKE2b-128(key = secret, family || address || port || peer key ||
 * peer session): only the holder of the secret makes one, and it is good for
 * one address, one key and one client session. */
static void cookie_make(const uint8_t secret[static crypto_generichash_KEYBYTES],
			const struct rdv_endpoint *src, const uint8_t key[static RDV_KEY_LEN],
			uint32_t epoch, uint8_t out[static RDV_COOKIE_LEN])
{
	crypto_generichash_state st;
	uint8_t b[1 + 16 + 2 + 4];

	memset(b, 0, sizeof(b));
	b[0] = src->family == AF_INET6 ? 6 : 4;
	memcpy(b + 1, src->addr, src->family == AF_INET6 ? 16 : 4);
	store_be16(b + 17, src->port);
	store_be32(b + 19, epoch);
	crypto_generichash_init(&st, secret, crypto_generichash_KEYBYTES, RDV_COOKIE_LEN);
	crypto_generichash_update(&st, b, sizeof(b));
	crypto_generichash_update(&st, key, RDV_KEY_LEN);
	crypto_generichash_final(&st, out, RDV_COOKIE_LEN);
}

static bool cookie_valid(const struct rdv_server *srv, const struct rdv_endpoint *src,
			 const uint8_t key[static RDV_KEY_LEN], uint32_t epoch,
			 const uint8_t cookie[static RDV_COOKIE_LEN])
{
	uint8_t want[RDV_COOKIE_LEN];
	bool ok = false;

	for (int i = 0; i < 2; i++) {
		cookie_make(srv->cookie_secret[i], src, key, epoch, want);
		ok |= sodium_memcmp(want, cookie, RDV_COOKIE_LEN) == 0;
	}
	return ok;
}

static struct rdv_datagram *out_slot(struct rdv_server *srv, struct rdv_outbox *out)
{
	if (out->n >= out->cap) {
		srv->stats.outbox_full++;
		return NULL;
	}
	return &out->d[out->n];
}

static void out_commit(struct rdv_server *srv, struct rdv_outbox *out)
{
	srv->stats.tx_packets++;
	srv->stats.tx_bytes += out->d[out->n].len;
	out->n++;
}

/* Seals msg for the peer of `sess` and queues it to `to` on `sock`. */
static void send_msg(struct rdv_server *srv, const struct rdv_session *sess, int sock,
		     const struct rdv_endpoint *to, const struct rdv_msg *msg, uint64_t now_ms,
		     struct rdv_outbox *out)
{
	struct rdv_datagram *d = out_slot(srv, out);
	uint8_t rnd[RDV_NONCE_RANDOM_LEN];

	if (!d)
		return;
	randombytes_buf(rnd, sizeof(rnd));
	(void)now_ms;
	if (rdv_seal(sess, RDV_DIR_DOWN, counter_for(srv, sess->peer_pk), rnd, msg, d->buf, sizeof(d->buf),
		     &d->len) < 0)
		return; /* cannot happen for messages we build; nothing queued */
	d->sock = sock;
	rdv_endpoint_to_sockaddr(to, &d->to, &d->to_len);
	out_commit(srv, out);
}

static void send_error(struct rdv_server *srv, const struct rdv_session *sess, int sock,
		       const struct rdv_endpoint *to, uint32_t code, const uint8_t *peer,
		       uint64_t now_ms, struct rdv_outbox *out)
{
	struct rdv_msg m = { .type = RDV_MSG_ERROR };

	m.error.code = code;
	if (peer)
		memcpy(m.error.peer, peer, RDV_KEY_LEN);
	srv->stats.errors_sent++;
	send_msg(srv, sess, sock, to, &m, now_ms, out);
}

static struct want *want_find(struct reg *r, const uint8_t key[static RDV_KEY_LEN])
{
	for (size_t i = 0; i < r->n_want; i++)
		if (memcmp(r->want[i].key, key, RDV_KEY_LEN) == 0)
			return &r->want[i];
	return NULL;
}

/* Tells `to` about `about` (INTRODUCE). */
static void introduce(struct rdv_server *srv, const struct reg *to, const struct reg *about,
		      uint64_t now_ms, struct rdv_outbox *out)
{
	struct rdv_msg m = { .type = RDV_MSG_INTRODUCE };

	memcpy(m.introduce.peer, about->sess.peer_pk, RDV_KEY_LEN);
	m.introduce.reflexive = about->reflexive;
	m.introduce.n_lan = about->n_lan;
	memcpy(m.introduce.lan, about->lan, sizeof(about->lan));
	srv->stats.introductions++;
	send_msg(srv, &to->sess, to->sock, &to->reflexive, &m, now_ms, out);
}

/* After a REGISTER from r: for every mutual pair (r wants k, k wants r), r
 * is told about k unless it already knows k's current endpoints (or `again`:
 * r asked, or its registration or session is new), and k is told about r
 * unless it already knows r's. An unchanged INTRODUCE is never sent twice
 * unasked. */
static void introduce_mutual(struct rdv_server *srv, struct reg *r, bool again, uint64_t now_ms,
			     struct rdv_outbox *out)
{
	for (size_t i = 0; i < r->n_want; i++) {
		struct reg *k = reg_find(srv, r->want[i].key, now_ms);
		struct want *kw;

		if (!k || k == r)
			continue;
		kw = want_find(k, r->sess.peer_pk);
		if (!kw)
			continue;
		if (again || kw->told_gen != k->gen) {
			introduce(srv, r, k, now_ms, out);
			kw->told_gen = k->gen;
		}
		if (r->want[i].told_gen != r->gen) {
			introduce(srv, k, r, now_ms, out);
			r->want[i].told_gen = r->gen;
		}
	}
}

/* Replaces r's want list, keeping told_gen for keys it still wants. A key
 * listed twice, or r's own key, is kept once or not at all. A channel to a
 * peer no longer wanted ends. */
static int set_wants(struct rdv_server *srv, struct reg *r, const struct rdv_register *reg)
{
	struct want *w = NULL;
	size_t n = 0;

	if (reg->n_want) {
		w = calloc(reg->n_want, sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	for (size_t i = 0; i < reg->n_want; i++) {
		struct want *old = want_find(r, reg->want[i]);
		bool dup = memcmp(reg->want[i], r->sess.peer_pk, RDV_KEY_LEN) == 0;

		for (size_t j = 0; j < n && !dup; j++)
			dup = memcmp(w[j].key, reg->want[i], RDV_KEY_LEN) == 0;
		if (dup)
			continue;
		memcpy(w[n].key, reg->want[i], RDV_KEY_LEN);
		w[n].told_gen = old ? old->told_gen : 0;
		n++;
	}
	free(r->want);
	r->want = w;
	r->n_want = n;
	for (size_t i = 0; i < r->n_chans;) {
		struct chan *c = r->chans[i];
		const struct reg *k = c->end[1 - chan_side(c, r)];

		if (want_find(r, k->sess.peer_pk)) {
			i++;
			continue;
		}
		chan_kill(srv, c);
	}
	return 0;
}

/* Answers an authenticated request from an address (or session) not yet
 * verified: a CHALLENGE with the cookie for that address and session, and
 * never more bytes than the request had. */
static void send_challenge(struct rdv_server *srv, const struct rdv_session *sess, int sock,
			   const struct rdv_endpoint *src, uint64_t counter, size_t req_len,
			   uint64_t now_ms, struct rdv_outbox *out)
{
	struct rdv_msg m = { .type = RDV_MSG_CHALLENGE };
	struct rdv_datagram *d = out_slot(srv, out);
	uint8_t rnd[RDV_NONCE_RANDOM_LEN];

	if (!d)
		return;
	m.challenge.echo = counter;
	cookie_make(srv->cookie_secret[0], src, sess->peer_pk, rdv_counter_epoch(counter),
		    m.challenge.cookie);
	randombytes_buf(rnd, sizeof(rnd));
	(void)now_ms;
	if (rdv_seal(sess, RDV_DIR_DOWN, counter_for(srv, sess->peer_pk), rnd, &m, d->buf, sizeof(d->buf),
		     &d->len) < 0 || d->len > req_len) {
		srv->stats.challenge_oversize++;
		return;
	}
	d->sock = sock;
	rdv_endpoint_to_sockaddr(src, &d->to, &d->to_len);
	srv->stats.challenges++;
	out_commit(srv, out);
}

/* A new registration for sess, or NULL (table full, no memory). */
static struct reg *reg_create(struct rdv_server *srv, const struct rdv_session *sess, int sock,
			      const struct rdv_endpoint *src, uint64_t now_ms,
			      struct rdv_outbox *out)
{
	struct reg *r, **b;
	char fp[RDV_FINGERPRINT_LEN];

	/* A key whose lease ended may still sit in its chain until the next
	 * sweep: reuse nothing from it, drop it now. */
	for (struct reg *old = *bucket_of(srv, sess->peer_pk); old; old = old->next) {
		if (memcmp(old->sess.peer_pk, sess->peer_pk, RDV_KEY_LEN) == 0) {
			reg_unlink(srv, old);
			srv->stats.expired++;
			reg_free(srv, old);
			break;
		}
	}
	/* Full, or this source holds its share: a new key never pushes out
	 * a registration that exists (none is unverified: a registration is
	 * made only for an address that echoed its cookie). */
	if (srv->stats.peers >= srv->cfg.max_peers || source_full(srv, src)) {
		bool by_source = srv->stats.peers < srv->cfg.max_peers;

		if (by_source)
			srv->stats.refused_source_full++;
		else
			srv->stats.refused_full++;
		rdv_key_fingerprint(sess->peer_pk, fp);
		if (log_ratelimit_allow(&srv->log_rl, now_ms))
			log_warn("peer %s refused: %zu registrations held%s", fp,
				 by_source ? srv->cfg.max_per_source : srv->cfg.max_peers,
				 by_source ? " from its address" : "");
		send_error(srv, sess, sock, src, RDV_ERROR_SERVER_FULL, NULL, now_ms, out);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (source_take(srv, r, src) < 0) {
		free(r);
		return NULL;
	}
	r->sess = *sess;
	b = bucket_of(srv, sess->peer_pk);
	r->next = *b;
	*b = r;
	srv->stats.peers++;
	srv->stats.registrations++;
	return r;
}

static void handle_register(struct rdv_server *srv, struct reg *r, const struct rdv_session *sess,
			    int sock, const struct rdv_endpoint *src, const struct rdv_msg *msg,
			    uint64_t counter, size_t req_len, uint64_t now_ms,
			    struct rdv_outbox *out)
{
	const struct rdv_register *reg = &msg->reg;
	struct rdv_msg reply = { .type = RDV_MSG_REGISTERED };
	char fp[RDV_FINGERPRINT_LEN], ep[RDV_ENDPOINT_STR];
	uint32_t epoch = rdv_counter_epoch(counter);
	bool same_session = r && r->replay.epoch == epoch;
	bool verified = same_session && rdv_endpoint_equal(&r->reflexive, src);
	bool fresh = !r, new_session = !same_session, moved;

	/* Return routability: act only for an address that proved it
	 * receives there (it echoes the cookie we sent it), or the one this
	 * session already proved. Everything else gets a CHALLENGE. */
	if (!verified && !cookie_valid(srv, src, sess->peer_pk, epoch, reg->cookie)) {
		send_challenge(srv, sess, sock, src, counter, req_len, now_ms, out);
		return;
	}
	if (!r) {
		r = reg_create(srv, sess, sock, src, now_ms, out);
		if (!r)
			return;
	} else {
		uint8_t a[RDV_SOURCE_PREFIX_LEN], b[RDV_SOURCE_PREFIX_LEN];

		source_prefix(&r->reflexive, a);
		source_prefix(src, b);
		if (memcmp(a, b, sizeof(a)) != 0) {
			/* Moving to another source counts there, within its share. */
			if (source_full(srv, src)) {
				srv->stats.refused_source_full++;
				send_error(srv, sess, sock, src, RDV_ERROR_SERVER_FULL, NULL, now_ms,
					   out);
				return;
			}
			if (source_take(srv, r, src) < 0)
				return;
		}
		srv->stats.refreshes++;
	}
	if (new_session) {
		/* A new client session (restart) knows nothing: start its
		 * window over and introduce everyone again. */
		rdv_replay_reset(&r->replay, epoch);
		r->down_counter = 0; /* and a new server session for it */
		if (!fresh)
			srv->stats.new_sessions++;
		chan_kill_all(srv, r); /* its channels die with the old session */
		r->chan_capable = false; /* and the new client may be an old one */
	}
	if (!fresh && !rdv_endpoint_equal(&r->reflexive, src))
		chan_kill_all(srv, r); /* and with the old address */
	if (set_wants(srv, r, reg) < 0)
		return; /* keeps the old list; the peer will refresh */
	rdv_replay_update(&r->replay, counter);
	moved = !fresh && (!rdv_endpoint_equal(&r->reflexive, src) || r->n_lan != reg->n_lan);
	for (size_t i = 0; !fresh && !moved && i < reg->n_lan; i++)
		moved = !rdv_endpoint_equal(&r->lan[i], &reg->lan[i]);
	if (moved)
		srv->stats.endpoint_changes++;
	if (fresh || moved)
		r->gen = ++srv->gen_seq;
	r->reflexive = *src;
	r->sock = sock;
	r->n_lan = reg->n_lan;
	memset(r->lan, 0, sizeof(r->lan));
	memcpy(r->lan, reg->lan, reg->n_lan * sizeof(reg->lan[0]));
	r->expires_ms = now_ms + (uint64_t)srv->cfg.lease_s * 1000;
	rdv_key_fingerprint(sess->peer_pk, fp);
	/* Rate-limited too: anyone can make keys, so a key flood from one
	 * verified address must not flood the log. */
	if ((fresh || moved) && log_ratelimit_allow(&srv->reg_log_rl, now_ms))
		log_info("peer %s %s %s (%zu LAN candidates, wants %zu peers)", fp,
			 fresh ? "registered from" : "moved to",
			 rdv_endpoint_str(src, ep, sizeof(ep)), r->n_lan, r->n_want);

	reply.registered.reflexive = *src;
	reply.registered.lease_s = srv->cfg.lease_s;
	reply.registered.echo = counter;
	send_msg(srv, &r->sess, sock, src, &reply, now_ms, out);
	introduce_mutual(srv, r, reg->again || new_session, now_ms, out);
}

/* Token bucket of rate bytes/s, burst a quarter second (at least 64 KiB). */
static bool bucket_take(uint64_t rate, uint64_t *tokens, uint64_t *last_ms, size_t bytes,
			uint64_t now_ms)
{
	uint64_t cap = MAX(rate / 4, 65536u);

	if (*last_ms == 0) {
		*tokens = cap;
	} else if (now_ms > *last_ms) {
		uint64_t add = (now_ms - *last_ms) * rate / 1000;

		*tokens = MIN(cap, *tokens + add);
	}
	*last_ms = MAX(now_ms, 1);
	if (*tokens < bytes)
		return false;
	*tokens -= bytes;
	return true;
}

/* Both budgets must have room: the sender's (one peer cannot flood) and the
 * destination's (many senders together cannot flood one peer). */
static bool relay_budget(struct rdv_server *srv, struct reg *from, struct reg *to, size_t bytes,
			 uint64_t now_ms)
{
	uint64_t rate = srv->cfg.relay_rate;
	uint64_t from_tokens = from->relay_tokens, from_last = from->relay_last_ms;

	if (!bucket_take(rate, &from->relay_tokens, &from->relay_last_ms, bytes, now_ms))
		return false;
	if (!bucket_take(rate, &to->relay_in_tokens, &to->relay_in_last_ms, bytes, now_ms)) {
		from->relay_tokens = from_tokens; /* nothing was sent: refund */
		from->relay_last_ms = from_last;
		srv->stats.relay_dest_limited++;
		return false;
	}
	return true;
}

/* The rules of RELAY and CHANNEL_OPEN: only from the verified address of a
 * live session (anything else, unregistered, restarted client, new NAT
 * mapping or a spoofed source, gets a CHALLENGE, which makes a real client
 * register again), and only to a registered peer with mutual intent (else
 * not-introduced). Returns that peer, or NULL once the refusal is sent. */
static struct reg *relay_destination(struct rdv_server *srv, struct reg *from,
				     const struct rdv_session *sess, int sock,
				     const struct rdv_endpoint *src, const uint8_t *peer_key,
				     uint64_t counter, size_t req_len, uint64_t now_ms,
				     struct rdv_outbox *out)
{
	struct reg *to;

	if (!from || from->replay.epoch != rdv_counter_epoch(counter) ||
	    !rdv_endpoint_equal(&from->reflexive, src)) {
		srv->stats.relay_not_registered++;
		send_challenge(srv, sess, sock, src, counter, req_len, now_ms, out);
		return NULL;
	}
	rdv_replay_update(&from->replay, counter);
	to = reg_find(srv, peer_key, now_ms);
	if (!to || to == from || !want_find(from, to->sess.peer_pk) ||
	    !want_find(to, from->sess.peer_pk)) {
		srv->stats.relay_not_introduced++;
		send_error(srv, &from->sess, from->sock, &from->reflexive, RDV_ERROR_NOT_INTRODUCED,
			   peer_key, now_ms, out);
		return NULL;
	}
	return to;
}

static void handle_relay(struct rdv_server *srv, struct reg *from, const struct rdv_session *sess,
			 int sock, const struct rdv_endpoint *src, const struct rdv_msg *msg,
			 uint64_t counter, size_t req_len, uint64_t now_ms, struct rdv_outbox *out)
{
	struct reg *to;
	struct rdv_msg fwd = { .type = RDV_MSG_RELAY };

	to = relay_destination(srv, from, sess, sock, src, msg->relay.peer, counter, req_len,
			       now_ms, out);
	if (!to)
		return;
	if (!relay_budget(srv, from, to, msg->relay.len, now_ms)) {
		/* No reply: an error per dropped packet would double a flood. */
		srv->stats.relay_rate_limited++;
		return;
	}
	memcpy(fwd.relay.peer, from->sess.peer_pk, RDV_KEY_LEN);
	fwd.relay.len = msg->relay.len;
	memcpy(fwd.relay.data, msg->relay.data, msg->relay.len);
	srv->stats.relay_packets++;
	srv->stats.relay_bytes += msg->relay.len;
	send_msg(srv, &to->sess, to->sock, &to->reflexive, &fwd, now_ms, out);
}

/* Tells `to` the channel it shares with `other` (CHANNEL). */
static void send_channel(struct rdv_server *srv, const struct reg *to, const struct reg *other,
			 const struct chan *c, uint64_t now_ms, struct rdv_outbox *out)
{
	struct rdv_msg m = { .type = RDV_MSG_CHANNEL };

	memcpy(m.channel.peer, other->sess.peer_pk, RDV_KEY_LEN);
	memcpy(m.channel.chan, &c->id, RDV_CHANNEL_ID_LEN);
	send_msg(srv, &to->sess, to->sock, &to->reflexive, &m, now_ms, out);
}

/* CHANNEL_OPEN: accepted under exactly RELAY's rules. The pair's channel is
 * drawn if it has none; once both ends have asked for channels in their
 * current sessions (so both understand them: an old client never asks), its
 * id goes to the sender and, if it was not told yet, to the other end. The
 * answer is as large as the request. */
static void handle_channel_open(struct rdv_server *srv, struct reg *from,
				const struct rdv_session *sess, int sock,
				const struct rdv_endpoint *src, const struct rdv_msg *msg,
				uint64_t counter, size_t req_len, uint64_t now_ms,
				struct rdv_outbox *out)
{
	struct reg *to;
	struct chan *c;

	to = relay_destination(srv, from, sess, sock, src, msg->channel.peer, counter, req_len,
			       now_ms, out);
	if (!to)
		return;
	from->chan_capable = true;
	c = chan_between(from, to);
	if (!c) {
		uint64_t id;

		/* Each end holds at most one channel per wanted peer. */
		if (from->n_chans >= RDV_WANT_MAX || to->n_chans >= RDV_WANT_MAX)
			return;
		do
			randombytes_buf(&id, sizeof(id));
		while (id == 0 || chan_find(srv, id));
		c = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->id = id;
		c->end[0] = from;
		c->end[1] = to;
		c->next = *chan_bucket(srv, id);
		*chan_bucket(srv, id) = c;
		from->chans[from->n_chans++] = c;
		to->chans[to->n_chans++] = c;
		srv->stats.channels++;
		srv->stats.channels_opened++;
	}
	if (!to->chan_capable)
		return; /* until the other end asks too; the sender keeps RELAY */
	if (!c->told[chan_side(c, to)]) {
		send_channel(srv, to, from, c, now_ms, out);
		c->told[chan_side(c, to)] = true;
	}
	send_channel(srv, from, to, c, now_ms, out);
	c->told[chan_side(c, from)] = true;
}

/* A channel datagram: [0xf3, 0, 0, 0, id (8), WireGuard message]. Forwarded
 * unchanged from one end's verified address to the other's; anything else
 * is dropped and counted, never answered. */
static void handle_channel(struct rdv_server *srv, const struct rdv_endpoint *src,
			   const uint8_t *pkt, size_t len, uint64_t now_ms, struct rdv_outbox *out)
{
	const uint8_t *inner = pkt + RDV_CHANNEL_HEADER_LEN;
	size_t inner_len = len - MIN(len, (size_t)RDV_CHANNEL_HEADER_LEN);
	struct rdv_datagram *d;
	struct reg *from, *to;
	struct chan *c;
	uint64_t id;

	if (srv->cfg.no_channels) {
		srv->stats.drop_unknown++; /* as a server without channels */
		return;
	}
	if (len < RDV_CHANNEL_HEADER_LEN || pkt[1] || pkt[2] || pkt[3] ||
	    inner_len > RDV_RELAY_DATA_MAX ||
	    message_validate_header(inner, inner_len) == MESSAGE_INVALID) {
		srv->stats.channel_dropped_malformed++;
		return;
	}
	memcpy(&id, pkt + 4, sizeof(id));
	c = chan_find(srv, id);
	if (!c || !c->told[0] || !c->told[1] || now_ms >= c->end[0]->expires_ms ||
	    now_ms >= c->end[1]->expires_ms) {
		srv->stats.channel_dropped_unknown++;
		return;
	}
	if (rdv_endpoint_equal(&c->end[0]->reflexive, src)) {
		from = c->end[0];
		to = c->end[1];
	} else if (rdv_endpoint_equal(&c->end[1]->reflexive, src)) {
		from = c->end[1];
		to = c->end[0];
	} else {
		srv->stats.channel_dropped_source++;
		return;
	}
	if (!relay_budget(srv, from, to, inner_len, now_ms)) {
		srv->stats.relay_rate_limited++;
		return;
	}
	d = out_slot(srv, out);
	if (!d)
		return;
	memcpy(d->buf, pkt, len);
	d->len = len;
	d->sock = to->sock;
	rdv_endpoint_to_sockaddr(&to->reflexive, &d->to, &d->to_len);
	srv->stats.relay_packets++;
	srv->stats.relay_bytes += inner_len;
	srv->stats.channel_packets++;
	srv->stats.channel_bytes += inner_len;
	out_commit(srv, out);
}

static void reject(struct rdv_server *srv, enum rdv_status st, uint64_t now_ms)
{
	srv->stats.rdv_rejected[st]++;
	if (log_ratelimit_allow(&srv->log_rl, now_ms))
		log_debug("rendezvous datagram dropped: %s", rdv_status_name(st));
}

static void handle_rendezvous(struct rdv_server *srv, int sock, const struct rdv_endpoint *src,
			      const uint8_t *pkt, size_t len, uint64_t now_ms,
			      struct rdv_outbox *out)
{
	struct rdv_session tmp, *sess;
	struct rdv_header h;
	struct rdv_msg *msg = &srv->scratch;
	struct reg *r;
	enum rdv_status st;
	uint64_t counter = 0;

	st = rdv_header_parse(pkt, len, &h);
	if (st != RDV_OK)
		return reject(srv, st, now_ms);
	if (h.dir != RDV_DIR_UP) {
		srv->stats.rdv_wrong_direction++;
		return;
	}
	if (srv->allowed_on && !rdv_allowed_has(&srv->allowed, h.peer_pk)) {
		srv->stats.refused_key++; /* no reply, no crypto */
		return;
	}
	cookie_rotate(srv, now_ms);
	r = reg_find(srv, h.peer_pk, now_ms);
	if (r) {
		/* Cheap before any crypto: a counter of the live session must
		 * be new. Another session's is judged by its cookie. */
		if (rdv_counter_epoch(h.counter) == r->replay.epoch) {
			st = rdv_replay_check(&r->replay, h.counter);
			if (st != RDV_OK)
				return reject(srv, st, now_ms);
		}
		sess = &r->sess;
	} else {
		if (!ratelimit_allow(&srv->rl, RATELIMIT_CRYPTO, src, now_ms)) {
			srv->stats.crypto_rate_limited++;
			return;
		}
		if (rdv_session_derive(&tmp, srv->cfg.private_key, h.peer_pk, h.peer_pk,
				       srv->public_key) < 0) {
			srv->stats.low_order_keys++;
			return;
		}
		sess = &tmp;
	}
	st = rdv_open(sess, RDV_DIR_UP, pkt, len, msg, &counter);
	if (st != RDV_OK) {
		reject(srv, st, now_ms);
		goto out;
	}
	srv->stats.rdv_accepted++;
	srv->req_counter = counter;
	switch (msg->type) {
	case RDV_MSG_REGISTER:
		handle_register(srv, r, sess, sock, src, msg, counter, len, now_ms, out);
		break;
	case RDV_MSG_RELAY:
		handle_relay(srv, r, sess, sock, src, msg, counter, len, now_ms, out);
		break;
	case RDV_MSG_CHANNEL_OPEN:
		if (srv->cfg.no_channels)
			srv->stats.unexpected_type++; /* as a server without channels */
		else
			handle_channel_open(srv, r, sess, sock, src, msg, counter, len, now_ms, out);
		break;
	default:
		/* Server-to-peer messages are never valid here. */
		srv->stats.unexpected_type++;
		break;
	}
out:
	if (sess == &tmp)
		rdv_session_wipe(&tmp);
}

int rdv_server_set_other_address(struct rdv_server *srv, int sock,
				 const struct rdv_endpoint *other)
{
	if (srv->n_others == RDV_SERVER_OTHER_MAX)
		return -ENOSPC;
	srv->others[srv->n_others].sock = sock;
	srv->others[srv->n_others].other = *other;
	srv->n_others++;
	return 0;
}

static const struct rdv_endpoint *other_address(const struct rdv_server *srv, int sock)
{
	for (size_t i = 0; i < srv->n_others; i++) {
		if (srv->others[i].sock == sock)
			return &srv->others[i].other;
	}
	return NULL;
}

static void handle_stun(struct rdv_server *srv, int sock, const struct sockaddr *sa,
			const struct rdv_endpoint *src, const uint8_t *pkt, size_t len,
			uint64_t now_ms, struct rdv_outbox *out)
{
	const struct rdv_endpoint *other = other_address(srv, sock);
	struct sockaddr_storage other_sa;
	socklen_t other_len;
	struct stun_msg msg;
	enum stun_parse_result pr;
	struct rdv_datagram *d;

	if (other)
		rdv_endpoint_to_sockaddr(other, &other_sa, &other_len);
	pr = stun_parse(pkt, len, &msg);
	if (pr != STUN_OK) {
		srv->stats.stun_malformed++;
		if (log_ratelimit_allow(&srv->log_rl, now_ms))
			log_debug("STUN datagram dropped: %s", stun_parse_result_name(pr));
		return;
	}
	if (!stun_is_answerable(&msg)) {
		srv->stats.stun_unanswerable++;
		return;
	}
	if (!ratelimit_allow(&srv->rl, RATELIMIT_STUN, src, now_ms)) {
		srv->stats.stun_rate_limited++;
		return;
	}
	d = out_slot(srv, out);
	if (!d)
		return;
	/* Answer with the address as seen, v4-mapped v6 turned back into v4. */
	rdv_endpoint_to_sockaddr(src, &d->to, &d->to_len);
	if (stun_build_binding_response_other(&msg, (const struct sockaddr *)&d->to,
					      other ? (const struct sockaddr *)&other_sa : NULL,
					      d->buf, sizeof(d->buf), &d->len) < 0) {
		srv->stats.stun_unanswerable++;
		return;
	}
	/* Reply to the exact source address (possibly v4-mapped on a v6 socket). */
	memcpy(&d->to, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in));
	d->to_len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in);
	d->sock = sock;
	srv->stats.stun_replies++;
	out_commit(srv, out);
}

void rdv_server_handle(struct rdv_server *srv, int sock, const struct sockaddr *src,
		       const uint8_t *pkt, size_t len, uint64_t now_ms, struct rdv_outbox *out)
{
	struct rdv_endpoint ep;

	srv->stats.rx_packets++;
	srv->stats.rx_bytes += len;
	if (rdv_endpoint_from_sockaddr(&ep, src) < 0 || ep.port == 0) {
		srv->stats.drop_unknown++;
		return;
	}
	switch (demux_classify(pkt, len)) {
	case DEMUX_STUN:
	case DEMUX_STUN_LEGACY:
		handle_stun(srv, sock, src, &ep, pkt, len, now_ms, out);
		break;
	case DEMUX_RENDEZVOUS:
		handle_rendezvous(srv, sock, &ep, pkt, len, now_ms, out);
		break;
	case DEMUX_WIREGUARD:
		srv->stats.drop_wireguard++;
		break;
	case DEMUX_PROBE:
		srv->stats.drop_probe++;
		break;
	case DEMUX_CHANNEL:
		handle_channel(srv, &ep, pkt, len, now_ms, out);
		break;
	case DEMUX_UNKNOWN:
		srv->stats.drop_unknown++;
		break;
	}
}

void rdv_server_stats_print(const struct rdv_server *srv, FILE *f)
{
	const struct rdv_server_stats *s = &srv->stats;

#define P(name) fprintf(f, #name " %" PRIu64 "\n", s->name)
	P(rx_packets); P(rx_bytes); P(tx_packets); P(tx_bytes);
	P(drop_unknown); P(drop_wireguard); P(drop_probe);
	P(stun_replies); P(stun_malformed); P(stun_unanswerable); P(stun_rate_limited);
	P(rdv_accepted); P(rdv_wrong_direction); P(crypto_rate_limited); P(low_order_keys);
	P(unexpected_type); P(peers); P(registrations); P(refreshes); P(endpoint_changes);
	P(expired); P(refused_full); P(introductions); P(relay_packets); P(relay_bytes);
	P(relay_rate_limited); P(relay_not_introduced); P(relay_not_registered);
	P(outbox_full); P(errors_sent); P(challenges); P(challenge_oversize); P(new_sessions);
	P(relay_dest_limited); P(refused_source_full); P(refused_key); P(revoked);
	P(channels); P(channels_opened); P(channel_packets); P(channel_bytes);
	P(channel_dropped_unknown); P(channel_dropped_source); P(channel_dropped_malformed);
#undef P
	for (int i = 1; i < RDV_STATUS_COUNT; i++)
		fprintf(f, "rdv_rejected_%s %" PRIu64 "\n", rdv_status_name((enum rdv_status)i),
			s->rdv_rejected[i]);
}
