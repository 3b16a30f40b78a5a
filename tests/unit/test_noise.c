/* The WireGuard handshake of crypto/noise in memory: two identities run a
 * full handshake through the same steps the engine uses (MACs included),
 * then exchange 10^5 transport messages each way. Every single-byte flip of
 * the initiation and the response is rejected; a replayed or older
 * initiation is rejected; unknown peers, wrong PSKs, low-order keys and
 * out-of-order calls fail cleanly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/bytes.h"
#include "crypto/cookie.h"
#include "crypto/keys.h"
#include "crypto/noise.h"
#include "crypto/session.h"

/* One side of the link: identity, its single peer, MAC state, keypairs. */
struct side {
	struct noise_local local;
	struct noise_handshake hs;	/* the other side as our peer */
	struct cookie_checker checker;	/* MACs addressed to us */
	struct cookie_maker maker;	/* MACs we put on messages to the peer */
	struct keypairs kps;
	uint8_t addr[6];		/* our "source address" for cookies */
	bool known;			/* lookup succeeds */
};

static struct noise_handshake *lookup(void *ctx, const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct side *s = ctx;

	if (!s->known || !keys_equal(pub, s->hs.remote_static))
		return NULL;
	return &s->hs;
}

static void side_init(struct side *s, uint8_t addr_byte)
{
	uint8_t priv[32];

	memset(s, 0, sizeof(*s));
	keys_generate_private(priv);
	assert_int_equal(noise_local_init(&s->local, priv), 0);
	sodium_memzero(priv, sizeof(priv));
	cookie_checker_init(&s->checker, s->local.public_key);
	session_keypairs_init(&s->kps);
	memset(s->addr, addr_byte, sizeof(s->addr));
	s->known = true;
}

static void pair_init(struct side *a, struct side *b, const uint8_t *psk_a, const uint8_t *psk_b)
{
	side_init(a, 0xa0);
	side_init(b, 0xb0);
	assert_int_equal(noise_handshake_init(&a->hs, &a->local, b->local.public_key, psk_a), 0);
	assert_int_equal(noise_handshake_init(&b->hs, &b->local, a->local.public_key, psk_b), 0);
	cookie_maker_init(&a->maker, b->local.public_key);
	cookie_maker_init(&b->maker, a->local.public_key);
}

static void side_clear(struct side *s)
{
	noise_local_clear(&s->local);
	noise_handshake_destroy(&s->hs);
	cookie_checker_clear(&s->checker);
	cookie_maker_clear(&s->maker);
	session_keypairs_clear(&s->kps);
}

