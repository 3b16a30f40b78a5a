/* Every timer of the peer: WireGuard's (whitepaper §6) and the path's
 * (probe bursts, liveness), as event hooks that send.c, receive.c, punch.c
 * and peer.c call. The expiry handlers are private to timers.c. */
#ifndef TUNNEL_TIMERS_H
#define TUNNEL_TIMERS_H

#include "tunnel/peer.h"

/* Sets the expiry callbacks; call once from peer_init. */
void timers_init(struct peer *peer);

/* Disarms every timer of the peer (link going down). */
void timers_stop(struct peer *peer);

/* Should be called after a data message (not a keepalive) is sent. */
void timers_data_sent(struct peer *peer);

/* Should be called after a data message (not a keepalive) is received. */
void timers_data_received(struct peer *peer);

/* Should be called after any authenticated message is sent (data,
 * keepalive or handshake). */
void timers_any_authenticated_packet_sent(struct peer *peer);

/* Should be called after any authenticated message is received. */
void timers_any_authenticated_packet_received(struct peer *peer);

/* Should be called after an authenticated message is sent or received:
 * pushes the persistent keepalive back. */
void timers_any_authenticated_packet_traversal(struct peer *peer);

/* Should be called after a handshake initiation is sent. */
void timers_handshake_initiated(struct peer *peer);

/* Should be called after a handshake completes: response consumed, or the
 * first data under a responder's keypair arrived. */
void timers_handshake_complete(struct peer *peer);

/* Should be called after a new keypair is derived. */
void timers_session_derived(struct peer *peer);

/* Should be called when a direct path was found and the other side is
 * expected to start the handshake: ours follows after HANDSHAKE_DEFER_MS
 * unless theirs arrives (the retransmit timer, armed early). */
void timers_handshake_deferred(struct peer *peer);

/* Should be called after a round of probes is sent during a burst: the
 * next round follows in PUNCH_INTERVAL_MS plus jitter. */
void timers_probe_round_sent(struct peer *peer);

/* Should be called when a burst ends without a working direct path: the
 * next burst starts in PUNCH_BACKGROUND_MS. */
void timers_burst_ended(struct peer *peer);

/* Should be called when an authenticated packet moved the peer's endpoint:
 * a keepalive answers on the new path at once, unless something
 * authenticated is sent first (which cancels it, as for any passive
 * keepalive). */
void timers_path_moved(struct peer *peer);

/* Should be called by pathcheck.c: its PLPMTUD step is due at `at_ms`. */
void timers_pmtu_due(struct peer *peer, uint64_t at_ms);

/* Should be called by pathcheck.c: its liveness check's next round is due
 * in `delay_ms`. */
void timers_pathcheck_due(struct peer *peer, uint64_t delay_ms);

/* Applies a new PersistentKeepalive interval (0: off) and arms it. */
void timers_set_persistent_keepalive(struct peer *peer, unsigned seconds);

#endif
