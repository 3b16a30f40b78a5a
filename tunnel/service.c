/* The link's notifications to systemd (see service.h). */
#include "tunnel/service.h"

#include <stdio.h>
#include <string.h>

#include "common/notify.h"
#include "tunnel/tunnel.h"

/* What `systemctl status` shows: the state and where packets go, or why
 * the link is not up (the same words as `tunnelctl status`). */
static void format_status(const struct tunnel *t, char *buf, size_t size)
{
	const struct peer *peer = &t->peer;
	char ep[RDV_ENDPOINT_STR];

	if (peer->state == LINK_RELAYED && t->meet.has_relay)
		snprintf(buf, size, "relayed through %s",
			 rdv_endpoint_str(&t->meet.servers[t->meet.relay_server].addr, ep,
					  sizeof(ep)));
	else if (peer->state == LINK_ESTABLISHED && peer->has_endpoint)
		snprintf(buf, size, "established, %s path to %s", peer_path_name(peer->path),
			 rdv_endpoint_str(&peer->endpoint, ep, sizeof(ep)));
	else
		snprintf(buf, size, "%s: %s", peer_state_name(peer->state),
			 peer->reason[0] ? peer->reason : "-");
}

/* Everything format_status reads, in a form that compares equal when the
 * text would be the same. */
static void status_inputs(const struct tunnel *t, struct service_inputs *in)
{
	const struct peer *peer = &t->peer;

	in->state = peer->state;
	in->path = peer->path;
	in->has_endpoint = peer->has_endpoint;
	in->relayed = peer->state == LINK_RELAYED && t->meet.has_relay;
	in->endpoint = in->relayed ? t->meet.servers[t->meet.relay_server].addr : peer->endpoint;
}

static bool inputs_equal(const struct service_inputs *a, const struct service_inputs *b,
			 const char *reason)
{
	return a->state == b->state && a->path == b->path && a->has_endpoint == b->has_endpoint &&
	       a->relayed == b->relayed && rdv_endpoint_equal(&a->endpoint, &b->endpoint) &&
	       !strcmp(b->reason, reason);
}

void service_settled(struct tunnel *t)
{
	struct service *s = &t->service;
	struct service_inputs in;
	char status[SERVICE_STATUS_MAX];
	bool up = t->peer.state == LINK_ESTABLISHED || t->peer.state == LINK_RELAYED;

	/* Nothing the text shows changed since it was written, and no READY=1
	 * is due: done. */
	status_inputs(t, &in);
	if (s->has_inputs && (s->ready || !up) && inputs_equal(&in, &s->inputs, t->peer.reason))
		return;
	snprintf(in.reason, sizeof(in.reason), "%s", t->peer.reason);
	s->inputs = in;
	s->has_inputs = true;
	format_status(t, status, sizeof(status));
	if (s->ready && !strcmp(status, s->status))
		return;
	if (!s->ready && up) {
		s->ready = true;
		notify_ready(status);
	} else if (strcmp(status, s->status)) {
		notify_status(status);
	}
	snprintf(s->status, sizeof(s->status), "%s", status);
}

void service_reloading(struct tunnel *t)
{
	/* Before READY=1 systemd is still starting us: a SIGHUP then is a
	 * plain reload, with no reloading state to enter or leave. */
	if (t->service.ready)
		notify_reloading("reloading the config");
}

void service_reloaded(struct tunnel *t)
{
	struct service *s = &t->service;

	s->has_inputs = false;
	format_status(t, s->status, sizeof(s->status));
	if (s->ready)
		notify_ready(s->status);
	else
		notify_status(s->status);
}

void service_stopping(struct tunnel *t)
{
	(void)t;
	notify_stopping();
}