static void tai64n(uint8_t ts[12], uint64_t sec, uint32_t nsec)
{
	sec += 0x400000000000000aULL;
	for (int i = 0; i < 8; i++)
		ts[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		ts[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

static void make_initiation(struct side *a, uint32_t idx, uint64_t sec, uint64_t now,
			    uint8_t msg[MESSAGE_INITIATION_LEN])
{
	uint8_t ts[12];

	tai64n(ts, sec, 0);
	assert_int_equal(noise_create_initiation(&a->hs, &a->local, idx, ts, msg), 0);
	assert_int_equal(cookie_maker_add_macs(&a->maker, msg, MESSAGE_INITIATION_LEN, now), 0);
}

/* What the engine does with an incoming initiation; 0 when accepted. */
static int receive_initiation(struct side *b, uint8_t *msg, size_t len, bool under_load,
			      const uint8_t *src, uint64_t now)
{
	struct noise_handshake *hs = NULL;
	enum cookie_mac_state st;
	int r;

	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_INITIATION)
		return -EINVAL;
	st = cookie_checker_validate(&b->checker, msg, len, src, 6, under_load, now);
	if (st == COOKIE_MAC_INVALID)
		return -EBADMSG;
	if (under_load && st != COOKIE_MAC_VALID_WITH_COOKIE)
		return -EAGAIN;	/* would send a cookie reply */
	r = noise_consume_initiation(&b->local, msg, len, lookup, b, now, &hs);
	if (r == 0)
		assert_ptr_equal(hs, &b->hs);
	else
		assert_null(hs);
	return r;
}

static int receive_response(struct side *a, uint8_t *msg, size_t len, bool under_load,
			    const uint8_t *src, uint64_t now)
{
	enum cookie_mac_state st;

	if (message_validate_header(msg, len) != MESSAGE_HANDSHAKE_RESPONSE)
		return -EINVAL;
	st = cookie_checker_validate(&a->checker, msg, len, src, 6, under_load, now);
	if (st == COOKIE_MAC_INVALID)
		return -EBADMSG;
	if (under_load && st != COOKIE_MAC_VALID_WITH_COOKIE)
		return -EAGAIN;
	return noise_consume_response(&a->hs, &a->local, msg, len);
}

/* A complete handshake a -> b; both sides end with keypairs installed. */
static void handshake(struct side *a, struct side *b, uint32_t ia, uint32_t ib, uint64_t sec,
		      uint64_t now)
{
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];
	struct keypair kp;

	make_initiation(a, ia, sec, now, init);
	assert_int_equal(receive_initiation(b, init, sizeof(init), false, a->addr, now), 0);
	assert_int_equal(noise_create_response(&b->hs, ib, resp), 0);
	assert_int_equal(cookie_maker_add_macs(&b->maker, resp, sizeof(resp), now), 0);
	assert_int_equal(receive_response(a, resp, sizeof(resp), false, b->addr, now), 0);
	assert_int_equal(noise_derive_keypair(&a->hs, &kp, now), 0);
	assert_true(kp.is_initiator);
	session_keypairs_insert(&a->kps, &kp);
	assert_int_equal(noise_derive_keypair(&b->hs, &kp, now), 0);
	assert_false(kp.is_initiator);
	session_keypairs_insert(&b->kps, &kp);
	assert_int_equal(a->kps.current.local_index, ia);
	assert_int_equal(a->kps.current.remote_index, ib);
	assert_int_equal(b->kps.next.local_index, ib);
	assert_int_equal(b->kps.next.remote_index, ia);
	assert_memory_equal(a->kps.current.send_key, b->kps.next.recv_key, 32);
	assert_memory_equal(a->kps.current.recv_key, b->kps.next.send_key, 32);
	assert_int_equal(a->hs.state, HANDSHAKE_ZEROED);
	assert_true(sodium_is_zero(a->hs.ephemeral_private, 32));
	assert_true(sodium_is_zero(b->hs.chaining_key, 32));
}

static void send_one(struct side *from, struct side *to, uint8_t *buf, size_t size, size_t len,
		     uint64_t now)
{
	uint8_t ref[256], *plain;
	size_t out_len, plain_len;
	bool rotated;

	randombytes_buf(ref, len);
	memcpy(buf + 16, ref, len);
	assert_int_equal(session_keypairs_seal(&from->kps, buf, size, len, now, &out_len), 0);
	assert_int_equal(session_keypairs_open(&to->kps, buf, out_len, now, &plain, &plain_len,
					       &rotated), 0);
	assert_int_equal(plain_len, len);
	assert_memory_equal(plain, ref, len);
}

static void test_handshake_and_transport(void **state)
{
	struct side a, b;
	uint8_t psk[32], buf[512];
	enum { N = 100000 };

	(void)state;
	randombytes_buf(psk, sizeof(psk));
	pair_init(&a, &b, psk, psk);
	handshake(&a, &b, 0x11111111, 0x22222222, 1000, 5000);
	/* b cannot send before a confirms; a's first message does. */
	assert_int_equal(session_keypairs_seal(&b.kps, buf, sizeof(buf), 0, 5000, &(size_t){ 0 }),
			 -ENOKEY);
	for (unsigned i = 0; i < N; i++) {
		size_t len = session_padded_len(i % 200, 1420);

		send_one(&a, &b, buf, sizeof(buf), len, 5000 + i / 1000);
		send_one(&b, &a, buf, sizeof(buf), len, 5000 + i / 1000);
	}
	assert_int_equal(a.kps.current.send_counter, N);
	assert_int_equal(b.kps.current.send_counter, N);
	printf("handshake + %u transport messages each way\n", (unsigned)N);

	/* A second handshake (rekey) rotates without losing packets. */
	handshake(&a, &b, 0x33333333, 0x44444444, 1001, 6000);
	send_one(&b, &a, buf, sizeof(buf), 16, 6000);	/* b still on the old keys */
	send_one(&a, &b, buf, sizeof(buf), 16, 6000);	/* confirms the new ones */
	send_one(&b, &a, buf, sizeof(buf), 16, 6000);
	assert_int_equal(b.kps.current.local_index, 0x44444444);
	assert_int_equal(b.kps.previous.local_index, 0x22222222);
	assert_true(b.kps.previous.valid);
	side_clear(&a);
	side_clear(&b);
}

static void test_no_psk(void **state)
{
	struct side a, b;
	uint8_t buf[64];

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	handshake(&a, &b, 1, 2, 1, 10);
	send_one(&a, &b, buf, sizeof(buf), 0, 10);
	side_clear(&a);
	side_clear(&b);
}

/* Under load, with a cookie: b asks for one, a resends with mac2. */
static void get_cookie(struct side *sender, struct side *receiver, uint8_t *msg, size_t len,
		       uint64_t now)
{
	uint8_t reply[MESSAGE_COOKIE_LEN];

	assert_int_equal(cookie_checker_validate(&receiver->checker, msg, len, sender->addr, 6,
						 true, now), COOKIE_MAC_VALID_NO_COOKIE);
	assert_int_equal(cookie_reply_create(&receiver->checker, reply, msg, len, sender->addr, 6,
					     now), 0);
	assert_int_equal(message_validate_header(reply, sizeof(reply)), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(cookie_maker_consume_reply(&sender->maker, reply, sizeof(reply), now), 0);
}

static void test_initiation_byte_flips(void **state)
{
	struct side a, b;
	uint8_t init[MESSAGE_INITIATION_LEN], bad[MESSAGE_INITIATION_LEN];
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	unsigned rejected = 0;

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	/* Not under load: mac2 is not looked at, everything before it is
	 * covered by the type check, mac1 and the AEADs. */
	make_initiation(&a, 7, 100, 1000, init);
	for (size_t i = 0; i < offsetof(struct message_handshake_initiation, macs.mac2); i++)
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(bad, init, sizeof(bad));
			bad[i] ^= masks[m];
			if (receive_initiation(&b, bad, sizeof(bad), false, a.addr, 1000) == 0)
				fail_msg("initiation flip at byte %zu (^%02x) accepted", i, masks[m]);
			rejected++;
		}
	/* Under load with a cookie: mac2 is checked too, so all 148 bytes. */
	get_cookie(&a, &b, init, sizeof(init), 1000);
	make_initiation(&a, 7, 101, 1000, init);
	for (size_t i = 0; i < sizeof(init); i++)
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(bad, init, sizeof(bad));
			bad[i] ^= masks[m];
			if (receive_initiation(&b, bad, sizeof(bad), true, a.addr, 1000) == 0)
				fail_msg("loaded: initiation flip at byte %zu (^%02x) accepted", i,
					 masks[m]);
			rejected++;
		}
	/* Nothing was committed: the untouched message is still accepted,
	 * under load and from the right address only. */
	uint8_t other[6] = { 9, 9, 9, 9, 9, 9 };
	assert_int_equal(receive_initiation(&b, init, sizeof(init), true, other, 1000), -EAGAIN);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), true, a.addr, 1000), 0);
	printf("initiation: %u corrupted copies rejected\n", rejected);
	side_clear(&a);
	side_clear(&b);
}

