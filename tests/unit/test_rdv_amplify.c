/* Amplification and abuse test against the real tunnel-rendezvous on
 * loopback: 10^5 random and malformed datagrams (random bytes, STUN-looking
 * ones with bad lengths, attributes or FINGERPRINT, rendezvous headers with
 * random keys, WireGuard-shaped ones) from 64 source ports. Checks: bytes out
 * <= bytes in (server counters and what our sockets received), no reply at
 * all to malformed input, the server stays up, its resident memory stays
 * bounded, and a flood of well-formed Binding requests from one source is
 * answered only up to its rate limit. Exit 77 when the binary is missing. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "crypto/keys.h"
#include "rendezvous/demux.h"
#include "rendezvous/envelope.h"
#include "rendezvous/stun.h"
#include "tests/unit/rdv_child.h"

enum { N_DATAGRAMS = 100000, N_SOCKETS = 64, FLOOD = 3000 };

static char server_bin[4096], dir[64], stats_path[4200];
static pid_t server_pid;
static struct sockaddr_in server_addr;


static long rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)server_pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int start_server(void)
{
	char key_path[128], port_s[64], line[128];
	uint8_t sk[RDV_KEY_LEN];
	char b64[KEY_BASE64_SIZE];
	int pipefd[2], fd, probe;
	socklen_t sl = sizeof(server_addr);
	struct pollfd pfd;
	ssize_t n;

	/* A free port: bind port 0, read it, release it for the server. */
	probe = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(probe, (struct sockaddr *)&server_addr, sizeof(server_addr)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&server_addr, &sl), 0);
	close(probe);
	snprintf(port_s, sizeof(port_s), "127.0.0.1:%u", ntohs(server_addr.sin_port));

	randombytes_buf(sk, sizeof(sk));
	keys_to_base64(b64, sk);
	snprintf(key_path, sizeof(key_path), "%s/key", dir);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b64, strlen(b64)), (ssize_t)strlen(b64));
	close(fd);
	snprintf(stats_path, sizeof(stats_path), "%s/stats", dir);

	assert_int_equal(pipe(pipefd), 0);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(server_bin, server_bin, "--key", key_path, "--listen", port_s, "--foreground",
		      "--stats", stats_path, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* Ready when it prints its public key (after binding). */
	pfd = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	if (poll(&pfd, 1, 20000) != 1)
		fail_msg("server did not start within 20 s");
	n = read(pipefd[0], line, sizeof(line) - 1);
	close(pipefd[0]);
	return n == 45 ? 0 : -1;
}

static size_t make_stun_like(uint8_t *p, int kind)
{
	size_t body = 4 * randombytes_uniform(20), len = 20 + body;

	randombytes_buf(p, len);
	p[0] &= 0x01; /* Binding-ish types */
	p[1] = 0x01;
	memcpy(p + 4, "\x21\x12\xa4\x42", 4);
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	switch (kind) {
	case 0: /* length field lies */
		p[3] = (uint8_t)(body + 4 * (1 + randombytes_uniform(8)));
		break;
	case 1: /* length not a multiple of 4 */
		p[3] = (uint8_t)(body | 1);
		break;
	case 2: /* an attribute runs past the end */
		if (body >= 4) {
			p[20] = 0x80, p[21] = 0x22;
			p[22] = 0x01, p[23] = 0x00;
		} else {
			p[3] = 9;
		}
		break;
	default: /* a FINGERPRINT that does not match, last */
		if (body >= 8) {
			p[len - 8] = 0x80, p[len - 7] = 0x28, p[len - 6] = 0, p[len - 5] = 4;
			for (size_t a = 20; a + 8 < len; a += 4) /* padding-only attributes */
				p[a] = 0x80, p[a + 1] = 0x22, p[a + 2] = 0, p[a + 3] = 0;
			p[len - 1] ^= (uint8_t)(stun_fingerprint(p, len - 8) & 0xff) ^ 0x5a;
		} else {
			p[3] = 2;
		}
	}
	return len;
}

