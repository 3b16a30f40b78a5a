/* The command line the rendezvous test clients share: rdv-probe
 * (tests/tools) and rdv-load (tests/bench) both talk to one server, named
 * by --server ADDR:PORT and --server-key B64, and take plain counts.
 * Header-only: each program is one source file. */
#ifndef TESTS_TOOLS_SERVER_ARGS_H
#define TESTS_TOOLS_SERVER_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/number.h"
#include "crypto/keys.h"
#include "rendezvous/proto.h"

/* The two options' entries for a getopt_long table, returning 's' and 'K'. */
#define SERVER_ARGS_OPTIONS \
	{ "server", required_argument, NULL, 's' }, \
	{ "server-key", required_argument, NULL, 'K' }

/* --server-key: a base64 public key. False, after saying why on stderr,
 * when `value` is not one. */
static inline bool server_args_key(const char *prog, const char *value,
				   uint8_t key[static RDV_KEY_LEN])
{
	if (keys_from_base64_text(key, value) == 0)
		return true;
	fprintf(stderr, "%s: bad base64 key '%s'\n", prog, value);
	return false;
}

/* A count option (--NAME VALUE), at most max. False, after saying why on
 * stderr, when `value` is not one (common/number.h: digits only). */
static inline bool server_args_uint(const char *prog, const char *name, const char *value,
				    uint64_t max, uint64_t *out)
{
	if (number_parse_uint(value, max, out) == 0)
		return true;
	fprintf(stderr, "%s: bad --%s '%s' (a number up to %llu)\n", prog, name, value,
		(unsigned long long)max);
	return false;
}

#endif
