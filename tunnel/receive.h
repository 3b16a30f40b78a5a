/* Everything that arrives on the link's UDP socket: the demultiplexing rule
 * of docs/PROTOCOL.md §1 (rendezvous/demux.c), then WireGuard's four
 * messages, rendezvous replies and path probes. */
#ifndef TUNNEL_RECEIVE_H
#define TUNNEL_RECEIVE_H

struct tunnel;

#include <stdbool.h>

struct udp_datagram;

/* The socket is readable: handles a batch of datagrams. */
void receive_from_udp(struct tunnel *t);

/* Handles one WireGuard datagram, received directly or (via_relay) unwrapped
 * from a rendezvous RELAY; decrypts in place. */
void receive_wireguard(struct tunnel *t, struct udp_datagram *d, bool via_relay);

/* The same for a WireGuard message unwrapped from a relay channel datagram
 * (docs/PROTOCOL.md 3.7): relayed, but still in the receive batch's buffer,
 * so its data joins the batch's TUN writes (and their coalescing). */
void receive_wireguard_channel(struct tunnel *t, struct udp_datagram *d);

#endif
