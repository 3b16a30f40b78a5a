/* Writes the seed corpora of the fuzz targets: valid inputs of every kind
 * each parser accepts, made with the project's own builders against the
 * fixed world of tests/fuzz/fixture.h (so they stay valid for the targets).
 *
 *   make_seeds DIR [TARGET]   writes DIR/TARGET/NAME files (all targets
 *                             without TARGET); DIR/TARGET must be writable
 *
 * tests/fuzz/run_fuzz adds freshly generated seeds to the checked-in corpus
 * before each run; tests/fuzz/README.md says how to refresh the checked-in
 * copies. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "crypto/keys.h"
#include "rendezvous/demux.h"
#include "rendezvous/stun.h"
#include "tests/fuzz/fixture.h"
#include "tun/coalesce.h"
#include "tun/offload.h"
#include "tunnel/control.h"

static const char *out_dir;
static const char *only;

/* Writes DIR/TARGET/NAME; exits on failure (a generator, not a library). */
static void put(const char *target, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *fp;

	if (only && strcmp(only, target))
		return;
	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void put_text(const char *target, const char *name, const char *text)
{
	put(target, name, text, strlen(text));
}

/* Both demux and the protocol's own target get each message. */
static void put2(const char *target, const char *name, const void *buf, size_t len)
{
	char demux_name[128];

	put(target, name, buf, len);
	snprintf(demux_name, sizeof(demux_name), "%s-%s", target + strlen("fuzz_"), name);
	put("fuzz_demux", demux_name, buf, len);
}

/* The fixture's WireGuard world, shared by the WireGuard and engine seeds. */
static struct wg_fixture f;

static void wireguard_seeds(void)
{
	char name[32];

	fixture_wg_build(&f);
	put2("fuzz_wireguard", "initiation", f.initiation, sizeof(f.initiation));
	put2("fuzz_wireguard", "response", f.response, sizeof(f.response));
	put2("fuzz_wireguard", "cookie-reply", f.cookie_reply, sizeof(f.cookie_reply));
	for (size_t i = 0; i < FIXTURE_DATA_SEEDS; i++) {
		snprintf(name, sizeof(name), "data-%zu", i);
		put2("fuzz_wireguard", name, f.data[i], f.data_len[i]);
	}
}

static struct rdv_endpoint endpoint(const char *s)
{
	struct rdv_endpoint ep;

	fixture_check(rdv_endpoint_parse(&ep, s, false) == 0, s);
	return ep;
}

static void rendezvous_seeds(void)
{
	static const uint8_t random[RDV_NONCE_RANDOM_LEN] = { 0xa5, 0x5a };
	static struct rdv_msg msgs[8];
	static const char *const names[8] = { "register", "registered", "introduce", "relay",
					      "error", "challenge", "channel-open", "channel" };
	/* The directions each message travels in (bit 0 up, bit 1 down). */
	static const unsigned dirs[8] = { 1, 2, 2, 3, 2, 2, 1, 2 };
	struct rdv_session s;
	uint8_t peer_pk[RDV_KEY_LEN], server_pk[RDV_KEY_LEN];
	uint8_t buf[RDV_DATAGRAM_MAX];
	char name[64];
	size_t len;

	fixture_rdv_session(&s, peer_pk, server_pk);
	memset(msgs, 0, sizeof(msgs));
	msgs[0].type = RDV_MSG_REGISTER;
	msgs[0].reg.n_lan = 2;
	msgs[0].reg.lan[0] = endpoint("192.168.1.10:51820");
	msgs[0].reg.lan[1] = endpoint("[fd00::10]:51820");
	msgs[0].reg.n_want = 1;
	memcpy(msgs[0].reg.want[0], server_pk, RDV_KEY_LEN);
	memset(msgs[0].reg.cookie, 0xc0, RDV_COOKIE_LEN);
	msgs[0].reg.again = true;
	msgs[1].type = RDV_MSG_REGISTERED;
	msgs[1].registered.reflexive = endpoint("198.51.100.7:40000");
	msgs[1].registered.lease_s = 300;
	msgs[1].registered.echo = FIXTURE_RDV_ECHO;
	msgs[2].type = RDV_MSG_INTRODUCE;
	memcpy(msgs[2].introduce.peer, server_pk, RDV_KEY_LEN);
	msgs[2].introduce.reflexive = endpoint("[2001:db8::7]:40001");
	msgs[2].introduce.n_lan = 1;
	msgs[2].introduce.lan[0] = endpoint("10.0.0.7:51820");
	msgs[3].type = RDV_MSG_RELAY;
	memcpy(msgs[3].relay.peer, peer_pk, RDV_KEY_LEN);
	msgs[3].relay.len = 48;
	memset(msgs[3].relay.data, 0x04, msgs[3].relay.len);
	msgs[4].type = RDV_MSG_ERROR;
	msgs[4].error.code = RDV_ERROR_NOT_INTRODUCED;
	memcpy(msgs[4].error.peer, peer_pk, RDV_KEY_LEN);
	msgs[5].type = RDV_MSG_CHALLENGE;
	msgs[5].challenge.echo = FIXTURE_RDV_ECHO;
	memset(msgs[5].challenge.cookie, 0xc1, RDV_COOKIE_LEN);
	msgs[6].type = RDV_MSG_CHANNEL_OPEN;
	memcpy(msgs[6].channel.peer, server_pk, RDV_KEY_LEN);
	msgs[7].type = RDV_MSG_CHANNEL;
	memcpy(msgs[7].channel.peer, peer_pk, RDV_KEY_LEN);
	memset(msgs[7].channel.chan, 0xc4, RDV_CHANNEL_ID_LEN);

	for (size_t i = 0; i < 8; i++) {
		fixture_check(rdv_body_encode(&msgs[i], buf, sizeof(buf), &len) == 0, "encode");
		snprintf(name, sizeof(name), "body-%s", names[i]);
		put("fuzz_rendezvous", name, buf, len);
		for (int dir = RDV_DIR_UP; dir <= RDV_DIR_DOWN; dir++) {
			if (!(dirs[i] & (1u << dir)))
				continue;
			fixture_check(rdv_seal(&s, (enum rdv_direction)dir,
					       ((uint64_t)FIXTURE_RDV_SERVER_EPOCH << RDV_SEQ_BITS) + 1 + i,
					       random, &msgs[i], buf,
					       sizeof(buf), &len) == 0, "rdv_seal");
			snprintf(name, sizeof(name), "%s-%s", dir == RDV_DIR_UP ? "up" : "down",
				 names[i]);
			put2("fuzz_rendezvous", name, buf, len);
		}
	}
	rdv_session_wipe(&s);
	/* A relay channel datagram (section 3.7): a WireGuard message behind
	 * the 12-byte header. */
	memset(buf, 0, RDV_CHANNEL_HEADER_LEN + 64);
	buf[0] = DEMUX_TYPE_CHANNEL;
	memset(buf + 4, 0xc4, RDV_CHANNEL_ID_LEN);
	buf[RDV_CHANNEL_HEADER_LEN] = 4;
	put("fuzz_demux", "channel-data", buf, RDV_CHANNEL_HEADER_LEN + 64);
}

static void stun_seeds(void)
{
	static const uint8_t txid[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(40001) };
	uint8_t req[STUN_MAX_MESSAGE], resp[STUN_RESPONSE_MAX];
	static struct stun_msg msg;
	size_t resp_len;
	uint32_t crc;
	int n;

	n = stun_build_binding_request(txid, req, sizeof(req));
	fixture_check(n == STUN_HEADER_LEN, "stun_build_binding_request");
	put2("fuzz_stun", "request", req, (size_t)n);

	/* The same with FINGERPRINT: length counts it, CRC over the rest. */
	req[3] = 8;
	crc = stun_fingerprint(req, STUN_HEADER_LEN);
	req[20] = 0x80, req[21] = 0x28, req[22] = 0, req[23] = 4;
	req[24] = (uint8_t)(crc >> 24), req[25] = (uint8_t)(crc >> 16);
	req[26] = (uint8_t)(crc >> 8), req[27] = (uint8_t)crc;
	put2("fuzz_stun", "request-fingerprint", req, 28);
	fixture_check(stun_parse(req, 28, &msg) == STUN_OK && msg.has_fingerprint, "fingerprint");

	inet_pton(AF_INET, "198.51.100.7", &v4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);
	fixture_check(stun_build_binding_response(&msg, (struct sockaddr *)&v4, resp,
						  sizeof(resp), &resp_len) == 0, "response v4");
	put2("fuzz_stun", "response-v4", resp, resp_len);
	fixture_check(stun_build_binding_response(&msg, (struct sockaddr *)&v6, resp,
						  sizeof(resp), &resp_len) == 0, "response v6");
	put2("fuzz_stun", "response-v6", resp, resp_len);
	/* tunnel-rendezvous --alt-port: OTHER-ADDRESS before the FINGERPRINT */
	v4.sin_port = htons(3479);
	fixture_check(stun_build_binding_response_other(&msg, (struct sockaddr *)&v6,
							(struct sockaddr *)&v4, resp, sizeof(resp),
							&resp_len) == 0 &&
			      stun_parse(resp, resp_len, &msg) == STUN_OK && msg.has_other,
		      "response with OTHER-ADDRESS");
	put2("fuzz_stun", "response-other-address", resp, resp_len);
	v4.sin_port = htons(40000);

	/* RFC 3489: no cookie, 16-byte id; then with CHANGE-REQUEST. */
	memset(req, 0, sizeof(req));
	req[1] = 0x01;
	for (int i = 4; i < 20; i++)
		req[i] = (uint8_t)(0x30 + i);
	put2("fuzz_stun", "legacy-request", req, 20);
	fixture_check(stun_parse(req, 20, &msg) == STUN_OK && msg.legacy, "legacy");
	fixture_check(stun_build_binding_response(&msg, (struct sockaddr *)&v4, resp,
						  sizeof(resp), &resp_len) == 0, "legacy response");
	put("fuzz_stun", "legacy-response", resp, resp_len);
	req[3] = 8;
	req[20] = 0, req[21] = 0x03, req[22] = 0, req[23] = 4;
	req[27] = 0x06;
	put2("fuzz_stun", "legacy-change-request", req, 28);
}


/* ---- inner packets: what a peer's TCP or UDP sends ----------------- */

/* Sum of the pseudo-header (addresses, protocol, length), folded. */
static uint32_t pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t l4_len)
{
	uint32_t s = (uint32_t)~(v6 ? tun_checksum(ip + 8, 32, 0) : tun_checksum(ip + 12, 8, 0)) &
		     0xffff;

	s += proto + (uint32_t)l4_len;
	return (s & 0xffff) + (s >> 16);
}

