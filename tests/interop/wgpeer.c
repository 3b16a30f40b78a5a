/* wgpeer: a minimal WireGuard peer built on crypto/ alone, for the interop
 * test against wireguard-go (tests/interop/test_wireguard_go). It speaks the
 * protocol over one plain UDP socket and carries hand-built IPv4 ICMP echo
 * packets as the inner traffic; there is no TUN device.
 *
 *   --mode initiate  handshake to --endpoint, send an echo request to
 *                    --inner-remote, receive and verify the echo reply; with
 *                    --keepalive-on-stdin, then print "ready", wait for a
 *                    line on stdin and send one keepalive (empty message).
 *   --mode respond   wait for an initiation, answer it, decrypt --count echo
 *                    requests from --inner-remote and answer each.
 *
 * Exit 0 when the exchange worked, 1 on timeout or a failed check, 2 on bad
 * usage. Every datagram that is not what we expect is dropped and counted. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "crypto/cookie.h"
#include "crypto/keys.h"
#include "crypto/messages.h"
#include "crypto/noise.h"
#include "crypto/session.h"

enum { BUF_SIZE = 2048, ECHO_PAYLOAD = 56, MTU = 1420, RETRY_MS = 1000 };

struct peer_state {
	int fd;
	struct noise_local local;
	struct noise_handshake hs;
	struct cookie_checker checker;
	struct cookie_maker maker;
	struct keypairs kps;
	struct sockaddr_in endpoint;
	bool have_endpoint;
	struct in_addr inner_local, inner_remote;
	uint64_t deadline_ms;
	unsigned dropped;
	uint16_t echo_id;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: wgpeer --mode initiate|respond --private-key-file FILE --peer-public B64\n"
		   "              --listen-port PORT --inner-local IP --inner-remote IP\n"
		   "              [--endpoint IP:PORT] [--count N] [--timeout-ms MS]\n"
		   "              [--keepalive-on-stdin]\n");
}

static int read_key_file(const char *path, uint8_t key[static KEY_LEN])
{
	char line[128] = { 0 };
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	n = (size_t)keys_from_base64(key, line);
	sodium_memzero(line, sizeof(line));
	return (int)n;
}

static int parse_endpoint(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* The peer's address as the cookie input: IPv4 address then port. */
static void source_bytes(const struct sockaddr_in *sa, uint8_t out[6])
{
	memcpy(out, &sa->sin_addr, 4);
	memcpy(out + 4, &sa->sin_port, 2);
}

static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds IPv4 + ICMP echo (type 8 request, 0 reply) into `p`; returns its
 * length. */
static size_t build_echo(uint8_t *p, uint8_t type, struct in_addr src, struct in_addr dst,
			 uint16_t id, uint16_t seq, const uint8_t *payload, size_t payload_len)
{
	size_t icmp_len = 8 + payload_len, total = 20 + icmp_len;
	uint16_t sum;

	memset(p, 0, total);
	p[0] = 0x45;
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[6] = 0x40;	/* don't fragment */
	p[8] = 64;	/* ttl */
	p[9] = 1;	/* ICMP */
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	sum = inet_checksum(p, 20);
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	p[20] = type;
	p[24] = (uint8_t)(id >> 8);
	p[25] = (uint8_t)id;
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	memcpy(p + 28, payload, payload_len);
	sum = inet_checksum(p + 20, icmp_len);
	p[22] = (uint8_t)(sum >> 8);
	p[23] = (uint8_t)sum;
	return total;
}

struct echo {
	uint8_t type;
	uint16_t id, seq;
	const uint8_t *payload;
	size_t payload_len;
};

/* Checks a decrypted inner packet is a well-formed IPv4 ICMP echo from
 * `src` to `dst` with valid checksums; fills `e`. */
static bool parse_echo(const uint8_t *p, size_t len, struct in_addr src, struct in_addr dst,
		       struct echo *e)
{
	size_t total, ihl;

	if (len < 28 || (p[0] >> 4) != 4)
		return false;
	ihl = (size_t)(p[0] & 0xf) * 4;
	total = (size_t)p[2] << 8 | p[3];
	if (ihl < 20 || total > len || total < ihl + 8 || p[9] != 1)
		return false;
	if (inet_checksum(p, ihl) != 0 || inet_checksum(p + ihl, total - ihl) != 0)
		return false;
	if (memcmp(p + 12, &src, 4) != 0 || memcmp(p + 16, &dst, 4) != 0)
		return false;
	e->type = p[ihl];
	if (p[ihl + 1] != 0)
		return false;
	e->id = (uint16_t)(p[ihl + 4] << 8 | p[ihl + 5]);
	e->seq = (uint16_t)(p[ihl + 6] << 8 | p[ihl + 7]);
	e->payload = p + ihl + 8;
	e->payload_len = total - ihl - 8;
	return true;
}

