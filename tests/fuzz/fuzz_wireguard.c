/* libFuzzer target: everything a WireGuard receiver runs on a datagram
 * before it is authenticated. message_validate_header first, then per type:
 *   1 initiation: cookie_checker_validate (idle and under load) and
 *                 noise_consume_initiation against local's identity
 *   2 response:   cookie_checker_validate and noise_consume_response against
 *                 the handshake waiting for it
 *   3 cookie:     cookie_maker_consume_reply against the mac1 we sent
 *   4 data:       session_keypairs_open against the installed keypairs
 * The parsers run even when the MACs are wrong (the engine would drop the
 * packet first), so they are fuzzed on their own. Every input starts from
 * the same fixed state (tests/fuzz/fixture.h), so a finding reproduces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built once at start-up; each input works on copies. */
static struct wg_fixture fx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_sodium_init();
	fixture_wg_build(&fx);
	return 0;
}

static struct noise_handshake *lookup_one(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct noise_handshake *hs = ctx;

	return memcmp(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN) ? NULL : hs;
}

static void check_macs(const uint8_t *data, size_t size)
{
	struct cookie_checker checker = fx.checker;

	(void)cookie_checker_validate(&checker, data, size, fixture_source, FIXTURE_SOURCE_LEN,
				      false, FIXTURE_NOW_MS);
	(void)cookie_checker_validate(&checker, data, size, fixture_source, FIXTURE_SOURCE_LEN,
				      true, FIXTURE_NOW_MS);
}

static void initiation(const uint8_t *data, size_t size)
{
	struct noise_handshake hs = fx.idle, *found = NULL;
	struct keypair kp;
	uint8_t response[MESSAGE_RESPONSE_LEN];
	int r;

	check_macs(data, size);
	r = noise_consume_initiation(&fx.local, data, size, lookup_one, &hs, FIXTURE_NOW_MS, &found);
	if (r == 0) {
		/* Only the fixed peer can be found, and then the responder's
		 * next steps must work. */
		if (found != &hs || noise_create_response(&hs, 0x44444444, response) != 0 ||
		    noise_derive_keypair(&hs, &kp, FIXTURE_NOW_MS) != 0)
			abort();
		session_keypair_clear(&kp);
	} else if (found) {
		abort(); /* "nothing changes on error" */
	}
	noise_handshake_destroy(&hs);
}

static void response(const uint8_t *data, size_t size)
{
	struct noise_handshake hs = fx.pending;
	struct keypair kp;

	check_macs(data, size);
	if (noise_consume_response(&hs, &fx.local, data, size) == 0) {
		if (noise_derive_keypair(&hs, &kp, FIXTURE_NOW_MS) != 0)
			abort();
		session_keypair_clear(&kp);
	} else if (hs.state != fx.pending.state) {
		abort(); /* "nothing changes on error" */
	}
	noise_handshake_destroy(&hs);
}

static void cookie_reply(const uint8_t *data, size_t size)
{
	struct cookie_maker maker = fx.maker;

	if (cookie_maker_consume_reply(&maker, data, size, FIXTURE_NOW_MS) == 0 && !maker.has_cookie)
		abort();
	cookie_maker_clear(&maker);
}

static void transport(const uint8_t *data, size_t size)
{
	/* session_keypairs_open decrypts in place: work on an exact-size copy
	 * so ASan sees any access past the datagram. */
	static struct keypairs kps;
	uint8_t *buf = malloc(size), *plain = NULL;
	size_t plain_len = 0;
	bool rotated = false;

	if (!buf)
		return;
	memcpy(buf, data, size);
	kps = fx.keypairs;
	if (session_keypairs_open(&kps, buf, size, FIXTURE_NOW_MS, &plain, &plain_len,
				  &rotated) == 0) {
		if (plain != buf + MESSAGE_DATA_HEADER_LEN ||
		    plain_len != size - MESSAGE_DATA_MIN_LEN)
			abort();
	}
	session_keypairs_clear(&kps);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	switch (message_validate_header(data, size)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		initiation(data, size);
		break;
	case MESSAGE_HANDSHAKE_RESPONSE:
		response(data, size);
		break;
	case MESSAGE_HANDSHAKE_COOKIE:
		cookie_reply(data, size);
		break;
	case MESSAGE_DATA:
		transport(data, size);
		break;
	case MESSAGE_INVALID:
		break;
	}
	return 0;
}
