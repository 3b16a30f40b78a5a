/* The link as a systemd service (Type=notify, common/notify.h): READY=1
 * the first time the link is established or relayed, a STATUS= line
 * (state, path, endpoint, or why not up) each time one of those changes,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 on the way down.
 *
 * "Ready" means packets reach the peer, directly or through the relay: a
 * unit ordered After=tunnel@home.service starts when the link carries
 * traffic. The unit's TimeoutStartSec= bounds the wait. Outside systemd
 * every notification is a no-op; only the status text is kept. */
#ifndef TUNNEL_SERVICE_H
#define TUNNEL_SERVICE_H

#include <stdbool.h>

#include "rendezvous/endpoint.h"
#include "tunnel/control.h"
#include "tunnel/peer.h"

struct tunnel;

enum service_limits {
	SERVICE_STATUS_MAX = CONTROL_REASON_MAX + 96,
};

/* What the status text is made of, as it was when it was last written:
 * comparing these costs far less than formatting the text on every
 * wake-up (an address printed, at each packet of an idle link). */
struct service_inputs {
	enum link_state state;
	enum link_path path;
	bool has_endpoint;
	bool relayed;                        /* state relayed and a relay known */
	struct rdv_endpoint endpoint;        /* the peer's, or the relay server's */
	char reason[CONTROL_REASON_MAX];
};

struct service {
	bool ready;                          /* READY=1 was sent */
	bool has_inputs;                     /* `inputs` holds the last status's */
	struct service_inputs inputs;
	char status[SERVICE_STATUS_MAX];     /* the last STATUS= sent */
};

/* Should be called after each wake-up of the loop, once its events and
 * timers have run: sends READY=1 and STATUS= for what changed. */
void service_settled(struct tunnel *t);

/* Should be called before and after applying a reload. */
void service_reloading(struct tunnel *t);
void service_reloaded(struct tunnel *t);

/* Should be called when the loop has ended, before teardown. */
void service_stopping(struct tunnel *t);

#endif
