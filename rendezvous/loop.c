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
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "rendezvous/allowed.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/sockbuf.h"

enum {
	RECV_BATCH = 64,  /* datagrams per recvmmsg */
	RECV_ROUNDS = 4,  /* recvmmsg per wakeup of one socket */
	RECV_BUF = 2048,
	/* Room for a whole batch of forwarded datagrams, and before each
	 * datagram is handled at least what one datagram may cause. */
	OUTBOX_CAP = RECV_BATCH + RDV_SERVER_OUTBOX,
	TAG_SIGNAL = -1,
	TAG_TIMER = -2,
};

/* Receive and send scratch, allocated once. */
struct io {
	uint8_t buf[RECV_BATCH][RECV_BUF + 1];
	struct sockaddr_storage src[RECV_BATCH];
	struct iovec rx_iov[RECV_BATCH];
	struct mmsghdr rx[RECV_BATCH];
	struct iovec tx_iov[OUTBOX_CAP];
	struct mmsghdr tx[OUTBOX_CAP];
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

/* Sends the outbox: one sendmmsg per run of datagrams on one socket. */
static void send_all(struct rdv_outbox *out, struct io *io)
{
	size_t i = 0;

	while (i < out->n) {
		int sock = out->d[i].sock;
		size_t end = i;

		for (; end < out->n && out->d[end].sock == sock; end++) {
			struct rdv_datagram *d = &out->d[end];

			io->tx_iov[end] = (struct iovec){ .iov_base = d->buf, .iov_len = d->len };
			io->tx[end] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &d->to, .msg_namelen = d->to_len,
				.msg_iov = &io->tx_iov[end], .msg_iovlen = 1 } };
		}
		while (i < end) {
			int r = sendmmsg(sock, &io->tx[i], (unsigned)(end - i), MSG_DONTWAIT);

			/* The first one refused (a full socket buffer): dropped,
			 * like the network would; the rest still go. */
			i += r > 0 ? (size_t)r : 1;
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
			/* One byte more than any message we accept: longer datagrams
			 * arrive cut to RECV_BUF + 1 bytes and are rejected for
			 * their size. */
			io->rx_iov[i] = (struct iovec){ .iov_base = io->buf[i], .iov_len = RECV_BUF + 1 };
			io->rx[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &io->src[i], .msg_namelen = sizeof(io->src[i]),
				.msg_iov = &io->rx_iov[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, io->rx, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or an ICMP error reported on the socket */
		now_ms = clock_now_ms();
		for (int i = 0; i < n; i++) {
			if (out->cap - out->n < RDV_SERVER_OUTBOX)
				send_all(out, io);
			rdv_server_handle(srv, fd, (struct sockaddr *)&io->src[i], io->buf[i],
					  io->rx[i].msg_len, now_ms, out);
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
	io = malloc(sizeof(*io));
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
