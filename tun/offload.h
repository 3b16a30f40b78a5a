/* TUN offloads: with IFF_VNET_HDR every packet crossing the TUN carries a
 * virtio-net header, and with TUNSETOFFLOAD the kernel may hand us a TCP
 * "super-packet" of up to 64 KiB (TSO) and packets whose checksum it left
 * for us to finish (CSUM). This file turns what the kernel gives into plain
 * IP packets of at most the MTU, each with correct checksums, so the rest
 * of the engine never sees an offload.
 *
 * Segmentation follows what the kernel's own tcp_gso_segment does: each
 * segment gets the headers, gso_size bytes of payload (the last gets the
 * rest), its own sequence number, IPv4 total length / ID / header checksum
 * or IPv6 payload length, and a full TCP checksum; FIN and PSH stay on the
 * last segment only, CWR on the first only. */
#ifndef TUN_OFFLOAD_H
#define TUN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum tun_offload_limits {
	TUN_VNET_HDR_LEN = 10,      /* struct virtio_net_hdr */
	/* 64 KiB cut at Linux's smallest MSS (tcp_min_snd_mss, 48 bytes). */
	TUN_OFFLOAD_MAX_SEGMENTS = 1400,
};

/* The fields of struct virtio_net_hdr we act on, in host order. */
struct tun_vnet_hdr {
	uint8_t flags;       /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	uint8_t gso_type;    /* VIRTIO_NET_HDR_GSO_NONE, _TCPV4, _TCPV6 (| _ECN) */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Decodes the 10-byte header the kernel put in front of a packet. */
void tun_vnet_hdr_parse(struct tun_vnet_hdr *h, const uint8_t raw[static TUN_VNET_HDR_LEN]);

/* Turns one packet read from the TUN into plain packets: out[i] receives
 * segment i (each buffer has `out_size` bytes), out_len[i] its length.
 * Returns the number of packets (1 when no segmentation was needed), or
 * -EINVAL for a header that does not fit the packet, -ENOSPC when a segment
 * would not fit out_size or there would be more than max_out of them. */
must_check int tun_offload_split(const struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len,
				 uint8_t *const out[], size_t out_size, size_t out_len[],
				 size_t max_out);

/* Lowers a TCP super-packet's segment size so that every segment
 * tun_offload_split cuts from pkt fits `mtu` bytes (IP + TCP headers
 * included): the kernel chose gso_size for the interface MTU, and a path
 * MTU below it needs smaller segments. Anything else is left alone. */
void tun_offload_fit(struct tun_vnet_hdr *h, const uint8_t *pkt, size_t len, size_t mtu);

/* At most how many packets tun_offload_split makes of a `len`-byte read. */
size_t tun_offload_segments(const struct tun_vnet_hdr *h, size_t len);

/* The Internet checksum (RFC 1071) of buf, folded, starting from `sum`. */
uint16_t tun_checksum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