static void test_response_byte_flips(void **state)
{
	struct side a, b;
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN], bad[MESSAGE_RESPONSE_LEN];
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	unsigned rejected = 0;
	struct keypair kp;

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	make_initiation(&a, 7, 100, 1000, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 1000), 0);
	assert_int_equal(noise_create_response(&b.hs, 8, resp), 0);
	assert_int_equal(cookie_maker_add_macs(&b.maker, resp, sizeof(resp), 1000), 0);
	get_cookie(&b, &a, resp, sizeof(resp), 1000);
	assert_int_equal(cookie_maker_add_macs(&b.maker, resp, sizeof(resp), 1000), 0);
	for (int loaded = 0; loaded <= 1; loaded++) {
		size_t end = loaded ? sizeof(resp)
				    : offsetof(struct message_handshake_response, macs.mac2);

		for (size_t i = 0; i < end; i++)
			for (size_t m = 0; m < sizeof(masks); m++) {
				memcpy(bad, resp, sizeof(bad));
				bad[i] ^= masks[m];
				if (receive_response(&a, bad, sizeof(bad), loaded, b.addr, 1000) == 0)
					fail_msg("response flip at byte %zu (^%02x, load %d) accepted",
						 i, masks[m], loaded);
				rejected++;
			}
	}
	assert_int_equal(receive_response(&a, resp, sizeof(resp), true, b.addr, 1000), 0);
	/* A second copy of the response is out of turn. */
	assert_int_equal(receive_response(&a, resp, sizeof(resp), false, b.addr, 1000), -EPROTO);
	assert_int_equal(noise_derive_keypair(&a.hs, &kp, 1000), 0);
	session_keypair_clear(&kp);
	printf("response: %u corrupted copies rejected\n", rejected);
	side_clear(&a);
	side_clear(&b);
}

