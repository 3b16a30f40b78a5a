/* Pings the peer with path probes for `tunnelctl ping` (ping.h). */
#include "tunnel/ping.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "tunnel/pathcheck.h"
#include "tunnel/peer.h"
#include "tunnel/tunnel.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void slot_free(struct ping_slot *s)
{
	loop_timer_cancel(&s->tunnel->loop, &s->timer);
	s->client = NULL;
	s->token = 0;
}

static void timed_out(struct loop_timer *timer, uint64_t now_ms)
{
	struct ping_slot *s = container_of(timer, struct ping_slot, timer);
	struct control_client *c = s->client;
	char reply[CONTROL_ERROR_MAX + 32];
	char error[64];
	int len;

	(void)now_ms;
	if (!c)
		return;
	slot_free(s);
	snprintf(error, sizeof(error), "no pong within %u ms", (unsigned)CONTROL_PING_TIMEOUT_MS);
	len = control_format_reply(-ETIMEDOUT, error, reply, sizeof(reply));
	if (len < 0)
		len = snprintf(reply, sizeof(reply), "errno=%d\n\n", ETIMEDOUT);
	control_client_reply(c, reply, (size_t)len);
}

int ping_start(struct tunnel *t, struct control_client *c, char error[static CONTROL_ERROR_MAX])
{
	struct peer *peer = &t->peer;
	struct ping_slot *s = NULL;
	uint64_t token;
	int r;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS && !s; i++) {
		if (!t->ping.slots[i].client)
			s = &t->ping.slots[i];
	}
	if (!s) { /* one per control client: cannot happen */
		snprintf(error, CONTROL_ERROR_MAX, "too many pings at once");
		return -EBUSY;
	}
	*s = (struct ping_slot){ .tunnel = t, .timer = { .expired = timed_out } };
	if (peer->path == PATH_RELAY && t->meet.has_relay) {
		s->relay = true;
		s->to = t->meet.servers[t->meet.relay_server].addr;
	} else if (peer->path == PATH_DIRECT && peer->has_endpoint) {
		s->to = peer->endpoint;
	} else {
		snprintf(error, CONTROL_ERROR_MAX, "no path to the peer yet (%s%s%s)",
			 peer_state_name(peer->state), peer->reason[0] ? ": " : "", peer->reason);
		return -ENOTCONN;
	}
	token = probe_new_token();
	s->sent_us = now_us();
	r = pathcheck_send_probe(peer, s->relay, &s->to, token, 0);
	if (r) {
		snprintf(error, CONTROL_ERROR_MAX, "cannot send the probe: %s", strerror(-r));
		return r;
	}
	s->token = token;
	s->client = c;
	(void)loop_timer_arm(&t->loop, &s->timer, t->loop.now_ms + CONTROL_PING_TIMEOUT_MS);
	return 0;
}

void ping_cancel(struct tunnel *t, struct control_client *c)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (t->ping.slots[i].client == c)
			slot_free(&t->ping.slots[i]);
	}
}

bool ping_answered(struct tunnel *t, const struct rdv_endpoint *from, bool via_relay,
		   uint64_t token)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct ping_slot *s = &t->ping.slots[i];
		struct control_client *c = s->client;
		struct control_pong pong = { .rtt_us = 0 };
		char reply[CONTROL_RESPONSE_MAX];
		int len;

		if (!c || s->token != token || s->relay != via_relay ||
		    !rdv_endpoint_equal(from, &s->to))
			continue;
		pong.rtt_us = now_us() - s->sent_us;
		snprintf(pong.path, sizeof(pong.path), "%s", s->relay ? "relay" : "direct");
		rdv_endpoint_str(&s->to, pong.endpoint, sizeof(pong.endpoint));
		slot_free(s);
		log_debug("%s: pong via %s %s in %llu us", t->cfg.name, pong.path, pong.endpoint,
			  (unsigned long long)pong.rtt_us);
		len = control_format_pong(&pong, reply, sizeof(reply));
		if (len < 0)
			len = snprintf(reply, sizeof(reply), "errno=%d\n\n", -len);
		control_client_reply(c, reply, (size_t)len);
		return true;
	}
	return false;
}
