/* The fixed world of the fuzz targets (see fixture.h). The WireGuard part
 * runs one real handshake between "local" and "peer" and keeps the
 * receiver's states at the points where hostile bytes can arrive. */
#include "tests/fuzz/fixture.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

const uint8_t fixture_source[FIXTURE_SOURCE_LEN] = { 192, 0, 2, 1, 0xca, 0x6c };

/* Fixed TAI64N timestamps: the peer's initiation must be newer than zero. */
static const uint8_t local_timestamp[NOISE_TIMESTAMP_LEN] = { 0x40, 0, 0, 0, 0x60, 0, 0, 1 };
static const uint8_t peer_timestamp[NOISE_TIMESTAMP_LEN] = { 0x40, 0, 0, 0, 0x60, 0, 0, 2 };

enum {
	LOCAL_INDEX = 0x11111111,
	PEER_INDEX = 0x22222222,
	PEER_INDEX_2 = 0x33333333,
	KEY_LOCAL = 0x11,
	KEY_PEER = 0x22,
	KEY_PSK = 0x33,
	KEY_RDV_PEER = 0x44,
	KEY_RDV_SERVER = 0x55,
};

/* ---- deterministic random source ------------------------------------ */

/* The stream position; file-scope because libsodium's randombytes
 * implementation interface has no context pointer. Only this test fixture
 * does that: production code uses the system source. */
static uint64_t rng_counter;

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 'f', 'u', 'z', 'z' };

	memcpy(seed + 8, &rng_counter, sizeof(rng_counter));
	rng_counter++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

uint64_t fixture_rng_tell(void)
{
	return rng_counter;
}

void fixture_rng_seek(uint64_t pos)
{
	rng_counter = pos;
}

static const char *rng_name(void)
{
	return "tunnel-fuzz-deterministic";
}

static struct randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

void fixture_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz fixture: %s failed\n", what);
		abort();
	}
}

void fixture_sodium_init(void)
{
	fixture_check(randombytes_set_implementation(&rng_impl) == 0, "randombytes_set_implementation");
	fixture_check(sodium_init() >= 0, "sodium_init");
}

void fixture_private_key(uint8_t key[static NOISE_PRIVATE_KEY_LEN], uint8_t v)
{
	memset(key, v, NOISE_PRIVATE_KEY_LEN);
	keys_clamp(key);
}

/* ---- WireGuard ------------------------------------------------------- */

/* consume_initiation's peer lookup: the one handshake in ctx, if the key
 * matches its remote. */
static struct noise_handshake *lookup_one(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct noise_handshake *hs = ctx;

	return keys_equal(hs->remote_static, remote_static) ? hs : NULL;
}

/* Proves the seeds are what the targets accept, so they lead the fuzzer
 * past every check. Uses no randomness (the stream stays in step). */
static void check_world(const struct wg_fixture *f)
{
	struct noise_handshake hs = f->idle, *found = NULL;
	struct cookie_checker checker = f->checker;
	struct cookie_maker maker = f->maker;
	static struct keypairs kps;
	uint8_t buf[FIXTURE_DATA_MAX], *plain;
	size_t plain_len;
	bool rotated;

	fixture_check(cookie_checker_validate(&checker, f->initiation, sizeof(f->initiation),
					      fixture_source, FIXTURE_SOURCE_LEN, false,
					      FIXTURE_NOW_MS) == COOKIE_MAC_VALID_NO_COOKIE,
		      "mac1 of the initiation");
	fixture_check(cookie_checker_validate(&checker, f->response, sizeof(f->response),
					      fixture_source, FIXTURE_SOURCE_LEN, false,
					      FIXTURE_NOW_MS) == COOKIE_MAC_VALID_NO_COOKIE,
		      "mac1 of the response");
	fixture_check(noise_consume_initiation(&f->local, f->initiation, sizeof(f->initiation),
					       lookup_one, &hs, FIXTURE_NOW_MS, &found) == 0,
		      "local consumes the initiation");
	hs = f->pending;
	fixture_check(noise_consume_response(&hs, &f->local, f->response, sizeof(f->response)) == 0,
		      "local consumes the response");
	fixture_check(cookie_maker_consume_reply(&maker, f->cookie_reply, sizeof(f->cookie_reply),
						 FIXTURE_NOW_MS) == 0, "local takes the cookie");
	for (size_t i = 0; i < FIXTURE_DATA_SEEDS; i++) {
		kps = f->keypairs;
		memcpy(buf, f->data[i], f->data_len[i]);
		fixture_check(session_keypairs_open(&kps, buf, f->data_len[i], FIXTURE_NOW_MS,
						    &plain, &plain_len, &rotated) == 0,
			      "local opens the data");
	}
	session_keypairs_clear(&kps);
	noise_handshake_destroy(&hs);
	cookie_checker_clear(&checker);
	cookie_maker_clear(&maker);
}