static void test_replayed_initiation(void **state)
{
	struct side a, b;
	uint8_t init[MESSAGE_INITIATION_LEN], older[MESSAGE_INITIATION_LEN];
	uint8_t same[MESSAGE_INITIATION_LEN], newer[MESSAGE_INITIATION_LEN];
	uint64_t now = 50000;

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	make_initiation(&a, 1, 500, now, older);
	make_initiation(&a, 2, 1000, now, same);
	make_initiation(&a, 3, 1000, now, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, now), 0);
	now += 1000;
	/* The very same bytes again. */
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, now), -EALREADY);
	/* A different initiation with the same timestamp, and an older one. */
	assert_int_equal(receive_initiation(&b, same, sizeof(same), false, a.addr, now), -EALREADY);
	assert_int_equal(receive_initiation(&b, older, sizeof(older), false, a.addr, now), -EALREADY);
	/* The handshake in flight survived the replays. */
	assert_int_equal(b.hs.state, HANDSHAKE_CONSUMED_INITIATION);
	assert_int_equal(b.hs.remote_index, 3);
	/* A newer one is fine, but not twice within 1/INITIATIONS_PER_SECOND. */
	make_initiation(&a, 4, 1001, now, newer);
	assert_int_equal(receive_initiation(&b, newer, sizeof(newer), false, a.addr, now), 0);
	make_initiation(&a, 5, 1002, now, newer);
	assert_int_equal(receive_initiation(&b, newer, sizeof(newer), false, a.addr,
					    now + 1000 / INITIATIONS_PER_SECOND - 1), -EBUSY);
	assert_int_equal(receive_initiation(&b, newer, sizeof(newer), false, a.addr,
					    now + 1000 / INITIATIONS_PER_SECOND), 0);
	side_clear(&a);
	side_clear(&b);
}

static void test_wrong_keys(void **state)
{
	struct side a, b, c;
	uint8_t psk1[32], psk2[32], init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];
	struct noise_handshake hs;

	(void)state;
	/* Different PSKs: the initiation goes through (psk2 is mixed in at
	 * the response), the response does not authenticate. */
	randombytes_buf(psk1, 32);
	randombytes_buf(psk2, 32);
	pair_init(&a, &b, psk1, psk2);
	make_initiation(&a, 1, 10, 100, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 100), 0);
	assert_int_equal(noise_create_response(&b.hs, 2, resp), 0);
	assert_int_equal(cookie_maker_add_macs(&b.maker, resp, sizeof(resp), 100), 0);
	assert_int_equal(receive_response(&a, resp, sizeof(resp), false, b.addr, 100), -EBADMSG);
	assert_int_equal(a.hs.state, HANDSHAKE_CREATED_INITIATION);

	/* An unknown initiator (b does not have c as a peer). */
	side_init(&c, 0xc0);
	assert_int_equal(noise_handshake_init(&c.hs, &c.local, b.local.public_key, NULL), 0);
	cookie_maker_init(&c.maker, b.local.public_key);
	make_initiation(&c, 1, 10, 100, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, c.addr, 100), -ENOENT);
	b.known = false;	/* lookup says no even for a */
	make_initiation(&a, 1, 11, 100, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 200), -ENOENT);
	b.known = true;

	/* An initiation for someone else: mac1 is keyed to c's public key. */
	cookie_maker_init(&c.maker, c.local.public_key);
	make_initiation(&c, 1, 12, 100, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, c.addr, 100), -EBADMSG);

	/* Our own key is not a peer. */
	assert_int_equal(noise_handshake_init(&hs, &a.local, a.local.public_key, NULL), -EINVAL);
	side_clear(&a);
	side_clear(&b);
	side_clear(&c);
}

/* Mode = bridge uses its own prologue: two bridge ends shake hands and
 * carry data; a bridge end and a routed (WireGuard) end never do, and the
 * responder tells that apart from a bad key, but only for the real peer. */
