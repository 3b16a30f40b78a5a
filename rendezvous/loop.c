/* The socket side of tunnel-rendezvous (loop.h). Sockets are non-blocking;
 * each wakeup drains a socket up to a bounded number of recvmmsg batches so
 * one busy socket cannot starve the signals or the timer. What a batch
 * makes the server send (relayed datagrams above all) collects in one
 * outbox and leaves in one sendmmsg per socket.
 *
 * Threads: each worker has its own sockets (a SO_REUSEPORT group per
 * address: the kernel hashes a source to one socket, so one source's
 * datagrams stay in order), its own scratch and outbox. It receives a
 * batch without the lock, hands the batch to the server under the one
 * mutex (registrations, channels, budgets and counters are shared), sends
 * the sealed messages among what that caused before releasing it (so they
 * leave in the order they were sealed: flush_unlock) and the forwarded
 * channel datagrams after. The server knows only thread 0's fds; a worker
 * names its socket by thread 0's fd for the same address, and sends on its
 * own. */
#include "rendezvous/loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
#include "common/udp_offload.h"
#include "rendezvous/demux.h"

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
	TAG_STOP = -3,
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
	union udp_gso_control tx_control[OUTBOX_CAP];
	bool gso_off; /* the kernel refused a UDP_SEGMENT send */
};

/* What the threads share. */
struct shared {
	pthread_mutex_t lock; /* around every use of srv and of the workers' counters */
	struct rdv_server *srv;
};

struct worker {
	struct shared *sh;
	const int *canon; /* thread 0's fds, one per listen address: what srv knows */
	const int *own;   /* this thread's, in the same order */
	size_t n_listen;
	int ep;           /* epoll: own sockets (thread 0 also signals and timer) */
	struct io *io;
	struct rdv_outbox out;
	uint64_t datagrams; /* handed to the server by this thread (under the lock) */
	int err;          /* errno of a fatal error of this thread */
	pthread_t tid;
	bool started;
};

/* A socket bound to ss, SO_REUSEPORT first if asked; `serve`: with the
 * buffers and options of a served socket. Returns the fd or -errno. */
static int bind_socket(int family, const struct sockaddr_storage *ss, socklen_t sslen,
		       bool reuseport, bool serve)
{
	int one = 1, r, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0))
		goto fail;
	if (serve) {
		/* Relay bursts must not overflow the default buffers. */
		sockbuf_grow(fd, SOCKBUF_DEFAULT);
		/* A relayed burst (one UDP GSO send of a peer) may arrive in one
		 * buffer; an optimisation only, so a refusal changes nothing. */
		(void)setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)ss, sslen) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

int rdv_loop_open(const struct rdv_loop_config *cfg, int *fds)
{
	size_t n = cfg->n_listen, nt = cfg->threads;

	for (size_t k = 0; k < n * nt; k++)
		fds[k] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct rdv_endpoint *ep = &cfg->listen[i];
		struct sockaddr_storage ss;
		socklen_t sslen;
		char s[RDV_ENDPOINT_STR];
		int fd;

		rdv_endpoint_to_sockaddr(ep, &ss, &sslen);
		if (nt > 1) {
			/* SO_REUSEPORT would let another process of our uid join
			 * the group and take part of the traffic. A bind without
			 * it fails while anyone holds the address (a reuseport
			 * group too), so a second server still refuses to start;
			 * only one started in the same instant could slip in.
			 * It also fixes port 0 to one port for all threads. */
			fd = bind_socket(ep->family, &ss, sslen, false, false);
			if (fd >= 0) {
				int probe = fd;

				sslen = sizeof(ss);
				if (getsockname(probe, (struct sockaddr *)&ss, &sslen) < 0)
					fd = -errno;
				close(probe);
			}
			if (fd < 0)
				goto fail;
		}
		for (size_t t = 0; t < nt; t++) {
			fd = bind_socket(ep->family, &ss, sslen, nt > 1, true);
			if (fd < 0)
				goto fail;
			fds[t * n + i] = fd;
		}
		continue;
fail:
		log_error("cannot listen on %s: %s", rdv_endpoint_str(ep, s, sizeof(s)),
			  strerror(-fd));
		rdv_loop_close(cfg, fds);
		return fd;
	}
	return 0;
}

void rdv_loop_close(const struct rdv_loop_config *cfg, int *fds)
{
	for (size_t k = 0; k < cfg->n_listen * cfg->threads; k++) {
		if (fds[k] >= 0)
			close(fds[k]);
		fds[k] = -1;
	}
}

unsigned rdv_loop_threads_auto(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > RDV_LOOP_THREADS_AUTO_MAX ? RDV_LOOP_THREADS_AUTO_MAX : (unsigned)n;
}

/* Writes the counters; the caller holds the lock (or is alone). */
static void stats_dump(const struct rdv_server *srv, const struct worker *w, size_t n_workers,
		       const char *path)
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
	/* How the kernel spread the datagrams over the threads. */
	fprintf(f, "threads %zu\n", n_workers);
	for (size_t t = 0; t < n_workers; t++)
		fprintf(f, "thread%zu_datagrams %llu\n", t, (unsigned long long)w[t].datagrams);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		log_warn("cannot write %s: %s", path, strerror(errno));
}

