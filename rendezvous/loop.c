/* The socket side of tunnel-rendezvous (loop.h). Sockets are non-blocking;
 * each wakeup drains a socket up to a bounded number of recvmmsg batches so
 * one busy socket cannot starve the signals or the timer. What a batch
 * makes the server send (relayed datagrams above all) collects in one
 * outbox and leaves in one sendmmsg per socket. */
#include "rendezvous/loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/udp.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "rendezvous/allowed.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/sockbuf.h"
#include "common/udp_gro.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h */
#endif

enum {
	RECV_BATCH = 64,  /* datagrams per recvmmsg */
	RECV_ROUNDS = 4,  /* recvmmsg per wakeup of one socket */
	RECV_BUF = 2048,  /* larger datagrams are cut to RECV_BUF + 1 bytes, then refused */
	RECV_SLOT = 65536, /* room for a coalesced (UDP_GRO) run of datagrams */
	/* Room for a whole batch of forwarded datagrams, and before each
	 * datagram is handled at least what one datagram may cause. */
	OUTBOX_CAP = RECV_BATCH + RDV_SERVER_OUTBOX,
	TAG_SIGNAL = -1,
	TAG_TIMER = -2,
	GSO_SEGMENTS = 64,  /* the kernel's UDP_MAX_SEGMENTS */
	GSO_BYTES = 65000,  /* a GSO send stays below 64 KiB */
};

/* Receive and send scratch, allocated once. */
struct io {
	uint8_t buf[RECV_BATCH][RECV_SLOT];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_control[RECV_BATCH];
	struct sockaddr_storage src[RECV_BATCH];
	struct iovec rx_iov[RECV_BATCH];
	struct mmsghdr rx[RECV_BATCH];
	struct iovec tx_iov[OUTBOX_CAP];
	struct mmsghdr tx[OUTBOX_CAP];
	size_t tx_count[OUTBOX_CAP]; /* datagrams in each message */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} tx_control[OUTBOX_CAP];
	bool gso_off; /* the kernel refused a UDP_SEGMENT send */
};

int rdv_loop_open(const struct rdv_loop_config *cfg, int *fds)
{
	for (size_t i = 0; i < cfg->n_listen; i++)
		fds[i] = -1;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct rdv_endpoint *ep = &cfg->listen[i];
		struct sockaddr_storage ss;
		socklen_t sslen;
		char s[RDV_ENDPOINT_STR];
		int one = 1, r;

		fds[i] = socket(ep->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] < 0)
			goto fail;
		if (ep->family == AF_INET6 &&
		    setsockopt(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			goto fail;
		/* Relay bursts must not overflow the default buffers. */
		sockbuf_grow(fds[i], SOCKBUF_DEFAULT);
		/* A relayed burst (one UDP GSO send of a peer) may arrive in one
		 * buffer; an optimisation only, so a refusal changes nothing. */
		(void)setsockopt(fds[i], IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
		rdv_endpoint_to_sockaddr(ep, &ss, &sslen);
		if (bind(fds[i], (struct sockaddr *)&ss, sslen) < 0)
			goto fail;
		continue;
fail:
		r = -errno;
		log_error("cannot listen on %s: %s", rdv_endpoint_str(ep, s, sizeof(s)),
			  strerror(errno));
		for (size_t j = 0; j <= i; j++)
			if (fds[j] >= 0)
				close(fds[j]);
		return r;
	}
	return 0;
}

static void stats_dump(const struct rdv_server *srv, const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path) {
		const struct rdv_server_stats *s = rdv_server_stats(srv);

		log_info("stats: rx %lu/%lu B, tx %lu/%lu B, peers %lu, relay %lu B",
			 (unsigned long)s->rx_packets, (unsigned long)s->rx_bytes,
			 (unsigned long)s->tx_packets, (unsigned long)s->tx_bytes,
			 (unsigned long)s->peers, (unsigned long)s->relay_bytes);
		return;
	}
	/* Write then rename, so a reader never sees half a file. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (!f) {
		log_warn("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	rdv_server_stats_print(srv, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		log_warn("cannot write %s: %s", path, strerror(errno));
}

/* How many datagrams from out->d[k] on can leave as one UDP GSO send: the
 * same socket and destination, all as long as the first but the last. */
static size_t gso_run(const struct rdv_outbox *out, size_t k)
{
	const struct rdv_datagram *d = &out->d[k];
	size_t run = 1, bytes = d->len;

	while (k + run < out->n && run < GSO_SEGMENTS) {
		const struct rdv_datagram *e = &out->d[k + run];

		if (e->sock != d->sock || e->to_len != d->to_len ||
		    memcmp(&e->to, &d->to, d->to_len) != 0 || e->len > d->len ||
		    out->d[k + run - 1].len != d->len || bytes + e->len > GSO_BYTES)
			break;
		bytes += e->len;
		run++;
	}
	return run;
}

/* Sends the outbox: per socket one sendmmsg, in which each run of
 * datagrams to one destination (relayed traffic, mostly) is one UDP GSO
 * message. A datagram the kernel refuses (a full socket buffer) is dropped,
 * like the network would; the rest still go. */
static void send_all(struct rdv_outbox *out, struct io *io)
{
	size_t i = 0;

	while (i < out->n) {
		int sock = out->d[i].sock;
		size_t m = 0, j = 0;

		while (i < out->n && out->d[i].sock == sock) {
			size_t run = io->gso_off ? 1 : gso_run(out, i);
			struct msghdr *mh = &io->tx[m].msg_hdr;

			for (size_t k = 0; k < run; k++)
				io->tx_iov[i + k] = (struct iovec){ .iov_base = out->d[i + k].buf,
								   .iov_len = out->d[i + k].len };
			*mh = (struct msghdr){ .msg_name = &out->d[i].to,
					       .msg_namelen = out->d[i].to_len,
					       .msg_iov = &io->tx_iov[i], .msg_iovlen = run };
			if (run > 1) {
				uint16_t seg = (uint16_t)out->d[i].len;
				struct cmsghdr *c;

				mh->msg_control = io->tx_control[m].buf;
				mh->msg_controllen = sizeof(io->tx_control[m].buf);
				c = CMSG_FIRSTHDR(mh);
				c->cmsg_level = IPPROTO_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(seg));
				memcpy(CMSG_DATA(c), &seg, sizeof(seg));
			}
			io->tx_count[m++] = run;
			i += run;
		}
		while (j < m) {
			int r = sendmmsg(sock, &io->tx[j], (unsigned)(m - j), MSG_DONTWAIT);

			if (r > 0) {
				j += (size_t)r;
				continue;
			}
			if (io->tx_count[j] > 1 && (errno == EIO || errno == EINVAL ||
						    errno == EOPNOTSUPP)) {
				/* No UDP GSO here: single datagrams from now on
				 * (this run is lost, like a dropped burst). */
				log_warn("UDP GSO refused (%s): sending datagrams singly",
					 strerror(errno));
				io->gso_off = true;
			}
			j++;
		}
	}
	out->n = 0;
}