void fixture_wg_build(struct wg_fixture *f)
{
	uint8_t key[NOISE_PRIVATE_KEY_LEN], psk[NOISE_SYMMETRIC_KEY_LEN];
	struct noise_handshake peer_hs, peer_idle, *found = NULL;
	struct cookie_checker peer_checker;
	struct cookie_maker peer_maker;
	struct keypair local_kp, peer_kp;
	static const size_t plain_len[FIXTURE_DATA_SEEDS] = { 0, 16, 64 };

	memset(f, 0, sizeof(*f));
	memset(psk, KEY_PSK, sizeof(psk));
	fixture_private_key(key, KEY_LOCAL);
	fixture_check(noise_local_init(&f->local, key) == 0, "noise_local_init(local)");
	fixture_private_key(key, KEY_PEER);
	fixture_check(noise_local_init(&f->peer, key) == 0, "noise_local_init(peer)");

	fixture_check(noise_handshake_init(&f->idle, &f->local, f->peer.public_key, psk) == 0,
		      "noise_handshake_init(local)");
	fixture_check(noise_handshake_init(&peer_idle, &f->peer, f->local.public_key, psk) == 0,
		      "noise_handshake_init(peer)");
	cookie_checker_init(&f->checker, f->local.public_key);
	cookie_maker_init(&f->maker, f->peer.public_key);
	cookie_checker_init(&peer_checker, f->peer.public_key);
	cookie_maker_init(&peer_maker, f->local.public_key);

	/* local -> peer: an initiation, then local waits for the response and
	 * remembers its mac1 for a cookie reply. */
	f->pending = f->idle;
	fixture_check(noise_create_initiation(&f->pending, &f->local, LOCAL_INDEX, local_timestamp,
					      f->local_initiation) == 0, "create_initiation(local)");
	fixture_check(cookie_maker_add_macs(&f->maker, f->local_initiation,
					    sizeof(f->local_initiation), FIXTURE_NOW_MS) == 0,
		      "add_macs(local)");

	/* peer, under load, answers with a cookie reply... */
	fixture_check(cookie_reply_create(&peer_checker, f->cookie_reply, f->local_initiation,
					  sizeof(f->local_initiation), fixture_source,
					  FIXTURE_SOURCE_LEN, FIXTURE_NOW_MS) == 0, "cookie_reply_create");
	/* ...or with a response. */
	peer_hs = peer_idle;
	fixture_check(noise_consume_initiation(&f->peer, f->local_initiation,
					       sizeof(f->local_initiation), lookup_one, &peer_hs,
					       FIXTURE_NOW_MS, &found) == 0 && found == &peer_hs,
		      "consume_initiation(peer)");
	fixture_check(noise_create_response(&peer_hs, PEER_INDEX, f->response) == 0,
		      "create_response(peer)");
	fixture_check(cookie_maker_add_macs(&peer_maker, f->response, sizeof(f->response),
					    FIXTURE_NOW_MS) == 0, "add_macs(response)");
	fixture_check(noise_derive_keypair(&peer_hs, &peer_kp, FIXTURE_NOW_MS) == 0,
		      "derive_keypair(peer)");

	/* local completes the handshake on a scratch copy: `pending` stays
	 * the state a response is consumed against. */
	{
		struct noise_handshake hs = f->pending;

		fixture_check(noise_consume_response(&hs, &f->local, f->response,
						     sizeof(f->response)) == 0, "consume_response");
		fixture_check(noise_derive_keypair(&hs, &local_kp, FIXTURE_NOW_MS) == 0,
			      "derive_keypair(local)");
		noise_handshake_destroy(&hs);
	}
	session_keypairs_init(&f->keypairs);
	session_keypairs_insert(&f->keypairs, &local_kp);

	/* Data peer -> local under the fresh keypair: a keepalive and two
	 * padded packets (counters 0, 1, 2). */
	for (size_t i = 0; i < FIXTURE_DATA_SEEDS; i++) {
		uint8_t *buf = f->data[i];

		memset(buf, 0, FIXTURE_DATA_MAX);
		for (size_t j = 0; j < plain_len[i]; j++)
			buf[MESSAGE_DATA_HEADER_LEN + j] = (uint8_t)(0x45 + j);
		fixture_check(session_seal(&peer_kp, buf, FIXTURE_DATA_MAX, plain_len[i],
					   FIXTURE_NOW_MS, &f->data_len[i]) == 0, "session_seal");
	}

	/* peer -> local: a fresh initiation, consumed against `idle`. */
	peer_hs = peer_idle;
	fixture_check(noise_create_initiation(&peer_hs, &f->peer, PEER_INDEX_2, peer_timestamp,
					      f->initiation) == 0, "create_initiation(peer)");
	fixture_check(cookie_maker_add_macs(&peer_maker, f->initiation, sizeof(f->initiation),
					    FIXTURE_NOW_MS) == 0, "add_macs(initiation)");

	f->peer_keypair = peer_kp;
	memcpy(f->psk, psk, sizeof(psk));

	check_world(f);
	session_keypair_clear(&peer_kp);
	noise_handshake_destroy(&peer_hs);
	noise_handshake_destroy(&peer_idle);
	cookie_checker_clear(&peer_checker);
	cookie_maker_clear(&peer_maker);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(psk, sizeof(psk));
}