/* An IPv4 or IPv6 header for `l4_len` bytes of protocol `proto`. */
static size_t ip_header(uint8_t *buf, bool v6, const char *src, const char *dst, uint8_t proto,
			size_t l4_len)
{
	if (v6) {
		memset(buf, 0, 40);
		buf[0] = 0x60;
		store_be16(buf + 4, (uint16_t)l4_len);
		buf[6] = proto;
		buf[7] = 64;
		fixture_check(inet_pton(AF_INET6, src, buf + 8) == 1 &&
			      inet_pton(AF_INET6, dst, buf + 24) == 1, "IPv6 address");
		return 40;
	}
	memset(buf, 0, 20);
	buf[0] = 0x45;
	store_be16(buf + 2, (uint16_t)(20 + l4_len));
	store_be16(buf + 4, 0x1234);
	buf[6] = 0x40; /* DF */
	buf[8] = 64;
	buf[9] = proto;
	fixture_check(inet_pton(AF_INET, src, buf + 12) == 1 && inet_pton(AF_INET, dst, buf + 16) == 1,
		      "IPv4 address");
	store_be16(buf + 10, tun_checksum(buf, 20, 0));
	return 20;
}

/* A TCP segment with correct checksums; opt_words 32-bit words of NOPs. */
static size_t tcp_packet(uint8_t *buf, bool v6, const char *src, const char *dst, uint32_t seq,
			 uint8_t flags, size_t opt_words, size_t payload)
{
	size_t thl = 20 + 4 * opt_words, ip = ip_header(buf, v6, src, dst, 6, thl + payload);
	uint8_t *th = buf + ip;

	memset(th, 0, thl);
	store_be16(th, 40000);
	store_be16(th + 2, 5201);
	store_be16(th + 4, (uint16_t)(seq >> 16));
	store_be16(th + 6, (uint16_t)seq);
	store_be16(th + 10, 1);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	store_be16(th + 14, 512);
	memset(th + 20, 1, thl - 20);
	for (size_t i = 0; i < payload; i++)
		th[thl + i] = (uint8_t)(seq + i);
	store_be16(th + 16, tun_checksum(th, thl + payload, pseudo(buf, v6, 6, thl + payload)));
	return ip + thl + payload;
}