/* One malformed or unauthenticated datagram of a random kind. */
static size_t make_bad(uint8_t *p, uint64_t wall_us)
{
	size_t len;

	switch (randombytes_uniform(6)) {
	case 0: /* anything */
		len = randombytes_uniform(1800);
		randombytes_buf(p, len);
		return len;
	case 1:
	case 2:
		return make_stun_like(p, (int)randombytes_uniform(4));
	case 3: /* rendezvous header, random key and body, fresh timestamp */
		len = RDV_OVERHEAD + randombytes_uniform(400);
		randombytes_buf(p, len);
		p[0] = DEMUX_TYPE_RENDEZVOUS, p[1] = RDV_VERSION, p[2] = 0, p[3] = 0;
		for (int i = 0; i < 8; i++)
			p[36 + i] = (uint8_t)(wall_us >> (56 - 8 * i));
		return len;
	case 4: /* rendezvous header, stale or short */
		len = randombytes_uniform(200);
		randombytes_buf(p, len);
		if (len)
			p[0] = DEMUX_TYPE_RENDEZVOUS;
		return len;
	default: /* WireGuard-shaped */
		p[0] = (uint8_t)(1 + randombytes_uniform(4));
		len = p[0] == 1 ? 148 : p[0] == 2 ? 92 : p[0] == 3 ? 64 : 32 + randombytes_uniform(1400);
		randombytes_buf(p + 1, len - 1);
		p[1] = p[2] = p[3] = 0;
		return len;
	}
}

