/* crypto/session: in-place seal/open, every byte flip of a data message
 * rejected, the rekey/reject limits at their exact boundaries (messages and
 * time), the keypair slots and the responder's confirmation rule, and the
 * padding helper. */
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
#include "crypto/noise.h"
#include "crypto/noise_core.h"
#include "crypto/session.h"

enum { BIRTH = 1000000 };

/* A matched pair: a is the initiator, b the responder. */
static void make_pair(struct keypair *a, struct keypair *b, uint32_t a_idx, uint32_t b_idx)
{
	uint8_t k1[32], k2[32];

	randombytes_buf(k1, 32);
	randombytes_buf(k2, 32);
	session_keypair_clear(a);
	session_keypair_clear(b);
	memcpy(a->send_key, k1, 32);
	memcpy(a->recv_key, k2, 32);
	memcpy(b->send_key, k2, 32);
	memcpy(b->recv_key, k1, 32);
	a->local_index = a_idx;
	a->remote_index = b_idx;
	b->local_index = b_idx;
	b->remote_index = a_idx;
	a->birth_ms = b->birth_ms = BIRTH;
	a->is_initiator = true;
	a->valid = b->valid = true;
	replay_init(&a->replay);
	replay_init(&b->replay);
}

static size_t seal_text(struct keypair *kp, uint8_t *buf, size_t size, const char *text,
			uint64_t now)
{
	size_t len = strlen(text), out_len = 0;

	memcpy(buf + MESSAGE_DATA_HEADER_LEN, text, len);
	assert_int_equal(session_seal(kp, buf, size, len, now, &out_len), 0);
	assert_int_equal(out_len, session_message_len(len));
	return out_len;
}

static void test_roundtrip(void **state)
{
	struct keypair a, b;
	uint8_t buf[2048], ref[2048], *plain;
	size_t out_len, plain_len;

	(void)state;
	make_pair(&a, &b, 11, 22);
	for (size_t len = 0; len <= 1500; len += (len < 64 ? 1 : 97)) {
		size_t padded = session_padded_len(len, 1420);

		randombytes_buf(ref, len);
		memset(ref + len, 0, padded - len);
		memcpy(buf + 16, ref, padded);
		assert_int_equal(session_seal(&a, buf, sizeof(buf), padded, BIRTH, &out_len), 0);
		assert_int_equal(out_len, padded + 32);
		assert_int_equal(message_validate_header(buf, out_len), MESSAGE_DATA);
		assert_int_equal(message_receiver_index(buf, MESSAGE_DATA), 22);
		assert_int_equal(session_open(&b, buf, out_len, BIRTH, &plain, &plain_len), 0);
		assert_ptr_equal(plain, buf + 16);
		assert_int_equal(plain_len, padded);
		assert_memory_equal(plain, ref, padded);
	}
	/* A buffer without room for the tag is refused. */
	assert_int_equal(session_seal(&a, buf, 16 + 10 + 15, 10, BIRTH, &out_len), -EINVAL);
	/* Keepalive: an empty plaintext is a 32-byte message. */
	assert_int_equal(session_seal(&b, buf, sizeof(buf), 0, BIRTH, &out_len), 0);
	assert_int_equal(out_len, MESSAGE_DATA_MIN_LEN);
	assert_int_equal(session_open(&a, buf, out_len, BIRTH, &plain, &plain_len), 0);
	assert_int_equal(plain_len, 0);
	/* Replay of the same message. */
	assert_int_equal(session_open(&a, buf, out_len, BIRTH, &plain, &plain_len), -EALREADY);
}

static void test_every_byte_flip(void **state)
{
	struct keypair a, b;
	uint8_t msg[256], buf[256], *plain;
	size_t len, plain_len;
	unsigned rejected = 0;

	(void)state;
	make_pair(&a, &b, 0x01020304, 0x0a0b0c0d);
	len = seal_text(&a, msg, sizeof(msg), "a transport message, 42 bytes long.......", BIRTH);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(buf, msg, len);
			buf[i] ^= (uint8_t)(1u << bit);
			if (session_open(&b, buf, len, BIRTH, &plain, &plain_len) == 0)
				fail_msg("flip of byte %zu bit %u accepted", i, bit);
			rejected++;
		}
	}
	/* Truncated and extended copies. */
	for (size_t l = 0; l < len; l++) {
		memcpy(buf, msg, len);
		assert_int_not_equal(session_open(&b, buf, l, BIRTH, &plain, &plain_len), 0);
	}
	/* The window did not move: the original still opens, once. */
	memcpy(buf, msg, len);
	assert_int_equal(session_open(&b, buf, len, BIRTH, &plain, &plain_len), 0);
	assert_memory_equal(plain, "a transport message, 42 bytes long.......", plain_len);
	printf("transport: %u single-bit flips over %zu bytes rejected\n", rejected, len);
}

