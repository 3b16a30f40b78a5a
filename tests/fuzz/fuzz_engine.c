/* libFuzzer target: the engine's datagram dispatch, receive_from_udp
 * (tunnel/receive.c), on a whole link held in memory: everything that
 * handles a datagram arriving on the link's UDP socket (the demux rule,
 * WireGuard's four messages, rendezvous replies and relays, path probes),
 * then the TUN writes with receive coalescing, and the timers the clock
 * moves past.
 *
 * The link is the fixture's "local" talking to "peer" (fixture.h): a
 * handshake waiting for peer's response, a cookie maker waiting for a
 * reply, installed keypairs, a static Endpoint (peer at 192.0.2.1:51820),
 * one rendezvous server (203.0.113.10:3478) and AllowedIPs 10.77.0.1/32,
 * 10.2.0.0/24, fd77::/64. No socket, TUN or file is touched: the program
 * is linked with --wrap for the few functions that would (udp_receive_batch
 * hands over the input's datagrams, udp_send/udp_send_batch and the TUN
 * writes are recorded and checked, getifaddrs reports no addresses,
 * clock_tai64n follows the fuzzer's clock). The link is built once and
 * copied before every input, and the random stream rewound, so each input
 * starts from the same state and a finding reproduces from it alone.
 *
 * Input: records of a tag byte, a 2-byte big-endian length and that many
 * bytes (cut to what is left). Tag bits 0-1, where the datagram comes
 * from: 0 the peer's endpoint, 1 the rendezvous server, 2 a stranger
 * (198.51.100.9:40000), 3 an address inside AllowedIPs ([fd77::1]:51820).
 * Bits 2-4, what the bytes are:
 *   0  the datagram itself;
 *   1  a packet peer seals as a WireGuard data message (padded, next
 *      counter), so hostile plaintext reaches the AllowedIPs check,
 *      coalescing and the TUN;
 *   2  a rendezvous body (msgpack) the server seals to us, if it decodes
 *      (from the server, or from elsewhere: a captured message replayed);
 *   3  a probe peer signs: byte 0 bit 0 clear, a request (static key) with
 *      the token in bytes 1-8, sent byte 9 x 100 ms before the clock; set,
 *      the response to the probe request the engine sent
 *      (byte 1 picks which), from where that request went;
 *   4  like 1, then relayed: the server seals it in a RELAY from peer;
 *   5  the bytes as a WireGuard message in a RELAY from peer;
 *   6  the previous datagram again, byte 0 times, from this source (a
 *      flood that fits a short input: handshakes under load);
 *   7  like 1, with the packet's lengths and checksums fixed first
 *      (inet.h), so mutated TCP segments can still be coalesced.
 * Bit 5 ends the receive batch after this datagram (flush to the TUN);
 * bits 6-7 first move the clock by 0, 100 ms, 5 s or 125 s and fire the
 * timers then due.
 *
 * Oracles beyond "no crash, no read past a datagram" (each datagram is an
 * exact-size heap block):
 *  - a datagram that is dropped as unauthenticated, replayed or for no
 *    session makes the engine send nothing; one dropped under load makes
 *    it send at most one 64-byte cookie reply, to its sender (or through
 *    the relay): receive.c's "dropped and counted, never answered";
 *  - every packet written to the TUN is an IPv4/IPv6 packet whose source
 *    lies in AllowedIPs and is, byte for byte, the start of a packet peer
 *    sealed in this input; a coalesced write is a TCP GSO packet within
 *    TUN_COALESCE_MAX_BYTES;
 *  - every datagram sent fits its kind's maximum (a probe response is
 *    36 bytes; a request, padded for the path MTU, a data message's); the queue of packets for
 *    the TUN is empty after each batch; candidates, learned candidates and
 *    timers stay within their limits. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/keys.h"
#include "rendezvous/demux.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/inet.h"
#include "tunnel/allowedips.h"
#include "tunnel/meet.h"
#include "tunnel/receive.h"
#include "tunnel/tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_engine: %s\n", #c); abort(); } } while (0)

enum {
	MTU = 1420,
	BATCH_MAX = 64,          /* datagrams per receive batch */
	SEALED_MAX = 64,         /* plaintexts peer sealed, per input */
	PROBES_MAX = 16,         /* probe requests the engine sent, remembered */
	SOURCES = 4,
	KIND_RAW = 0, KIND_DATA, KIND_RDV, KIND_PROBE, KIND_RELAY_DATA, KIND_RELAY_RAW,
	KIND_REPEAT, KIND_DATA_FIXED,
	TAG_END_BATCH = 1 << 5,
};

