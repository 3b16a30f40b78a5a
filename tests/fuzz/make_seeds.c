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

#include "crypto/keys.h"
#include "rendezvous/stun.h"
#include "tests/fuzz/fixture.h"
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

static void wireguard_seeds(void)
{
	static struct wg_fixture f;
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
	static struct rdv_msg msgs[5];
	static const char *const names[5] = { "register", "registered", "introduce", "relay",
					      "error" };
	/* The directions each message travels in (bit 0 up, bit 1 down). */
	static const unsigned dirs[5] = { 1, 2, 2, 3, 2 };
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
	msgs[1].type = RDV_MSG_REGISTERED;
	msgs[1].registered.reflexive = endpoint("198.51.100.7:40000");
	msgs[1].registered.lease_s = 300;
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

	for (size_t i = 0; i < 5; i++) {
		fixture_check(rdv_body_encode(&msgs[i], buf, sizeof(buf), &len) == 0, "encode");
		snprintf(name, sizeof(name), "body-%s", names[i]);
		put("fuzz_rendezvous", name, buf, len);
		for (int dir = RDV_DIR_UP; dir <= RDV_DIR_DOWN; dir++) {
			if (!(dirs[i] & (1u << dir)))
				continue;
			fixture_check(rdv_seal(&s, (enum rdv_direction)dir,
					       1700000000000000ULL + i, random, &msgs[i], buf,
					       sizeof(buf), &len) == 0, "rdv_seal");
			snprintf(name, sizeof(name), "%s-%s", dir == RDV_DIR_UP ? "up" : "down",
				 names[i]);
			put2("fuzz_rendezvous", name, buf, len);
		}
	}
	rdv_session_wipe(&s);
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

static void probe_seeds(void)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], sender[NOISE_PUBLIC_KEY_LEN], buf[PROBE_LEN];

	fixture_probe_key(key, sender);
	probe_build(buf, key, sender, PROBE_REQUEST, 0x0123456789abcdefULL);
	put2("fuzz_probe", "request", buf, sizeof(buf));
	probe_build(buf, key, sender, PROBE_RESPONSE, 0x0123456789abcdefULL);
	put2("fuzz_probe", "response", buf, sizeof(buf));
}

static void control_seeds(void)
{
	struct control_status st;
	char buf[CONTROL_RESPONSE_MAX];
	int n;

	put_text("fuzz_control", "get", "get=1\n\n");
	put_text("fuzz_control", "down", "down=1\n\n");
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
	n = control_format_status(&st, buf, sizeof(buf));
	fixture_check(n > 0, "control_format_status");
	put("fuzz_control", "status-established", buf, (size_t)n);
	strcpy(st.state, "punching");
	strcpy(st.path, "none");
	strcpy(st.endpoint, "");
	strcpy(st.reason, "waiting for the peer to register with the rendezvous server");
	st.last_handshake_age_s = -1;
	n = control_format_status(&st, buf, sizeof(buf));
	fixture_check(n > 0, "control_format_status");
	put("fuzz_control", "status-punching", buf, (size_t)n);
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
	return 0;
}
