/* The TUN device: a layer-3 interface (IFF_TUN | IFF_NO_PI) named after the
 * link, opened non-blocking and close-on-exec. Closing the last descriptor
 * deletes the interface, so a crashed daemon leaves nothing behind.
 *
 * With TUN_DEVICE_OFFLOAD the device speaks virtio-net headers
 * (IFF_VNET_HDR) and lets the kernel hand us TCP super-packets and packets
 * with unfinished checksums (TUNSETOFFLOAD); tun/offload.h turns those into
 * plain packets. Room for later: IFF_MULTI_QUEUE, with `fds[]` holding one
 * descriptor per queue; today a single queue exists. */
#ifndef TUN_DEVICE_H
#define TUN_DEVICE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/compiler.h"
#include "tun/error.h"
#include "tun/offload.h"

enum tun_device_limits {
	TUN_NAME_MAX_LEN = IFNAMSIZ - 1,	/* 15 */
	TUN_QUEUES_MAX = 1,
	/* A read buffer this large holds any packet the kernel can hand us. */
	TUN_PACKET_MAX = 65535,
	/* Packets the kernel queues for us to read. Its default of 500 overflowed
	 * under a single TCP stream while the daemon waited for a CPU; 2000 was
	 * loss-free in the lab. */
	TUN_TX_QUEUE_LEN = 2000,
	/* iovecs in one tun_device_write_gso: an Ethernet header, a
	 * super-packet's headers and 64 payloads, with room to spare. */
	TUN_WRITE_IOV_MAX = 72,
};

enum tun_device_flags {
	TUN_DEVICE_OFFLOAD = 1 << 0,
	/* A TAP (IFF_TAP): whole Ethernet frames instead of IP packets. */
	TUN_DEVICE_TAP = 1 << 1,
};

enum tun_frame_limits {
	TUN_ETH_HEADER_LEN = 14,
	TUN_ETH_MIN_LEN = TUN_ETH_HEADER_LEN,	/* a header with no payload */
	/* The largest frame a TAP hands us: a 64 KiB super-packet behind an
	 * Ethernet header and one 802.1Q tag. */
	TUN_FRAME_MAX = TUN_PACKET_MAX + 18,
};

struct tun_device {
	char name[IFNAMSIZ];
	unsigned ifindex;
	unsigned flags;		/* what tun_device_open was asked for */
	unsigned queues;	/* descriptors in fds[] */
	int fds[TUN_QUEUES_MAX];
};

/* Creates the interface `name` (down, no addresses); a name outside
 * common/ifname.h's rule is -EINVAL. Fails with -EBUSY if
 * any interface of that name exists; err says why in one line. flags are
 * TUN_DEVICE_*. On failure dev is left closed. */
must_check int tun_device_open(struct tun_device *dev, const char *name,
			       unsigned flags, struct tun_error *err);

/* Closes every queue, which removes the interface. Safe on a closed or
 * zeroed device and safe to call twice. */
void tun_device_close(struct tun_device *dev);

/* Descriptor of `queue` for epoll, or -1 if there is no such queue. */
int tun_device_fd(const struct tun_device *dev, unsigned queue);

/* Reads one whole packet into buf. Returns its length, -EAGAIN when none is
 * waiting, -EMSGSIZE when buf was too short (the kernel has then dropped the
 * rest of the packet; buffers of TUN_PACKET_MAX bytes never are, on a TAP
 * TUN_FRAME_MAX plus the virtio-net header), or another -errno. */
must_check ssize_t tun_device_read(struct tun_device *dev, unsigned queue,
				   void *buf, size_t len);

/* Writes one whole IPv4 or IPv6 packet, or on a TAP one Ethernet frame
 * (with TUN_DEVICE_OFFLOAD, behind a zero virtio-net header: no offload
 * asked). Returns 0, -EAGAIN if the
 * queue is full, -EINVAL for an empty/oversized/non-IP packet, or another
 * -errno (-EIO while the link is down). A TAP takes any frame of at least
 * an Ethernet header, up to TUN_FRAME_MAX. */
must_check int tun_device_write(struct tun_device *dev, unsigned queue,
				const void *buf, size_t len);

/* Writes a packet, gathered from iov[0..iovcnt) in one writev, behind the
 * given virtio-net header (a GSO super-packet from tun/coalesce.h, on a TAP
 * with its Ethernet header in front). Needs TUN_DEVICE_OFFLOAD, and at most
 * TUN_WRITE_IOV_MAX iovecs (-EINVAL otherwise); the whole packet is checked
 * and the returns are those of tun_device_write. */
must_check int tun_device_write_gso(struct tun_device *dev, unsigned queue,
				    const uint8_t hdr[static TUN_VNET_HDR_LEN],
				    const struct iovec *iov, size_t iovcnt);

#endif
