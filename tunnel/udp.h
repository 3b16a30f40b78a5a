/* The link's one UDP socket. It carries WireGuard, rendezvous messages and
 * path probes alike, so all of them share one NAT mapping. Dual-stack: an
 * IPv6 socket that also takes IPv4 (as v4-mapped addresses), or plain IPv4
 * where the host has IPv6 turned off.
 *
 * Datagrams move in batches, with the kernel's UDP offloads where it has
 * them: a run of equal-sized datagrams to one destination leaves in a single
 * sendmsg (UDP_SEGMENT, "GSO"), and the kernel may hand us several
 * datagrams from one sender coalesced in one buffer (UDP_GRO), which
 * udp_receive_batch splits again. Buffers are allocated once at start. */
#ifndef TUNNEL_UDP_H
#define TUNNEL_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"

enum udp_limits {
	UDP_RX_SLOTS = 16,          /* receive buffers per recvmmsg */
	UDP_RX_SLOT_SIZE = 65536,   /* room for a coalesced (GRO) buffer */
	UDP_RX_MAX = 1024,          /* datagrams one batch can split into */
	UDP_GSO_MAX_SEGMENTS = 64,  /* the kernel's UDP_MAX_SEGMENTS */
	UDP_GSO_MAX_BYTES = 65000,  /* a GSO send stays below 64 KiB */
};

struct udp_datagram {
	uint8_t *data;
	size_t len;
	struct rdv_endpoint from; /* receive: the sender; send: the destination */
};

struct udp_socket {
	int fd;
	bool ipv6;               /* an AF_INET6 dual-stack socket */
	bool gso;                /* UDP_SEGMENT works; off after a refusal */
	bool probing_mtu;        /* DF on, the kernel's path MTU cache ignored */
	uint16_t port;           /* the bound port, host order */
	size_t datagram_max;     /* larger datagrams are dropped as oversized */
	uint8_t *rx_storage;     /* UDP_RX_SLOTS * UDP_RX_SLOT_SIZE */
	struct udp_datagram rx[UDP_RX_MAX];
};

/* Opens and binds the socket on `port` (0: any), non-blocking, with large
 * buffers and the offloads switched on where the kernel has them. */
must_check int udp_open(struct udp_socket *s, uint16_t port, size_t datagram_max);

/* Opens one more socket of the same family as `like` (dual-stack or not),
 * bound to any port, non-blocking, with no buffers of ours: birthday
 * probing's extra sockets (tunnel/birthday.h). */
must_check int udp_open_extra(const struct udp_socket *like, int *fd);

/* Makes `fd` (from udp_open_extra) the link's socket in place of s->fd,
 * which closes: the bound port follows, and so do the socket buffers, UDP
 * GRO and, when on, the DF setting of udp_probe_mtu. */
must_check int udp_adopt(struct udp_socket *s, int fd);
/* Sets the firewall mark (SO_MARK) on socket `fd`: a full tunnel's
 * (tun/policy.h) datagrams carry it, so they keep the real route instead
 * of entering the tunnel. Any socket that must bypass the tunnel (the
 * link's own, extra punching sockets) calls it. mark 0 does nothing. */
must_check int udp_set_mark(int fd, uint32_t mark);

/* Closes the socket and frees the buffers; safe on a zeroed struct. */
void udp_close(struct udp_socket *s);

/* Receives what is waiting (up to UDP_RX_SLOTS buffers) and splits it
 * into s->rx[]. Returns the number of datagrams (0 when none), or a
 * negative errno. Datagrams longer than datagram_max are dropped and
 * counted in *oversized. */
must_check int udp_receive_batch(struct udp_socket *s, unsigned *oversized);

/* From now on: don't fragment, and don't trust the kernel's path MTU
 * cache either (IP_PMTUDISC_PROBE): the link finds its path MTU itself
 * (tunnel/pmtu.h, RFC 8899), which works where ICMP "fragmentation needed"
 * is lost. A datagram larger than the local interface still fails with
 * EMSGSIZE. For peers that answer path probes only: a plain WireGuard peer
 * keeps the kernel's fragmentation. */
void udp_probe_mtu(struct udp_socket *s);

/* Sends one datagram. -EAGAIN when the socket buffer is full (the caller
 * drops: UDP, like the network, may lose packets). */
must_check int udp_send(struct udp_socket *s, const struct rdv_endpoint *to,
			const uint8_t *data, size_t len);

/* Sends n datagrams: runs of equal size to one destination go out as one
 * GSO send, the rest with sendmmsg. A datagram the kernel refuses (full
 * buffer, unreachable family) is dropped like a lost packet and the rest
 * still go. Returns how many were handed over (their bytes added to
 * *bytes_sent), or a negative errno if nothing could be sent. */
must_check int udp_send_batch(struct udp_socket *s, const struct udp_datagram *msgs, size_t n,
				size_t *bytes_sent);

#endif
