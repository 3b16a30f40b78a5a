/* The link's one UDP socket. It carries WireGuard, rendezvous messages and
 * path probes alike, so all of them share one NAT mapping. Dual-stack: an
 * IPv6 socket that also takes IPv4 (as v4-mapped addresses), or plain IPv4
 * where the host has IPv6 turned off. Datagrams move in batches
 * (recvmmsg/sendmmsg) into buffers allocated once at start. */
#ifndef TUNNEL_UDP_H
#define TUNNEL_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"

enum udp_limits {
	UDP_BATCH = 32,
	/* Socket buffers: a burst arriving while the daemon waits for the CPU
	 * must not overflow them (the default ~200 KiB lost a tenth of a TCP
	 * stream in the lab). */
	UDP_SOCKET_BUFFER = 8 << 20,
};

struct udp_datagram {
	uint8_t *data;           /* UDP_BATCH buffers of buf_size bytes each */
	size_t len;
	struct rdv_endpoint from; /* receive: the sender; send: the destination */
};

struct udp_socket {
	int fd;
	bool ipv6;               /* an AF_INET6 dual-stack socket */
	uint16_t port;           /* the bound port, host order */
	size_t buf_size;
	uint8_t *rx_storage;
	struct udp_datagram rx[UDP_BATCH];
};

/* Opens and binds the socket on `port` (0: any), non-blocking, with
 * buffers for datagrams of up to buf_size bytes. */
must_check int udp_open(struct udp_socket *s, uint16_t port, size_t buf_size);

/* Closes the socket and frees the buffers; safe on a zeroed struct. */
void udp_close(struct udp_socket *s);

/* Receives up to UDP_BATCH datagrams into s->rx[]. Returns how many
 * (0 when none is waiting) or a negative errno. A datagram longer than
 * buf_size is dropped and counted in *truncated. */
must_check int udp_receive_batch(struct udp_socket *s, unsigned *truncated);

/* Sends one datagram. -EAGAIN when the socket buffer is full (the caller
 * drops: UDP, like the network, may lose packets). */
must_check int udp_send(struct udp_socket *s, const struct rdv_endpoint *to,
			const uint8_t *data, size_t len);

/* Sends n datagrams, UDP_BATCH per sendmmsg. A datagram the kernel refuses
 * (full buffer, unreachable family) is dropped like a lost packet and the
 * rest still go. Returns how many were handed over (their bytes added to
 * *bytes_sent), or a negative errno if the first batch failed outright. */
must_check int udp_send_batch(struct udp_socket *s, const struct udp_datagram *msgs, size_t n,
				size_t *bytes_sent);

#endif
