/* The real tunnel-rendezvous with several worker threads (--threads 2, or
 * $TUNNEL_RDV_THREADS) on loopback, with --alt-port: 24 clients from 24
 * source ports (the kernel spreads them over the threads' SO_REUSEPORT
 * sockets), in 12 pairs that want each other. Checks: all register, are
 * introduced and get a relay channel; each sends RELAY_N RELAY messages
 * and RELAY_N channel datagrams to its partner, and each partner receives
 * exactly those, from the right peer, in order, nothing else; STUN answers
 * on both ports name the other port; the counters add up (the server
 * received what we sent and sent what we received, relay and channel
 * counts, registrations, every thread handled some, their sum is
 * rx_packets); a second server on the same port refuses to start; the
 * server exits 0 (no leak) on SIGTERM. Exit 77 when the binary is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/sockbuf.h"
#include "crypto/keys.h"
#include "rendezvous/client.h"
#include "rendezvous/demux.h"
#include "rendezvous/stun.h"
#include "tests/unit/rdv_child.h"

enum {
	N_CLIENTS = 24,
	RELAY_N = 150,  /* RELAY messages, and as many channel datagrams, per client */
	WINDOW = 16,    /* of each kind in flight per client */
	STEP_MS = 20000, /* bound on each phase */
	INNER_LEN = 64, /* a WireGuard transport message: 16-byte header, 48 more */
};

struct peer {
	struct rdv_client c;
	int fd;
	int partner;
	bool registered, introduced, have_chan;
	uint64_t open_sent_ms;
	uint8_t chan[RDV_CHANNEL_ID_LEN];
	uint32_t relay_sent, chan_sent, relay_got, chan_got; /* sequence numbers */
	bool stun_ok[2];
	uint8_t stun_txid[2][STUN_TXID_LEN];
};

static char server_bin[4096], dir[64], stats_path[4200], key_path[128];
static char port_s[64], alt_s[16];
static pid_t server_pid, second_pid; /* second_pid: only if it wrongly started */
static struct sockaddr_in server_addr[2]; /* the port, the alt port */
static struct peer peers[N_CLIENTS];
static uint8_t server_pk[RDV_KEY_LEN];
static uint64_t sent, received, bad;
static unsigned threads = 2;

/* Counts something wrong; the first one's line is reported. */
static int first_bad_line;
static void bad_at(int line)
{
	if (!bad++)
		first_bad_line = line;
}


static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(a);
	int probe = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(probe >= 0);
	assert_int_equal(bind(probe, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&a, &sl), 0);
	close(probe);
	return ntohs(a.sin_port);
}

/* Runs the server; returns its exit status if it exits within 20 s of
 * starting (a refusal), or -1 once it printed its key (running). */