static size_t udp_packet(uint8_t *buf, bool v6, const char *src, const char *dst, size_t payload)
{
	size_t ip = ip_header(buf, v6, src, dst, 17, 8 + payload);
	uint8_t *uh = buf + ip;

	store_be16(uh, 51000);
	store_be16(uh + 2, 53);
	store_be16(uh + 4, (uint16_t)(8 + payload));
	store_be16(uh + 6, 0);
	memset(uh + 8, 0x61, payload);
	store_be16(uh + 6, tun_checksum(uh, 8 + payload, pseudo(buf, v6, 17, 8 + payload)));
	return ip + 8 + payload;
}

enum { TCP_ACK = 0x10, TCP_PSH = 0x08, TCP_FIN = 0x01, TCP_CWR = 0x80 };

/* ---- allowedips, offload, coalesce ---------------------------------- */

static void allowedips_seeds(void)
{
	static const uint8_t prefixes[] = {
		3,
		32, 10, 77, 0, 1,
		24, 10, 2, 0, 0,
		0x80 | 64, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t buf[sizeof(prefixes) + 128];
	size_t n = sizeof(prefixes), len;

	memcpy(buf, prefixes, n);
	len = udp_packet(buf + n, false, "10.77.0.1", "10.77.0.2", 8);
	put("fuzz_allowedips", "v4-inside", buf, n + len);
	/* The same with padding after total length, as WireGuard pads. */
	memset(buf + n + len, 0, 12);
	put("fuzz_allowedips", "v4-padded", buf, n + len + 12);
	len = udp_packet(buf + n, false, "10.2.0.9", "224.0.0.251", 4);
	put("fuzz_allowedips", "v4-multicast", buf, n + len);
	len = udp_packet(buf + n, false, "192.0.2.99", "10.77.0.2", 4);
	put("fuzz_allowedips", "v4-outside", buf, n + len);
	len = udp_packet(buf + n, true, "fd77::5", "fd77::2", 8);
	put("fuzz_allowedips", "v6-inside", buf, n + len);
	len = udp_packet(buf + n, true, "fd78::5", "ff02::1", 8);
	put("fuzz_allowedips", "v6-multicast-outside", buf, n + len);
	/* IPv4 with 4 bytes of options (IHL 6). */
	len = udp_packet(buf + n + 4, false, "10.2.0.1", "10.77.0.2", 4);
	memmove(buf + n, buf + n + 4, 20);
	buf[n] = 0x46;
	store_be16(buf + n + 2, (uint16_t)(len + 4));
	memset(buf + n + 20, 1, 4);
	put("fuzz_allowedips", "v4-options", buf, n + len + 4);
	/* Headers alone: the shortest whole packets. */
	ip_header(buf + n, false, "10.77.0.1", "10.2.0.1", 59, 0);
	put("fuzz_allowedips", "v4-header-only", buf, n + 20);
	ip_header(buf + n, true, "fd77::1", "fd77::2", 59, 0);
	put("fuzz_allowedips", "v6-header-only", buf, n + 40);
}

static void vnet(uint8_t *raw, uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
		 uint16_t csum_start, uint16_t csum_offset)
{
	/* Host byte order, as the TUN writes it (tun_vnet_hdr_parse). */
	raw[0] = flags;
	raw[1] = gso;
	memcpy(raw + 2, &hdr_len, 2);
	memcpy(raw + 4, &gso_size, 2);
	memcpy(raw + 6, &csum_start, 2);
	memcpy(raw + 8, &csum_offset, 2);
}

static void offload_seeds(void)
{
	/* After the header: max_out (0xf0: the engine's), out_size 1420. */
	static uint8_t buf[TUN_VNET_HDR_LEN + 3 + 2048];
	uint8_t *pkt = buf + TUN_VNET_HDR_LEN + 3;
	size_t len;

	buf[TUN_VNET_HDR_LEN] = 0xf0;
	store_be16(buf + TUN_VNET_HDR_LEN + 1, 1419);

	len = udp_packet(pkt, false, "10.77.0.2", "10.77.0.1", 40);
	vnet(buf, 0, 0, 0, 0, 0, 0);
	put("fuzz_offload", "plain", buf, TUN_VNET_HDR_LEN + 3 + len);
	/* Checksum left to us: the field holds the pseudo-header sum. */
	store_be16(pkt + 26, (uint16_t)pseudo(pkt, false, 17, len - 20));
	vnet(buf, 1, 0, 0, 0, 20, 6);
	put("fuzz_offload", "udp-csum", buf, TUN_VNET_HDR_LEN + 3 + len);

	len = tcp_packet(pkt, false, "10.77.0.2", "10.77.0.1", 1000, TCP_ACK | TCP_PSH, 0, 350);
	store_be16(pkt + 36, (uint16_t)pseudo(pkt, false, 6, len - 20));
	vnet(buf, 1, 1, 40, 100, 20, 16);
	put("fuzz_offload", "tso-v4", buf, TUN_VNET_HDR_LEN + 3 + len);
	len = tcp_packet(pkt, false, "10.77.0.2", "10.77.0.1", 0xfffffff0u,
			 TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR, 3, 1000);
	vnet(buf, 1, 1 | 0x80, 52, 333, 20, 16);
	put("fuzz_offload", "tso-v4-ecn-options", buf, TUN_VNET_HDR_LEN + 3 + len);
	len = tcp_packet(pkt, true, "fd77::2", "fd77::1", 7, TCP_ACK, 0, 1200);
	vnet(buf, 1, 4, 60, 1000, 40, 16);
	put("fuzz_offload", "tso-v6", buf, TUN_VNET_HDR_LEN + 3 + len);
	/* Too many segments for max_out 2. */
	buf[TUN_VNET_HDR_LEN] = 1;
	len = tcp_packet(pkt, true, "fd77::2", "fd77::1", 7, TCP_ACK, 0, 301);
	vnet(buf, 1, 4, 60, 100, 40, 16);
	put("fuzz_offload", "tso-v6-too-many", buf, TUN_VNET_HDR_LEN + 3 + len);
}

/* A literal record of the coalesce input, to be fixed up (bit 6) so that
 * mutations of it keep their checksums right. */
static size_t literal(uint8_t *out, const uint8_t *pkt, size_t len)
{
	out[0] = (uint8_t)(0x40 | len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, pkt, len);
	return 2 + len;
}

static void coalesce_seeds(void)
{
	static uint8_t buf[4096], pkt[512];
	size_t n = 0, len;

	/* Three segments of one stream, the last short with PSH, then a UDP
	 * packet and a lone segment of another stream. */
	for (uint32_t i = 0; i < 3; i++) {
		len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 1000 + 100 * i,
				 TCP_ACK | (i == 2 ? TCP_PSH : 0), 0, i == 2 ? 40 : 100);
		n += literal(buf + n, pkt, len);
	}
	len = udp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 30);
	n += literal(buf + n, pkt, len);
	len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 5, TCP_ACK, 0, 10);
	n += literal(buf + n, pkt, len);
	put("fuzz_coalesce", "v4-run", buf, n);

	/* A segment, a pure ACK (no payload: never merged), a segment. */
	n = 0;
	len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 1, TCP_ACK, 0, 50);
	n += literal(buf + n, pkt, len);
	len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 51, TCP_ACK, 0, 0);
	n += literal(buf + n, pkt, len);
	len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 51, TCP_ACK, 0, 50);
	n += literal(buf + n, pkt, len);
	put("fuzz_coalesce", "v4-pure-ack", buf, n);

	/* IPv6 with options: one segment, then five more made by the target. */
	n = 0;
	len = tcp_packet(pkt, true, "fd77::1", "fd77::2", 1, TCP_ACK, 3, 200);
	n += literal(buf + n, pkt, len);
	memset(buf + n, 0x81, 5);
	n += 5;
	put("fuzz_coalesce", "v6-clones", buf, n);

	/* Grown to 1400 bytes, then 60 more: past TUN_COALESCE_MAX_BYTES. */
	n = 0;
	len = tcp_packet(pkt, false, "10.2.0.3", "10.77.0.2", 1, TCP_ACK, 0, 100);
	n += literal(buf + n, pkt, len);
	buf[n++] = 0xc1;
	store_be16(buf + n, 1400);
	n += 2;
	memset(buf + n, 0x81, 60);
	n += 60;
	put("fuzz_coalesce", "v4-large", buf, n);
}