static const uint64_t clock_steps_ms[4] = { 0, 100, 5000, 125000 };

/* The world, built once. */
static struct wg_fixture wg;
static struct tunnel *tmpl, *t;
static uint64_t rng_pos;
static struct rdv_session server_sess;
static uint8_t probe_key[NOISE_SYMMETRIC_KEY_LEN];
static struct rdv_endpoint sources[SOURCES];

/* Per input. */
static struct keypair peer_kp;
static uint64_t rdv_counter;
static struct {
	uint8_t *data;
	size_t len;
} sealed[SEALED_MAX];
static size_t n_sealed;
static struct {
	struct rdv_endpoint to;
	uint64_t token;
} probes[PROBES_MAX];
static size_t n_probes;
/* Totals, printed with FUZZ_ENGINE_TRACE=1 (what did an input reach?). */
static size_t n_sent, n_tun, n_tun_gso;

/* The batch the next udp_receive_batch hands over. */
static struct udp_datagram batch[BATCH_MAX];
static uint8_t *batch_bufs[BATCH_MAX];
static size_t n_batch;
static bool batch_taken;

/* What the datagram being handled caused. */
static struct {
	const struct udp_datagram *d;    /* NULL: between datagrams */
	uint64_t dropped[DROP_KIND_COUNT];
	size_t sends, cookie_replies, bytes_sent;
	bool to_other;                   /* a cookie reply not to the sender */
} cur;

/* ---- what the engine would do to the system ------------------------- */

int __wrap_udp_receive_batch(struct udp_socket *s, unsigned *oversized);
int __wrap_udp_send(struct udp_socket *s, const struct rdv_endpoint *to, const uint8_t *data,
		    size_t len);
int __wrap_udp_send_batch(struct udp_socket *s, const struct udp_datagram *msgs, size_t n,
			  size_t *bytes_sent);
int __wrap_tun_device_write(struct tun_device *dev, unsigned queue, const void *buf, size_t len);
int __wrap_tun_device_write_gso(struct tun_device *dev, unsigned queue,
				const uint8_t hdr[static TUN_VNET_HDR_LEN], const struct iovec *iov,
				size_t iovcnt);
int __wrap_getifaddrs(struct ifaddrs **ifap);
void __wrap_freeifaddrs(struct ifaddrs *ifa);
void __wrap_clock_tai64n(uint8_t out[static TAI64N_LEN]);
enum demux_class __real_demux_classify(const uint8_t *data, size_t len);
enum demux_class __wrap_demux_classify(const uint8_t *data, size_t len);

static void end_datagram(void);

int __wrap_udp_receive_batch(struct udp_socket *s, unsigned *oversized)
{
	size_t n = 0;

	CHECK(s == &t->udp);
	*oversized = 0;
	if (batch_taken)
		return 0;
	batch_taken = true;
	/* As the socket does: too long a datagram never reaches the engine. */
	for (size_t i = 0; i < n_batch; i++) {
		if (batch[i].len > s->datagram_max)
			(*oversized)++;
		else
			s->rx[n++] = batch[i];
	}
	return (int)n;
}

/* receive.c classifies each datagram first: the start of its handling.
 * (meet.c also classifies what a RELAY carries: inside one datagram.) */
enum demux_class __wrap_demux_classify(const uint8_t *data, size_t len)
{
	const struct udp_datagram *d = NULL;

	for (size_t i = 0; i < UDP_RX_MAX && !d; i++) {
		if (t->udp.rx[i].data == data)
			d = &t->udp.rx[i];
	}
	if (!d) {
		CHECK(cur.d != NULL);
		return __real_demux_classify(data, len);
	}
	end_datagram();
	cur.d = d;
	memcpy(cur.dropped, t->dropped, sizeof(cur.dropped));
	return __real_demux_classify(data, len);
}