static void drain(struct rdv_server *srv, int fd, struct rdv_outbox *out, struct io *io)
{
	for (int round = 0; round < RECV_ROUNDS; round++) {
		uint64_t now_ms;
		int n;

		for (int i = 0; i < RECV_BATCH; i++) {
			io->rx_iov[i] = (struct iovec){ .iov_base = io->buf[i], .iov_len = RECV_SLOT };
			io->rx[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &io->src[i], .msg_namelen = sizeof(io->src[i]),
				.msg_iov = &io->rx_iov[i], .msg_iovlen = 1,
				.msg_control = io->rx_control[i].buf,
				.msg_controllen = sizeof(io->rx_control[i].buf) } };
		}
		n = recvmmsg(fd, io->rx, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or an ICMP error reported on the socket */
		now_ms = clock_now_ms();
		for (int i = 0; i < n; i++) {
			size_t len = io->rx[i].msg_len, seg = udp_gro_segment_size(&io->rx[i].msg_hdr);

			/* One datagram, or (UDP_GRO) a run of datagrams of seg
			 * bytes, the last maybe shorter, from one source. A
			 * datagram longer than any message we accept is cut to
			 * RECV_BUF + 1 bytes and refused for its size. */
			if (seg == 0 || seg >= len)
				seg = len = MIN(len, (size_t)RECV_BUF + 1);
			for (size_t off = 0; off < len; off += seg) {
				if (out->cap - out->n < RDV_SERVER_OUTBOX)
					send_all(out, io);
				rdv_server_handle(srv, fd, (struct sockaddr *)&io->src[i],
						  io->buf[i] + off,
						  MIN(MIN(seg, len - off), (size_t)RECV_BUF + 1),
						  now_ms, out);
			}
		}
		send_all(out, io);
		if (n < RECV_BATCH)
			return;
	}
}

int rdv_loop_load_allowed(struct rdv_server *srv, const struct rdv_loop_config *cfg)
{
	struct rdv_allowed a;
	size_t bad_line;
	int r;

	if (!cfg->allowed_keys_path)
		return 0;
	r = rdv_allowed_load(cfg->allowed_keys_path, &a, &bad_line);
	if (r == -EINVAL)
		return log_error_errno(r, "%s:%zu: not a base64 public key; keeping the keys "
				       "allowed so far", cfg->allowed_keys_path, bad_line);
	if (r < 0)
		return log_error_errno(r, "%s: %s; keeping the keys allowed so far",
				       cfg->allowed_keys_path, strerror(-r));
	log_info("%s: %zu keys allowed", cfg->allowed_keys_path, a.n);
	rdv_server_set_allowed(srv, &a);
	return 0;
}

int rdv_loop_run(struct rdv_server *srv, const struct rdv_loop_config *cfg, const int *fds)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct rdv_datagram *slots;
	struct rdv_outbox out;
	struct epoll_event ev;
	struct io *io;
	sigset_t mask;
	int ep = -1, sfd = -1, tfd = -1, r = 0;
	bool running = true;

	slots = calloc(OUTBOX_CAP, sizeof(*slots));
	io = calloc(1, sizeof(*io));
	out = (struct rdv_outbox){ .d = slots, .cap = OUTBOX_CAP };
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	if (!slots || !io || sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		r = -ENOMEM;
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_TIMERS, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ep < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		r = log_error_errno(-errno, "cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = TAG_SIGNAL };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		goto fail;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = TAG_TIMER };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = fds[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			goto fail;
	}

	while (running) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		for (int i = 0; i < n; i++) {
			int tag = evs[i].data.fd;

			if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1) {
						stats_dump(srv, cfg->stats_path);
					} else if (si.ssi_signo == SIGHUP) {
						notify_reloading("reloading the allowed keys");
						(void)!rdv_loop_load_allowed(srv, cfg);
						notify_ready("serving");
					} else {
						log_info("signal %u: shutting down", si.ssi_signo);
						notify_stopping();
						running = false;
					}
				}
			} else if (tag == TAG_TIMER) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					rdv_server_expire(srv, clock_now_ms());
			} else {
				drain(srv, tag, &out, io);
			}
		}
	}
	stats_dump(srv, cfg->stats_path);
	goto out;
fail:
	r = log_error_errno(-errno, "event loop failed: %s", strerror(errno));
out:
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	free(io);
	free(slots);
	return r;
}
