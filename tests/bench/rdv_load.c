/* rdv-load: load generator for tunnel-rendezvous. Registers N distinct keys
 * (pairs of keys want each other, so introductions happen too) as fast as
 * the server answers, with a window of outstanding REGISTERs and
 * retransmission of lost ones, then prints registrations per second and the
 * server's resident memory. Numbers only, never pass/fail.
 *
 *   rdv-load --server A:P --server-key B64 [--peers N] [--sockets S]
 *            [--window W] [--server-pid PID]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "crypto/keys.h"
#include "rendezvous/envelope.h"
#include "tests/tools/server_args.h"

enum { SOCKETS_MAX = 1024, RETRY_MS = 500, TIME_LIMIT_MS = 600000 };

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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		SERVER_ARGS_OPTIONS,
		{ "peers", required_argument, NULL, 'n' },
		{ "sockets", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'w' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct load l = { 0 };
	struct rdv_endpoint server;
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *server_s = NULL;
	size_t n = 100000, window = 512, next = 0, base = 0;
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
			if (!server_args_uint("rdv-load", opts[idx].name, optarg,
					      opt == 'n'   ? 10000000
					      : opt == 'S' ? SOCKETS_MAX
					      : opt == 'p' ? INT32_MAX
							   : SIZE_MAX, &v))
				return 2;
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
				"[--sockets S] [--window W] [--server-pid PID]\n");
		return 2;
	}
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
