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

void service_settled(struct tunnel *t)
{
	struct service *s = &t->service;
	char status[SERVICE_STATUS_MAX];
	bool up = t->peer.state == LINK_ESTABLISHED || t->peer.state == LINK_RELAYED;

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
