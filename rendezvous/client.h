/* The peer side of the rendezvous protocol as a socket-free state machine.
 * The engine (or tests/tools/rdv_probe.c, or a unit test) drives it:
 *   - rdv_client_poll() when rdv_client_next_ms() is due: maybe a REGISTER
 *     (first registration, retries with backoff, refreshes) to send;
 *   - rdv_client_consume() for each datagram demux_classify() calls
 *     DEMUX_RENDEZVOUS: an event (registered, introduced, relay, error);
 *   - rdv_client_build_relay() to send data through the server;
 *   - rdv_client_build_channel_open() to ask for a relay channel.
 *
 *   state        on                                  goes to
 *   REGISTERING  REGISTERED received                 REGISTERED (event)
 *   REGISTERING  retry timer (1 s doubling to 16 s)  REGISTERING (resend)
 *   REGISTERED   refresh timer (lease / 3, or the     REGISTERED (resend)
 *                refresh cap if shorter)
 *   REGISTERED   a refresh still unanswered at the    REGISTERED (resend, then
 *                next one                             retry 1 s doubling to 16 s)
 *   REGISTERED   no REGISTERED for a whole lease     REGISTERING
 *   any          want or LAN list changed            same state, REGISTER due now
 *   any          CHALLENGE with a new cookie         same state, REGISTER (with the
 *                                                    cookie) due now
 *
 * Freshness without clocks: the nonce counters of our messages carry our
 * session (random at init) and a sequence number. REGISTERED and CHALLENGE
 * are taken only when they echo one of our counters newer than the last
 * echo taken; such a message also names the server's current session, and
 * every other server message must come from that session and pass its
 * replay window. A restarted server (new session, no registration) answers
 * our next message with a CHALLENGE and we are registered again one round
 * trip later.
 */
#ifndef RENDEZVOUS_CLIENT_H
#define RENDEZVOUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/envelope.h"
#include "rendezvous/proto.h"

enum rdv_client_timers {
	RDV_CLIENT_RETRY_MIN_MS = 1000,
	RDV_CLIENT_RETRY_MAX_MS = 16000,
	/* A wanted peer not introduced yet: REGISTER (again = 1) after 2 s,
	 * doubling to 32 s, while the refresh is longer. */
	RDV_CLIENT_INTRO_RETRY_MIN_MS = 2000,
	RDV_CLIENT_INTRO_RETRY_MAX_MS = 32000,
};

enum rdv_client_state {
	RDV_CLIENT_REGISTERING,
	RDV_CLIENT_REGISTERED,
};

enum rdv_event_type {
	RDV_EVENT_NONE,       /* accepted, nothing to report */
	RDV_EVENT_REGISTERED, /* msg.registered: our reflexive endpoint and lease */
	RDV_EVENT_INTRODUCED, /* msg.introduce: a peer we asked for, and its candidates */
	RDV_EVENT_RELAY,      /* msg.relay: data relayed from msg.relay.peer */
	RDV_EVENT_ERROR,      /* msg.error: the server refused a request */
	RDV_EVENT_CHALLENGE,  /* msg.challenge: taken; a REGISTER may be due (next_ms) */
	RDV_EVENT_CHANNEL,    /* msg.channel: the relay channel shared with msg.channel.peer */
};

struct rdv_event {
	enum rdv_event_type type;
	struct rdv_msg msg;
};

