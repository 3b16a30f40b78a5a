/* Key files for tunnel-rendezvous: see rendezvous/keyfile.h. */
#include "rendezvous/keyfile.h"

#include <errno.h>
#include <sodium.h>

#include "common/keyfile.h"
#include "crypto/keys.h"

int keyfile_read(const char *path, uint8_t key[static RDV_KEY_LEN])
{
	char text[KEYFILE_TEXT_MAX + 1];
	int r = keyfile_read_text(path, text);

	if (r == -EFBIG)	/* longer than a key: not one key */
		r = -EINVAL;
	if (r == 0)
		r = keys_from_base64_text(key, text);
	sodium_memzero(text, sizeof(text));
	return r;
}
