/* Opening /dev/net/tun and moving whole packets through it. No allocation:
 * callers own every buffer. Errors are turned into the one-line reasons a
 * user can act on (missing module, missing privilege, name taken). */
#include "tun/device.h"

#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/ifname.h"
#include "tun/offload.h"

static const char tun_clone_path[] = "/dev/net/tun";

_Static_assert((int)TUN_NAME_MAX_LEN == (int)IFNAME_MAX_LEN, "one length for a name");

static void dev_reset(struct tun_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	for (unsigned q = 0; q < TUN_QUEUES_MAX; q++)
		dev->fds[q] = -1;
}

/* A longer queue is an optimisation: a device with the default still works. */
static void set_queue_len(const char *name)
{
	struct ifreq ifr = { .ifr_qlen = TUN_TX_QUEUE_LEN };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memcpy(ifr.ifr_name, name, strlen(name));
	ioctl(s, SIOCSIFTXQLEN, &ifr); /* on failure the default stays */
	close(s);
}

int tun_device_open(struct tun_device *dev, const char *name, unsigned flags,
		    struct tun_error *err)
{
	struct ifreq ifr;
	unsigned ifindex;
	int fd, r;

	dev_reset(dev);
	if (!ifname_valid(name))
		return tun_error_set(err, -EINVAL,
				     "invalid interface name \"%.*s\" (" IFNAME_RULE ", not \".\" or \"..\")",
				     IFNAMSIZ, name ? name : "");
	if (flags & ~(unsigned)(TUN_DEVICE_OFFLOAD | TUN_DEVICE_TAP))
		return tun_error_set(err, -EINVAL, "unsupported TUN flags 0x%x", flags);

	fd = open(tun_clone_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			return tun_error_set(err, r, "no %s (load the tun module)",
					     tun_clone_path);
		if (r == -EACCES || r == -EPERM)
			return tun_error_set(err, r, "cannot open %s: needs root or CAP_NET_ADMIN",
					     tun_clone_path);
		return tun_error_set(err, r, "cannot open %s: %s", tun_clone_path,
				     strerror(-r));
	}

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	/* IFF_TUN_EXCL: never attach to an interface someone else made. */
	ifr.ifr_flags = (short)(((flags & TUN_DEVICE_TAP) ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
				IFF_TUN_EXCL |	/* 0x8000: sign bit */
				((flags & TUN_DEVICE_OFFLOAD) ? IFF_VNET_HDR : 0));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		if (r == -EBUSY || r == -EEXIST)
			return tun_error_set(err, r, "interface %s already exists", name);
		if (r == -EPERM || r == -EACCES)
			return tun_error_set(err, r, "creating interface %s needs root or CAP_NET_ADMIN",
					     name);
		return tun_error_set(err, r, "cannot create interface %s: %s", name,
				     strerror(-r));
	}

	ifindex = if_nametoindex(name);
	if (ifindex == 0) {
		r = -errno;
		close(fd);
		return tun_error_set(err, r ? r : -ENODEV,
				     "interface %s vanished right after creation", name);
	}

	set_queue_len(name);
	/* If the kernel refuses, the headers stay (all zero) and still work. */
	if (flags & TUN_DEVICE_OFFLOAD)
		ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	memcpy(dev->name, name, strlen(name) + 1);
	dev->ifindex = ifindex;
	dev->flags = flags;
	dev->queues = 1;
	dev->fds[0] = fd;
	return 0;
}

void tun_device_close(struct tun_device *dev)
{
	for (unsigned q = 0; q < dev->queues && q < TUN_QUEUES_MAX; q++)
		if (dev->fds[q] >= 0)
			close(dev->fds[q]);
	dev_reset(dev);
}

int tun_device_fd(const struct tun_device *dev, unsigned queue)
{
	if (queue >= dev->queues || queue >= TUN_QUEUES_MAX)
		return -1;
	return dev->fds[queue];
}

/* The kernel silently cuts a packet longer than the read buffer (and drops
 * the rest), so a full buffer is checked against the IP header's length. */
static bool packet_truncated(const uint8_t *p, size_t n)
{
	size_t claimed;

	if (n >= 4 && p[0] >> 4 == 4)
		claimed = load_be16(p + 2);
	else if (n >= 6 && p[0] >> 4 == 6)
		claimed = 40 + (size_t)load_be16(p + 4);
	else
		return true;	/* too short to be whole */
	return claimed > n;
}

ssize_t tun_device_read(struct tun_device *dev, unsigned queue, void *buf,
			size_t len)
{
	int fd = tun_device_fd(dev, queue);
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	if (len == 0)
		return -EMSGSIZE;
	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -EAGAIN;
	if ((size_t)n == len) {
		size_t skip = (dev->flags & TUN_DEVICE_OFFLOAD) ? TUN_VNET_HDR_LEN : 0;

		/* A frame has no length field: a full buffer may be a cut one. */
		if ((size_t)n <= skip || (dev->flags & TUN_DEVICE_TAP) ||
		    packet_truncated((const uint8_t *)buf + skip, (size_t)n - skip))
			return -EMSGSIZE;
	}
	return n;
}

/* One writev of `hdr` (NULL: none) and the packet gathered from iov. */
static int write_packet(struct tun_device *dev, unsigned queue, const uint8_t *hdr,
			const struct iovec *iov, size_t iovcnt)
{
	int fd = tun_device_fd(dev, queue);
	struct iovec all[1 + TUN_WRITE_IOV_MAX];
	const uint8_t *start = NULL;
	size_t len = 0, n_all = 0;
	unsigned version;
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	if (iovcnt > TUN_WRITE_IOV_MAX)
		return -EINVAL;
	if (hdr)
		all[n_all++] = (struct iovec){ .iov_base = (void *)hdr, .iov_len = TUN_VNET_HDR_LEN };
	for (size_t i = 0; i < iovcnt; i++) {
		if (!start && iov[i].iov_len)
			start = iov[i].iov_base;
		len += iov[i].iov_len;
		all[n_all++] = iov[i];
	}
	if (dev->flags & TUN_DEVICE_TAP) {
		if (len < TUN_ETH_MIN_LEN || len > TUN_FRAME_MAX)
			return -EINVAL;
	} else {
		if (len == 0 || len > TUN_PACKET_MAX)
			return -EINVAL;
		/* Without packet info the kernel takes the protocol from the
		 * version nibble; refuse anything else here rather than in the
		 * kernel. */
		version = start[0] >> 4;
		if (version != 4 && version != 6)
			return -EINVAL;
	}
	do {
		n = writev(fd, all, (int)n_all);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)n != len + (hdr ? TUN_VNET_HDR_LEN : 0))
		return -EIO;
	return 0;
}

int tun_device_write(struct tun_device *dev, unsigned queue, const void *buf, size_t len)
{
	static const uint8_t no_offload[TUN_VNET_HDR_LEN];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_packet(dev, queue, (dev->flags & TUN_DEVICE_OFFLOAD) ? no_offload : NULL,
			    &iov, 1);
}

int tun_device_write_gso(struct tun_device *dev, unsigned queue,
			 const uint8_t hdr[static TUN_VNET_HDR_LEN], const struct iovec *iov,
			 size_t iovcnt)
{
	if (!(dev->flags & TUN_DEVICE_OFFLOAD))
		return -EINVAL;
	return write_packet(dev, queue, hdr, iov, iovcnt);
}