/* ---- rendezvous and probes ------------------------------------------- */

void fixture_rdv_session(struct rdv_session *s, uint8_t peer_pk[static RDV_KEY_LEN],
			 uint8_t server_pk[static RDV_KEY_LEN])
{
	uint8_t peer_sk[RDV_KEY_LEN], server_sk[RDV_KEY_LEN];

	fixture_private_key(peer_sk, KEY_RDV_PEER);
	fixture_private_key(server_sk, KEY_RDV_SERVER);
	fixture_check(keys_public_from_private(peer_pk, peer_sk) == 0, "rdv peer key");
	fixture_check(keys_public_from_private(server_pk, server_sk) == 0, "rdv server key");
	fixture_check(rdv_session_derive(s, peer_sk, server_pk, peer_pk, server_pk) == 0,
		      "rdv_session_derive");
	sodium_memzero(peer_sk, sizeof(peer_sk));
	sodium_memzero(server_sk, sizeof(server_sk));
}

void fixture_rdv_server_session(struct rdv_session *s, const uint8_t client_sk[static RDV_KEY_LEN],
				uint8_t server_pk[static RDV_KEY_LEN])
{
	uint8_t server_sk[RDV_KEY_LEN], client_pk[RDV_KEY_LEN];

	fixture_private_key(server_sk, KEY_RDV_SERVER);
	fixture_check(keys_public_from_private(server_pk, server_sk) == 0, "rdv server key");
	fixture_check(keys_public_from_private(client_pk, client_sk) == 0, "rdv client key");
	fixture_check(rdv_session_derive(s, server_sk, client_pk, client_pk, server_pk) == 0,
		      "rdv_session_derive(server)");
	sodium_memzero(server_sk, sizeof(server_sk));
}

void fixture_probe_key(uint8_t key[static NOISE_SYMMETRIC_KEY_LEN],
		       uint8_t sender_public[static NOISE_PUBLIC_KEY_LEN])
{
	uint8_t local_sk[NOISE_PRIVATE_KEY_LEN], peer_sk[NOISE_PRIVATE_KEY_LEN];
	uint8_t local_pk[NOISE_PUBLIC_KEY_LEN], shared[NOISE_PUBLIC_KEY_LEN];

	fixture_private_key(local_sk, KEY_LOCAL);
	fixture_private_key(peer_sk, KEY_PEER);
	fixture_check(keys_public_from_private(local_pk, local_sk) == 0, "probe local key");
	fixture_check(keys_public_from_private(sender_public, peer_sk) == 0, "probe peer key");
	fixture_check(keys_dh(shared, local_sk, sender_public) == 0, "probe dh");
	probe_key_derive(key, shared);
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(local_sk, sizeof(local_sk));
	sodium_memzero(peer_sk, sizeof(peer_sk));
}