static uint64_t drain(const int *fds, size_t n, uint64_t *packets)
{
	uint64_t bytes = 0;
	uint8_t buf[4096];

	for (size_t i = 0; i < n; i++) {
		ssize_t r;

		while ((r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			bytes += (uint64_t)r;
			(*packets)++;
		}
	}
	return bytes;
}

static void test_amplification(void **state)
{
	static char stats[16384];
	int fds[N_SOCKETS];
	uint64_t sent_bytes = 0, got_bytes = 0, got_packets = 0, rx, tx, deadline;
	long rss_before, rss_after;
	struct timespec ts;
	uint8_t pkt[2048];

	(void)state;
	assert_int_equal(start_server(), 0);
	for (int i = 0; i < N_SOCKETS; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&server_addr, sizeof(server_addr)),
				 0);
	}
	rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
	rss_before = rss_kb();

	clock_gettime(CLOCK_REALTIME, &ts);
	for (int i = 0; i < N_DATAGRAMS; i++) {
		uint64_t wall_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		size_t len = make_bad(pkt, wall_us);

		/* Bounded retry on a full socket buffer, so all 10^5 get sent. */
		for (int tries = 0; tries < 1000; tries++) {
			if (send(fds[i % N_SOCKETS], pkt, len, 0) >= 0)
				break;
			if (errno != EAGAIN && errno != ECONNREFUSED)
				fail_msg("send: %s", strerror(errno));
			usleep(200);
		}
		sent_bytes += len;
		if (i % 64 == 0) {
			got_bytes += drain(fds, N_SOCKETS, &got_packets);
			/* Pace (~60k datagrams/s at most) so an ASan-built server on a
			 * busy machine keeps up and the kernel does not drop the flood
			 * before the server sees it. */
			usleep(1000);
		}
		if (i % 1000 == 999) {
			/* Flow control: let the server catch up so the kernel does not
			 * drop what it had no time to read. Stop waiting when it has,
			 * or when its count stops moving (those were dropped), or after
			 * 2 s. */
			uint64_t until = clock_now_ms() + 2000, seen = 0, rxp;

			for (;;) {
				rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
				rxp = rdv_stat_value(stats, "rx_packets");
				if (rxp + 200 >= (uint64_t)i || rxp == seen || clock_now_ms() > until)
					break;
				seen = rxp;
				usleep(5000);
			}
		}
	}
	/* Wait (bounded) until the server has counted what the kernel delivered. */
	deadline = clock_now_ms() + 60000;
	do {
		uint64_t before;

		rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
		before = rdv_stat_value(stats, "rx_packets");
		usleep(300000);
		rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
		if (rdv_stat_value(stats, "rx_packets") == before)
			break;
	} while (clock_now_ms() < deadline);
	got_bytes += drain(fds, N_SOCKETS, &got_packets);
	rx = rdv_stat_value(stats, "rx_bytes");
	tx = rdv_stat_value(stats, "tx_bytes");
	rss_after = rss_kb();
	printf("amplification: sent %d datagrams, %llu bytes; server rx %llu packets %llu bytes, "
	       "tx %llu packets %llu bytes; our sockets received %llu packets %llu bytes\n",
	       N_DATAGRAMS, (unsigned long long)sent_bytes,
	       (unsigned long long)rdv_stat_value(stats, "rx_packets"), (unsigned long long)rx,
	       (unsigned long long)rdv_stat_value(stats, "tx_packets"), (unsigned long long)tx,
	       (unsigned long long)got_packets, (unsigned long long)got_bytes);
	printf("amplification: stun malformed %llu, rendezvous bad MAC %llu, short %llu, stale %llu, "
	       "crypto rate-limited %llu, unknown %llu, wireguard %llu\n",
	       (unsigned long long)rdv_stat_value(stats, "stun_malformed"),
	       (unsigned long long)rdv_stat_value(stats, "rdv_rejected_bad-mac"),
	       (unsigned long long)rdv_stat_value(stats, "rdv_rejected_short"),
	       (unsigned long long)rdv_stat_value(stats, "rdv_rejected_stale"),
	       (unsigned long long)rdv_stat_value(stats, "crypto_rate_limited"),
	       (unsigned long long)rdv_stat_value(stats, "drop_unknown"),
	       (unsigned long long)rdv_stat_value(stats, "drop_wireguard"));
	printf("amplification: server RSS before %ld kB, after %ld kB\n", rss_before, rss_after);
	/* Most of the flood must have reached the server for this to mean anything. */
	assert_true(rdv_stat_value(stats, "rx_packets") >= N_DATAGRAMS * 9 / 10);
	assert_true(tx <= rx);
	assert_true(got_bytes <= sent_bytes);
	assert_int_equal(rdv_stat_value(stats, "tx_packets"), 0);
	assert_int_equal(got_packets, 0);
	assert_true(rdv_stat_value(stats, "crypto_rate_limited") > 0);
	assert_int_equal(kill(server_pid, 0), 0);
	assert_true(rss_after - rss_before < 16 * 1024);

	/* A flood of well-formed Binding requests from one source. */
	{
		uint8_t txid[STUN_TXID_LEN], req[STUN_HEADER_LEN];
		uint64_t t0 = clock_now_ms(), replies = 0, elapsed_ms, allowed;

		got_packets = 0;
		for (int i = 0; i < FLOOD; i++) {
			randombytes_buf(txid, sizeof(txid));
			assert_int_equal(stun_build_binding_request(txid, req, sizeof(req)),
					 STUN_HEADER_LEN);
			(void)!send(fds[0], req, sizeof(req), 0);
			if (i % 256 == 0)
				drain(fds, 1, &replies);
		}
		deadline = clock_now_ms() + 2000;
		while (clock_now_ms() < deadline) {
			struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

			if (poll(&pfd, 1, 200) == 1)
				drain(fds, 1, &replies);
			else
				break;
		}
		elapsed_ms = clock_now_ms() - t0;
		/* burst 20, then 10 per second */
		allowed = 20 + 10 * (elapsed_ms + 999) / 1000;
		rdv_read_stats(server_pid, stats_path, stats, sizeof(stats));
		printf("stun flood: %d well-formed Binding requests from one source in %llu ms, "
		       "%llu answered (limit %llu), %llu rate-limited\n",
		       FLOOD, (unsigned long long)elapsed_ms, (unsigned long long)replies,
		       (unsigned long long)allowed,
		       (unsigned long long)rdv_stat_value(stats, "stun_rate_limited"));
		assert_true(replies >= 1);
		assert_true(replies <= allowed);
		assert_true(rdv_stat_value(stats, "stun_rate_limited") >= FLOOD / 10);
	}

	for (int i = 0; i < N_SOCKETS; i++)
		close(fds[i]);
	rdv_stop_server(&server_pid);
}

static void cleanup(void)
{
	char p[4300];

	rdv_kill_server(&server_pid);
	snprintf(p, sizeof(p), "%s/key", dir);
	unlink(p);
	rdv_remove_stats(stats_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amplification),
	};
	int r = rdv_server_binary("test_rdv_amplify", server_bin, sizeof(server_bin));

	if (r)
		return r;
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/tnl-rdv-amp.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cleanup();
	return r;
}