struct rdv_client {
	uint8_t private_key[RDV_KEY_LEN];
	uint8_t public_key[RDV_KEY_LEN];
	uint8_t server_key[RDV_KEY_LEN];
	struct rdv_session sess;
	uint32_t epoch;          /* our session: the top bits of our counters */
	uint64_t last_counter;   /* the last counter we sealed with */
	uint64_t echo_floor;     /* the newest of our counters echoed back to us */
	struct rdv_replay down;  /* the server's session and its window */
	uint8_t cookie[RDV_COOKIE_LEN];      /* from the last CHALLENGE (zeros: none) */
	uint8_t cookie_sent[RDV_COOKIE_LEN]; /* what the last REGISTER carried */
	uint32_t intro_missing;  /* bit i: no INTRODUCE for reg.want[i] yet */
	struct rdv_register reg; /* what we announce: LAN candidates and wants */
	enum rdv_client_state state;
	struct rdv_endpoint reflexive;
	uint32_t lease_s;
	uint64_t next_ms;        /* when poll has something to send */
	uint64_t retry_ms;       /* current retry interval while registering */
	uint64_t intro_retry_ms; /* next re-ask while intro_missing; 0: the minimum */
	uint64_t reask_ms;       /* next_ms when it was set for a re-ask, else 0 */
	uint64_t last_reply_ms;  /* last REGISTERED */
	uint64_t last_sent_ms;   /* last REGISTER */
	uint64_t refresh_max_ms; /* 0: refresh at lease / 3 */
};

/* Sets up a client for private key `sk` and the pinned server key, with a
 * new random session. Returns 0 or -EINVAL (bad server key). A REGISTER is
 * due at once. No wall clock: now_ms is any clock that counts elapsed time. */
must_check int rdv_client_init(struct rdv_client *c, const uint8_t sk[static RDV_KEY_LEN],
			       const uint8_t server_pk[static RDV_KEY_LEN], uint64_t now_ms);

/* Wipes the keys. */
void rdv_client_wipe(struct rdv_client *c);

/* Replace what the next REGISTER announces; a REGISTER becomes due now.
 * -E2BIG past RDV_WANT_MAX / RDV_LAN_MAX. */
must_check int rdv_client_set_wants(struct rdv_client *c, const uint8_t (*keys)[RDV_KEY_LEN],
				    size_t n, uint64_t now_ms);
must_check int rdv_client_set_lan(struct rdv_client *c, const struct rdv_endpoint *lan, size_t n,
				  uint64_t now_ms);

/* Asks the server to send every introduction again with the next REGISTER,
 * which becomes due now (the link suspects its path died). */
void rdv_client_request_introductions(struct rdv_client *c, uint64_t now_ms);

/* Refreshes the registration at least every `ms` (0: lease / 3 only), so
 * the NAT mapping towards the server lives as long as the link's own; the
 * engine passes its PersistentKeepalive. */
void rdv_client_set_refresh_max(struct rdv_client *c, uint64_t ms);

/* When rdv_client_poll() should next be called. */
uint64_t rdv_client_next_ms(const struct rdv_client *c);

/* If a REGISTER is due, writes it to out and returns 1 (*len set); returns 0
 * when nothing is due, or a negative errno. Advances the timers. */
must_check int rdv_client_poll(struct rdv_client *c, uint64_t now_ms, uint8_t *out, size_t cap,
			       size_t *len);

/* Authenticates and decodes a datagram from the server. Anything but RDV_OK
 * is a drop; the caller counts it. */
enum rdv_status rdv_client_consume(struct rdv_client *c, const uint8_t *pkt, size_t len,
				   uint64_t now_ms, struct rdv_event *ev);

/* Builds a RELAY of data[0..n) to peer `to` (1..RDV_RELAY_DATA_MAX bytes). */
must_check int rdv_client_build_relay(struct rdv_client *c, const uint8_t to[static RDV_KEY_LEN],
				      const uint8_t *data, size_t n, uint64_t now_ms,
				      uint8_t *out, size_t cap, size_t *len);

/* Builds a CHANNEL_OPEN for peer `to`; `held` is the channel id we hold
 * for it (zeros: none). The answer is a CHANNEL event. */
must_check int rdv_client_build_channel_open(struct rdv_client *c,
					     const uint8_t to[static RDV_KEY_LEN],
					     const uint8_t held[static RDV_CHANNEL_ID_LEN],
					     uint8_t *out, size_t cap, size_t *len);

#endif