/* A WireGuard cookie reply, or one inside a RELAY to the server (opened
 * with the server's keys). */
static bool is_cookie_reply(const uint8_t *data, size_t len)
{
	static struct rdv_msg msg;
	uint64_t counter;

	if (len == MESSAGE_COOKIE_LEN && data[0] == MESSAGE_HANDSHAKE_COOKIE)
		return true;
	if (len == RDV_CHANNEL_HEADER_LEN + MESSAGE_COOKIE_LEN && data[0] == DEMUX_TYPE_CHANNEL &&
	    data[RDV_CHANNEL_HEADER_LEN] == MESSAGE_HANDSHAKE_COOKIE)
		return true; /* through the relay channel */
	return __real_demux_classify(data, len) == DEMUX_RENDEZVOUS &&
	       rdv_open(&server_sess, RDV_DIR_UP, data, len, &msg, &counter) == RDV_OK &&
	       msg.type == RDV_MSG_RELAY && msg.relay.len == MESSAGE_COOKIE_LEN &&
	       msg.relay.data[0] == MESSAGE_HANDSHAKE_COOKIE;
}

static void note_send(const struct rdv_endpoint *to, const uint8_t *data, size_t len)
{
	struct probe pr;

	CHECK(len > 0);
	CHECK(to->family == AF_INET || to->family == AF_INET6);
	switch (__real_demux_classify(data, len)) {
	case DEMUX_WIREGUARD:
		CHECK(len <= t->packet_max);
		break;
	case DEMUX_RENDEZVOUS:
		CHECK(len <= RDV_DATAGRAM_MAX);
		break;
	case DEMUX_CHANNEL:
		/* a WireGuard message in a channel frame, to the server */
		CHECK(len <= RDV_CHANNEL_HEADER_LEN + RDV_RELAY_DATA_MAX &&
		      message_validate_header(data + RDV_CHANNEL_HEADER_LEN,
					      len - RDV_CHANNEL_HEADER_LEN) != MESSAGE_INVALID &&
		      rdv_endpoint_equal(to, &sources[1]));
		break;
	case DEMUX_PROBE:
		/* a response is never padded; a request may be, up to a
		 * full-size data message (a path MTU probe) */
		CHECK(len == PROBE_LEN || (data[1] == PROBE_REQUEST && len > PROBE_LEN &&
					    len <= t->packet_max));
		break;
	default:
		CHECK(!"the engine sent a datagram of no known kind");
	}
	n_sent++;
	if (cur.d) {
		cur.sends++;
		cur.bytes_sent += len;
		if (is_cookie_reply(data, len)) {
			cur.cookie_replies++;
			cur.to_other |= !rdv_endpoint_equal(to, &cur.d->from) &&
					!rdv_endpoint_equal(to, &sources[1]);
		}
	}
	/* Remember probe requests, so the peer can answer them (the engine
	 * made them, with the static or the session key: only the token
	 * matters here). */
	if (len == PROBE_LEN && n_probes < PROBES_MAX && probe_parse(data, len, &pr) == 0 &&
	    pr.kind == PROBE_REQUEST) {
		probes[n_probes].to = *to;
		probes[n_probes].token = pr.token;
		n_probes++;
	}
}

int __wrap_udp_send(struct udp_socket *s, const struct rdv_endpoint *to, const uint8_t *data,
		    size_t len)
{
	/* While the template is built, its first path MTU probe goes out
	 * (peer_session_confirmed): to nowhere. */
	if (s == &tmpl->udp)
		return 0;
	CHECK(s == &t->udp);
	note_send(to, data, len);
	return 0;
}

int __wrap_udp_send_batch(struct udp_socket *s, const struct udp_datagram *msgs, size_t n,
			  size_t *bytes_sent)
{
	CHECK(s == &t->udp);
	for (size_t i = 0; i < n; i++) {
		note_send(&msgs[i].from, msgs[i].data, msgs[i].len);
		*bytes_sent += msgs[i].len;
	}
	return (int)n;
}

