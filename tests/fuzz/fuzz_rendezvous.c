/* libFuzzer target: the rendezvous decoder (rendezvous/proto.h) and the
 * envelope (rendezvous/envelope.h) on arbitrary bytes. The same input is
 * tried as a bare msgpack body, as a clear header, and as a datagram opened
 * in both directions under the fixed session (tests/fuzz/fixture.h).
 *
 * Oracle beyond "no crash": whatever decodes must re-encode (the decoder
 * accepts nothing the encoder refuses), and the encoding is canonical:
 * encode(decode(encode(m))) == encode(m). */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/envelope.h"
#include "rendezvous/proto.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built once at start-up, read-only afterwards. */
static struct rdv_session session;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t peer_pk[RDV_KEY_LEN], server_pk[RDV_KEY_LEN];

	(void)argc;
	(void)argv;
	fixture_sodium_init();
	fixture_rdv_session(&session, peer_pk, server_pk);
	return 0;
}

static void check_status(enum rdv_status s)
{
	const char *name = rdv_status_name(s);

	if (s >= RDV_STATUS_COUNT || !name || !name[0])
		abort();
}

/* A message that decoded: re-encode, decode, re-encode; both encodings
 * must succeed and agree. */
static void round_trip(const struct rdv_msg *msg)
{
	static uint8_t first[RDV_BODY_MAX], second[RDV_BODY_MAX];
	static struct rdv_msg again;
	size_t first_len, second_len;

	if (rdv_msg_type_name(msg->type) == NULL)
		abort();
	if (rdv_body_encode(msg, first, sizeof(first), &first_len) != 0)
		abort();
	memset(&again, 0, sizeof(again));
	if (rdv_body_decode(first, first_len, &again) != RDV_OK)
		abort();
	if (rdv_body_encode(&again, second, sizeof(second), &second_len) != 0 ||
	    second_len != first_len || memcmp(first, second, first_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rdv_msg msg;
	struct rdv_header h;
	enum rdv_status s;
	uint64_t counter;

	s = rdv_body_decode(data, size, &msg);
	check_status(s);
	if (s == RDV_OK)
		round_trip(&msg);

	s = rdv_header_parse(data, size, &h);
	check_status(s);
	if (s == RDV_OK && (h.peer_pk < data || h.peer_pk + RDV_KEY_LEN > data + size))
		abort();

	for (int dir = RDV_DIR_UP; dir <= RDV_DIR_DOWN; dir++) {
		s = rdv_open(&session, (enum rdv_direction)dir, data, size, &msg, &counter);
		check_status(s);
		if (s == RDV_OK)
			round_trip(&msg);
	}
	return 0;
}
