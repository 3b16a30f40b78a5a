/* Rendezvous client state machine (client.h). Transitions are made only at
 * the end of a successful step. No I/O; the caller passes now_ms. */
#include "rendezvous/client.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

int rdv_client_init(struct rdv_client *c, const uint8_t sk[static RDV_KEY_LEN],
		    const uint8_t server_pk[static RDV_KEY_LEN], uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	if (sodium_init() < 0)
		return -EIO;
	memcpy(c->private_key, sk, RDV_KEY_LEN);
	crypto_scalarmult_base(c->public_key, sk);
	memcpy(c->server_key, server_pk, RDV_KEY_LEN);
	if (rdv_session_derive(&c->sess, sk, server_pk, c->public_key, server_pk) < 0) {
		rdv_client_wipe(c);
		return -EINVAL;
	}
	c->epoch = rdv_epoch_new();
	c->last_counter = (uint64_t)c->epoch << RDV_SEQ_BITS;
	c->echo_floor = c->last_counter;
	c->state = RDV_CLIENT_REGISTERING;
	c->retry_ms = RDV_CLIENT_RETRY_MIN_MS;
	c->next_ms = now_ms;
	return 0;
}

void rdv_client_wipe(struct rdv_client *c)
{
	sodium_memzero(c, sizeof(*c));
}

int rdv_client_set_wants(struct rdv_client *c, const uint8_t (*keys)[RDV_KEY_LEN], size_t n,
			 uint64_t now_ms)
{
	if (n > RDV_WANT_MAX)
		return -E2BIG;
	if (n)
		memcpy(c->reg.want, keys, n * RDV_KEY_LEN);
	c->reg.n_want = n;
	c->intro_missing = (uint32_t)((1ull << n) - 1);
	c->intro_retry_ms = 0;
	c->next_ms = now_ms;
	return 0;
}

int rdv_client_set_lan(struct rdv_client *c, const struct rdv_endpoint *lan, size_t n,
		       uint64_t now_ms)
{
	if (n > RDV_LAN_MAX)
		return -E2BIG;
	memcpy(c->reg.lan, lan, n * sizeof(*lan));
	c->reg.n_lan = n;
	c->next_ms = now_ms;
	return 0;
}

uint64_t rdv_client_next_ms(const struct rdv_client *c)
{
	return c->next_ms;
}

void rdv_client_request_introductions(struct rdv_client *c, uint64_t now_ms)
{
	c->intro_missing = (uint32_t)((1ull << c->reg.n_want) - 1);
	c->intro_retry_ms = 0;
	c->next_ms = now_ms;
}

/* Our session and the next sequence number (envelope.h). Should the
 * sequence ever run out, a new session starts, which registers anew. */
static uint64_t next_counter(struct rdv_client *c)
{
	if (rdv_counter_seq(c->last_counter) == RDV_SEQ_MASK) {
		c->epoch = rdv_epoch_new();
		c->last_counter = (uint64_t)c->epoch << RDV_SEQ_BITS;
		c->echo_floor = c->last_counter;
		memset(c->cookie, 0, sizeof(c->cookie));
		c->state = RDV_CLIENT_REGISTERING;
	}
	return ++c->last_counter;
}

static int seal(struct rdv_client *c, const struct rdv_msg *m, uint8_t *out, size_t cap,
		size_t *len)
{
	uint8_t rnd[RDV_NONCE_RANDOM_LEN];

	randombytes_buf(rnd, sizeof(rnd));
	return rdv_seal(&c->sess, RDV_DIR_UP, next_counter(c), rnd, m, out, cap, len);
}

/* Up to 10 % jitter so that many clients restarted together spread out. */
static uint64_t jitter(uint64_t ms)
{
	return ms + randombytes_uniform((uint32_t)(ms / 10) + 1);
}

/* Time to the next refresh of a live registration. */
static uint64_t refresh_interval(const struct rdv_client *c)
{
	uint64_t ms = (uint64_t)c->lease_s * 1000 / 3;

	if (c->refresh_max_ms && c->refresh_max_ms < ms)
		ms = c->refresh_max_ms;
	return jitter(ms);
}