/* ---- the engine: records of tag, length, bytes (fuzz_engine.c) ------ */

enum {
	SRC_PEER = 0, SRC_SERVER = 1, SRC_STRANGER = 2, SRC_INSIDE = 3,
	K_RAW = 0 << 2, K_DATA = 1 << 2, K_RDV = 2 << 2, K_PROBE = 3 << 2, K_RELAY_DATA = 4 << 2,
	K_RELAY_RAW = 5 << 2, K_REPEAT = 6 << 2, K_DATA_FIXED = 7 << 2,
	END_BATCH = 1 << 5, STEP_100MS = 1 << 6, STEP_5S = 2 << 6, STEP_125S = 3 << 6,
};

static uint8_t engine_buf[8192];
static size_t engine_len;

static void rec(uint8_t tag, const void *data, size_t len)
{
	fixture_check(engine_len + 3 + len <= sizeof(engine_buf), "engine seed size");
	engine_buf[engine_len] = tag;
	store_be16(engine_buf + engine_len + 1, (uint16_t)len);
	memcpy(engine_buf + engine_len + 3, data, len);
	engine_len += 3 + len;
}

static size_t len_of_body(const struct rdv_msg *m)
{
	uint8_t body[RDV_BODY_MAX];
	size_t len;

	fixture_check(rdv_body_encode(m, body, sizeof(body), &len) == 0, "rdv_body_encode");
	return len;
}

