/* rdv-load: load generator for tunnel-rendezvous. Registers N distinct keys
 * (pairs of keys want each other, so introductions happen too) as fast as
 * the server answers, with a window of outstanding REGISTERs and
 * retransmission of lost ones, then prints registrations per second and the
 * server's resident memory. Numbers only, never pass/fail.
 *
 *   rdv-load --server A:P --server-key B64 [--peers N] [--sockets S]
 *            [--window W] [--server-pid PID]
 *
 * With --relay-pairs P it measures relaying instead: P pairs of clients
 * (one socket each, so the kernel spreads them over the server's threads)
 * register, are introduced and open relay channels, then every client sends
 * channel datagrams of RELAY_DGRAM bytes to its partner for --relay-seconds
 * S, keeping RELAY_WINDOW of them in flight (UDP GSO sends of RELAY_BURST
 * datagrams, received with UDP_GRO; waiting in poll when every window is
 * full, so the generator leaves the CPU to the server), and it prints the
 * datagrams and bits per second that came out of the server and, with
 * --server-pid, the server's CPU use (utime + stime).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/udp_offload.h"
#include "crypto/keys.h"
#include "rendezvous/client.h"
#include "rendezvous/demux.h"
#include "rendezvous/envelope.h"
#include "tests/tools/server_args.h"

enum { SOCKETS_MAX = 1024, RETRY_MS = 500, TIME_LIMIT_MS = 600000 };
enum {
	RELAY_DGRAM = 1280,
	RELAY_BURST = 32,
	RELAY_WINDOW = 8 * RELAY_BURST, /* datagrams in flight per client */
	RELAY_LOST_MS = 20, /* a full window that long: what is in flight was dropped */
	RELAY_SETUP_MS = 30000,
};

struct key {
	struct rdv_session sess;
	uint8_t cookie[RDV_COOKIE_LEN]; /* from the server's CHALLENGE */
	uint64_t sent_ms;
	bool done;
};

struct load {
	struct key *keys;
	size_t n;
	uint32_t *index; /* open addressing: pk prefix -> key number + 1 */
	size_t index_mask;
	int fds[SOCKETS_MAX];
	size_t n_fds;
	uint8_t server_pk[RDV_KEY_LEN];
	uint64_t counter, done, resent, bad;
};

static size_t slot_of(const uint8_t *pk, size_t mask)
{
	uint64_t h;

	memcpy(&h, pk, sizeof(h));
	return (size_t)(h * 0x9e3779b97f4a7c15ull >> 20) & mask;
}

static long status_kb(long pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kb;
}

static void send_register(struct load *l, size_t i, uint64_t now_ms)
{
	struct rdv_msg m = { .type = RDV_MSG_REGISTER };
	uint8_t buf[RDV_DATAGRAM_MAX], rnd[RDV_NONCE_RANDOM_LEN] = { 0 };
	size_t len;

	m.reg.n_lan = 1;
	m.reg.lan[0].family = AF_INET;
	m.reg.lan[0].addr[0] = 10;
	memcpy(m.reg.lan[0].addr + 1, &i, 3);
	m.reg.lan[0].port = 51820;
	m.reg.n_want = 1;
	memcpy(m.reg.want[0], l->keys[i ^ 1].sess.peer_pk, RDV_KEY_LEN);
	memcpy(m.reg.cookie, l->keys[i].cookie, RDV_COOKIE_LEN);
	/* Every key is in session 1 and one sequence serves them all (windows
	 * are per key). The first REGISTER of a key earns a CHALLENGE, the
	 * second (with its cookie) the registration. */
	if (l->counter == 0)
		l->counter = UINT64_C(1) << RDV_SEQ_BITS;
	l->counter++;
	memcpy(rnd, &i, sizeof(i));
	if (rdv_seal(&l->keys[i].sess, RDV_DIR_UP, l->counter, rnd, &m, buf, sizeof(buf), &len) < 0)
		return;
	(void)!send(l->fds[i % l->n_fds], buf, len, 0);
	l->keys[i].sent_ms = now_ms;
}