/* A coalesced packet: its headers are a sealed packet's, but for what
 * merging rewrites (IPv4 length, ID and checksum; IPv6 payload length; TCP
 * flags and checksum), and its payload starts with that packet's. */
static bool was_sealed_head(const uint8_t *pkt, size_t len, size_t ip_hlen, size_t hdr_len,
			    size_t gso_size)
{
	for (size_t i = 0; i < n_sealed; i++) {
		const uint8_t *s = sealed[i].data;
		size_t first = hdr_len + gso_size; /* the first segment, unpadded */
		bool same = sealed[i].len >= first && len >= first;

		for (size_t k = 0; same && k < first; k++) {
			bool rewritten = ip_hlen == 20 ? (k >= 2 && k < 6) || k == 10 || k == 11
						       : k == 4 || k == 5;

			rewritten |= k == ip_hlen + 13 || k == ip_hlen + 16 || k == ip_hlen + 17;
			same = rewritten || s[k] == pkt[k];
		}
		if (same)
			return true;
	}
	return false;
}

/* A TUN packet must be the start of a packet peer sealed. */
static bool was_sealed(const uint8_t *pkt, size_t len)
{
	for (size_t i = 0; i < n_sealed; i++) {
		if (sealed[i].len >= len && memcmp(sealed[i].data, pkt, len) == 0)
			return true;
	}
	return false;
}

static void check_tun_packet(const uint8_t *pkt, size_t len)
{
	struct inner_packet ip;

	CHECK(allowedips_parse_packet(pkt, len, &ip) && ip.total_len == len);
	CHECK(allowedips_contains(t->cfg.allowed_ips, t->cfg.n_allowed_ips, ip.family, ip.src));
}

int __wrap_tun_device_write(struct tun_device *dev, unsigned queue, const void *buf, size_t len)
{
	CHECK(dev == &t->tun && queue == 0);
	check_tun_packet(buf, len);
	CHECK(was_sealed(buf, len));
	n_tun++;
	return 0;
}