static void rec_rdv(const struct rdv_msg *m)
{
	uint8_t body[RDV_BODY_MAX];
	size_t len;

	fixture_check(rdv_body_encode(m, body, sizeof(body), &len) == 0, "rdv_body_encode");
	rec(SRC_SERVER | K_RDV, body, len);
}

static void engine_put(const char *name)
{
	put("fuzz_engine", name, engine_buf, engine_len);
	engine_len = 0;
}

static void engine_seeds(void)
{
	static struct rdv_msg m;
	uint8_t pkt[1600], token[9] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 }, n;
	size_t len;

	/* WireGuard: each valid message from the peer. */
	rec(SRC_PEER | K_RAW, f.initiation, sizeof(f.initiation));
	engine_put("initiation");
	rec(SRC_PEER | K_RAW, f.response, sizeof(f.response));
	rec(SRC_PEER | K_RAW | END_BATCH, f.data[1], f.data_len[1]);
	engine_put("response-then-data");
	rec(SRC_PEER | K_RAW, f.cookie_reply, sizeof(f.cookie_reply));
	engine_put("cookie-reply");
	for (size_t i = 0; i < FIXTURE_DATA_SEEDS; i++)
		rec(SRC_STRANGER | K_RAW, f.data[i], f.data_len[i]);
	engine_put("data-roaming");
	/* Replayed, then from inside the tunnel. */
	rec(SRC_PEER | K_RAW, f.data[2], f.data_len[2]);
	rec(SRC_PEER | K_RAW, f.data[2], f.data_len[2]);
	rec(SRC_INSIDE | K_RAW, f.data[1], f.data_len[1]);
	engine_put("data-replay-inside");

	/* Data peer seals now: a TCP stream to coalesce, IPv6, a source
	 * outside AllowedIPs, a padded packet, a keepalive. */
	for (uint32_t i = 0; i < 4; i++) {
		len = tcp_packet(pkt, false, "10.77.0.1", "10.77.0.2", 1000 + 200 * i,
				 TCP_ACK | (i == 3 ? TCP_PSH : 0), 0, 200);
		rec(SRC_PEER | K_DATA, pkt, len);
	}
	len = udp_packet(pkt, true, "fd77::5", "fd77::2", 20);
	rec(SRC_PEER | K_DATA, pkt, len);
	len = udp_packet(pkt, false, "192.0.2.99", "10.77.0.2", 20);
	rec(SRC_PEER | K_DATA, pkt, len);
	rec(SRC_PEER | K_DATA | END_BATCH, pkt, 0);
	engine_put("sealed-data");
	for (uint32_t i = 0; i < 3; i++) {
		len = tcp_packet(pkt, true, "fd77::1", "fd77::2", 1 + 300 * i, TCP_ACK, 1, 300);
		rec(SRC_PEER | K_DATA_FIXED, pkt, len);
	}
	engine_put("sealed-data-fixed");
	len = tcp_packet(pkt, true, "fd77::5", "fd77::2", 1, TCP_ACK, 2, 1200);
	rec(SRC_PEER | K_DATA, pkt, len);
	rec(SRC_PEER | K_DATA | STEP_125S, pkt, len);
	rec(SRC_PEER | K_DATA | STEP_125S, pkt, len);
	engine_put("sealed-data-rekey");

	/* Rendezvous: registered, introduced, probes both ways, relay. */
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_REGISTERED;
	fixture_check(rdv_endpoint_parse(&m.registered.reflexive, "198.51.100.7:40000", false) == 0,
		      "endpoint");
	m.registered.lease_s = 300;
	m.registered.echo = FIXTURE_RDV_ECHO;
	rec_rdv(&m);
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_INTRODUCE;
	memcpy(m.introduce.peer, f.peer.public_key, RDV_KEY_LEN);
	fixture_check(rdv_endpoint_parse(&m.introduce.reflexive, "198.51.100.9:40000", false) == 0,
		      "endpoint");
	m.introduce.n_lan = 2;
	fixture_check(rdv_endpoint_parse(&m.introduce.lan[0], "192.168.7.7:51820", false) == 0 &&
		      rdv_endpoint_parse(&m.introduce.lan[1], "[fd77::9]:51820", false) == 0,
		      "endpoint");
	rec_rdv(&m);
	rec(SRC_STRANGER | K_PROBE | END_BATCH, token, sizeof(token));
	token[0] = 1;
	rec(SRC_STRANGER | K_PROBE | STEP_100MS, token, 2);
	token[1] = 1;
	rec(SRC_STRANGER | K_PROBE | END_BATCH, token, 2);
	rec(SRC_PEER | K_RAW | STEP_5S, "", 0);
	rec(SRC_PEER | K_RAW | STEP_5S, "", 0);
	engine_put("rendezvous-punch");

	rec_rdv(&m);
	rec(SRC_PEER | K_RAW | STEP_5S, "", 0);
	len = udp_packet(pkt, false, "10.2.0.1", "10.77.0.2", 100);
	rec(SRC_SERVER | K_RELAY_DATA, pkt, len);
	rec(SRC_SERVER | K_RELAY_RAW, f.initiation, sizeof(f.initiation));
	rec(SRC_SERVER | K_RELAY_RAW, f.cookie_reply, sizeof(f.cookie_reply));
	/* The relay channel (PROTOCOL.md 3.7): the server gives its id, then
	 * data arrives through it, then with a wrong id. */
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_CHANNEL;
	memcpy(m.channel.peer, f.peer.public_key, RDV_KEY_LEN);
	memset(m.channel.chan, 0xc4, RDV_CHANNEL_ID_LEN);
	rec_rdv(&m);
	memset(pkt, 0, RDV_CHANNEL_HEADER_LEN);
	pkt[0] = DEMUX_TYPE_CHANNEL;
	memset(pkt + 4, 0xc4, RDV_CHANNEL_ID_LEN);
	memcpy(pkt + RDV_CHANNEL_HEADER_LEN, f.data[0], f.data_len[0]);
	rec(SRC_SERVER | K_RAW, pkt, RDV_CHANNEL_HEADER_LEN + f.data_len[0]);
	pkt[4] ^= 1;
	memcpy(pkt + RDV_CHANNEL_HEADER_LEN, f.data[1], f.data_len[1]);
	rec(SRC_SERVER | K_RAW, pkt, RDV_CHANNEL_HEADER_LEN + f.data_len[1]);
	rec(SRC_SERVER | K_RELAY_RAW, f.initiation, sizeof(f.initiation));
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_ERROR;
	m.error.code = RDV_ERROR_NOT_INTRODUCED;
	memcpy(m.error.peer, f.peer.public_key, RDV_KEY_LEN);
	rec_rdv(&m);
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_CHALLENGE;
	m.challenge.echo = FIXTURE_RDV_ECHO + 1;
	memset(m.challenge.cookie, 0xc1, RDV_COOKIE_LEN);
	rec_rdv(&m);
	engine_put("relay");

	/* A handshake flood: the engine goes under load and answers with
	 * cookie replies, directly and through the relay. */
	rec(SRC_STRANGER | K_RAW, f.initiation, sizeof(f.initiation));
	n = 70;
	rec(SRC_STRANGER | K_REPEAT, &n, 1);
	rec(SRC_SERVER | K_RELAY_RAW, f.initiation, sizeof(f.initiation));
	engine_put("flood");

	/* Junk: no known kind, oversized, a rendezvous message from a stranger. */
	rec(SRC_STRANGER | K_RAW, "\x05\0\0\0junk", 8);
	memset(pkt, 0x04, sizeof(pkt));
	rec(SRC_PEER | K_RAW, pkt, sizeof(pkt));
	memset(&m, 0, sizeof(m));
	m.type = RDV_MSG_REGISTERED;
	fixture_check(rdv_endpoint_parse(&m.registered.reflexive, "198.51.100.7:40000", false) == 0,
		      "endpoint");
	m.registered.lease_s = 300;
	m.registered.echo = FIXTURE_RDV_ECHO;
	rec_rdv(&m);
	engine_buf[engine_len - len_of_body(&m) - 3] = SRC_STRANGER | K_RDV;
	engine_put("junk");
}

