/* Reading the rendezvous server's (or a test peer's) private key file:
 * common/keyfile.h's reader and crypto/keys.h's decoder, with the error
 * codes tunnel-rendezvous reports. */
#ifndef RENDEZVOUS_KEYFILE_H
#define RENDEZVOUS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/proto.h"

/* Returns 0, -EPERM if group/other may access the file, -EINVAL if it is
 * not a regular file or does not hold exactly one base64 32-byte key, or
 * another -errno. */
must_check int keyfile_read(const char *path, uint8_t key[static RDV_KEY_LEN]);

#endif