static void test_message_limits(void **state)
{
	struct keypair a, b;
	uint8_t buf[128], *plain;
	size_t len, plain_len;

	(void)state;
	make_pair(&a, &b, 1, 2);
	/* Rekey: after the message numbered REKEY_AFTER_MESSAGES. */
	a.send_counter = REKEY_AFTER_MESSAGES;
	assert_false(session_should_rekey_on_send(&a, BIRTH));
	len = seal_text(&a, buf, sizeof(buf), "x", BIRTH);
	assert_true(session_should_rekey_on_send(&a, BIRTH));
	assert_int_equal(session_open(&b, buf, len, BIRTH, &plain, &plain_len), 0);

	/* Reject: counter REJECT_AFTER_MESSAGES - 1 is the last one sent. */
	a.send_counter = REJECT_AFTER_MESSAGES - 1;
	assert_false(session_expired(&a, BIRTH));
	len = seal_text(&a, buf, sizeof(buf), "last", BIRTH);
	assert_int_equal(load_le64(buf + 8), REJECT_AFTER_MESSAGES - 1);
	assert_int_equal(session_open(&b, buf, len, BIRTH, &plain, &plain_len), 0);
	assert_true(session_expired(&a, BIRTH));
	assert_int_equal(session_seal(&a, buf, sizeof(buf), 1, BIRTH, &len), -ESTALE);
	assert_int_equal(a.send_counter, REJECT_AFTER_MESSAGES);

	/* A (correctly encrypted) message with counter REJECT_AFTER_MESSAGES
	 * is refused by the receiver. */
	store_le32(buf, MESSAGE_DATA);
	store_le32(buf + 4, b.local_index);
	store_le64(buf + 8, REJECT_AFTER_MESSAGES);
	noise_cipher_encrypt(a.send_key, REJECT_AFTER_MESSAGES, NULL, 0, (const uint8_t *)"y", 1,
			     buf + 16);
	assert_int_equal(session_open(&b, buf, 33, BIRTH, &plain, &plain_len), -EALREADY);
}

static void test_time_limits(void **state)
{
	struct keypair a, b;
	uint8_t buf[128], *plain;
	size_t len, plain_len;

	(void)state;
	make_pair(&a, &b, 1, 2);
	/* Initiator rekeys on send at REKEY_AFTER_TIME; the responder never
	 * does on age alone (avoids both sides rekeying at once). */
	assert_false(session_should_rekey_on_send(&a, BIRTH + REKEY_AFTER_TIME_MS - 1));
	assert_true(session_should_rekey_on_send(&a, BIRTH + REKEY_AFTER_TIME_MS));
	assert_false(session_should_rekey_on_send(&b, BIRTH + REJECT_AFTER_TIME_MS - 1));
	/* On receive, REJECT - KEEPALIVE - REKEY_TIMEOUT = 165 s. */
	assert_false(session_should_rekey_on_receive(&a, BIRTH + 165000 - 1));
	assert_true(session_should_rekey_on_receive(&a, BIRTH + 165000));
	assert_false(session_should_rekey_on_receive(&b, BIRTH + 179000));

	/* Last usable millisecond, in both directions. */
	len = seal_text(&a, buf, sizeof(buf), "late", BIRTH + REJECT_AFTER_TIME_MS - 1);
	assert_int_equal(session_open(&b, buf, len, BIRTH + REJECT_AFTER_TIME_MS - 1, &plain,
				      &plain_len), 0);
	len = seal_text(&a, buf, sizeof(buf), "later", BIRTH + REJECT_AFTER_TIME_MS - 1);
	/* At REJECT_AFTER_TIME: dead for sending and receiving. */
	assert_int_equal(session_open(&b, buf, len, BIRTH + REJECT_AFTER_TIME_MS, &plain,
				      &plain_len), -ESTALE);
	assert_int_equal(session_seal(&a, buf, sizeof(buf), 1, BIRTH + REJECT_AFTER_TIME_MS, &len),
			 -ESTALE);
	assert_true(session_expired(&a, BIRTH + REJECT_AFTER_TIME_MS));
}