static void receive(struct load *l, int fd)
{
	uint8_t buf[RDV_DATAGRAM_MAX + 1];
	struct rdv_msg m;

	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct rdv_header h;
		uint64_t ctr;
		size_t s;

		if (n < 0)
			return;
		if (rdv_header_parse(buf, (size_t)n, &h) != RDV_OK) {
			l->bad++;
			continue;
		}
		for (s = slot_of(h.peer_pk, l->index_mask); l->index[s]; s = (s + 1) & l->index_mask)
			if (memcmp(l->keys[l->index[s] - 1].sess.peer_pk, h.peer_pk, RDV_KEY_LEN) == 0)
				break;
		if (!l->index[s]) {
			l->bad++;
			continue;
		}
		struct key *key = &l->keys[l->index[s] - 1];

		if (rdv_open(&key->sess, RDV_DIR_DOWN, buf, (size_t)n, &m, &ctr) != RDV_OK) {
			l->bad++;
			continue;
		}
		if (m.type == RDV_MSG_CHALLENGE && !key->done) {
			memcpy(key->cookie, m.challenge.cookie, RDV_COOKIE_LEN);
			send_register(l, (size_t)(key - l->keys), clock_now_ms());
		}
		if (m.type == RDV_MSG_REGISTERED && !key->done) {
			key->done = true;
			l->done++;
		}
	}
}

struct rclient {
	struct rdv_client c;
	int fd;
	bool introduced, have_chan;
	uint64_t open_ms;
	uint8_t chan[RDV_CHANNEL_ID_LEN];
	uint64_t rx_dgrams;
	uint64_t tx_dgrams, lost; /* sent to the partner; written off as dropped */
	uint64_t stall_ms;         /* since when the window is full, or 0 */
};

/* utime + stime of pid in clock ticks, or -1. */
static long long cpu_ticks(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* Takes what arrived on client i: control messages while setting up,
 * channel datagrams (counted) after. */
static void relay_receive(struct rclient *rc, size_t i, size_t n_clients, uint8_t (*bufs)[65536])
{
	struct rclient *r = &rc[i];
	uint64_t now_ms = clock_now_ms();

	for (int round = 0; round < 16; round++) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl[8];
		struct iovec iov[8];
		struct mmsghdr mm[8];
		int got;

		for (int k = 0; k < 8; k++) {
			iov[k] = (struct iovec){ .iov_base = bufs[k], .iov_len = sizeof(bufs[k]) };
			mm[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k], .msg_iovlen = 1,
							       .msg_control = ctl[k].buf,
							       .msg_controllen = sizeof(ctl[k].buf) } };
		}
		got = recvmmsg(r->fd, mm, 8, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		for (int k = 0; k < got; k++) {
			size_t len = mm[k].msg_len, seg = udp_gro_segment_size(&mm[k].msg_hdr);
			struct rdv_event ev;

			if (len > 0 && bufs[k][0] == DEMUX_TYPE_CHANNEL) {
				r->rx_dgrams += seg && seg < len ? (len + seg - 1) / seg : 1;
				continue;
			}
			if (demux_classify(bufs[k], len) != DEMUX_RENDEZVOUS ||
			    rdv_client_consume(&r->c, bufs[k], len, now_ms, &ev) != RDV_OK)
				continue;
			if (ev.type == RDV_EVENT_INTRODUCED)
				r->introduced = true;
			if (ev.type == RDV_EVENT_CHANNEL &&
			    memcmp(ev.msg.channel.peer, rc[i ^ 1].c.public_key, RDV_KEY_LEN) == 0) {
				memcpy(r->chan, ev.msg.channel.chan, RDV_CHANNEL_ID_LEN);
				r->have_chan = true;
			}
		}
	}
	(void)n_clients;
}

