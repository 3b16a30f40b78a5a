/* Everything that arrives on the link's UDP socket: the demultiplexing rule
 * of docs/PROTOCOL.md §1 (rendezvous/demux.c), then WireGuard's four
 * messages, rendezvous replies and path probes. */
#ifndef TUNNEL_RECEIVE_H
#define TUNNEL_RECEIVE_H

struct tunnel;

/* The socket is readable: handles a batch of datagrams. */
void receive_from_udp(struct tunnel *t);

#endif
