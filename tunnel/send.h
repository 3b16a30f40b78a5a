/* Everything the link sends to its peer: data from the TUN, keepalives and
 * handshake messages. */
#ifndef TUNNEL_SEND_H
#define TUNNEL_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/peer.h"

struct tunnel;

/* The TUN is readable: reads a batch of packets, encrypts them and sends
 * them in one sendmmsg, or stages them and starts a handshake. */
void send_from_tun(struct tunnel *t);

/* Sends a handshake initiation, at most once per REKEY_TIMEOUT unless this
 * is the retransmit timer's retry. */
void send_handshake_initiation(struct peer *peer, bool is_retry);

/* Sends an empty data message, or starts a handshake if there is no session. */
void send_keepalive(struct peer *peer);

/* Sends what was staged while the handshake ran; a keepalive if nothing was
 * (so the responder learns the session works). */
void send_staged_packets(struct peer *peer);

/* Forgets the staged packets (handshake gave up). */
void send_drop_staged(struct peer *peer);

/* Sends an authenticated keepalive to `to`, not along the path in use:
 * a path check the peer answers from there (peer.c). Nothing without a
 * session. */
void send_path_check(struct peer *peer, const struct rdv_endpoint *to);

/* Mode = bridge: the length of a frame's layer-2 header (Ethernet, or
 * Ethernet and one 802.1Q tag); *is_ip tells whether IPv4 or IPv6 follows.
 * `len` must be at least TUN_ETH_HEADER_LEN. */
size_t send_frame_l2_len(const uint8_t *frame, size_t len, bool *is_ip);

/* Sends one datagram along the peer's current path. */
void send_to_peer(struct peer *peer, const uint8_t *data, size_t len);

#endif