/* One GSO send of RELAY_BURST channel datagrams from client i. */
static uint64_t relay_send(struct rclient *r, uint64_t *seq)
{
	static uint8_t buf[RELAY_BURST][RELAY_DGRAM];
	union udp_gso_control ctl;
	struct iovec iov[RELAY_BURST];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = RELAY_BURST };

	for (int k = 0; k < RELAY_BURST; k++) {
		uint8_t *inner = buf[k] + RDV_CHANNEL_HEADER_LEN;

		buf[k][0] = DEMUX_TYPE_CHANNEL;
		memcpy(buf[k] + 4, r->chan, RDV_CHANNEL_ID_LEN);
		store_le32(inner, 4); /* a WireGuard transport data message */
		store_le64(inner + 8, (*seq)++);
		iov[k] = (struct iovec){ .iov_base = buf[k], .iov_len = RELAY_DGRAM };
	}
	udp_gso_set_segment(&mh, &ctl, RELAY_DGRAM);
	return sendmsg(r->fd, &mh, MSG_DONTWAIT) > 0 ? RELAY_BURST : 0;
}

static int relay_main(const struct rdv_endpoint *server, const uint8_t server_pk[RDV_KEY_LEN],
		      size_t pairs, uint64_t seconds, long pid)
{
	static const uint8_t none[RDV_CHANNEL_ID_LEN];
	static uint8_t bufs[8][65536];
	size_t n = 2 * pairs, ready = 0;
	struct rclient *rc = calloc(n, sizeof(*rc));
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	struct sockaddr_storage ss;
	socklen_t sl;
	uint64_t t0, sent = 0, got = 0, seq = 0, t_end;
	long long cpu0, cpu1;
	double secs, gbit;

	if (!rc || !pfd)
		return 1;
	rdv_endpoint_to_sockaddr(server, &ss, &sl);
	for (size_t i = 0; i < n; i++) {
		uint8_t sk[RDV_KEY_LEN];
		int one = 1, buf = 1 << 22;

		randombytes_buf(sk, sizeof(sk));
		if (rdv_client_init(&rc[i].c, sk, server_pk, clock_now_ms()) < 0)
			return 1;
		rc[i].fd = socket(server->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (rc[i].fd < 0 || connect(rc[i].fd, (struct sockaddr *)&ss, sl) < 0)
			return 1;
		setsockopt(rc[i].fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		(void)setsockopt(rc[i].fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
	}
	for (size_t i = 0; i < n; i++)
		if (rdv_client_set_wants(&rc[i].c, &rc[i ^ 1].c.public_key, 1, clock_now_ms()) < 0)
			return 1;
	/* Set-up: registered, introduced, a channel both ways. */
	t0 = clock_now_ms();
	while (ready < n && clock_now_ms() - t0 < RELAY_SETUP_MS) {
		uint64_t now_ms = clock_now_ms();

		ready = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t out[RDV_DATAGRAM_MAX];
			size_t len;

			while (rdv_client_poll(&rc[i].c, now_ms, out, sizeof(out), &len) == 1)
				(void)!send(rc[i].fd, out, len, 0);
			if (rc[i].introduced && !rc[i].have_chan && now_ms - rc[i].open_ms >= 1000 &&
			    rdv_client_build_channel_open(&rc[i].c, rc[i ^ 1].c.public_key, none, out,
							  sizeof(out), &len) == 0) {
				(void)!send(rc[i].fd, out, len, 0);
				rc[i].open_ms = now_ms;
			}
			ready += rc[i].have_chan;
			pfd[i] = (struct pollfd){ .fd = rc[i].fd, .events = POLLIN };
		}
		if (poll(pfd, n, 20) > 0)
			for (size_t i = 0; i < n; i++)
				if (pfd[i].revents & POLLIN)
					relay_receive(rc, i, n, bufs);
	}
	if (ready < n) {
		fprintf(stderr, "rdv-load: only %zu of %zu clients got a channel\n", ready, n);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		rc[i].rx_dgrams = 0;
	/* The load: every client in turn sends a burst and takes what came. */
	cpu0 = pid > 0 ? cpu_ticks(pid) : -1;
	t0 = clock_now_ms();
	t_end = t0 + seconds * 1000;
	while (clock_now_ms() < t_end) {
		uint64_t now_ms = clock_now_ms();
		bool any = false;

		for (size_t i = 0; i < n; i++) {
			struct rclient *r = &rc[i];
			uint64_t flight = r->tx_dgrams - rc[i ^ 1].rx_dgrams - r->lost;

			if (flight + RELAY_BURST <= RELAY_WINDOW) {
				uint64_t k = relay_send(r, &seq);

				r->tx_dgrams += k;
				sent += k;
				any = true;
				r->stall_ms = 0;
			} else if (!r->stall_ms) {
				r->stall_ms = now_ms;
			} else if (now_ms - r->stall_ms >= RELAY_LOST_MS) {
				r->lost += flight; /* dropped on the way: start again */
				r->stall_ms = 0;
			}
			relay_receive(rc, i, n, bufs);
		}
		if (!any) {
			for (size_t i = 0; i < n; i++)
				pfd[i] = (struct pollfd){ .fd = rc[i].fd, .events = POLLIN };
			(void)poll(pfd, n, 1);
		}
	}
	secs = (double)(clock_now_ms() - t0) / 1000.0;
	cpu1 = pid > 0 ? cpu_ticks(pid) : -1;
	for (size_t i = 0; i < n; i++) {
		relay_receive(rc, i, n, bufs);
		got += rc[i].rx_dgrams;
	}
	gbit = (double)got * RELAY_DGRAM * 8 / secs / 1e9;
	printf("relay_pairs %zu\n", pairs);
	printf("relay_datagram_bytes %d\n", RELAY_DGRAM);
	printf("relay_sent_per_s %.0f\n", (double)sent / secs);
	printf("relay_forwarded_per_s %.0f\n", (double)got / secs);
	printf("relay_forwarded_gbit_per_s %.2f\n", gbit);
	if (cpu0 >= 0 && cpu1 >= 0) {
		double cpu_s = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK);

		printf("server_cpu_percent %.0f\n", 100.0 * cpu_s / secs);
		if (got)
			printf("server_cpu_s_per_gb %.2f\n",
			       cpu_s / ((double)got * RELAY_DGRAM / 1e9));
	}
	for (size_t i = 0; i < n; i++) {
		close(rc[i].fd);
		rdv_client_wipe(&rc[i].c);
	}
	free(rc);
	free(pfd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		SERVER_ARGS_OPTIONS,
		{ "peers", required_argument, NULL, 'n' },
		{ "sockets", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'w' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "relay-pairs", required_argument, NULL, 'R' },
		{ "relay-seconds", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct load l = { 0 };
	struct rdv_endpoint server;
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *server_s = NULL;
	size_t n = 100000, window = 512, next = 0, base = 0, relay_pairs = 0;
	uint64_t relay_seconds = 5;
	long pid = 0;
	uint64_t t0, t_keys, last_scan, now, v;
	int opt, idx = 0;

	l.n_fds = 64;
	if (sodium_init() < 0)
		return 1;
	/* Long options only: idx names the option of every count. */
	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (opt) {
		case 's': server_s = optarg; break;
		case 'K':
			if (!server_args_key("rdv-load", optarg, l.server_pk))
				return 2;
			break;
		case 'n':
		case 'S':
		case 'w':
		case 'p':
		case 'R':
		case 'T':
			if (!server_args_uint("rdv-load", opts[idx].name, optarg,
					      opt == 'n'   ? 10000000
					      : opt == 'S' ? SOCKETS_MAX
					      : opt == 'p' ? INT32_MAX
					      : opt == 'R' ? SOCKETS_MAX / 2
					      : opt == 'T' ? 3600
							   : SIZE_MAX, &v))
				return 2;
			if (opt == 'R') {
				relay_pairs = (size_t)v;
				break;
			}
			if (opt == 'T') {
				relay_seconds = v;
				break;
			}
			if (opt == 'n')
				n = (size_t)v;
			else if (opt == 'S')
				l.n_fds = (size_t)v;
			else if (opt == 'w')
				window = (size_t)v;
			else
				pid = (long)v;
			break;
		default: return 2;
		}
	}
	if (!server_s || rdv_endpoint_parse(&server, server_s, false) < 0 || n < 2 || n > 10000000 ||
	    l.n_fds == 0 || l.n_fds > SOCKETS_MAX || window == 0) {
		fprintf(stderr, "usage: rdv-load --server A:P --server-key B64 [--peers N] "
				"[--sockets S] [--window W] [--server-pid PID]\n"
				"       [--relay-pairs P [--relay-seconds S]]\n");
		return 2;
	}
	if (relay_pairs)
		return relay_main(&server, l.server_pk, relay_pairs, relay_seconds, pid);
	n &= ~(size_t)1; /* keys come in pairs */
	l.n = n;
	l.keys = calloc(n, sizeof(*l.keys));
	for (l.index_mask = 1; l.index_mask < 2 * n; l.index_mask <<= 1)
		;
	l.index = calloc(l.index_mask, sizeof(*l.index));
	l.index_mask--;
	if (!l.keys || !l.index)
		return 1;
	rdv_endpoint_to_sockaddr(&server, &ss, &sl);
	for (size_t i = 0; i < l.n_fds; i++) {
		int buf = 1 << 22;

		l.fds[i] = socket(server.family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (l.fds[i] < 0 || connect(l.fds[i], (struct sockaddr *)&ss, sl) < 0)
			return 1;
		setsockopt(l.fds[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}

	/* Keys and sessions first; not part of the measurement. */
	t0 = clock_now_ms();
	for (size_t i = 0; i < n; i++) {
		uint8_t sk[RDV_KEY_LEN], pk[RDV_KEY_LEN];
		size_t s;

		randombytes_buf(sk, sizeof(sk));
		crypto_scalarmult_base(pk, sk);
		if (rdv_session_derive(&l.keys[i].sess, sk, l.server_pk, pk, l.server_pk) < 0)
			return 1;
		for (s = slot_of(pk, l.index_mask); l.index[s]; s = (s + 1) & l.index_mask)
			;
		l.index[s] = (uint32_t)(i + 1);
	}
	t_keys = clock_now_ms() - t0;

	t0 = last_scan = clock_now_ms();
	while (l.done < n && (now = clock_now_ms()) - t0 < TIME_LIMIT_MS) {
		struct pollfd pfds[SOCKETS_MAX];

		while (next < n && (size_t)(next - l.done) < window) {
			send_register(&l, next, now);
			next++;
		}
		while (base < next && l.keys[base].done)
			base++;
		if (now - last_scan >= 100) {
			/* Resend what has waited too long (a lost REGISTER or reply). */
			for (size_t i = base; i < next; i++) {
				if (!l.keys[i].done && now - l.keys[i].sent_ms >= RETRY_MS) {
					send_register(&l, i, now);
					l.resent++;
				}
			}
			last_scan = now;
		}
		for (size_t i = 0; i < l.n_fds; i++)
			pfds[i] = (struct pollfd){ .fd = l.fds[i], .events = POLLIN };
		if (poll(pfds, l.n_fds, 50) > 0)
			for (size_t i = 0; i < l.n_fds; i++)
				if (pfds[i].revents & POLLIN)
					receive(&l, l.fds[i]);
	}
	now = clock_now_ms();
	printf("peers %zu\n", n);
	printf("registered %llu\n", (unsigned long long)l.done);
	printf("keygen_ms %llu\n", (unsigned long long)t_keys);
	printf("register_ms %llu\n", (unsigned long long)(now - t0));
	printf("registrations_per_s %.0f\n",
	       now > t0 ? (double)l.done * 1000.0 / (double)(now - t0) : 0.0);
	printf("resent %llu\n", (unsigned long long)l.resent);
	printf("bad_replies %llu\n", (unsigned long long)l.bad);
	if (pid > 0) {
		printf("server_rss_kb %ld\n", status_kb(pid, "VmRSS:"));
		printf("server_peak_rss_kb %ld\n", status_kb(pid, "VmHWM:"));
	}
	for (size_t i = 0; i < l.n_fds; i++)
		close(l.fds[i]);
	sodium_memzero(l.keys, n * sizeof(*l.keys));
	free(l.keys);
	free(l.index);
	return l.done == n ? 0 : 1;
}
