/* --allowed-keys FILE: the public keys that may register with a private
 * rendezvous server. One base64 key per line (as `tunnelctl pubkey` prints
 * it); '#' starts a comment that runs to the end of the line; blank lines
 * are ignored. The server reloads the file on SIGHUP. */
#ifndef RENDEZVOUS_ALLOWED_H
#define RENDEZVOUS_ALLOWED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/proto.h"

struct rdv_allowed {
	uint8_t (*keys)[RDV_KEY_LEN]; /* sorted, each once */
	size_t n;
};

/* Reads path into *out. Returns 0; -EINVAL with *bad_line set (1-based) for
 * a line that is not a key; or another -errno (file unreadable, no memory). */
must_check int rdv_allowed_load(const char *path, struct rdv_allowed *out, size_t *bad_line);

void rdv_allowed_free(struct rdv_allowed *a);

bool rdv_allowed_has(const struct rdv_allowed *a, const uint8_t key[static RDV_KEY_LEN]);

#endif
