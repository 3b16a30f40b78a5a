/* The rendezvous server's logic, without sockets: registrations keyed by
 * public key with leases, introductions on mutual intent, relay between
 * introduced peers, STUN Binding responses, and the abuse limits. The socket
 * loop (loop.c) and the unit tests both feed it datagrams through
 * rdv_server_handle() and send what it puts in the outbox. */
#ifndef RENDEZVOUS_SERVER_H
#define RENDEZVOUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/compiler.h"
#include "rendezvous/envelope.h"
#include "rendezvous/proto.h"

enum rdv_server_defaults {
	RDV_SERVER_MAX_PEERS = 10000,
	RDV_SERVER_MAX_PER_SOURCE = 64, /* registrations per IPv4 address or IPv6 /64 */
	RDV_SOURCE_PREFIX_LEN = 9,      /* family byte, then 4 (IPv4) or 8 (IPv6 /64) bytes */
	RDV_SERVER_LEASE_S = 120,
	RDV_SERVER_RELAY_RATE = 4 << 20, /* bytes per second per peer */
	RDV_SERVER_STUN_RATE = 10,       /* Binding responses per second per source */
	RDV_SERVER_STUN_BURST = 20,
	RDV_SERVER_CRYPTO_RATE = 20,     /* X25519 per second per source (unknown keys) */
	RDV_SERVER_CRYPTO_BURST = 40,
	RDV_SERVER_RATELIMIT_SLOTS = 65536,
	RDV_SERVER_OUTBOX = 2 + 2 * RDV_WANT_MAX, /* registered + two per wanted peer */
	RDV_SERVER_COOKIE_ROTATE_MS = 120000,     /* a cookie is good for 2 to 4 minutes */
};

struct rdv_server_config {
	uint8_t private_key[RDV_KEY_LEN];
	size_t max_peers;
	size_t max_per_source; /* registrations per IPv4 address or IPv6 /64 */
	uint32_t lease_s;
	uint32_t relay_rate;  /* bytes/s per peer; the burst is a quarter second of it, at least 64 KiB */
	uint32_t stun_rate, stun_burst;
	uint32_t crypto_rate, crypto_burst;
	bool no_channels; /* behave as a server without channels: CHANNEL_OPEN goes unanswered */
};

/* Counters, read by the stats dump and by tests. */
struct rdv_server_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t drop_unknown, drop_wireguard, drop_probe;
	uint64_t stun_replies, stun_malformed, stun_unanswerable, stun_rate_limited;
	uint64_t rdv_accepted, rdv_rejected[RDV_STATUS_COUNT], rdv_wrong_direction;
	uint64_t crypto_rate_limited, low_order_keys, unexpected_type;
	uint64_t peers, registrations, refreshes, endpoint_changes, expired, refused_full;
	uint64_t refused_source_full, refused_key, revoked;
	uint64_t introductions;
	uint64_t relay_packets, relay_bytes, relay_rate_limited, relay_not_introduced,
		relay_not_registered, relay_dest_limited;
	uint64_t outbox_full, errors_sent;
	uint64_t challenges, challenge_oversize, new_sessions;
	/* Relay channels (docs/PROTOCOL.md 3.7). relay_packets and relay_bytes
	 * count every relayed datagram of either kind (RELAY or channel);
	 * channel_packets and channel_bytes are the channel part of them. */
	uint64_t channels, channels_opened, channel_packets, channel_bytes, channel_dropped_unknown,
		channel_dropped_source, channel_dropped_malformed;
};

/* One datagram to send: on the socket the trigger arrived on (or the one the
 * target registered through), to `to`. */
struct rdv_datagram {
	int sock;
	struct sockaddr_storage to;
	socklen_t to_len;
	size_t len;
	uint8_t buf[RDV_DATAGRAM_MAX];
};

struct rdv_outbox {
	struct rdv_datagram *d;
	size_t cap, n;
};

struct rdv_server;

/* Returns a new server, or NULL (errno set) if memory or the key is bad. */
struct rdv_server *rdv_server_new(const struct rdv_server_config *cfg);

/* Frees everything and wipes keys; NULL is fine. */
void rdv_server_free(struct rdv_server *srv);

void rdv_server_config_defaults(struct rdv_server_config *cfg);

const uint8_t *rdv_server_public_key(const struct rdv_server *srv);

struct rdv_allowed;

/* Only the keys in *allowed may register from now on (the server takes the
 * list over and empties *allowed); NULL: any key. Registrations of keys no
 * longer allowed end at once. Datagrams naming another key get no reply
 * and cost no public-key work. */
void rdv_server_set_allowed(struct rdv_server *srv, struct rdv_allowed *allowed);

/* Handles one received datagram from src (which arrived on socket `sock`),
 * appending any replies to out. Never fails: bad input is counted. */
void rdv_server_handle(struct rdv_server *srv, int sock, const struct sockaddr *src,
		       const uint8_t *pkt, size_t len, uint64_t now_ms, struct rdv_outbox *out);

/* Drops registrations whose lease ended. Call about once a second. */
void rdv_server_expire(struct rdv_server *srv, uint64_t now_ms);

/* STUN answers to datagrams that arrived on `sock` carry `other` as their
 * RFC 5780 OTHER-ADDRESS (tunnel-rendezvous --alt-port: the same address
 * on the other port). At most RDV_SERVER_OTHER_MAX sockets; -ENOSPC past. */
enum { RDV_SERVER_OTHER_MAX = 16 };
must_check int rdv_server_set_other_address(struct rdv_server *srv, int sock,
					    const struct rdv_endpoint *other);

const struct rdv_server_stats *rdv_server_stats(const struct rdv_server *srv);

/* Writes the counters as "name value" lines. */
void rdv_server_stats_print(const struct rdv_server *srv, FILE *f);

/* A short fingerprint of a key for logs: the first 8 base64 characters. */
enum { RDV_FINGERPRINT_LEN = 9 };
void rdv_key_fingerprint(const uint8_t key[static RDV_KEY_LEN], char out[static RDV_FINGERPRINT_LEN]);

#endif