/* A sealed rendezvous message (not a forwarded channel datagram, not STUN). */
static bool is_envelope(const struct rdv_datagram *d)
{
	return d->len > 0 && d->buf[0] == DEMUX_TYPE_RENDEZVOUS;
}

/* How many datagrams from out->d[k] on can leave as one UDP GSO send: the
 * same socket, destination and kind, all as long as the first but the last. */
static size_t gso_run(const struct rdv_outbox *out, size_t k)
{
	const struct rdv_datagram *d = &out->d[k];
	size_t run = 1, bytes = d->len;

	while (k + run < out->n && run < GSO_SEGMENTS) {
		const struct rdv_datagram *e = &out->d[k + run];

		if (e->sock != d->sock || is_envelope(e) != is_envelope(d) || e->to_len != d->to_len ||
		    memcmp(&e->to, &d->to, d->to_len) != 0 || e->len > d->len ||
		    out->d[k + run - 1].len != d->len || bytes + e->len > GSO_BYTES)
			break;
		bytes += e->len;
		run++;
	}
	return run;
}

/* Sends the sealed rendezvous messages of the outbox (`envelopes`) or the
 * rest: per socket one sendmmsg, in which each run of datagrams to one
 * destination (relayed traffic, mostly) is one UDP GSO message. A datagram
 * the kernel refuses (a full socket buffer) is dropped, like the network
 * would; the rest still go. */
static void send_part(struct worker *w, bool envelopes)
{
	struct rdv_outbox *out = &w->out;
	struct io *io = w->io;
	size_t i = 0;

	while (i < out->n) {
		int key, sock;
		size_t m = 0, j = 0;

		while (i < out->n && is_envelope(&out->d[i]) != envelopes)
			i++;
		if (i == out->n)
			break;
		key = sock = out->d[i].sock;

		/* The server names thread 0's socket; ours has the same address. */
		for (size_t l = 0; l < w->n_listen; l++)
			if (w->canon[l] == key)
				sock = w->own[l];

		while (i < out->n && (is_envelope(&out->d[i]) != envelopes || out->d[i].sock == key)) {
			size_t run;
			struct msghdr *mh = &io->tx[m].msg_hdr;

			if (is_envelope(&out->d[i]) != envelopes) {
				i++; /* the other part's */
				continue;
			}
			run = io->gso_off ? 1 : gso_run(out, i);

			for (size_t k = 0; k < run; k++)
				io->tx_iov[i + k] = (struct iovec){ .iov_base = out->d[i + k].buf,
								   .iov_len = out->d[i + k].len };
			*mh = (struct msghdr){ .msg_name = &out->d[i].to,
					       .msg_namelen = out->d[i].to_len,
					       .msg_iov = &io->tx_iov[i], .msg_iovlen = run };
			if (run > 1)
				udp_gso_set_segment(mh, &io->tx_control[m],
						    (uint16_t)out->d[i].len);
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
}

/* Sends the outbox and releases the lock, which the caller holds. The
 * sealed rendezvous messages leave before the lock is released, so they
 * leave in the order the server sealed them whichever thread did: a peer's
 * REGISTERED, which starts the server's session for it, is never overtaken
 * by an INTRODUCE or CHANNEL that another thread sealed later (the peer
 * would drop it as from an unknown session). Forwarded channel datagrams
 * (the bulk) and STUN answers go after, without the lock. */
static void flush_unlock(struct worker *w)
{
	send_part(w, true);
	pthread_mutex_unlock(&w->sh->lock);
	send_part(w, false);
	w->out.n = 0;
}

/* Receives on listen address `li` without the lock, hands each batch to
 * the server under it, sends (flush_unlock). */
static void drain(struct worker *w, size_t li)
{
	int fd = w->own[li], sock = w->canon[li];
	struct shared *sh = w->sh;
	struct rdv_outbox *out = &w->out;
	struct io *io = w->io;

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
		pthread_mutex_lock(&sh->lock);
		/* Read under the lock: the server sees time go forward across threads. */
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
				if (out->cap - out->n < RDV_SERVER_OUTBOX) {
					flush_unlock(w);
					pthread_mutex_lock(&sh->lock);
				}
				rdv_server_handle(sh->srv, sock, (struct sockaddr *)&io->src[i],
						  io->buf[i] + off,
						  MIN(MIN(seg, len - off), (size_t)RECV_BUF + 1),
						  now_ms, out);
				w->datagrams++;
			}
		}
		flush_unlock(w);
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

/* Threads 1 and up: their sockets until the stop eventfd is readable. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(w->ep, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->err = errno;
			log_error("worker thread failed: %s", strerror(errno));
			/* The main thread shuts everything down and returns the error. */
			kill(getpid(), SIGTERM);
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == TAG_STOP)
				return NULL;
			drain(w, (size_t)evs[i].data.fd);
		}
	}
}

