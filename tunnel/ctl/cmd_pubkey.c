/* `tunnelctl pubkey`: reads a base64 private key on stdin and prints its
 * public key, byte-compatible with `wg pubkey`. Trailing whitespace (the
 * newline of `genkey`) is accepted; anything else that is not exactly one
 * key is an error. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "tunnel/ctl/commands.h"

/* Generous bound: a key plus whitespace; more than this is not a key. */
enum { PUBKEY_INPUT_MAX = 1024 };

int cmd_pubkey(int argc, char **argv)
{
	char in[PUBKEY_INPUT_MAX + 1], b64[KEY_BASE64_SIZE];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	size_t n;
	int ret = 1;

	if (!commands_no_args(argc, argv, "tunnelctl pubkey < private.key",
			      "Reads a base64 private key on stdin, prints its public key.", &ret))
		return ret;
	n = fread(in, 1, sizeof(in), stdin);
	if (ferror(stdin)) {
		fprintf(stderr, "tunnelctl: pubkey: cannot read stdin\n");
		goto out;
	}
	if (n > PUBKEY_INPUT_MAX) {
		fprintf(stderr, "tunnelctl: pubkey: input too long for a key\n");
		goto out;
	}
	while (n > 0 && isspace((unsigned char)in[n - 1]))
		n--;
	in[n] = '\0';
	if (memchr(in, '\0', n) || keys_from_base64(priv, in) < 0) {
		fprintf(stderr, "tunnelctl: pubkey: stdin is not a base64 private key\n");
		goto out;
	}
	if (keys_public_from_private(pub, priv) < 0) {
		fprintf(stderr, "tunnelctl: pubkey: unusable private key\n");
		goto out;
	}
	keys_to_base64(b64, pub);
	if (puts(b64) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "tunnelctl: pubkey: cannot write the key\n");
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(in, sizeof(in));
	sodium_memzero(priv, sizeof(priv));
	return ret;
}
