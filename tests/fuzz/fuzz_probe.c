/* libFuzzer target: path probe parsing (crypto/probe.h) against the fixed
 * pair's static key. A probe that parses and verifies must be exactly what
 * probe_build makes from the fields parsed: nothing else may verify. */
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
	static uint8_t again[PROBE_MAX_LEN];
	struct probe p;
	int r = probe_parse(data, size, &p);

	if (r == 0)
		r = probe_verify(data, size, probe_key, sender_public);
	if (r != 0) {
		if (r != -EINVAL && r != -EBADMSG)
			abort();
		return 0;
	}
	if (p.len != size || size < PROBE_LEN || size > PROBE_MAX_LEN ||
	    (p.kind == PROBE_RESPONSE && size != PROBE_LEN) ||
	    (p.kind != PROBE_REQUEST && p.kind != PROBE_RESPONSE))
		abort();
	if (probe_build(again, sizeof(again), &p, probe_key, sender_public) != 0 ||
	    memcmp(again, data, size))
		abort();
	return 0;
}
