/* The other end of the link: its WireGuard handshake and sessions, the path
 * packets take to it, and the link state users see in `tunnelctl status`.
 *
 * Link states (SPEC.md), and what moves between them:
 *
 *   connecting --introduced by rendezvous--> punching
 *   connecting/punching --handshake done on a direct path--> established
 *   punching --no direct path answers--> relayed --direct path found--> established
 *   established --path dead--> connecting (re-probe, re-register)
 *   any --daemon stopping--> down
 *
 * With a static Endpoint there is no rendezvous: connecting leads straight
 * to established once a handshake completes. Every change is logged once
 * with its reason (peer_set_state). */
#ifndef TUNNEL_PEER_H
#define TUNNEL_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "crypto/session.h"
#include "rendezvous/endpoint.h"
#include "tunnel/control.h"
#include "tunnel/loop.h"
#include "tunnel/punch.h"

struct tunnel;

enum link_state {
	LINK_CONNECTING,
	LINK_PUNCHING,
	LINK_ESTABLISHED,
	LINK_RELAYED,
	LINK_DOWN,
};

enum link_path {
	PATH_NONE,
	PATH_DIRECT,
	PATH_RELAY,
};

enum peer_limits {
	PEER_STAGED_MAX = 32, /* packets held while a handshake is under way */
};

struct peer {
	struct tunnel *tunnel;

	enum link_state state;
	char reason[CONTROL_REASON_MAX]; /* why not (yet) established */

	struct noise_handshake handshake;
	struct keypairs keypairs;
	struct cookie_maker cookie;

	enum link_path path;
	struct rdv_endpoint endpoint;    /* where direct WireGuard packets go */
	bool has_endpoint;
	struct punch punch;

	/* WireGuard's timers (tunnel/timers.c) */
	struct loop_timer retransmit_handshake;
	struct loop_timer send_keepalive;
	struct loop_timer new_handshake;
	struct loop_timer zero_key_material;
	struct loop_timer persistent_keepalive;
	unsigned handshake_attempts;
	bool need_another_keepalive;
	uint64_t last_initiation_sent_ms;  /* 0: never */
	uint64_t last_handshake_ms;        /* 0: never */
	uint64_t last_direct_rx_ms;        /* last authenticated packet not via relay */
	unsigned persistent_keepalive_s;

	/* packets from the TUN waiting for a session */
	uint8_t *staged[PEER_STAGED_MAX];
	size_t staged_len[PEER_STAGED_MAX];
	size_t n_staged;

	uint64_t rx_bytes, tx_bytes;
};

/* Sets up the peer from the link's config: keys, psk, static endpoint,
 * timers. The peer holds no heap memory except the staged packet buffers,
 * of `packet_max` bytes each. */
must_check int peer_init(struct peer *peer, struct tunnel *tunnel);

/* Wipes keys and frees buffers. */
void peer_destroy(struct peer *peer);

/* Moves to `state`, logging the change and its reason once. */
void peer_set_state(struct peer *peer, enum link_state state, enum link_path path,
		    const char *reason);

/* After a handshake or a path change with a live session: established on a
 * direct path, relayed on the relay. */
void peer_update_state(struct peer *peer);

/* True when `ep` lies inside the peer's AllowedIPs: such an address is
 * reached through the tunnel itself, so it can never carry the tunnel
 * (site-to-site: the peer's LAN address is routed into the link). */
bool peer_endpoint_in_tunnel(const struct peer *peer, const struct rdv_endpoint *ep);

/* True when packets have somewhere to go: a direct endpoint or the relay. */
bool peer_has_path(const struct peer *peer);

/* Points the WireGuard traffic at `ep` (roaming, punching, relay), logging
 * a change of endpoint. */
void peer_set_endpoint(struct peer *peer, const struct rdv_endpoint *ep);

/* A random local index that no live keypair of the peer uses, for the
 * sender index of a new handshake. */
uint32_t peer_new_index(const struct peer *peer);

/* Text forms for status and logs. */
const char *peer_state_name(enum link_state state);
const char *peer_path_name(enum link_path path);

#endif