static void probe_seeds(void)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], sender[NOISE_PUBLIC_KEY_LEN], buf[PROBE_LEN];

	fixture_probe_key(key, sender);
	struct probe req = { .kind = PROBE_REQUEST, .token = 0x0123456789abcdefULL,
			     .sent_ms = 1000, .len = PROBE_LEN };
	struct probe resp = { .kind = PROBE_RESPONSE, .token = 0x0123456789abcdefULL,
			      .acked_len = PROBE_LEN, .len = PROBE_LEN };

	fixture_check(probe_build(buf, sizeof(buf), &req, key, sender) == 0, "probe request");
	put2("fuzz_probe", "request", buf, sizeof(buf));
	fixture_check(probe_build(buf, sizeof(buf), &resp, key, sender) == 0, "probe response");
	put2("fuzz_probe", "response", buf, sizeof(buf));
}

static void control_seeds(void)
{
	struct control_status st;
	char buf[CONTROL_RESPONSE_MAX];
	int n;

	put_text("fuzz_control", "get", "get=1\n\n");
	put_text("fuzz_control", "down", "down=1\n\n");
	put_text("fuzz_control", "reload", "reload=1\n\n");
	put_text("fuzz_control", "reply-refused",
		 "error=/etc/tunnel/home.conf:7: MTU 'big' is not a number\nerrno=22\n\n");
	put_text("fuzz_control", "errno", "errno=2\n\n");
	memset(&st, 0, sizeof(st));
	strcpy(st.name, "office");
	strcpy(st.public_key, "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");
	strcpy(st.peer_public_key, "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=");
	strcpy(st.state, "established");
	strcpy(st.path, "direct");
	strcpy(st.endpoint, "[2001:db8::7]:51820");
	strcpy(st.reflexive_endpoint, "198.51.100.7:40000");
	st.last_handshake_age_s = 17;
	st.rtt_ms = -1;
	st.rx_bytes = 123456789;
	st.tx_bytes = 987654321;
	st.keepalive_s = 25;
	st.pid = 4242;
	for (size_t i = 0; i < DROP_KIND_COUNT; i++)
		st.dropped[i] = i * 3;
	strcpy(st.nat_mapping, "endpoint-dependent");
	strcpy(st.nat_port_preserved, "false");
	strcpy(st.nat_portmap, "pcp");
	strcpy(st.nat_public, "198.51.100.7:51820");
	n = control_format_status(&st, buf, sizeof(buf));
	fixture_check(n > 0, "control_format_status");
	put("fuzz_control", "status-established", buf, (size_t)n);
	strcpy(st.state, "punching");
	strcpy(st.path, "none");
	strcpy(st.endpoint, "");
	strcpy(st.reason, "waiting for the peer to register with the rendezvous server");
	strcpy(st.nat_portmap, "");
	strcpy(st.nat_public, "198.51.100.7:40000");
	strcpy(st.portmap_reason, "the gateway answers no port mapping protocol (PCP, NAT-PMP, UPnP)");
	st.last_handshake_age_s = -1;
	n = control_format_status(&st, buf, sizeof(buf));
	fixture_check(n > 0, "control_format_status");
	put("fuzz_control", "status-punching", buf, (size_t)n);
	put_text("fuzz_control", "show", "show=1\n\n");
	put_text("fuzz_control", "ping", "ping=1\n\n");
	put_text("fuzz_control", "show-reply",
		 "listen_port=51820\npreshared_key=true\nallowed_ip=10.77.0.1/32\n"
		 "allowed_ip=fd77::/64\nerrno=0\n\n");
	put_text("fuzz_control", "pong",
		 "path=relay\nendpoint=203.0.113.10:3478\nrtt_us=1234\nerrno=0\n\n");
	put_text("fuzz_control", "pong-timeout", "error=no pong within 1500 ms\nerrno=110\n\n");
}

