/* crypto/messages: struct sizes and offsets as on the wire, the header
 * validation table (length checked for the claimed type, reserved bytes must
 * be zero), and the little-endian accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/messages.h"

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct message_handshake_initiation, sender_index), 4);
	assert_int_equal(offsetof(struct message_handshake_initiation, unencrypted_ephemeral), 8);
	assert_int_equal(offsetof(struct message_handshake_initiation, encrypted_static), 40);
	assert_int_equal(offsetof(struct message_handshake_initiation, encrypted_timestamp), 88);
	assert_int_equal(offsetof(struct message_handshake_initiation, macs.mac1), 116);
	assert_int_equal(offsetof(struct message_handshake_initiation, macs.mac2), 132);
	assert_int_equal(offsetof(struct message_handshake_response, sender_index), 4);
	assert_int_equal(offsetof(struct message_handshake_response, receiver_index), 8);
	assert_int_equal(offsetof(struct message_handshake_response, unencrypted_ephemeral), 12);
	assert_int_equal(offsetof(struct message_handshake_response, encrypted_nothing), 44);
	assert_int_equal(offsetof(struct message_handshake_response, macs.mac1), 60);
	assert_int_equal(offsetof(struct message_handshake_response, macs.mac2), 76);
	assert_int_equal(offsetof(struct message_handshake_cookie, receiver_index), 4);
	assert_int_equal(offsetof(struct message_handshake_cookie, nonce), 8);
	assert_int_equal(offsetof(struct message_handshake_cookie, encrypted_cookie), 32);
	assert_int_equal(offsetof(struct message_data, receiver_index), 4);
	assert_int_equal(offsetof(struct message_data, counter), 8);
}

static void test_validate_header(void **state)
{
	static const struct {
		uint8_t b0, b1;
		size_t len;
		enum message_type want;
	} cases[] = {
		/*  1 */ { 1, 0, 148, MESSAGE_HANDSHAKE_INITIATION },
		/*  2 */ { 1, 0, 147, MESSAGE_INVALID },
		/*  3 */ { 1, 0, 149, MESSAGE_INVALID },
		/*  4 */ { 2, 0, 92, MESSAGE_HANDSHAKE_RESPONSE },
		/*  5 */ { 2, 0, 91, MESSAGE_INVALID },
		/*  6 */ { 2, 0, 148, MESSAGE_INVALID },
		/*  7 */ { 3, 0, 64, MESSAGE_HANDSHAKE_COOKIE },
		/*  8 */ { 3, 0, 65, MESSAGE_INVALID },
		/*  9 */ { 4, 0, 32, MESSAGE_DATA },
		/* 10 */ { 4, 0, 31, MESSAGE_INVALID },
		/* 11 */ { 4, 0, 1500, MESSAGE_DATA },
		/* 12 */ { 0, 0, 148, MESSAGE_INVALID },
		/* 13 */ { 5, 0, 148, MESSAGE_INVALID },
		/* 14 */ { 1, 1, 148, MESSAGE_INVALID },	/* reserved byte set */
		/* 15 */ { 4, 0x80, 64, MESSAGE_INVALID },
		/* 16 */ { 1, 0, 3, MESSAGE_INVALID },
		/* 17 */ { 1, 0, 0, MESSAGE_INVALID },
	};
	static uint8_t buf[1500];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = cases[i].b0;
		buf[1] = cases[i].b1;
		if (message_validate_header(buf, cases[i].len) != cases[i].want)
			fail_msg("header case %zu failed", i + 1);
	}
	assert_int_equal(message_validate_header(NULL, 148), MESSAGE_INVALID);
}

static void test_le(void **state)
{
	uint8_t b[12] = { 0 };

	(void)state;
	store_le32(b, 0x04030201);
	assert_memory_equal(b, "\x01\x02\x03\x04", 4);
	store_le64(b + 4, 0x0807060504030201ULL);
	assert_memory_equal(b + 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(load_le32(b), 0x04030201);
	assert_true(load_le64(b + 4) == 0x0807060504030201ULL);
	assert_int_equal(message_sender_index(b), 0x04030201);
	assert_int_equal(message_receiver_index(b, MESSAGE_DATA), 0x04030201);
	assert_int_equal(message_receiver_index(b, MESSAGE_HANDSHAKE_RESPONSE), 0x08070605);
}

/* common/bytes.h, every width both ways, at an odd (unaligned) offset and
 * with the top bit set so a sign extension or a lost byte shows. */
static void test_bytes(void **state)
{
	static const uint8_t seq[8] = { 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8 };
	uint8_t b[9];

	(void)state;
	assert_int_equal(load_le16(seq), 0x9281);
	assert_int_equal(load_be16(seq), 0x8192);
	assert_int_equal(load_le32(seq), 0xb4a39281u);
	assert_int_equal(load_be32(seq), 0x8192a3b4u);
	assert_true(load_le64(seq) == 0xf8e7d6c5b4a39281ULL);
	assert_true(load_be64(seq) == 0x8192a3b4c5d6e7f8ULL);

	memset(b, 0, sizeof(b));
	store_le16(b + 1, 0x9281);
	assert_memory_equal(b + 1, seq, 2);
	store_be16(b + 1, 0x8192);
	assert_memory_equal(b + 1, seq, 2);
	store_le32(b + 1, 0xb4a39281u);
	assert_memory_equal(b + 1, seq, 4);
	store_be32(b + 1, 0x8192a3b4u);
	assert_memory_equal(b + 1, seq, 4);
	store_le64(b + 1, 0xf8e7d6c5b4a39281ULL);
	assert_memory_equal(b + 1, seq, 8);
	memset(b, 0, sizeof(b));
	store_be64(b + 1, 0x8192a3b4c5d6e7f8ULL);
	assert_memory_equal(b + 1, seq, 8);
	assert_int_equal(b[0], 0);
	assert_true(load_be64(b + 1) == 0x8192a3b4c5d6e7f8ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_validate_header),
		cmocka_unit_test(test_le),
		cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