static void test_slots(void **state)
{
	struct keypairs ini, rsp;
	struct keypair a1, b1, a2, b2, tmp;
	uint8_t buf[128], *plain;
	size_t len, plain_len;
	bool rotated;

	(void)state;
	session_keypairs_init(&ini);
	session_keypairs_init(&rsp);
	assert_int_equal(session_keypairs_seal(&ini, buf, sizeof(buf), 0, BIRTH, &len), -ENOKEY);

	make_pair(&a1, &b1, 100, 200);
	session_keypairs_insert(&ini, &a1);
	assert_false(a1.valid);	/* moved and wiped */
	session_keypairs_insert(&rsp, &b1);
	assert_true(ini.current.valid);
	assert_false(rsp.current.valid);
	assert_true(rsp.next.valid);
	/* The responder cannot send before confirmation. */
	assert_int_equal(session_keypairs_seal(&rsp, buf, sizeof(buf), 0, BIRTH, &len), -ENOKEY);
	/* The initiator's first message confirms. */
	assert_int_equal(session_keypairs_seal(&ini, buf, sizeof(buf), 0, BIRTH, &len), 0);
	assert_int_equal(session_keypairs_open(&rsp, buf, len, BIRTH, &plain, &plain_len, &rotated), 0);
	assert_true(rotated);
	assert_true(rsp.current.valid);
	assert_false(rsp.next.valid);
	assert_int_equal(rsp.current.local_index, 200);

	/* Second handshake, same roles: responder keeps using the old one
	 * until the new one is confirmed, and can still receive on both. */
	make_pair(&a2, &b2, 101, 201);
	tmp = b2;
	session_keypairs_insert(&rsp, &tmp);
	assert_int_equal(rsp.current.local_index, 200);
	assert_int_equal(rsp.next.local_index, 201);
	/* A message on the old keypair: no rotation. */
	assert_int_equal(session_keypairs_seal(&ini, buf, sizeof(buf), 0, BIRTH, &len), 0);
	assert_int_equal(session_keypairs_open(&rsp, buf, len, BIRTH, &plain, &plain_len, &rotated), 0);
	assert_false(rotated);
	tmp = a2;
	session_keypairs_insert(&ini, &tmp);
	assert_int_equal(ini.current.local_index, 101);
	assert_int_equal(ini.previous.local_index, 100);
	assert_int_equal(session_keypairs_seal(&ini, buf, sizeof(buf), 3, BIRTH, &len), 0);
	assert_int_equal(session_keypairs_open(&rsp, buf, len, BIRTH, &plain, &plain_len, &rotated), 0);
	assert_true(rotated);
	assert_int_equal(rsp.current.local_index, 201);
	assert_int_equal(rsp.previous.local_index, 200);
	assert_non_null(session_keypairs_find(&rsp, 200));
	assert_null(session_keypairs_find(&rsp, 999));
	/* Unknown receiver index. */
	store_le32(buf + 4, 999);
	assert_int_equal(session_keypairs_open(&rsp, buf, len, BIRTH, &plain, &plain_len, &rotated),
			 -ENOENT);

	/* As initiator with an unconfirmed responder keypair in next (both
	 * sides started a handshake): next becomes previous. */
	make_pair(&a1, &b1, 300, 400);
	session_keypairs_insert(&ini, &b1);	/* ini acts as responder here */
	assert_int_equal(ini.next.local_index, 400);
	session_keypairs_insert(&ini, &a1);
	assert_int_equal(ini.current.local_index, 300);
	assert_int_equal(ini.previous.local_index, 400);
	assert_false(ini.next.valid);

	session_keypairs_clear(&ini);
	session_keypairs_clear(&rsp);
	assert_true(sodium_is_zero((const unsigned char *)&ini, sizeof(ini)));
}

static void test_padding(void **state)
{
	static const struct { size_t len, mtu, want; } cases[] = {
		{ 0, 1420, 0 },	{ 1, 1420, 16 },     { 15, 1420, 16 },   { 16, 1420, 16 },
		{ 17, 1420, 32 },   { 1419, 1420, 1420 }, { 1420, 1420, 1420 }, { 1410, 1412, 1412 },
		{ 1500, 1420, 1500 }, { 33, 0, 48 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (session_padded_len(cases[i].len, cases[i].mtu) != cases[i].want)
			fail_msg("padding case %zu: %zu/%zu -> %zu, want %zu", i + 1, cases[i].len,
				 cases[i].mtu, session_padded_len(cases[i].len, cases[i].mtu),
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_every_byte_flip),
		cmocka_unit_test(test_message_limits),
		cmocka_unit_test(test_time_limits),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_padding),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