static int run_server(pid_t *pid, uint8_t pk[RDV_KEY_LEN])
{
	char threads_s[16], line[128];
	int pipefd[2];
	struct pollfd pfd;
	ssize_t n;

	snprintf(threads_s, sizeof(threads_s), "%u", threads);
	assert_int_equal(pipe(pipefd), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(server_bin, server_bin, "--key", key_path, "--listen", port_s, "--alt-port",
		      alt_s, "--foreground", "--threads", threads_s, "--stats", stats_path,
		      "--source-rate", "100000", "--stun-rate", "100000", "--relay-rate", "100000000",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	pfd = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	if (poll(&pfd, 1, 20000) != 1)
		fail_msg("server neither started nor failed within 20 s");
	n = read(pipefd[0], line, sizeof(line) - 1);
	close(pipefd[0]);
	if (n == 45) {
		line[44] = '\0';
		assert_int_equal(keys_from_base64(pk, line), 0);
		return -1;
	}
	{
		int status;

		assert_int_equal(waitpid(*pid, &status, 0), *pid);
		*pid = 0;
		assert_true(WIFEXITED(status));
		return WEXITSTATUS(status);
	}
}

static void start_server(void)
{
	uint8_t sk[RDV_KEY_LEN];
	char b64[KEY_BASE64_SIZE];
	uint16_t port = free_port(), alt;
	int fd;

	do
		alt = free_port();
	while (alt == port);
	for (int i = 0; i < 2; i++)
		server_addr[i] = (struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_port = htons(i ? alt : port),
						       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	snprintf(port_s, sizeof(port_s), "127.0.0.1:%u", port);
	snprintf(alt_s, sizeof(alt_s), "%u", alt);
	randombytes_buf(sk, sizeof(sk));
	keys_to_base64(b64, sk);
	snprintf(key_path, sizeof(key_path), "%s/key", dir);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b64, strlen(b64)), (ssize_t)strlen(b64));
	close(fd);
	sodium_memzero(sk, sizeof(sk));
	snprintf(stats_path, sizeof(stats_path), "%s/stats", dir);
	assert_int_equal(run_server(&server_pid, server_pk), -1);
}

static void send_to(struct peer *p, int port, const uint8_t *buf, size_t len)
{
	ssize_t n = sendto(p->fd, buf, len, 0, (struct sockaddr *)&server_addr[port],
			   sizeof(server_addr[port]));

	assert_int_equal(n, (ssize_t)len);
	sent++;
}

static void on_channel_datagram(struct peer *p, const uint8_t *buf, size_t len)
{
	uint32_t from, seq;

	if (len != RDV_CHANNEL_HEADER_LEN + INNER_LEN || !p->have_chan ||
	    memcmp(buf + 4, p->chan, RDV_CHANNEL_ID_LEN) != 0) {
		bad_at(__LINE__);
		return;
	}
	from = load_le32(buf + RDV_CHANNEL_HEADER_LEN + 4);
	seq = (uint32_t)load_le64(buf + RDV_CHANNEL_HEADER_LEN + 8);
	if ((int)from != p->partner || seq != p->chan_got) {
		bad_at(__LINE__);
		return;
	}
	p->chan_got++;
}

static void on_event(struct peer *p, const struct rdv_event *ev, uint64_t now_ms)
{
	const struct rdv_msg *m = &ev->msg;
	const uint8_t *partner_pk = peers[p->partner].c.public_key;

	switch (ev->type) {
	case RDV_EVENT_REGISTERED:
		p->registered = true;
		break;
	case RDV_EVENT_INTRODUCED:
		if (memcmp(m->introduce.peer, partner_pk, RDV_KEY_LEN) != 0)
			bad_at(__LINE__);
		p->introduced = true;
		(void)now_ms;
		break;
	case RDV_EVENT_CHANNEL:
		if (memcmp(m->channel.peer, partner_pk, RDV_KEY_LEN) != 0) {
			bad_at(__LINE__);
			break;
		}
		memcpy(p->chan, m->channel.chan, sizeof(p->chan));
		p->have_chan = true;
		break;
	case RDV_EVENT_RELAY:
		if (memcmp(m->relay.peer, partner_pk, RDV_KEY_LEN) != 0 || m->relay.len != 8 ||
		    (int)load_le32(m->relay.data) != p->partner ||
		    load_le32(m->relay.data + 4) != p->relay_got) {
			bad_at(__LINE__);
			break;
		}
		p->relay_got++;
		break;
	case RDV_EVENT_ERROR:
		fail_msg("client %d: server error %u", (int)(p - peers), (unsigned)m->error.code);
		break;
	case RDV_EVENT_CHALLENGE:
	case RDV_EVENT_NONE:
		break;
	}
}

static void on_stun(struct peer *p, const uint8_t *buf, size_t len, in_port_t from)
{
	struct stun_msg sm;

	if (stun_parse(buf, len, &sm) != STUN_OK || sm.type != STUN_BINDING_SUCCESS ||
	    !sm.has_other) {
		bad_at(__LINE__);
		return;
	}
	for (int k = 0; k < 2; k++) {
		const struct sockaddr_in *o = (const struct sockaddr_in *)&sm.other;

		/* Asked on port k: OTHER-ADDRESS is the other one. */
		if (memcmp(sm.txid, p->stun_txid[k], STUN_TXID_LEN) == 0) {
			if (o->sin_family != AF_INET || o->sin_port != server_addr[!k].sin_port ||
			    from != server_addr[k].sin_port || p->stun_ok[k])
				bad_at(__LINE__);
			else
				p->stun_ok[k] = true;
			return;
		}
	}
	bad_at(__LINE__);
}

/* Polls every client once: due REGISTERs go out, what arrived is taken. */
static void pump(int timeout_ms)
{
	struct pollfd pfd[N_CLIENTS];
	uint64_t now_ms = clock_now_ms();

	for (int i = 0; i < N_CLIENTS; i++) {
		uint8_t out[RDV_DATAGRAM_MAX];
		size_t len;

		while (rdv_client_poll(&peers[i].c, now_ms, out, sizeof(out), &len) == 1)
			send_to(&peers[i], 0, out, len);
		pfd[i] = (struct pollfd){ .fd = peers[i].fd, .events = POLLIN };
	}
	if (poll(pfd, N_CLIENTS, timeout_ms) <= 0)
		return;
	now_ms = clock_now_ms();
	for (int i = 0; i < N_CLIENTS; i++) {
		struct peer *p = &peers[i];
		uint8_t buf[2048];
		ssize_t n;

		struct sockaddr_in from;
		socklen_t fl = sizeof(from);

		while ((n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl)) > 0) {
			struct rdv_event ev;
			enum rdv_status st;
			enum demux_class kind = demux_classify(buf, (size_t)n);

			received++;
			fl = sizeof(from);
			/* Every answer from the address asked (a NAT drops others). */
			if (from.sin_addr.s_addr != server_addr[0].sin_addr.s_addr ||
			    (kind != DEMUX_STUN && from.sin_port != server_addr[0].sin_port)) {
				bad_at(__LINE__);
				continue;
			}
			switch (kind) {
			case DEMUX_RENDEZVOUS:
				st = rdv_client_consume(&p->c, buf, (size_t)n, now_ms, &ev);
				if (st == RDV_OK) {
					on_event(p, &ev, now_ms);
				} else {
					fprintf(stderr, "client %d dropped a server message: %s\n",
						i, rdv_status_name(st));
					bad_at(__LINE__);
				}
				break;
			case DEMUX_CHANNEL:
				on_channel_datagram(p, buf, (size_t)n);
				break;
			case DEMUX_STUN:
				on_stun(p, buf, (size_t)n, from.sin_port);
				break;
			default:
				bad_at(__LINE__);
			}
		}
	}
}