/* Time to the next re-ask for a missing introduction: the INTRODUCE may
 * have been lost (nothing else resends it before the next refresh, up to
 * lease / 3 away), or the peer is not there yet. Backs off. */
static uint64_t intro_retry_interval(struct rdv_client *c)
{
	uint64_t ms = c->intro_retry_ms ? c->intro_retry_ms : RDV_CLIENT_INTRO_RETRY_MIN_MS;

	c->intro_retry_ms = MIN(ms * 2, (uint64_t)RDV_CLIENT_INTRO_RETRY_MAX_MS);
	return jitter(ms);
}

/* Refresh three times per lease, or at the cap; sooner while a wanted peer
 * has not been introduced. */
static void schedule_refresh(struct rdv_client *c, uint64_t now_ms)
{
	uint64_t ms = refresh_interval(c);

	c->reask_ms = 0;
	if (c->intro_missing) {
		uint64_t retry = intro_retry_interval(c); /* once: MIN evaluates twice */

		if (retry < ms) {
			ms = retry;
			c->reask_ms = now_ms + ms;
		}
	}
	c->next_ms = now_ms + ms;
}

void rdv_client_set_refresh_max(struct rdv_client *c, uint64_t ms)
{
	c->refresh_max_ms = ms;
}

int rdv_client_poll(struct rdv_client *c, uint64_t now_ms, uint8_t *out, size_t cap, size_t *len)
{
	struct rdv_msg m = { .type = RDV_MSG_REGISTER };
	int r;

	if (now_ms < c->next_ms)
		return 0;
	if (c->state == RDV_CLIENT_REGISTERED &&
	    now_ms >= c->last_reply_ms + (uint64_t)c->lease_s * 1000) {
		/* The server has not answered for a whole lease: start over. */
		c->state = RDV_CLIENT_REGISTERING;
		c->retry_ms = RDV_CLIENT_RETRY_MIN_MS;
	}
	m.reg = c->reg;
	memcpy(m.reg.cookie, c->cookie, RDV_COOKIE_LEN);
	m.reg.again = c->intro_missing != 0;
	r = seal(c, &m, out, cap, len);
	if (r < 0)
		return r;
	memcpy(c->cookie_sent, c->cookie, RDV_COOKIE_LEN);
	if (c->state == RDV_CLIENT_REGISTERING || c->last_reply_ms < c->last_sent_ms) {
		/* Registering, or the last refresh went unanswered (server
		 * restarted, or the mapping to it gone): retry soon, backing off. */
		c->next_ms = now_ms + jitter(c->retry_ms);
		c->retry_ms = MIN(c->retry_ms * 2, (uint64_t)RDV_CLIENT_RETRY_MAX_MS);
	} else {
		schedule_refresh(c, now_ms);
	}
	c->last_sent_ms = now_ms;
	return 1;
}

/* An echo is one of our own counters, of this session, newer than the last
 * one taken and not newer than the last one sent. */
static bool echo_fresh(const struct rdv_client *c, uint64_t echo)
{
	return rdv_counter_epoch(echo) == c->epoch && echo > c->echo_floor &&
	       echo <= c->last_counter;
}

static void on_introduce(struct rdv_client *c, const struct rdv_introduce *in)
{
	for (size_t i = 0; i < c->reg.n_want; i++)
		if (sodium_memcmp(c->reg.want[i], in->peer, RDV_KEY_LEN) == 0)
			c->intro_missing &= ~(UINT32_C(1) << i);
	/* Nothing left to ask for: an early re-ask that is still what comes
	 * next becomes the plain refresh. */
	if (!c->intro_missing && c->reask_ms && c->next_ms == c->reask_ms)
		c->next_ms = c->last_sent_ms + refresh_interval(c);
}

