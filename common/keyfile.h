/* Reading a secret key file (as `tunnelctl genkey` / `wg genkey` write it):
 * the one reader for tunnelctl's config (PrivateKeyFile), tunnel-rendezvous
 * and the test tools. It checks the file the way wg(8) expects key files to
 * be kept (a regular file nobody but the owner may access), reads its text
 * and wipes its buffer; decoding the text is crypto/keys.h's job
 * (keys_from_base64_text), so common/ stays below crypto/. */
#ifndef COMMON_KEYFILE_H
#define COMMON_KEYFILE_H

#include "common/compiler.h"

/* A base64 key is 44 characters; anything this long is not one key. */
enum { KEYFILE_TEXT_MAX = 127 };

/* Reads `path` (symlinks refused) into `text` as a NUL-terminated string.
 * 0; -EINVAL if it is not a regular file; -EPERM if group or others have
 * any permission on it; -EFBIG if it holds KEYFILE_TEXT_MAX bytes or more;
 * another -errno from open/read. `text` is wiped on every error; on success
 * the caller wipes it after decoding. */
must_check int keyfile_read_text(const char *path, char text[static KEYFILE_TEXT_MAX + 1]);

#endif
