/* Socket set-up and batched, offloaded I/O for the link's UDP socket. */
#include "tunnel/udp.h"

#include "common/sockbuf.h"
#include "common/udp_offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* A non-blocking UDP socket bound to `port` (0: any) of every address:
 * dual-stack when ipv6 (so IPv4 peers reach it too), else IPv4 only. Its
 * port goes to *bound_port. Returns the descriptor, or -errno. */
static int open_bound(bool ipv6, uint16_t port, uint16_t *bound_port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	int fd, off = 0, r;

	fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ipv6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0)
			goto fail;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		goto fail;
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						     : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

int udp_open(struct udp_socket *s, uint16_t port, size_t datagram_max)
{
	int fd, on = 1;

	*s = (struct udp_socket){ .fd = -1, .datagram_max = datagram_max };
	if (datagram_max > UDP_RX_SLOT_SIZE)
		return -EINVAL;
	s->ipv6 = true;
	fd = open_bound(true, port, &s->port);
	if (fd == -EAFNOSUPPORT) {
		s->ipv6 = false;
		fd = open_bound(false, port, &s->port);
	}
	if (fd < 0)
		return fd;
	sockbuf_grow(fd, SOCKBUF_DEFAULT);
	/* Offloads are an optimisation: without them everything still works. */
	setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on));
	s->gso = true;
	s->rx_storage = malloc((size_t)UDP_RX_SLOTS * UDP_RX_SLOT_SIZE);
	if (!s->rx_storage) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	return 0;
}

int udp_open_extra(const struct udp_socket *like, int *fd_out)
{
	uint16_t port;
	int fd = open_bound(like->ipv6, 0, &port);

	if (fd < 0)
		return fd;
	*fd_out = fd;
	return 0;
}

int udp_adopt(struct udp_socket *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int on = 1;
	bool probing = s->probing_mtu;

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return -errno;
	sockbuf_grow(fd, SOCKBUF_DEFAULT);
	setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	s->probing_mtu = false;
	if (probing)
		udp_probe_mtu(s);
	return 0;
}

int udp_set_mark(int fd, uint32_t mark)
{
	if (!mark)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ? -errno : 0;
}

void udp_close(struct udp_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->rx_storage);
	*s = (struct udp_socket){ .fd = -1 };
}

int udp_receive_batch(struct udp_socket *s, unsigned *oversized)
{
	struct mmsghdr msgs[UDP_RX_SLOTS];
	struct iovec iov[UDP_RX_SLOTS];
	struct sockaddr_storage from[UDP_RX_SLOTS];
	char control[UDP_RX_SLOTS][CMSG_SPACE(sizeof(int))];
	int n, count = 0;

	for (size_t i = 0; i < UDP_RX_SLOTS; i++) {
		iov[i] = (struct iovec){ .iov_base = s->rx_storage + i * UDP_RX_SLOT_SIZE,
					 .iov_len = UDP_RX_SLOT_SIZE };
		msgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = control[i], .msg_controllen = sizeof(control[i]) } };
	}
	n = recvmmsg(s->fd, msgs, UDP_RX_SLOTS, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint8_t *buf = iov[i].iov_base;
		size_t len = msgs[i].msg_len;
		size_t seg = udp_gro_segment_size(&msgs[i].msg_hdr);
		struct rdv_endpoint ep;

		if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    rdv_endpoint_from_sockaddr(&ep, (struct sockaddr *)&from[i]) != 0) {
			(*oversized)++;
			continue;
		}
		if (seg == 0 || seg > len)
			seg = len;
		/* Every segment but the last has the segment size. */
		for (size_t off = 0; off < len && count < UDP_RX_MAX; off += seg) {
			size_t part = MIN(seg, len - off);

			if (part > s->datagram_max) {
				(*oversized)++;
				continue;
			}
			s->rx[count++] = (struct udp_datagram){ .data = buf + off, .len = part,
							       .from = ep };
		}
	}
	return count;
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

