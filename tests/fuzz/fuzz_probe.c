/* libFuzzer target: path probe parsing (crypto/probe.h) against the fixed
 * pair's key. A probe that parses must be exactly what probe_build makes
 * from its kind and token: nothing else may verify. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/probe.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built once at start-up, read-only afterwards. */
static uint8_t probe_key[NOISE_SYMMETRIC_KEY_LEN];
static uint8_t sender_public[NOISE_PUBLIC_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_sodium_init();
	fixture_probe_key(probe_key, sender_public);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum probe_kind kind;
	uint64_t token;
	uint8_t again[PROBE_LEN];
	int r = probe_parse(data, size, probe_key, sender_public, &kind, &token);

	if (r != 0) {
		if (r != -EINVAL && r != -EBADMSG)
			abort();
		return 0;
	}
	if (size != PROBE_LEN || (kind != PROBE_REQUEST && kind != PROBE_RESPONSE))
		abort();
	probe_build(again, probe_key, sender_public, kind, token);
	if (memcmp(again, data, PROBE_LEN))
		abort();
	return 0;
}
