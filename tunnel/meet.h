/* Meeting the peer through the rendezvous servers of `Rendezvous =`: one
 * socket-free client (rendezvous/client.h) per server, all speaking over the
 * link's own UDP socket so they share its NAT mapping. Registers with every
 * server (any one is enough to meet), announces our LAN candidates, asks
 * for the peer, and turns introductions into punching. */
#ifndef TUNNEL_MEET_H
#define TUNNEL_MEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/client.h"
#include "rendezvous/envelope.h"
#include "tunnel/config.h"
#include "tunnel/loop.h"

struct tunnel;
struct udp_datagram;

enum meet_timing {
	MEET_UNREACHABLE_MS = 3000, /* no answer this long: say so in status */
};

struct meet_server {
	struct rdv_client client;
	struct rdv_endpoint addr;
	bool answered;           /* a REGISTERED came back at least once */
};

struct meet {
	struct meet_server servers[CONFIG_MAX_RENDEZVOUS];
	size_t n_servers;
	struct loop_timer timer;
	uint64_t started_ms;
	bool has_reflexive;
	struct rdv_endpoint reflexive;  /* ours, as the first server saw it */
	bool has_relay;
	size_t relay_server;            /* the server that introduced us */
	uint8_t out[RDV_DATAGRAM_MAX];
};

/* Sets up one client per configured server (none: nothing to do). */
must_check int meet_init(struct tunnel *t);

/* Sends the first registrations and starts the refresh timer. */
void meet_start(struct tunnel *t);

/* Registers again with every server now, with our current LAN addresses:
 * the link suspects its path died, maybe because an address changed. */
void meet_refresh(struct tunnel *t);

/* Wipes the clients' keys. */
void meet_destroy(struct tunnel *t);

/* Handles a DEMUX_RENDEZVOUS datagram. */
void meet_receive(struct tunnel *t, struct udp_datagram *d);

/* The relay path: wraps a WireGuard datagram in a RELAY to the peer and
 * sends it through the server that introduced us. The server sees only
 * WireGuard ciphertext: the link stays end-to-end encrypted. */
void meet_send_relay(struct tunnel *t, const uint8_t *data, size_t len);

#endif