static bool all(bool (*done)(const struct peer *))
{
	for (int i = 0; i < N_CLIENTS; i++)
		if (!done(&peers[i]))
			return false;
	return true;
}

static bool introduced(const struct peer *p)
{
	return p->registered && p->introduced && p->have_chan;
}

static bool relayed(const struct peer *p)
{
	return p->relay_got == RELAY_N && p->chan_got == RELAY_N;
}

static bool stunned(const struct peer *p)
{
	return p->stun_ok[0] && p->stun_ok[1];
}

/* Both ends ask for the channel (the server opens it once both did); asked
 * again after a second without an answer. */
static void open_channels(uint64_t now_ms)
{
	static const uint8_t none[RDV_CHANNEL_ID_LEN];

	for (int i = 0; i < N_CLIENTS; i++) {
		struct peer *p = &peers[i];
		uint8_t out[RDV_DATAGRAM_MAX];
		size_t len;

		if (!p->introduced || p->have_chan ||
		    (p->open_sent_ms && now_ms - p->open_sent_ms < 1000))
			continue;
		assert_int_equal(rdv_client_build_channel_open(&p->c, peers[p->partner].c.public_key,
							       none, out, sizeof(out), &len), 0);
		send_to(p, 0, out, len);
		p->open_sent_ms = now_ms;
	}
}

/* Up to WINDOW of each kind ahead of what the partner has received. */
static void send_relays(uint64_t now_ms)
{
	for (int i = 0; i < N_CLIENTS; i++) {
		struct peer *p = &peers[i], *q = &peers[p->partner];

		while (p->relay_sent < RELAY_N && p->relay_sent - q->relay_got < WINDOW) {
			uint8_t data[8], out[RDV_DATAGRAM_MAX];
			size_t len;

			store_le32(data, (uint32_t)i);
			store_le32(data + 4, p->relay_sent++);
			assert_int_equal(rdv_client_build_relay(&p->c, q->c.public_key, data,
								sizeof(data), now_ms, out,
								sizeof(out), &len), 0);
			send_to(p, 0, out, len);
		}
		while (p->chan_sent < RELAY_N && p->chan_sent - q->chan_got < WINDOW) {
			uint8_t out[RDV_CHANNEL_HEADER_LEN + INNER_LEN] = { DEMUX_TYPE_CHANNEL };
			uint8_t *inner = out + RDV_CHANNEL_HEADER_LEN;

			memcpy(out + 4, p->chan, RDV_CHANNEL_ID_LEN);
			store_le32(inner, 4); /* WireGuard transport data */
			store_le32(inner + 4, (uint32_t)i);
			store_le64(inner + 8, p->chan_sent++);
			randombytes_buf(inner + 16, INNER_LEN - 16);
			send_to(p, 0, out, sizeof(out));
		}
	}
}