int __wrap_tun_device_write_gso(struct tun_device *dev, unsigned queue,
				const uint8_t hdr[static TUN_VNET_HDR_LEN], const struct iovec *iov,
				size_t iovcnt)
{
	/* What the kernel would read: the iovecs one after the other. */
	static uint8_t buf[TUN_COALESCE_MAX_BYTES];
	struct tun_vnet_hdr h;
	size_t len = 0;

	CHECK(dev == &t->tun && queue == 0);
	CHECK(iovcnt >= 3 && iovcnt <= TUN_WRITE_IOV_MAX);
	for (size_t i = 0; i < iovcnt; i++) {
		CHECK(iov[i].iov_len > 0 && iov[i].iov_len <= sizeof(buf) - len);
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	check_tun_packet(buf, len);
	tun_vnet_hdr_parse(&h, hdr);
	CHECK(h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 || h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
	CHECK(h.gso_size > 0 && h.hdr_len < len && h.csum_start + h.csum_offset + 2u <= len);
	CHECK(h.csum_start == 20 || h.csum_start == 40);
	/* It starts as a packet peer sealed. */
	CHECK(was_sealed_head(buf, len, h.csum_start, h.hdr_len, h.gso_size));
	n_tun_gso++;
	return 0;
}

int __wrap_getifaddrs(struct ifaddrs **ifap)
{
	*ifap = NULL;
	return 0;
}

void __wrap_freeifaddrs(struct ifaddrs *ifa)
{
	CHECK(ifa == NULL);
}

void __wrap_clock_tai64n(uint8_t out[static TAI64N_LEN])
{
	uint64_t s = 0x400000006a000000ULL + t->loop.now_ms / 1000;
	uint32_t ns = (uint32_t)(t->loop.now_ms % 1000) * 1000000u;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

/* ---- the oracle on each datagram's consequences --------------------- */

static void end_datagram(void)
{
	uint64_t delta[DROP_KIND_COUNT];

	if (!cur.d)
		return;
	for (size_t i = 0; i < DROP_KIND_COUNT; i++)
		delta[i] = t->dropped[i] - cur.dropped[i];
	/* Not authenticated: never answered. */
	if (delta[DROP_UNAUTHENTICATED] || delta[DROP_REPLAYED] || delta[DROP_NO_SESSION])
		CHECK(cur.sends == 0);
	/* Under load: at most the one cookie reply, to the sender. */
	if (delta[DROP_RATE_LIMITED]) {
		CHECK(cur.sends == cur.cookie_replies && cur.sends <= 1);
		CHECK(!cur.to_other);
	}
	memset(&cur, 0, sizeof(cur));
}

/* ---- the link, built once -------------------------------------------- */

static void endpoint(struct rdv_endpoint *ep, const char *s)
{
	fixture_check(rdv_endpoint_parse(ep, s, false) == 0, s);
}

static void prefix(struct tun_prefix *p, const char *s)
{
	fixture_check(tun_prefix_parse(p, s) == 0, s);
	tun_prefix_mask(p);
}

static void config_endpoint(struct config_endpoint *ce, const struct rdv_endpoint *ep)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ce->addr;

	fixture_check(ep->family == AF_INET, "an IPv4 endpoint");
	memset(ce, 0, sizeof(*ce));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ep->addr, 4);
	sin->sin_port = htons(ep->port);
	ce->addr_len = sizeof(*sin);
}

static void build_link(void)
{
	struct config *cfg;
	uint8_t server_pk[RDV_KEY_LEN], sender[NOISE_PUBLIC_KEY_LEN];

	tmpl = calloc(1, sizeof(*tmpl));
	t = calloc(1, sizeof(*t));
	fixture_check(tmpl && t, "calloc");
	fixture_rdv_server_session(&server_sess, wg.local.private_key, server_pk);
	fixture_probe_key(probe_key, sender);
	fixture_check(keys_equal(sender, wg.peer.public_key), "probe sender");

	endpoint(&sources[0], "192.0.2.1:51820"); /* fixture_source: the cookies' */
	endpoint(&sources[1], "203.0.113.10:3478");
	endpoint(&sources[2], "198.51.100.9:40000");
	endpoint(&sources[3], "[fd77::1]:51820");

	cfg = &tmpl->cfg;
	snprintf(cfg->name, sizeof(cfg->name), "fuzz");
	memcpy(cfg->private_key, wg.local.private_key, CONFIG_KEY_LEN);
	cfg->listen_port = 51820;
	cfg->mtu = MTU;
	config_endpoint(&cfg->rendezvous[0], &sources[1]);
	cfg->n_rendezvous = 1;
	memcpy(cfg->rendezvous_key, server_pk, CONFIG_KEY_LEN);
	cfg->has_rendezvous_key = true;
	memcpy(cfg->peer_public_key, wg.peer.public_key, CONFIG_KEY_LEN);
	memcpy(cfg->preshared_key, wg.psk, CONFIG_KEY_LEN);
	cfg->has_preshared_key = true;
	prefix(&cfg->allowed_ips[0], "10.77.0.1/32");
	prefix(&cfg->allowed_ips[1], "10.2.0.0/24");
	prefix(&cfg->allowed_ips[2], "fd77::/64");
	cfg->n_allowed_ips = 3;
	config_endpoint(&cfg->endpoint, &sources[0]);
	cfg->has_endpoint = true;
	cfg->persistent_keepalive_s = 25;

	/* What tunnel_create does, minus the interface, sockets and epoll. */
	tmpl->signal_fd = -1;
	tmpl->udp.fd = -1;
	tmpl->udp.ipv6 = true;
	tmpl->udp.port = cfg->listen_port;
	tmpl->loop.epoll_fd = -1;
	tmpl->loop.now_ms = FIXTURE_NOW_MS;
	tmpl->drop_log.burst = 10;
	tmpl->tun.fds[0] = -1;
	tmpl->packet_max = MESSAGE_DATA_HEADER_LEN + cfg->mtu + MESSAGE_PADDING_MULTIPLE +
			   NOISE_AUTHTAG_LEN;
	tmpl->udp.datagram_max = MAX(tmpl->packet_max, (size_t)RDV_DATAGRAM_MAX);
	fixture_check(noise_local_init(&tmpl->local, cfg->private_key) == 0, "noise_local_init");
	cookie_checker_init(&tmpl->cookie_checker, tmpl->local.public_key);
	tmpl->tx_storage = malloc(TUNNEL_TX_BATCH * tmpl->packet_max);
	fixture_check(tmpl->tx_storage != NULL, "malloc");
	for (size_t i = 0; i < TUNNEL_TX_BATCH; i++)
		tmpl->tx[i].data = tmpl->tx_storage + i * tmpl->packet_max;
	fixture_check(peer_init(&tmpl->peer, tmpl) == 0, "peer_init");
	fixture_check(meet_init(tmpl) == 0, "meet_init");
	/* Sessions fixed on both sides, the server's already taken, so sealed
	 * bodies are accepted (REGISTERED and CHALLENGE when they echo
	 * FIXTURE_RDV_ECHO or a later counter of ours). */
	tmpl->meet.servers[0].client.epoch = FIXTURE_RDV_CLIENT_EPOCH;
	tmpl->meet.servers[0].client.last_counter =
		((uint64_t)FIXTURE_RDV_CLIENT_EPOCH << RDV_SEQ_BITS) | FIXTURE_RDV_CLIENT_SEQ;
	tmpl->meet.servers[0].client.echo_floor = (uint64_t)FIXTURE_RDV_CLIENT_EPOCH
						  << RDV_SEQ_BITS;
	rdv_replay_reset(&tmpl->meet.servers[0].client.down, FIXTURE_RDV_SERVER_EPOCH);

	/* The receiver states the seeds are valid against (fixture.h). */
	noise_handshake_destroy(&tmpl->peer.handshake);
	tmpl->peer.handshake = wg.pending;
	tmpl->peer.cookie = wg.maker;
	tmpl->peer.keypairs = wg.keypairs;
	peer_session_confirmed(&tmpl->peer); /* established, direct */
	rng_pos = fixture_rng_tell();
}

/* The template's pointers into itself (peer.tunnel, the loop's armed
 * timers, ...), found once: any aligned word holding an address inside
 * the template is one (keys and counters never look like one). */
static size_t self_ptrs[64], n_self_ptrs;

static void find_self_pointers(void)
{
	uintptr_t lo = (uintptr_t)tmpl, hi = lo + sizeof(*tmpl);
	const uintptr_t *w = (const uintptr_t *)(const void *)tmpl;

	for (size_t i = 0; i < sizeof(*tmpl) / sizeof(*w); i++) {
		if (w[i] >= lo && w[i] < hi) {
			fixture_check(n_self_ptrs < 64, "few pointers into the link");
			self_ptrs[n_self_ptrs++] = i;
		}
	}
	fixture_check(n_self_ptrs > 0, "peer.tunnel found");
}

/* A fresh link for an input: the template copied, its pointers into
 * itself moved to the copy. */
static void fresh_link(void)
{
	uintptr_t *w = (uintptr_t *)(void *)t;

	memcpy(t, tmpl, sizeof(*t));
	for (size_t i = 0; i < n_self_ptrs; i++)
		w[self_ptrs[i]] = w[self_ptrs[i]] - (uintptr_t)tmpl + (uintptr_t)t;
	fixture_rng_seek(rng_pos);
	peer_kp = wg.peer_keypair;
	rdv_counter = (uint64_t)FIXTURE_RDV_SERVER_EPOCH << RDV_SEQ_BITS;
	n_sealed = 0;
	n_probes = 0;
	n_sent = n_tun = n_tun_gso = 0;
}

static void trace(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_ENGINE_TRACE") != NULL;
	if (!on)
		return;
	fprintf(stderr, "fuzz_engine: %s/%s, sent %zu, TUN %zu + %zu coalesced, dropped",
		peer_state_name(t->peer.state), peer_path_name(t->peer.path), n_sent, n_tun,
		n_tun_gso);
	for (size_t i = 0; i < DROP_KIND_COUNT; i++)
		fprintf(stderr, " %s=%llu", control_drop_names[i], (unsigned long long)t->dropped[i]);
	fprintf(stderr, ", candidates %zu, relay %d\n", t->peer.punch.n_candidates,
		t->meet.has_relay);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open("fuzz_engine", false, LOG_LEVEL_ERROR);
	fixture_sodium_init();
	fixture_wg_build(&wg);
	build_link();
	find_self_pointers();
	return 0;
}

/* ---- turning records into datagrams ---------------------------------- */

/* Peer seals `plain` as a data message, as WireGuard pads it. */
static uint8_t *seal_data(const uint8_t *plain, size_t len, size_t *out_len)
{
	size_t padded = session_padded_len(len, MTU);
	uint8_t *buf;

	if (len > MTU || n_sealed == SEALED_MAX)
		return NULL;
	buf = calloc(1, MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN);
	/* What peer sealed is the packet with its zero padding: an IP header
	 * may count the padding in (the receiver goes by the header). */
	sealed[n_sealed].data = calloc(1, padded ? padded : 1);
	if (!buf || !sealed[n_sealed].data) {
		free(buf);
		free(sealed[n_sealed].data);
		return NULL;
	}
	memcpy(sealed[n_sealed].data, plain, len);
	sealed[n_sealed].len = padded;
	n_sealed++;
	memcpy(buf + MESSAGE_DATA_HEADER_LEN, plain, len);
	if (session_seal(&peer_kp, buf, MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN,
			 padded, t->loop.now_ms, out_len) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The server seals a message to us. */
static uint8_t *seal_rdv(const struct rdv_msg *msg, size_t *out_len)
{
	static const uint8_t random[RDV_NONCE_RANDOM_LEN] = { 0x5a };
	uint8_t *buf = malloc(RDV_DATAGRAM_MAX), *exact;

	if (!buf)
		return NULL;
	if (rdv_seal(&server_sess, RDV_DIR_DOWN, ++rdv_counter, random, msg, buf,
		     RDV_DATAGRAM_MAX, out_len) != 0) {
		free(buf);
		return NULL;
	}
	exact = malloc(*out_len);
	if (exact)
		memcpy(exact, buf, *out_len);
	free(buf);
	return exact;
}

static uint8_t *relay(const uint8_t *wgmsg, size_t len, size_t *out_len)
{
	static struct rdv_msg msg;

	if (len == 0 || len > RDV_RELAY_DATA_MAX)
		return NULL;
	memset(&msg, 0, sizeof(msg));
	msg.type = RDV_MSG_RELAY;
	memcpy(msg.relay.peer, wg.peer.public_key, RDV_KEY_LEN);
	msg.relay.len = len;
	memcpy(msg.relay.data, wgmsg, len);
	return seal_rdv(&msg, out_len);
}

/* One record into one datagram (NULL: none), with its source. */
static uint8_t *make_datagram(unsigned kind, const uint8_t *p, size_t n, size_t *len,
			      struct rdv_endpoint *from)
{
	static struct rdv_msg msg;
	uint8_t *buf = NULL, *inner;
	size_t inner_len;

	switch (kind) {
	case KIND_DATA:
		return seal_data(p, n, len);
	case KIND_DATA_FIXED:
		if (n > MTU || !(buf = malloc(n ? n : 1)))
			return NULL;
		memcpy(buf, p, n);
		inet_fix(buf, n);
		inner = seal_data(buf, n, len);
		free(buf);
		return inner;
	case KIND_RDV:
		if (rdv_body_decode(p, n, &msg) != RDV_OK)
			return NULL;
		return seal_rdv(&msg, len);
	case KIND_PROBE:
		if (n < 1 || (n_probes == 0 && (p[0] & 1)) || !(buf = malloc(PROBE_LEN)))
			return NULL;
		if (p[0] & 1) {
			size_t i = n >= 2 ? p[1] % n_probes : 0;
			struct probe resp = { .kind = PROBE_RESPONSE, .token = probes[i].token,
					      .acked_len = PROBE_LEN, .len = PROBE_LEN };

			CHECK(probe_build(buf, PROBE_LEN, &resp, probe_key, wg.peer.public_key) == 0);
			*from = probes[i].to;
		} else {
			/* Static key; sent up to 25.5 s before the fuzzer's clock
			 * (byte 9), so stale requests are reached too. */
			struct probe req = { .kind = PROBE_REQUEST, .len = PROBE_LEN };

			for (size_t i = 1; i < 9; i++)
				req.token = req.token << 8 | (i < n ? p[i] : 0);
			req.sent_ms = t->loop.now_ms - (n > 9 ? p[9] * 100ULL : 0);
			CHECK(probe_build(buf, PROBE_LEN, &req, probe_key, wg.peer.public_key) == 0);
		}
		*len = PROBE_LEN;
		return buf;
	case KIND_RELAY_DATA:
		inner = seal_data(p, n, &inner_len);
		if (!inner)
			return NULL;
		buf = relay(inner, inner_len, len);
		free(inner);
		return buf;
	case KIND_RELAY_RAW:
		return relay(p, n, len);
	default:
		buf = malloc(n ? n : 1);
		if (buf)
			memcpy(buf, p, n);
		*len = n;
		return buf;
	}
}

static void run_batch(void)
{
	if (n_batch == 0)
		return;
	batch_taken = false;
	memset(t->udp.rx, 0, sizeof(t->udp.rx));
	receive_from_udp(t);
	end_datagram();
	CHECK(batch_taken);
	CHECK(t->n_tun_out == 0);
	for (size_t i = 0; i < n_batch; i++)
		free(batch_bufs[i]);
	n_batch = 0;
}

static void check_state(void)
{
	const struct punch *p = &t->peer.punch;
	size_t learned = 0;

	CHECK(p->n_candidates <= PUNCH_MAX_CANDIDATES);
	for (size_t i = 0; i < p->n_candidates; i++)
		learned += p->candidates[i].kind == CANDIDATE_LEARNED;
	CHECK(learned <= PUNCH_MAX_LEARNED);
	CHECK(!p->has_chosen || p->chosen < p->n_candidates);
	CHECK(t->loop.n_timers <= LOOP_MAX_TIMERS);
	CHECK(t->peer.state <= LINK_DOWN && t->peer.path <= PATH_RELAY);
	CHECK(t->meet.relay_server < t->meet.n_servers || !t->meet.has_relay);
}

static void queue(uint8_t *buf, size_t len, const struct rdv_endpoint *from)
{
	batch_bufs[n_batch] = buf;
	batch[n_batch] = (struct udp_datagram){ .data = buf, .len = len, .from = *from };
	n_batch++;
	if (n_batch == BATCH_MAX)
		run_batch();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *last = NULL;
	size_t last_len = 0;

	fresh_link();
	CHECK(t->peer.tunnel == t);
	while (size >= 3) {
		uint8_t tag = data[0];
		size_t n = (size_t)data[1] << 8 | data[2], len = 0;
		struct rdv_endpoint from = sources[tag & 3];
		unsigned kind = (tag >> 2) & 7;
		uint8_t *buf;

		data += 3, size -= 3;
		if (n > size)
			n = size;
		if (tag >> 6) {
			/* Time passes: what is queued goes first, then the timers. */
			run_batch();
			t->loop.now_ms += clock_steps_ms[tag >> 6];
			loop_run_timers(&t->loop);
		}
		if (kind == KIND_REPEAT) {
			for (size_t i = 0; last && n >= 1 && i < data[0]; i++) {
				buf = malloc(last_len ? last_len : 1);
				if (!buf)
					break;
				memcpy(buf, last, last_len);
				queue(buf, last_len, &from);
			}
		} else {
			buf = make_datagram(kind, data, n, &len, &from);
			free(last);
			last = NULL;
			if (buf) {
				/* A copy: the engine decrypts in place. */
				last = malloc(len ? len : 1);
				if (last)
					memcpy(last, buf, len);
				last_len = len;
				queue(buf, len, &from);
			}
		}
		data += n, size -= n;
		if (tag & TAG_END_BATCH)
			run_batch();
		check_state();
	}
	run_batch();
	check_state();
	trace();
	free(last);
	for (size_t i = 0; i < n_sealed; i++)
		free(sealed[i].data);
	return 0;
}
