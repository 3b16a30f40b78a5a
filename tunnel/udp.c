/* Socket set-up and batched I/O for the link's UDP socket. */
#include "tunnel/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Asks for large buffers; as root past net.core.[rw]mem_max (the FORCE
 * options), else as much as the sysctl allows. */
static void grow_buffers(int fd)
{
	int size = UDP_SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int udp_open(struct udp_socket *s, uint16_t port, size_t buf_size)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	int fd, off = 0, r;

	*s = (struct udp_socket){ .fd = -1, .buf_size = buf_size };
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0) {
			r = -errno;
			close(fd);
			return r;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
		s->ipv6 = true;
	} else if (errno == EAFNOSUPPORT) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else {
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	grow_buffers(fd);
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	s->rx_storage = malloc(UDP_BATCH * buf_size);
	if (!s->rx_storage) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < UDP_BATCH; i++)
		s->rx[i].data = s->rx_storage + i * buf_size;
	s->fd = fd;
	return 0;
}

void udp_close(struct udp_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->rx_storage);
	*s = (struct udp_socket){ .fd = -1 };
}

int udp_receive_batch(struct udp_socket *s, unsigned *truncated)
{
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	int n, kept = 0;

	for (size_t i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = s->rx[i].data, .iov_len = s->buf_size };
		msgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(s->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct udp_datagram *d = &s->rx[kept];

		if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    rdv_endpoint_from_sockaddr(&d->from, (struct sockaddr *)&from[i]) != 0) {
			(*truncated)++;
			continue;
		}
		if (kept != i) /* close the gap a dropped datagram left */
			memcpy(d->data, s->rx[i].data, msgs[i].msg_len);
		d->len = msgs[i].msg_len;
		kept++;
	}
	return kept;
}

/* An IPv4 destination goes out of a dual-stack socket as v4-mapped IPv6. */
static socklen_t to_sockaddr(const struct udp_socket *s, const struct rdv_endpoint *to,
			     struct sockaddr_storage *ss)
{
	socklen_t len;

	rdv_endpoint_to_sockaddr(to, ss, &len);
	if (s->ipv6 && to->family == AF_INET) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(to->port);
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], to->addr, 4);
		len = sizeof(*sin6);
	}
	return len;
}

int udp_send(struct udp_socket *s, const struct rdv_endpoint *to, const uint8_t *data, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = to_sockaddr(s, to, &ss);

	if (to->family == AF_INET6 && !s->ipv6)
		return -EAFNOSUPPORT;
	if (sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sslen) < 0)
		return -errno;
	return 0;
}

int udp_send_batch(struct udp_socket *s, const struct udp_datagram *d, size_t n,
		   size_t *bytes_sent)
{
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage to[UDP_BATCH];
	size_t done = 0, sent_total = 0;

	while (done < n) {
		size_t chunk = MIN(n - done, (size_t)UDP_BATCH);
		int sent;

		for (size_t i = 0; i < chunk; i++) {
			const struct udp_datagram *m = &d[done + i];

			iov[i] = (struct iovec){ .iov_base = m->data, .iov_len = m->len };
			msgs[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &to[i], .msg_namelen = to_sockaddr(s, &m->from, &to[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		sent = sendmmsg(s->fd, msgs, (unsigned)chunk, MSG_DONTWAIT);
		if (sent < 0 && done == 0 && errno != EAGAIN)
			return -errno;
		for (int i = 0; i < sent; i++)
			*bytes_sent += msgs[i].msg_len;
		if (sent > 0) {
			done += (size_t)sent;
			sent_total += (size_t)sent;
		}
		/* sendmmsg stops at the first failure: skip that datagram so
		 * one bad destination cannot wedge the rest of the batch. */
		if (sent < 0 || (size_t)sent < chunk)
			done++;
	}
	return (int)sent_total;
}
