/* `tunnelctl genkey`: prints a new random, clamped X25519 private key in
 * base64, byte-compatible with `wg genkey`. Like wg, warns when stdout is a
 * file others can read (the umask was too loose for a secret). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "tunnel/ctl/commands.h"

int cmd_genkey(int argc, char **argv)
{
	uint8_t key[KEY_LEN];
	char b64[KEY_BASE64_SIZE];
	struct stat st;
	int ret = 0;

	if (!commands_no_args(argc, argv, "tunnelctl genkey > private.key",
			      "Prints a new base64 private key (same format as wg genkey).", &ret))
		return ret;
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
	keys_generate_private(key);
	keys_to_base64(b64, key);
	if (puts(b64) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "tunnelctl: genkey: cannot write the key\n");
		ret = 1;
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(b64, sizeof(b64));
	return ret;
}