static void config_seeds(void)
{
	put_text("fuzz_config", "full.conf",
		 "# a link with everything\n"
		 "[Interface]\n"
		 "PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=  # comment\n"
		 "Address = 10.77.0.2/24, fd77::2/64\n"
		 "ListenPort = 51820\n"
		 "MTU = 1380\n"
		 "Rendezvous = 203.0.113.10:3478, [2001:db8::10]:3478\n"
		 "RendezvousKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
		 "PortMapping = off\n"
		 "\n"
		 "[Peer]\n"
		 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		 "PresharedKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
		 "AllowedIPs = 10.77.0.1/32, 10.2.0.77/24\n"
		 "AllowedIPs = fd77::/64\n"
		 "Endpoint = [2001:db8::7]:51820\n"
		 "PersistentKeepalive = 15\n");
	put_text("fuzz_config", "keyfile.conf",
		 "[Interface]\n"
		 "PrivateKeyFile = /fuzz/key\n"
		 "Address = 10.0.0.2/32\n"
		 "[Peer]\n"
		 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		 "AllowedIPs = 0.0.0.0/0, ::/0\n"
		 "Endpoint = 192.0.2.7:51820\n");
	put_text("fuzz_config", "open-keyfile.conf",
		 "[Interface]\n"
		 "PrivateKeyFile = /fuzz/open-key\n"
		 "[Peer]\n"
		 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n");
	put_text("fuzz_config", "candidates.conf",
		 "[Interface]\n"
		 "PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		 "CandidateInterfaces = eth0, wlan*\n"
		 "IgnoreInterfaces = docker*, wg0\n"
		 "IgnorePrefixes = 10.8.0.0/16, fd00:8::/32\n"
		 "[Peer]\n"
		 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		 "Endpoint = 192.0.2.7:51820\n");
	put_text("fuzz_config", "minimal.conf",
		 "[Interface]\n"
		 "PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		 "Rendezvous = 203.0.113.10:3478\n"
		 "RendezvousKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
		 "[Peer]\n"
		 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		 "PersistentKeepalive = 0\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DIR [TARGET]\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	only = argc == 3 ? argv[2] : NULL;
	/* Same order as the targets: the fixture's random stream must match. */
	fixture_sodium_init();
	wireguard_seeds();
	rendezvous_seeds();
	stun_seeds();
	probe_seeds();
	control_seeds();
	config_seeds();
	allowedips_seeds();
	offload_seeds();
	coalesce_seeds();
	engine_seeds();
	return 0;
}
