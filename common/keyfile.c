/* The key-file reader: see common/keyfile.h. */
#include "common/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

int keyfile_read_text(const char *path, char text[static KEYFILE_TEXT_MAX + 1])
{
	struct stat st;
	ssize_t n;
	int fd, r;

	text[0] = '\0';
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
	n = read(fd, text, KEYFILE_TEXT_MAX);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	text[n] = '\0';
	/* A full buffer means a longer file: not one key. */
	r = n == KEYFILE_TEXT_MAX ? -EFBIG : 0;
out:
	if (r < 0)
		sodium_memzero(text, KEYFILE_TEXT_MAX + 1);
	close(fd);
	return r;
}