static int send_to(struct peer_state *st, const uint8_t *buf, size_t len)
{
	if (sendto(st->fd, buf, len, 0, (const struct sockaddr *)&st->endpoint,
		   sizeof(st->endpoint)) != (ssize_t)len)
		return -errno;
	return 0;
}

/* Waits for one datagram until `until_ms`; 0 and *len on success, -ETIMEDOUT. */
static int receive(struct peer_state *st, uint8_t *buf, size_t *len, struct sockaddr_in *from,
		   uint64_t until_ms)
{
	for (;;) {
		uint64_t now = clock_now_ms();
		struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
		socklen_t alen = sizeof(*from);
		ssize_t n;
		int r;

		if (now >= until_ms)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(until_ms - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = recvfrom(st->fd, buf, BUF_SIZE, 0, (struct sockaddr *)from, &alen);
		if (n < 0)
			return -errno;
		*len = (size_t)n;
		return 0;
	}
}

/* Seals `inner` (len bytes) with the current keypair and sends it. */
static int send_inner(struct peer_state *st, const uint8_t *inner, size_t len)
{
	uint8_t buf[BUF_SIZE];
	size_t padded = session_padded_len(len, MTU), out_len;
	int r;

	if (session_message_len(padded) > sizeof(buf))
		return -EMSGSIZE;
	memset(buf, 0, sizeof(buf));
	if (len)
		memcpy(buf + MESSAGE_DATA_HEADER_LEN, inner, len);
	r = session_keypairs_seal(&st->kps, buf, sizeof(buf), padded, clock_now_ms(), &out_len);
	if (r < 0)
		return r;
	return send_to(st, buf, out_len);
}

static int send_initiation(struct peer_state *st)
{
	uint8_t msg[MESSAGE_INITIATION_LEN], ts[TAI64N_LEN];
	int r;

	clock_tai64n(ts);
	r = noise_create_initiation(&st->hs, &st->local, noise_index_random(), ts, msg);
	if (r < 0)
		return r;
	r = cookie_maker_add_macs(&st->maker, msg, sizeof(msg), clock_now_ms());
	if (r < 0)
		return r;
	return send_to(st, msg, sizeof(msg));
}

/* Initiator: handshake until a keypair is installed. */
static int do_handshake(struct peer_state *st)
{
	uint8_t buf[BUF_SIZE];
	struct sockaddr_in from;
	struct keypair kp;
	uint64_t next_send = 0;
	size_t len;
	int r;

	for (;;) {
		uint64_t now = clock_now_ms();

		if (now >= st->deadline_ms)
			return -ETIMEDOUT;
		if (now >= next_send) {
			r = send_initiation(st);
			if (r < 0)
				return r;
			next_send = now + RETRY_MS;
		}
		r = receive(st, buf, &len, &from, MIN(next_send, st->deadline_ms));
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			return r;
		switch (message_validate_header(buf, len)) {
		case MESSAGE_HANDSHAKE_COOKIE:
			if (message_receiver_index(buf, MESSAGE_HANDSHAKE_COOKIE) != st->hs.local_index ||
			    cookie_maker_consume_reply(&st->maker, buf, len, clock_now_ms()) < 0) {
				st->dropped++;
				break;
			}
			printf("cookie reply accepted, resending initiation\n");
			next_send = 0;
			break;
		case MESSAGE_HANDSHAKE_RESPONSE:
			if (cookie_checker_validate(&st->checker, buf, len, NULL, 0, false,
						    clock_now_ms()) == COOKIE_MAC_INVALID ||
			    noise_consume_response(&st->hs, &st->local, buf, len) < 0) {
				st->dropped++;
				break;
			}
			r = noise_derive_keypair(&st->hs, &kp, clock_now_ms());
			if (r < 0)
				return r;
			session_keypairs_insert(&st->kps, &kp);
			printf("handshake complete (initiator), local index %08x remote %08x\n",
			       st->kps.current.local_index, st->kps.current.remote_index);
			return 0;
		default:
			st->dropped++;
		}
	}
}

/* Receives data messages until one decrypts to a non-empty inner packet. */
static int receive_inner(struct peer_state *st, uint8_t *buf, uint8_t **plain, size_t *plain_len)
{
	struct sockaddr_in from;
	size_t len;
	bool rotated;
	int r;

	for (;;) {
		r = receive(st, buf, &len, &from, st->deadline_ms);
		if (r < 0)
			return r;
		if (message_validate_header(buf, len) != MESSAGE_DATA) {
			st->dropped++;
			continue;
		}
		r = session_keypairs_open(&st->kps, buf, len, clock_now_ms(), plain, plain_len,
					  &rotated);
		if (r < 0) {
			st->dropped++;
			continue;
		}
		if (rotated)
			printf("responder keypair confirmed\n");
		/* Roaming, as WireGuard: authenticated data moves the endpoint. */
		st->endpoint = from;
		if (*plain_len == 0) {
			printf("keepalive received\n");
			continue;
		}
		return 0;
	}
}

static int run_initiator(struct peer_state *st, bool keepalive_on_stdin)
{
	uint8_t payload[ECHO_PAYLOAD], inner[BUF_SIZE], buf[BUF_SIZE], *plain;
	size_t inner_len, plain_len;
	struct echo e;
	int r;

	r = do_handshake(st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0x20 + i);
	inner_len = build_echo(inner, 8, st->inner_local, st->inner_remote, st->echo_id, 1, payload,
			       sizeof(payload));
	r = send_inner(st, inner, inner_len);
	if (r < 0)
		return r;
	printf("echo request sent to %s\n", inet_ntoa(st->inner_remote));
	for (;;) {
		r = receive_inner(st, buf, &plain, &plain_len);
		if (r < 0)
			return r;
		if (parse_echo(plain, plain_len, st->inner_remote, st->inner_local, &e) &&
		    e.type == 0 && e.id == st->echo_id && e.seq == 1 &&
		    e.payload_len == sizeof(payload) && memcmp(e.payload, payload, sizeof(payload)) == 0)
			break;
		st->dropped++;
	}
	printf("echo reply verified from %s\n", inet_ntoa(st->inner_remote));
	if (keepalive_on_stdin) {
		char line[16];
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		uint64_t now = clock_now_ms();

		printf("ready\n");
		fflush(stdout);
		if (now >= st->deadline_ms || poll(&pfd, 1, (int)(st->deadline_ms - now)) != 1 ||
		    !fgets(line, sizeof(line), stdin))
			return -ETIMEDOUT;
		r = send_inner(st, NULL, 0);
		if (r < 0)
			return r;
		printf("keepalive sent\n");
	}
	return 0;
}

static struct noise_handshake *lookup_one(void *ctx, const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct peer_state *st = ctx;

	return keys_equal(pub, st->hs.remote_static) ? &st->hs : NULL;
}

/* Responder: answer initiations, decrypt and answer `count` echo requests. */
static int run_responder(struct peer_state *st, unsigned count)
{
	uint8_t buf[BUF_SIZE], out[BUF_SIZE], src[6], *plain;
	struct sockaddr_in from;
	unsigned answered = 0;
	size_t len, plain_len;
	bool rotated;
	int r;

	while (answered < count) {
		r = receive(st, buf, &len, &from, st->deadline_ms);
		if (r < 0)
			return r;
		switch (message_validate_header(buf, len)) {
		case MESSAGE_HANDSHAKE_INITIATION: {
			struct noise_handshake *hs;
			struct keypair kp;

			source_bytes(&from, src);
			if (cookie_checker_validate(&st->checker, buf, len, src, sizeof(src), false,
						    clock_now_ms()) == COOKIE_MAC_INVALID ||
			    noise_consume_initiation(&st->local, buf, len, lookup_one, st,
						     clock_now_ms(), &hs) < 0) {
				st->dropped++;
				break;
			}
			r = noise_create_response(hs, noise_index_random(), out);
			if (r < 0)
				return r;
			r = cookie_maker_add_macs(&st->maker, out, MESSAGE_RESPONSE_LEN, clock_now_ms());
			if (r < 0)
				return r;
			r = noise_derive_keypair(hs, &kp, clock_now_ms());
			if (r < 0)
				return r;
			session_keypairs_insert(&st->kps, &kp);
			st->endpoint = from;
			r = send_to(st, out, MESSAGE_RESPONSE_LEN);
			if (r < 0)
				return r;
			printf("initiation consumed, response sent to %s:%u\n",
			       inet_ntoa(from.sin_addr), ntohs(from.sin_port));
			break;
		}
		case MESSAGE_DATA: {
			struct echo e;
			size_t reply_len;

			if (session_keypairs_open(&st->kps, buf, len, clock_now_ms(), &plain,
						  &plain_len, &rotated) < 0) {
				st->dropped++;
				break;
			}
			if (rotated)
				printf("responder keypair confirmed\n");
			st->endpoint = from;
			if (plain_len == 0) {
				printf("keepalive received\n");
				break;
			}
			if (!parse_echo(plain, plain_len, st->inner_remote, st->inner_local, &e) ||
			    e.type != 8) {
				st->dropped++;
				break;
			}
			printf("echo request %u verified from %s\n", e.seq, inet_ntoa(st->inner_remote));
			reply_len = build_echo(out, 0, st->inner_local, st->inner_remote, e.id, e.seq,
					       e.payload, e.payload_len);
			r = send_inner(st, out, reply_len);
			if (r < 0)
				return r;
			answered++;
			break;
		}
		default:
			st->dropped++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "private-key-file", required_argument, NULL, 'k' },
		{ "peer-public", required_argument, NULL, 'p' },
		{ "listen-port", required_argument, NULL, 'l' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "inner-local", required_argument, NULL, 'a' },
		{ "inner-remote", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "keepalive-on-stdin", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct peer_state st;	/* large; keep it off the stack */
	const char *mode = NULL, *key_file = NULL, *peer_pub = NULL;
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	struct sockaddr_in bind_addr = { .sin_family = AF_INET };
	long port = -1, timeout_ms = 10000, count = 1;
	bool keepalive = false, ok_inner = true;
	int c, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'k': key_file = optarg; break;
		case 'p': peer_pub = optarg; break;
		case 'l': port = strtol(optarg, NULL, 10); break;
		case 'e':
			if (parse_endpoint(optarg, &st.endpoint) < 0) {
				fprintf(stderr, "wgpeer: bad endpoint '%s'\n", optarg);
				return 2;
			}
			st.have_endpoint = true;
			break;
		case 'a': ok_inner &= inet_pton(AF_INET, optarg, &st.inner_local) == 1; break;
		case 'b': ok_inner &= inet_pton(AF_INET, optarg, &st.inner_remote) == 1; break;
		case 'c': count = strtol(optarg, NULL, 10); break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'K': keepalive = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!mode || !key_file || !peer_pub || port < 0 || port > 65535 || !ok_inner ||
	    timeout_ms <= 0 || count <= 0 || (strcmp(mode, "initiate") == 0 && !st.have_endpoint) ||
	    (strcmp(mode, "initiate") != 0 && strcmp(mode, "respond") != 0)) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (read_key_file(key_file, priv) < 0 || keys_from_base64(pub, peer_pub) < 0) {
		fprintf(stderr, "wgpeer: bad private key file or peer public key\n");
		return 2;
	}
	if (noise_local_init(&st.local, priv) < 0 ||
	    noise_handshake_init(&st.hs, &st.local, pub, NULL) < 0) {
		fprintf(stderr, "wgpeer: unusable keys\n");
		return 2;
	}
	sodium_memzero(priv, sizeof(priv));
	cookie_checker_init(&st.checker, st.local.public_key);
	cookie_maker_init(&st.maker, pub);
	session_keypairs_init(&st.kps);
	st.echo_id = (uint16_t)getpid();
	st.deadline_ms = clock_now_ms() + (uint64_t)timeout_ms;

	st.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bind_addr.sin_port = htons((uint16_t)port);
	if (st.fd < 0 || bind(st.fd, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) < 0) {
		fprintf(stderr, "wgpeer: socket/bind port %ld: %s\n", port, strerror(errno));
		return 1;
	}
	printf("listening on port %ld\n", port);
	if (strcmp(mode, "initiate") == 0)
		r = run_initiator(&st, keepalive);
	else
		r = run_responder(&st, (unsigned)count);
	if (r < 0)
		fprintf(stderr, "wgpeer: %s (%u datagrams dropped)\n",
			r == -ETIMEDOUT ? "timed out" : strerror(-r), st.dropped);
	else
		printf("done (%u datagrams dropped)\n", st.dropped);
	close(st.fd);
	session_keypairs_clear(&st.kps);
	noise_handshake_destroy(&st.hs);
	noise_local_clear(&st.local);
	cookie_checker_clear(&st.checker);
	cookie_maker_clear(&st.maker);
	return r < 0 ? 1 : 0;
}
