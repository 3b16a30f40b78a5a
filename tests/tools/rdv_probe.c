/* rdv-probe: a small rendezvous peer for tests, the lab and the load
 * generator's checks. It registers with a key, asks for peers, can relay a
 * byte stream, can ask for its STUN mapping, and prints what it learns as
 * JSON lines on stdout (one object per event, key "event" first).
 *
 *   rdv-probe --server A:P --server-key B64 --key FILE [--bind A:P]
 *             [--want B64]... [--lan A:P]... [--duration S] [--exit-when-introduced]
 *             [--relay-to B64 --relay-bytes N [--relay-pace BYTES_PER_S]]
 *             [--relay-expect N] [--stun]
 * Exit: 0 done, 1 runtime failure (or --exit-when-introduced not reached),
 * 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sockbuf.h"
#include "crypto/keys.h"
#include "rendezvous/client.h"
#include "rendezvous/demux.h"
#include "rendezvous/keyfile.h"
#include "rendezvous/stun.h"
#include "tests/tools/server_args.h"

enum { CHUNK = 1200, BUF = 2048 };

static const char usage[] =
	"usage: rdv-probe --server ADDR:PORT --server-key B64 --key FILE [--bind ADDR:PORT]\n"
	"                 [--want B64]... [--lan ADDR:PORT]... [--duration S]\n"
	"                 [--exit-when-introduced] [--stun]\n"
	"                 [--relay-to B64 --relay-bytes N [--relay-pace BYTES_PER_S]]\n"
	"                 [--relay-expect N]\n"
	"Prints one JSON object per line: start, registered, introduced, error, stun, exit.\n";

struct probe {
	struct rdv_client client;
	int fd;
	struct sockaddr_storage server;
	socklen_t server_len;
	uint8_t relay_to[RDV_KEY_LEN];
	bool relay_send, relay_ready, exit_when_introduced, stun;
	uint64_t relay_total, relay_sent, relay_pace, relay_expect, relay_received;
	uint64_t relay_start_ms;
	crypto_hash_sha256_state sent_hash, recv_hash;
	size_t n_introduced;
	uint64_t dropped;
	uint8_t stun_txid[STUN_TXID_LEN];
};

static void emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s) {
		printf("%s\n", s);
		fflush(stdout);
		free(s);
	}
	json_decref(o);
}

static json_t *key_json(const uint8_t key[static RDV_KEY_LEN])
{
	char b64[KEY_BASE64_SIZE];

	keys_to_base64(b64, key);
	return json_string(b64);
}

static json_t *ep_json(const struct rdv_endpoint *ep)
{
	char s[RDV_ENDPOINT_STR];

	return json_string(rdv_endpoint_str(ep, s, sizeof(s)));
}

static void hash_hex(crypto_hash_sha256_state *st, char out[65])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The relayed stream is a fixed pseudo-random sequence, so both ends can
 * compare SHA-256 digests. */
static void stream_bytes(uint64_t offset, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (offset + i) * 0x9e3779b97f4a7c15ull;

		buf[i] = (uint8_t)(x >> 56);
	}
}

static void send_buf(struct probe *p, const uint8_t *buf, size_t len)
{
	if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->server, p->server_len) < 0 &&
	    errno != EAGAIN)
		fprintf(stderr, "rdv-probe: send: %s\n", strerror(errno));
}

static void handle_event(struct probe *p, const struct rdv_event *ev, uint64_t now_ms)
{
	json_t *o = json_object(), *lan;
	const struct rdv_msg *m = &ev->msg;

	switch (ev->type) {
	case RDV_EVENT_REGISTERED:
		json_object_set_new(o, "event", json_string("registered"));
		json_object_set_new(o, "reflexive", ep_json(&m->registered.reflexive));
		json_object_set_new(o, "lease", json_integer(m->registered.lease_s));
		break;
	case RDV_EVENT_INTRODUCED:
		json_object_set_new(o, "event", json_string("introduced"));
		json_object_set_new(o, "peer", key_json(m->introduce.peer));
		json_object_set_new(o, "reflexive", ep_json(&m->introduce.reflexive));
		lan = json_array();
		for (size_t i = 0; i < m->introduce.n_lan; i++)
			json_array_append_new(lan, ep_json(&m->introduce.lan[i]));
		json_object_set_new(o, "lan", lan);
		p->n_introduced++;
		if (p->relay_send && !p->relay_ready &&
		    sodium_memcmp(m->introduce.peer, p->relay_to, RDV_KEY_LEN) == 0) {
			p->relay_ready = true;
			p->relay_start_ms = now_ms;
		}
		break;
	case RDV_EVENT_RELAY:
		crypto_hash_sha256_update(&p->recv_hash, m->relay.data, m->relay.len);
		p->relay_received += m->relay.len;
		json_decref(o);
		return; /* summarised at exit: one line per packet would swamp the log */
	case RDV_EVENT_ERROR:
		json_object_set_new(o, "event", json_string("error"));
		json_object_set_new(o, "code", json_string(rdv_error_code_name(m->error.code)));
		json_object_set_new(o, "peer", key_json(m->error.peer));
		break;
	case RDV_EVENT_CHANNEL:
		json_object_set_new(o, "event", json_string("channel"));
		json_object_set_new(o, "peer", key_json(m->channel.peer));
		break;
	case RDV_EVENT_CHALLENGE:
	case RDV_EVENT_NONE:
		json_decref(o);
		return;
	}
	emit(o);
}