/* Scratch, outbox and epoll (with its sockets) of worker t. */
static int worker_init(struct worker *w, struct shared *sh, const struct rdv_loop_config *cfg,
		       const int *fds, size_t t, int stop_fd)
{
	struct epoll_event ev;

	*w = (struct worker){ .sh = sh, .canon = fds, .own = fds + t * cfg->n_listen,
			      .n_listen = cfg->n_listen, .ep = -1 };
	w->io = calloc(1, sizeof(*w->io));
	w->out = (struct rdv_outbox){ .d = calloc(OUTBOX_CAP, sizeof(*w->out.d)), .cap = OUTBOX_CAP };
	if (!w->io || !w->out.d)
		return -ENOMEM;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0)
		return -errno;
	for (size_t i = 0; i < w->n_listen; i++) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = (int)i };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->own[i], &ev) < 0)
			return -errno;
	}
	if (t > 0) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = TAG_STOP };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->ep >= 0)
		close(w->ep);
	free(w->io);
	free(w->out.d);
}

/* Stops and joins the started workers. */
static void workers_stop(struct worker *w, size_t n, int stop_fd)
{
	uint64_t one = 1;

	if (stop_fd >= 0 && write(stop_fd, &one, sizeof(one)) != sizeof(one))
		log_error("cannot stop the worker threads: %s", strerror(errno));
	for (size_t t = 1; t < n; t++)
		if (w[t].started)
			pthread_join(w[t].tid, NULL);
}

int rdv_loop_run(struct rdv_server *srv, const struct rdv_loop_config *cfg, const int *fds)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct shared sh = { .srv = srv };
	size_t nt = cfg->threads, n_init = 0;
	struct worker *w;
	struct epoll_event ev;
	sigset_t mask;
	int sfd = -1, tfd = -1, stop_fd = -1, r = 0;
	bool running = true;

	w = calloc(nt, sizeof(*w));
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	if (!w || sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		free(w);
		return -ENOMEM;
	}
	if ((r = pthread_mutex_init(&sh.lock, NULL)) != 0) {
		free(w);
		return log_error_errno(-r, "cannot set up the event loop: %s", strerror(r));
	}
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_TIMERS, TFD_NONBLOCK | TFD_CLOEXEC);
	stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sfd < 0 || tfd < 0 || stop_fd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		r = log_error_errno(-errno, "cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	for (; n_init < nt; n_init++) {
		r = worker_init(&w[n_init], &sh, cfg, fds, n_init, stop_fd);
		if (r < 0) {
			n_init++;
			r = log_error_errno(r, "cannot set up the event loop: %s", strerror(-r));
			goto out;
		}
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = TAG_SIGNAL };
	if (epoll_ctl(w[0].ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		goto fail;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = TAG_TIMER };
	if (epoll_ctl(w[0].ep, EPOLL_CTL_ADD, tfd, &ev) < 0)
		goto fail;
	for (size_t t = 1; t < nt; t++) {
		r = pthread_create(&w[t].tid, NULL, worker_main, &w[t]);
		if (r != 0) {
			r = log_error_errno(-r, "cannot start a worker thread: %s", strerror(r));
			goto out;
		}
		w[t].started = true;
	}

	while (running) {
		struct epoll_event evs[16];
		int n = epoll_wait(w[0].ep, evs, 16, -1);

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
						pthread_mutex_lock(&sh.lock);
						stats_dump(srv, w, nt, cfg->stats_path);
						pthread_mutex_unlock(&sh.lock);
					} else if (si.ssi_signo == SIGHUP) {
						notify_reloading("reloading the allowed keys");
						pthread_mutex_lock(&sh.lock);
						(void)!rdv_loop_load_allowed(srv, cfg);
						pthread_mutex_unlock(&sh.lock);
						notify_ready("serving");
					} else {
						log_info("signal %u: shutting down", si.ssi_signo);
						notify_stopping();
						running = false;
					}
				}
			} else if (tag == TAG_TIMER) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
					pthread_mutex_lock(&sh.lock);
					rdv_server_expire(srv, clock_now_ms());
					pthread_mutex_unlock(&sh.lock);
				}
			} else {
				drain(&w[0], (size_t)tag);
			}
		}
	}
	workers_stop(w, nt, stop_fd);
	for (size_t t = 1; t < nt; t++) {
		if (w[t].err && r == 0)
			r = -w[t].err;
		w[t].started = false;
	}
	stats_dump(srv, w, nt, cfg->stats_path);
	goto out;
fail:
	r = log_error_errno(-errno, "event loop failed: %s", strerror(errno));
out:
	workers_stop(w, nt, stop_fd);
	for (size_t t = 0; t < n_init; t++)
		worker_free(&w[t]);
	if (stop_fd >= 0)
		close(stop_fd);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	pthread_mutex_destroy(&sh.lock);
	free(w);
	return r;
}