void udp_probe_mtu(struct udp_socket *s)
{
	int probe4 = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE;

	if (s->fd < 0 || s->probing_mtu)
		return;
	s->probing_mtu = true;
	setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe4, sizeof(probe4));
	if (s->ipv6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof(probe6));
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

/* How many datagrams from d[0] can share one GSO send: same destination,
 * all of d[0]'s size except possibly a shorter last one. */
static size_t gso_run(const struct udp_datagram *d, size_t n)
{
	size_t count = 1, bytes = d[0].len;

	while (count < n && count < UDP_GSO_MAX_SEGMENTS &&
	       bytes + d[count].len <= UDP_GSO_MAX_BYTES &&
	       d[count].len <= d[0].len && rdv_endpoint_equal(&d[count].from, &d[0].from)) {
		bytes += d[count].len;
		if (d[count++].len < d[0].len)
			break;
	}
	return count;
}

struct send_batch {
	struct mmsghdr msgs[UDP_GSO_MAX_SEGMENTS];
	struct iovec iov[UDP_GSO_MAX_SEGMENTS * 2];
	struct sockaddr_storage to[UDP_GSO_MAX_SEGMENTS];
	union udp_gso_control control[UDP_GSO_MAX_SEGMENTS];
	size_t first[UDP_GSO_MAX_SEGMENTS];  /* index in d[] of each message's first datagram */
	size_t count[UDP_GSO_MAX_SEGMENTS];  /* datagrams it carries */
};

int udp_send_batch(struct udp_socket *s, const struct udp_datagram *d, size_t n,
		   size_t *bytes_sent)
{
	struct send_batch b;
	size_t done = 0, handed = 0;
	int last_err = 0;

	while (done < n) {
		size_t m = 0, used_iov = 0;
		int sent;

		/* Fill one sendmmsg, each message a GSO run (or a single
		 * datagram), while another full run still fits. */
		while (done < n && m < ARRAY_SIZE(b.msgs) &&
		       used_iov + UDP_GSO_MAX_SEGMENTS <= ARRAY_SIZE(b.iov)) {
			size_t run = s->gso ? gso_run(&d[done], n - done) : 1;
			struct msghdr *mh = &b.msgs[m].msg_hdr;

			for (size_t k = 0; k < run; k++)
				b.iov[used_iov + k] = (struct iovec){ .iov_base = d[done + k].data,
								      .iov_len = d[done + k].len };
			*mh = (struct msghdr){ .msg_name = &b.to[m],
					       .msg_namelen = to_sockaddr(s, &d[done].from, &b.to[m]),
					       .msg_iov = &b.iov[used_iov], .msg_iovlen = run };
			if (run > 1)
				udp_gso_set_segment(mh, &b.control[m], (uint16_t)d[done].len);
			b.first[m] = done;
			b.count[m] = run;
			used_iov += run;
			done += run;
			m++;
		}
		sent = sendmmsg(s->fd, b.msgs, (unsigned)m, MSG_DONTWAIT);
		if (sent < 0) {
			last_err = -errno;
			sent = 0;
		}
		for (int i = 0; i < sent; i++) {
			for (size_t k = 0; k < b.count[i]; k++)
				*bytes_sent += d[b.first[i] + k].len;
			handed += b.count[i];
		}
		if ((size_t)sent < m) {
			/* sendmmsg stopped at message `sent`. A GSO send the kernel
			 * refuses (EIO: no checksum offload on the route) turns GSO
			 * off for good; otherwise drop that message like a lost
			 * packet and go on after it. */
			if (b.count[sent] > 1 && (last_err == -EIO || last_err == -EINVAL)) {
				s->gso = false;
				done = b.first[sent];
			} else {
				done = b.first[sent] + b.count[sent];
			}
		}
	}
	if (handed == 0 && last_err)
		return last_err;
	return (int)handed;
}