static void receive(struct probe *p, uint64_t now_ms)
{
	uint8_t buf[BUF];

	for (int i = 0; i < 256; i++) {
		struct rdv_event ev;
		struct stun_msg sm;
		ssize_t n = recv(p->fd, buf, sizeof(buf), 0);

		if (n < 0)
			return;
		switch (demux_classify(buf, (size_t)n)) {
		case DEMUX_RENDEZVOUS:
			if (rdv_client_consume(&p->client, buf, (size_t)n, now_ms, &ev) != RDV_OK) {
				p->dropped++;
				break;
			}
			handle_event(p, &ev, now_ms);
			break;
		case DEMUX_STUN:
			if (stun_parse(buf, (size_t)n, &sm) == STUN_OK && sm.type == STUN_BINDING_SUCCESS &&
			    sm.has_mapped && memcmp(sm.txid, p->stun_txid, STUN_TXID_LEN) == 0) {
				struct rdv_endpoint ep;
				json_t *o = json_object();

				if (rdv_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sm.mapped) == 0) {
					json_object_set_new(o, "event", json_string("stun"));
					json_object_set_new(o, "mapped", ep_json(&ep));
				}
				emit(o);
			} else {
				p->dropped++;
			}
			break;
		default:
			p->dropped++;
		}
	}
}

/* Sends relay chunks due by now under the pacing rate (0: as fast as we can). */
static void relay_pump(struct probe *p, uint64_t now_ms)
{
	uint8_t data[CHUNK], out[RDV_DATAGRAM_MAX];
	size_t len;

	for (int i = 0; i < 64 && p->relay_sent < p->relay_total; i++) {
		size_t n = (size_t)MIN((uint64_t)CHUNK, p->relay_total - p->relay_sent);

		if (p->relay_pace &&
		    p->relay_sent * 1000 > (now_ms - p->relay_start_ms) * p->relay_pace)
			return;
		stream_bytes(p->relay_sent, data, n);
		if (rdv_client_build_relay(&p->client, p->relay_to, data, n, now_ms, out, sizeof(out),
					   &len) < 0)
			return;
		send_buf(p, out, len);
		crypto_hash_sha256_update(&p->sent_hash, data, n);
		p->relay_sent += n;
	}
}

