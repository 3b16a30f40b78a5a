/* The other end of the link: its WireGuard handshake and sessions, the path
 * packets take to it, and the link state users see in `tunnelctl status`.
 *
 * This file (with peer.c) is the one writer of the link's state, its path
 * and its WireGuard endpoint. Other files only report what happened, through
 * the peer_<event>() functions below, and peer.c decides.
 *
 * States (SPEC.md) and paths:
 *   connecting   looking for the peer: registering, or a static Endpoint's
 *                first handshake not answered yet
 *   punching     probing the peer's candidates, or a handshake under way on
 *                a path just found
 *   established  a session on a direct path
 *   relayed      a session through the rendezvous server's relay
 *   down         the daemon is stopping
 *   Path: none (nowhere to send), direct (peer->endpoint) or relay.
 *
 * Transitions, the event that causes each, and its timeout:
 *   T1  connecting -> punching      peer_probing_started: an introduction
 *                                   gave candidates and a burst of probes
 *                                   began (a burst: every PUNCH_INTERVAL_MS
 *                                   + jitter for PUNCH_WINDOW_MS)
 *   T2  punching -> punching/direct peer_direct_path_answered, no session
 *                                   yet: the handshake starts on that path
 *                                   (the larger key defers it by
 *                                   HANDSHAKE_DEFER_MS; retries every
 *                                   REKEY_TIMEOUT)
 *   T3  punching/connecting -> established
 *                                   peer_session_confirmed on a direct path
 *                                   (a handshake completed, or data arrived)
 *   T4  punching -> relayed         peer_no_direct_path at the end of a burst
 *                                   (PUNCH_WINDOW_MS) with a relay: handshake
 *                                   through it, relayed once a session exists
 *   T5  punching -> punching/none   peer_no_direct_path with no relay
 *   T6  relayed -> established      peer_direct_path_answered during a
 *                                   background burst (every
 *                                   PUNCH_BACKGROUND_MS while not direct):
 *                                   a keepalive goes there, and T8 moves the
 *                                   path when the peer's answer comes back
 *   T7  established -> relayed      peer_unanswered (data sent, nothing
 *                                   authenticated back for PUNCH_QUIET_MS)
 *                                   starts a liveness check (two rounds of
 *                                   probes, PATHCHECK_GIVE_UP_MS); none
 *                                   answered: peer_direct_path_lost, the
 *                                   relay at once, re-register and probe
 *   T8  established -> established  peer_authenticated_from a new address:
 *                                   the endpoint follows (roaming)
 *   T9  connecting -> established   static Endpoint: peer_start sends the
 *                                   first initiation, T3 when it completes
 *   T10 connecting -> connecting    peer_rendezvous_progress: registering,
 *                                   or no server answered in
 *                                   MEET_UNREACHABLE_MS (only the reason
 *                                   changes)
 *   T11 any -> down                 peer_stop
 * Not a transition: a burst in which the probes go unanswered but
 * authenticated traffic keeps arriving on the path in use (the path works;
 * no flapping), and a relayed packet while a direct path works.
 *
 * Every change of state is logged once, with its reason. */
#ifndef TUNNEL_PEER_H
#define TUNNEL_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "crypto/session.h"
#include "rendezvous/endpoint.h"
#include "tunnel/birthday.h"
#include "tunnel/control.h"
#include "tunnel/loop.h"
#include "tunnel/pathcheck.h"
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
	struct pathcheck pathcheck;
	struct birthday birthday;        /* tunnel/birthday.h */
	uint64_t path_changes;           /* moves between paths or endpoints */

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
	uint64_t last_data_sent_ms;        /* 0: never */
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

/* True when `ep` lies inside the peer's AllowedIPs: such an address is
 * reached through the tunnel itself, so it can never carry the tunnel
 * (site-to-site: the peer's LAN address is routed into the link). */
bool peer_endpoint_in_tunnel(const struct peer *peer, const struct rdv_endpoint *ep);

/* True when packets have somewhere to go: a direct endpoint or the relay. */
bool peer_has_path(const struct peer *peer);

/* ---- events: what other files report; peer.c decides ---------------- */

/* The daemon's loop starts: with a static Endpoint, say so and send the
 * first initiation now rather than on the first packet (T9). */
void peer_start(struct peer *peer);

/* The daemon is stopping (T11). */
void peer_stop(struct peer *peer);

/* What meeting the peer through the rendezvous servers is doing while the
 * link is still connecting ("registering with ...", "... unreachable"):
 * only the reason shown changes (T10). */
void peer_rendezvous_progress(struct peer *peer, const char *reason);

/* A burst of probes began at `n_candidates` candidates (T1). */
void peer_probing_started(struct peer *peer, size_t n_candidates);

/* A probe round trip worked with `ep`, and punch.c ranks it above the path
 * in use. Without a session the handshake starts there (T2); with one, an
 * authenticated keepalive goes there and the path moves only when the
 * peer's authenticated answer comes back from it (T6, via T8). */
void peer_direct_path_answered(struct peer *peer, const struct rdv_endpoint *ep);

/* A burst ended and no direct path works (none answered, or the one in use
 * fell silent): the relay if there is one, else nowhere (T4, T5, T7). */
void peer_no_direct_path(struct peer *peer);

/* Data went out and nothing authenticated came back for PUNCH_QUIET_MS:
 * check the direct path in use (tunnel/pathcheck.h), or look for the peer
 * again (T7). */
void peer_unanswered(struct peer *peer);

/* A liveness check of the direct path got no answer at all: the relay
 * takes over at once, and the peer is looked for again (T7). */
void peer_direct_path_lost(struct peer *peer);

/* An authenticated WireGuard message arrived from `from`, directly or
 * through the relay: a direct one moves the endpoint there (T8) and, when
 * that is a move, is answered on the new path (a keepalive unless
 * something else goes first). */
void peer_authenticated_from(struct peer *peer, const struct rdv_endpoint *from, bool via_relay);

/* A session exists (handshake completed, or the first data under a new
 * keypair): established on a direct path, relayed on the relay (T3, T4). */
void peer_session_confirmed(struct peer *peer);

/* A reload changed the config's static Endpoint to `ep` (tunnel/reload.c):
 * as `wg set ... endpoint`, traffic goes there at once. With a session it
 * stays (a keepalive there asks the peer to answer on the new path, T8);
 * without one the first handshake goes there (T9). */
void peer_endpoint_configured(struct peer *peer, const struct rdv_endpoint *ep);

/* A random local index that no live keypair of the peer uses, for the
 * sender index of a new handshake. */
uint32_t peer_new_index(const struct peer *peer);

/* The peer's initiation authenticated, but under the other Mode's prologue
 * (crypto/noise.h): the state stays, the reason (status, log) says that
 * Mode differs; `bridge` is our own mode. */
void peer_mode_mismatch(struct peer *peer, bool bridge);

/* Text forms for status and logs. */
const char *peer_state_name(enum link_state state);
const char *peer_path_name(enum link_path path);

#endif
