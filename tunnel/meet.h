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
#include "tunnel/netcheck.h"
#include "tunnel/portmap.h"

struct tunnel;
struct udp_datagram;

enum meet_timing {
	MEET_UNREACHABLE_MS = 3000, /* no answer this long: say so in status */
	MEET_NATCHECK_MS = 3000,    /* the mapping test at start ends by then */
	MEET_CHANNEL_RETRY_MIN_MS = 5000,  /* CHANNEL_OPEN unanswered: ask again, */
	MEET_CHANNEL_RETRY_MAX_MS = 60000, /* doubling up to this (an old server never answers) */
	MEET_CHANNEL_BATCH = 64,           /* channel datagrams framed per send */
};

struct meet_server {
	struct rdv_client client;
	struct rdv_endpoint addr;
	bool answered;           /* a REGISTERED came back at least once */
	struct rdv_endpoint reflexive; /* ours, as this server saw it last */
	/* The relay channel to the peer through this server (PROTOCOL.md 3.7):
	 * WireGuard messages relayed with a 12-byte header instead of a RELAY. */
	bool has_chan;
	uint8_t chan[RDV_CHANNEL_ID_LEN];
	uint64_t chan_ask_ms;   /* next CHANNEL_OPEN while none is held; 0: not asking */
	uint64_t chan_retry_ms; /* the back-off after it */
};

/* What the servers' views of us say about our NAT (status "nat"). */
enum meet_nat_mapping {
	MEET_NAT_UNKNOWN,              /* fewer than two servers answered */
	MEET_NAT_ENDPOINT_INDEPENDENT, /* every server sees the same ip:port */
	MEET_NAT_ENDPOINT_DEPENDENT,   /* they see different ones: a symmetric NAT */
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
	uint8_t *chan_buf;              /* MEET_CHANNEL_BATCH framed datagrams, on first use */
	struct portmap portmap;         /* the router's mapping of our port, if any */
	struct loop_timer portmap_timer; /* renews it at half its lifetime */
	/* The mapping test (netcheck.h) at start, on its own sockets: STUN to
	 * every server and to the other port it names (--alt-port). */
	struct netcheck natcheck;
	struct loop_watch natcheck_w4, natcheck_w6;
	struct loop_timer natcheck_timer;
	bool natcheck_running, natcheck_done;
};

/* Sets up one client per configured server (none: nothing to do). Called
 * again after meet_destroy (a reload, new keys, a name that resolved), it
 * keeps the router's port mapping and its renewal. */
must_check int meet_init(struct tunnel *t);

/* Sends the first registrations and starts the refresh timer. */
void meet_start(struct tunnel *t);

/* Registers again with every server now, with our current LAN addresses:
 * the link suspects its path died, maybe because an address changed. */
void meet_refresh(struct tunnel *t);

/* Asks the router for a mapping of the link's port (PortMapping = on),
 * blocking for at most portmap.h's budgets; the mapped endpoint becomes the
 * first candidate we register. Call once before the loop runs, before
 * meet_start(). */
void meet_portmap_start(struct tunnel *t);

/* Deletes the router's mapping (on `down`, after the loop ends). */
void meet_portmap_stop(struct tunnel *t);

/* Starts the mapping test, driven by the loop; nothing when there is no
 * server. Call once before the loop runs (after meet_portmap_start). */
void meet_natcheck_start(struct tunnel *t);

/* Mapping behaviour as far as the servers' answers tell: the mapping test
 * if it found out, else whether two different servers see us alike. */
enum meet_nat_mapping meet_nat_mapping(const struct tunnel *t);

/* Wipes the clients' keys; the router's port mapping stays (see
 * meet_portmap_stop). */
void meet_destroy(struct tunnel *t);

/* Handles a DEMUX_RENDEZVOUS datagram. */
void meet_receive(struct tunnel *t, struct udp_datagram *d);

/* The relay path: wraps a WireGuard datagram in a RELAY to the peer and
 * sends it through the server that introduced us. The server sees only
 * WireGuard ciphertext: the link stays end-to-end encrypted. */
void meet_send_relay(struct tunnel *t, const uint8_t *data, size_t len);

/* The same for a batch of WireGuard messages: through the channel in
 * batched sends when there is one, else one RELAY each. */
void meet_send_relay_batch(struct tunnel *t, const struct udp_datagram *msgs, size_t n);

/* True while relayed WireGuard messages go through a relay channel: the
 * server that introduced us gave us the pair's channel id. */
bool meet_channel_open(const struct tunnel *t);

/* The relay channel as status shows it (`relay_channel`): "open" (relayed
 * WireGuard messages use it), "asking" (CHANNEL_OPEN sent, no channel yet:
 * RELAY messages carry them; a server without channels never answers), or
 * "none" (no server introduced us yet, or none is configured). */
const char *meet_channel_state(const struct tunnel *t);

/* The UDP payload of a RELAY message carrying n bytes (1..RDV_RELAY_DATA_MAX),
 * as rdv_client_build_relay makes it. */
size_t meet_relay_len(size_t n);

/* Handles a DEMUX_CHANNEL datagram: the inner WireGuard message counts as
 * relayed only if it comes from our relay server with the channel id it
 * gave us for the peer; anything else is dropped and counted. */
void meet_receive_channel(struct tunnel *t, struct udp_datagram *d);

#endif