static void test_bridge_mode(void **state)
{
	struct side a, b, c;
	uint8_t init[MESSAGE_INITIATION_LEN], buf[64];
	uint64_t sec = 20;

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	a.local.mode = NOISE_MODE_BRIDGE;
	b.local.mode = NOISE_MODE_BRIDGE;
	handshake(&a, &b, 1, 2, sec++, 100);
	send_one(&a, &b, buf, sizeof(buf), 32, 100);

	/* Each way round: the initiator in one mode, the responder in the other. */
	for (int round = 0; round < 2; round++) {
		a.local.mode = round ? NOISE_MODE_ROUTED : NOISE_MODE_BRIDGE;
		b.local.mode = round ? NOISE_MODE_BRIDGE : NOISE_MODE_ROUTED;
		make_initiation(&a, 3, sec++, 200, init);
		assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 200),
				 -EPROTONOSUPPORT);
		assert_int_equal(b.hs.state, HANDSHAKE_ZEROED);	/* nothing to answer */
		/* The timestamp was not taken: once the modes agree, it goes. */
		b.local.mode = a.local.mode;
		assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr,
						    2000 + 1000 * (uint64_t)round), 0);
		noise_handshake_clear(&b.hs);
	}

	/* A stranger in the other mode does not decrypt under ours, and is no
	 * mismatch either (only the peer's own key makes one). */
	a.local.mode = NOISE_MODE_ROUTED;
	b.local.mode = NOISE_MODE_BRIDGE;
	side_init(&c, 0xc0);
	assert_int_equal(noise_handshake_init(&c.hs, &c.local, b.local.public_key, NULL), 0);
	cookie_maker_init(&c.maker, b.local.public_key);
	make_initiation(&c, 1, sec++, 100, init);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, c.addr, 3000), -EBADMSG);
	/* A flipped timestamp byte in the other mode: not authentic, no mismatch. */
	make_initiation(&a, 4, sec++, 100, init);
	init[offsetof(struct message_handshake_initiation, encrypted_timestamp)] ^= 1;
	assert_int_equal(cookie_maker_add_macs(&a.maker, init, sizeof(init), 100), 0);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 4000), -EBADMSG);
	side_clear(&a);
	side_clear(&b);
	side_clear(&c);
}

static void test_low_order(void **state)
{
	static const char *const low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct side a, b;
	struct noise_handshake hs, *out;
	uint8_t pt[32], init[MESSAGE_INITIATION_LEN];

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		assert_int_equal(sodium_hex2bin(pt, 32, low[i], 64, NULL, NULL, NULL), 0);
		/* As a peer's static key. */
		assert_int_equal(noise_handshake_init(&hs, &a.local, pt, NULL), -EINVAL);
		assert_true(sodium_is_zero(hs.precomputed_static_static, 32));
		/* As the ephemeral of an initiation (with a valid mac1). */
		make_initiation(&a, 1, 100 + i, 1000, init);
		memcpy(init + offsetof(struct message_handshake_initiation, unencrypted_ephemeral), pt, 32);
		assert_int_equal(cookie_maker_add_macs(&a.maker, init, sizeof(init), 1000), 0);
		assert_int_equal(cookie_checker_validate(&b.checker, init, sizeof(init), NULL, 0, false,
							 1000), COOKIE_MAC_VALID_NO_COOKIE);
		assert_int_equal(noise_consume_initiation(&b.local, init, sizeof(init), lookup, &b,
							  1000, &out), -EINVAL);
		assert_null(out);
	}
	side_clear(&a);
	side_clear(&b);
}

static void test_out_of_order(void **state)
{
	struct side a, b;
	uint8_t resp[MESSAGE_RESPONSE_LEN], init[MESSAGE_INITIATION_LEN];
	struct keypair kp;

	(void)state;
	pair_init(&a, &b, NULL, NULL);
	assert_int_equal(noise_create_response(&b.hs, 1, resp), -EPROTO);
	assert_int_equal(noise_derive_keypair(&b.hs, &kp, 0), -EPROTO);
	make_initiation(&a, 5, 1, 0, init);
	assert_int_equal(noise_derive_keypair(&a.hs, &kp, 0), -EPROTO);
	assert_int_equal(receive_initiation(&b, init, sizeof(init), false, a.addr, 0), 0);
	assert_int_equal(noise_create_response(&b.hs, 6, resp), 0);
	assert_int_equal(cookie_maker_add_macs(&b.maker, resp, sizeof(resp), 0), 0);
	/* Wrong receiver index (a response to someone else's initiation). */
	store_le32(resp + 8, 99);
	assert_int_equal(cookie_maker_add_macs(&b.maker, resp, sizeof(resp), 0), 0);
	assert_int_equal(receive_response(&a, resp, sizeof(resp), false, b.addr, 0), -ENOENT);
	/* Wrong lengths never reach the parser. */
	assert_int_equal(noise_consume_response(&a.hs, &a.local, resp, sizeof(resp) - 1), -EINVAL);
	assert_int_equal(noise_consume_initiation(&b.local, init, sizeof(init) + 1, lookup, &b, 0,
						  &(struct noise_handshake *){ NULL }), -EINVAL);
	side_clear(&a);
	side_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_transport),
		cmocka_unit_test(test_no_psk),
		cmocka_unit_test(test_initiation_byte_flips),
		cmocka_unit_test(test_response_byte_flips),
		cmocka_unit_test(test_replayed_initiation),
		cmocka_unit_test(test_wrong_keys),
		cmocka_unit_test(test_low_order),
		cmocka_unit_test(test_bridge_mode),
		cmocka_unit_test(test_out_of_order),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
