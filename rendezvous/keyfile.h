/* Reading a base64 X25519 private key file (as `tunnelctl genkey` / `wg genkey`
 * write it), refusing files that others can read. */
#ifndef RENDEZVOUS_KEYFILE_H
#define RENDEZVOUS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/proto.h"

/* Returns 0, -EPERM if group/other may access the file, -EINVAL if it does
 * not hold exactly one base64 32-byte key, or another -errno. */
must_check int keyfile_read(const char *path, uint8_t key[static RDV_KEY_LEN]);

/* Decodes one base64 key (surrounding whitespace allowed). 0 or -EINVAL. */
must_check int key_from_base64(const char *s, uint8_t key[static RDV_KEY_LEN]);

/* Encodes a key as 44 base64 characters plus NUL. */
enum { KEY_BASE64_LEN = 45 };
void key_to_base64(const uint8_t key[static RDV_KEY_LEN], char out[static KEY_BASE64_LEN]);

#endif
