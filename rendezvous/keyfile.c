/* Key files and base64 keys, on libsodium's base64. */
#include "rendezvous/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int key_from_base64(const char *s, uint8_t key[static RDV_KEY_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (sodium_base642bin(key, RDV_KEY_LEN, s, strlen(s), NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len != RDV_KEY_LEN)
		return -EINVAL;
	for (; *end; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
			return -EINVAL;
	return 0;
}

void key_to_base64(const uint8_t key[static RDV_KEY_LEN], char out[static KEY_BASE64_LEN])
{
	sodium_bin2base64(out, KEY_BASE64_LEN, key, RDV_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int keyfile_read(const char *path, uint8_t key[static RDV_KEY_LEN])
{
	char buf[128];
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		r = -EPERM;
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	buf[n] = '\0';
	/* A full buffer means a longer file: not one key. */
	r = (size_t)n == sizeof(buf) - 1 ? -EINVAL : key_from_base64(buf, key);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}