enum rdv_status rdv_client_consume(struct rdv_client *c, const uint8_t *pkt, size_t len,
				   uint64_t now_ms, struct rdv_event *ev)
{
	enum rdv_status st;
	uint64_t counter, echo;

	ev->type = RDV_EVENT_NONE;
	/* Symmetric crypto only (the session is cached), so open first: the
	 * window to check against depends on what the message is. */
	st = rdv_open(&c->sess, RDV_DIR_DOWN, pkt, len, &ev->msg, &counter);
	if (st != RDV_OK)
		return st;
	if (ev->msg.type == RDV_MSG_REGISTERED || ev->msg.type == RDV_MSG_CHALLENGE) {
		echo = ev->msg.type == RDV_MSG_REGISTERED ? ev->msg.registered.echo
							  : ev->msg.challenge.echo;
		if (!echo_fresh(c, echo))
			return RDV_E_STALE;
		if (rdv_counter_epoch(counter) != c->down.epoch) {
			/* A server session we have not heard from: it answered a
			 * message we just sent, so it is the live one. Its
			 * registration of us is new, so are its introductions. */
			rdv_replay_reset(&c->down, rdv_counter_epoch(counter));
			c->intro_missing = (uint32_t)((1ull << c->reg.n_want) - 1);
			c->intro_retry_ms = 0;
		}
		if (rdv_replay_check(&c->down, counter) != RDV_OK)
			return RDV_E_REPLAY;
		c->echo_floor = echo;
	} else if (rdv_replay_check(&c->down, counter) != RDV_OK) {
		return RDV_E_REPLAY;
	}
	rdv_replay_update(&c->down, counter);
	switch (ev->msg.type) {
	case RDV_MSG_REGISTERED:
		c->reflexive = ev->msg.registered.reflexive;
		c->lease_s = ev->msg.registered.lease_s;
		c->last_reply_ms = now_ms;
		if (c->state == RDV_CLIENT_REGISTERING)
			schedule_refresh(c, now_ms);
		c->retry_ms = RDV_CLIENT_RETRY_MIN_MS;
		c->state = RDV_CLIENT_REGISTERED;
		ev->type = RDV_EVENT_REGISTERED;
		break;
	case RDV_MSG_CHALLENGE:
		memcpy(c->cookie, ev->msg.challenge.cookie, RDV_COOKIE_LEN);
		/* Answer at once with a cookie we have not tried yet; the same
		 * cookie refused again waits for the retry timer (no loop). */
		if (sodium_memcmp(c->cookie, c->cookie_sent, RDV_COOKIE_LEN) != 0)
			c->next_ms = now_ms;
		ev->type = RDV_EVENT_CHALLENGE;
		break;
	case RDV_MSG_INTRODUCE:
		on_introduce(c, &ev->msg.introduce);
		ev->type = RDV_EVENT_INTRODUCED;
		break;
	case RDV_MSG_RELAY:
		ev->type = RDV_EVENT_RELAY;
		break;
	case RDV_MSG_ERROR:
		ev->type = RDV_EVENT_ERROR;
		break;
	case RDV_MSG_CHANNEL:
		ev->type = RDV_EVENT_CHANNEL;
		break;
	case RDV_MSG_REGISTER:
	case RDV_MSG_CHANNEL_OPEN:
		return RDV_E_UNKNOWN_TYPE; /* never sent by a server */
	}
	return RDV_OK;
}

int rdv_client_build_relay(struct rdv_client *c, const uint8_t to[static RDV_KEY_LEN],
			   const uint8_t *data, size_t n, uint64_t now_ms, uint8_t *out, size_t cap,
			   size_t *len)
{
	struct rdv_msg m = { .type = RDV_MSG_RELAY };

	if (n == 0 || n > RDV_RELAY_DATA_MAX)
		return -EINVAL;
	memcpy(m.relay.peer, to, RDV_KEY_LEN);
	memcpy(m.relay.data, data, n);
	m.relay.len = n;
	(void)now_ms;
	return seal(c, &m, out, cap, len);
}

int rdv_client_build_channel_open(struct rdv_client *c, const uint8_t to[static RDV_KEY_LEN],
				  const uint8_t held[static RDV_CHANNEL_ID_LEN], uint8_t *out,
				  size_t cap, size_t *len)
{
	struct rdv_msg m = { .type = RDV_MSG_CHANNEL_OPEN };

	memcpy(m.channel.peer, to, RDV_KEY_LEN);
	memcpy(m.channel.chan, held, RDV_CHANNEL_ID_LEN);
	return seal(c, &m, out, cap, len);
}