static void test_threads(void **state)
{
	char stats[16384], name[64];
	uint64_t t0, sum = 0, rx;
	uint8_t second_pk[RDV_KEY_LEN];

	(void)state;
	start_server();
	/* A second server on the same port must not join the reuseport group. */
	assert_int_equal(run_server(&second_pid, second_pk), 1);

	for (int i = 0; i < N_CLIENTS; i++) {
		struct peer *p = &peers[i];
		uint8_t sk[RDV_KEY_LEN];
		struct sockaddr_in any = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		randombytes_buf(sk, sizeof(sk));
		assert_int_equal(rdv_client_init(&p->c, sk, server_pk, clock_now_ms()), 0);
		sodium_memzero(sk, sizeof(sk));
		p->partner = i ^ 1;
		p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(p->fd >= 0);
		sockbuf_grow(p->fd, 1 << 20);
		assert_int_equal(bind(p->fd, (struct sockaddr *)&any, sizeof(any)), 0);
	}
	for (int i = 0; i < N_CLIENTS; i++)
		assert_int_equal(rdv_client_set_wants(&peers[i].c,
						      &peers[peers[i].partner].c.public_key, 1,
						      clock_now_ms()), 0);

	t0 = clock_now_ms();
	while (!all(introduced) && clock_now_ms() - t0 < STEP_MS) {
		open_channels(clock_now_ms());
		pump(50);
	}
	assert_true(all(introduced));

	t0 = clock_now_ms();
	while (!all(relayed) && clock_now_ms() - t0 < STEP_MS) {
		send_relays(clock_now_ms());
		pump(50);
	}
	for (int i = 0; i < N_CLIENTS; i++) {
		if (!relayed(&peers[i]))
			fail_msg("client %d got %u RELAY and %u channel datagrams of %d", i,
				 peers[i].relay_got, peers[i].chan_got, RELAY_N);
	}

	for (int i = 0; i < N_CLIENTS; i++) {
		for (int k = 0; k < 2; k++) {
			uint8_t req[STUN_HEADER_LEN];
			int n;

			randombytes_buf(peers[i].stun_txid[k], STUN_TXID_LEN);
			n = stun_build_binding_request(peers[i].stun_txid[k], req, sizeof(req));
			assert_true(n > 0);
			send_to(&peers[i], k, req, (size_t)n);
		}
	}
	t0 = clock_now_ms();
	while (!all(stunned) && clock_now_ms() - t0 < STEP_MS)
		pump(50);
	assert_true(all(stunned));
	/* Whatever is still on its way (none expected): until 300 ms of quiet. */
	for (uint64_t before = received - 1; before != received;) {
		before = received;
		pump(300);
	}
	if (bad)
		fail_msg("%llu wrong datagrams, the first seen at line %d", (unsigned long long)bad,
			 first_bad_line);

	rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
	printf("threads: %u threads, sent %llu, received %llu\n", threads,
	       (unsigned long long)sent, (unsigned long long)received);
	assert_int_equal(rdv_stat_value(stats, "threads"), threads);
	rx = rdv_stat_value(stats, "rx_packets");
	for (unsigned t = 0; t < threads; t++) {
		uint64_t v;

		snprintf(name, sizeof(name), "thread%u_datagrams", t);
		v = rdv_stat_value(stats, name);
		printf("threads: thread %u handled %llu datagrams\n", t, (unsigned long long)v);
		/* 24 sources over 2 sockets: all on one has odds 2^-23. */
		if (threads <= 2)
			assert_true(v > 0);
		sum += v;
	}
	assert_int_equal(sum, rx);
	assert_int_equal(rx, sent);
	assert_int_equal(rdv_stat_value(stats, "tx_packets"), received);
	assert_int_equal(rdv_stat_value(stats, "relay_packets"), 2 * N_CLIENTS * RELAY_N);
	assert_int_equal(rdv_stat_value(stats, "channel_packets"), N_CLIENTS * RELAY_N);
	assert_int_equal(rdv_stat_value(stats, "relay_bytes"),
			 (uint64_t)N_CLIENTS * RELAY_N * (8 + INNER_LEN));
	assert_int_equal(rdv_stat_value(stats, "registrations"), N_CLIENTS);
	assert_int_equal(rdv_stat_value(stats, "peers"), N_CLIENTS);
	assert_int_equal(rdv_stat_value(stats, "channels_opened"), N_CLIENTS / 2);
	assert_int_equal(rdv_stat_value(stats, "stun_replies"), 2 * N_CLIENTS);
	assert_true(rdv_stat_value(stats, "introductions") >= N_CLIENTS);
	assert_int_equal(rdv_stat_value(stats, "outbox_full"), 0);
	assert_int_equal(rdv_stat_value(stats, "relay_rate_limited"), 0);

	for (int i = 0; i < N_CLIENTS; i++) {
		close(peers[i].fd);
		rdv_client_wipe(&peers[i].c);
	}
	/* exit 0 also means the threads joined and nothing leaked */
	rdv_stop_server(&server_pid);
}

static void cleanup(void)
{
	rdv_kill_server(&server_pid);
	rdv_kill_server(&second_pid);
	unlink(key_path);
	rdv_remove_stats(stats_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
	};
	const char *t = getenv("TUNNEL_RDV_THREADS");
	int r;

	if (t && (atoi(t) < 1 || atoi(t) > 16)) {
		fprintf(stderr, "test_rdv_threads: TUNNEL_RDV_THREADS must be 1 to 16\n");
		return 1;
	}
	if (t)
		threads = (unsigned)atoi(t);
	r = rdv_server_binary("test_rdv_threads", server_bin, sizeof(server_bin));
	if (r)
		return r;
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/tnl-rdv-threads.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cleanup();
	return r;
}