static int setup_socket(struct probe *p, const struct rdv_endpoint *server, const char *bind_s)
{
	struct rdv_endpoint b;
	struct sockaddr_storage ss;
	socklen_t sl;

	rdv_endpoint_to_sockaddr(server, &p->server, &p->server_len);
	p->fd = socket(server->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	sockbuf_grow(p->fd, SOCKBUF_DEFAULT);
	if (bind_s) {
		if (rdv_endpoint_parse(&b, bind_s, true) < 0)
			return -EINVAL;
		rdv_endpoint_to_sockaddr(&b, &ss, &sl);
		if (bind(p->fd, (struct sockaddr *)&ss, sl) < 0)
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		SERVER_ARGS_OPTIONS,
		{ "key", required_argument, NULL, 'k' },
		{ "bind", required_argument, NULL, 'b' },
		{ "want", required_argument, NULL, 'w' },
		{ "lan", required_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 'd' },
		{ "exit-when-introduced", no_argument, NULL, 'x' },
		{ "relay-to", required_argument, NULL, 't' },
		{ "relay-bytes", required_argument, NULL, 'n' },
		{ "relay-pace", required_argument, NULL, 'p' },
		{ "relay-expect", required_argument, NULL, 'e' },
		{ "stun", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct probe p; /* large; main's only instance */
	uint8_t wants[RDV_WANT_MAX][RDV_KEY_LEN], sk[RDV_KEY_LEN], server_key[RDV_KEY_LEN];
	struct rdv_endpoint lan[RDV_LAN_MAX], server;
	const char *server_s = NULL, *key_path = NULL, *bind_s = NULL;
	bool have_server_key = false;
	size_t n_want = 0, n_lan = 0;
	double duration = 10;
	uint64_t now, deadline;
	int opt, idx = 0, r;
	json_t *o;
	char sent_hex[65], recv_hex[65];

	if (sodium_init() < 0)
		return 1;
	/* Long options only: idx names the option of every count. */
	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (opt) {
		case 's': server_s = optarg; break;
		case 'K':
			if (!server_args_key("rdv-probe", optarg, server_key))
				return 2;
			have_server_key = true;
			break;
		case 'k': key_path = optarg; break;
		case 'b': bind_s = optarg; break;
		case 'w':
			if (n_want == RDV_WANT_MAX ||
			    !server_args_key("rdv-probe", optarg, wants[n_want++]))
				return 2;
			break;
		case 'l':
			if (n_lan == RDV_LAN_MAX || rdv_endpoint_parse(&lan[n_lan++], optarg, false) < 0) {
				fprintf(stderr, "rdv-probe: bad --lan '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd': duration = strtod(optarg, NULL); break;
		case 'x': p.exit_when_introduced = true; break;
		case 't':
			if (!server_args_key("rdv-probe", optarg, p.relay_to))
				return 2;
			p.relay_send = true;
			break;
		case 'n':
		case 'p':
		case 'e':
			if (!server_args_uint("rdv-probe", opts[idx].name, optarg, UINT64_MAX,
					      opt == 'n'   ? &p.relay_total
					      : opt == 'p' ? &p.relay_pace
							   : &p.relay_expect))
				return 2;
			break;
		case 'u': p.stun = true; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!server_s || !have_server_key || !key_path || duration <= 0 || duration > 86400 ||
	    rdv_endpoint_parse(&server, server_s, false) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	r = keyfile_read(key_path, sk);
	if (r < 0) {
		fprintf(stderr, "rdv-probe: %s: %s\n", key_path, strerror(-r));
		return 2;
	}
	r = setup_socket(&p, &server, bind_s);
	if (r < 0) {
		fprintf(stderr, "rdv-probe: socket: %s\n", strerror(-r));
		return 1;
	}
	now = clock_now_ms();
	if (rdv_client_init(&p.client, sk, server_key, now) < 0 ||
	    rdv_client_set_wants(&p.client, (const uint8_t(*)[RDV_KEY_LEN])wants, n_want, now) < 0 ||
	    rdv_client_set_lan(&p.client, lan, n_lan, now) < 0) {
		fprintf(stderr, "rdv-probe: bad server key\n");
		return 2;
	}
	sodium_memzero(sk, sizeof(sk));
	crypto_hash_sha256_init(&p.sent_hash);
	crypto_hash_sha256_init(&p.recv_hash);
	o = json_object();
	json_object_set_new(o, "event", json_string("start"));
	json_object_set_new(o, "public_key", key_json(p.client.public_key));
	emit(o);
	if (p.stun) {
		uint8_t req[STUN_HEADER_LEN];

		randombytes_buf(p.stun_txid, sizeof(p.stun_txid));
		if (stun_build_binding_request(p.stun_txid, req, sizeof(req)) == STUN_HEADER_LEN)
			send_buf(&p, req, sizeof(req));
	}
	deadline = now + (uint64_t)(duration * 1000);
	while ((now = clock_now_ms()) < deadline) {
		uint8_t out[RDV_DATAGRAM_MAX];
		struct pollfd pfd = { .fd = p.fd, .events = POLLIN };
		uint64_t wake = MIN(deadline, rdv_client_next_ms(&p.client));
		size_t len;

		if (rdv_client_poll(&p.client, now, out, sizeof(out), &len) == 1)
			send_buf(&p, out, len);
		if (p.relay_ready)
			relay_pump(&p, now);
		if (p.relay_ready && p.relay_sent < p.relay_total)
			wake = MIN(wake, now + 1);
		if (p.exit_when_introduced && p.n_introduced >= n_want && n_want > 0)
			break;
		if (p.relay_expect && p.relay_received >= p.relay_expect)
			break;
		if (p.relay_send && p.relay_sent >= p.relay_total && p.relay_total && !p.relay_expect)
			break;
		wake = MIN(wake, rdv_client_next_ms(&p.client));
		if (poll(&pfd, 1, wake > now ? (int)MIN(wake - now, 1000u) : 0) > 0)
			receive(&p, clock_now_ms());
	}
	hash_hex(&p.sent_hash, sent_hex);
	hash_hex(&p.recv_hash, recv_hex);
	o = json_object();
	json_object_set_new(o, "event", json_string("exit"));
	json_object_set_new(o, "registered",
			    json_boolean(p.client.state == RDV_CLIENT_REGISTERED));
	json_object_set_new(o, "introduced", json_integer((json_int_t)p.n_introduced));
	json_object_set_new(o, "relay_sent", json_integer((json_int_t)p.relay_sent));
	json_object_set_new(o, "relay_sent_sha256", json_string(sent_hex));
	json_object_set_new(o, "relay_received", json_integer((json_int_t)p.relay_received));
	json_object_set_new(o, "relay_received_sha256", json_string(recv_hex));
	json_object_set_new(o, "dropped", json_integer((json_int_t)p.dropped));
	emit(o);
	close(p.fd);
	rdv_client_wipe(&p.client);
	if (p.exit_when_introduced && p.n_introduced < n_want)
		return 1;
	return 0;
}
