/* libFuzzer target: the link configuration parser (tunnel/config.h) on
 * arbitrary text, with CONFIG_NUMERIC_ONLY so no input can cause a DNS
 * query, and link name "fuzz".
 *
 * PrivateKeyFile makes the parser open files. This program is linked with
 * -Wl,--wrap=open (tests/fuzz/fuzz.cmake), so every open() made by the
 * parser lands in __wrap_open below and never reaches the file system:
 *   /fuzz/key        a private (0600) file holding a valid base64 key
 *   /fuzz/open-key   the same key, but readable by others (0644)
 *   anything else    ENOENT
 * The two files are anonymous memfds, so the fuzzer reads nothing of the
 * host's and cannot write anything anywhere.
 *
 * Oracle beyond "no crash": a failure leaves one line of error text naming
 * the file, and a success leaves the error empty and the results in range. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tunnel/config.h"

#define FUZZ_KEY_FILE "/fuzz/key"
#define FUZZ_OPEN_KEY_FILE "/fuzz/open-key"
#define FUZZ_KEY_TEXT "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

static int key_memfd(mode_t mode)
{
	int fd = memfd_create("fuzz-key", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, FUZZ_KEY_TEXT, strlen(FUZZ_KEY_TEXT)) != (ssize_t)strlen(FUZZ_KEY_TEXT) ||
	    fchmod(fd, mode) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

int __wrap_open(const char *path, int flags, ...)
{
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)) {
		errno = EROFS;
		return -1;
	}
	if (!strcmp(path, FUZZ_KEY_FILE))
		return key_memfd(0600);
	if (!strcmp(path, FUZZ_OPEN_KEY_FILE))
		return key_memfd(0644);
	errno = ENOENT;
	return -1;
}

int __wrap_open64(const char *path, int flags, ...)
{
	return __wrap_open(path, flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[CONFIG_ERR_LEN];
	char *text = malloc(size + 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x5a, sizeof(err));

	r = config_parse_string("fuzz.conf", "fuzz", text, CONFIG_NUMERIC_ONLY, &cfg, err);
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	if (r == 0) {
		if (err[0] || strcmp(cfg.name, "fuzz") || cfg.n_addresses > CONFIG_MAX_ADDRESSES ||
		    cfg.n_allowed_ips > CONFIG_MAX_ALLOWED_IPS ||
		    cfg.n_rendezvous > CONFIG_MAX_RENDEZVOUS || cfg.mtu < CONFIG_MIN_MTU ||
		    cfg.mtu > CONFIG_MAX_MTU)
			abort();
		config_clear(&cfg);
	} else {
		if (r != -EINVAL || strncmp(err, "fuzz.conf", 9) || strchr(err, '\n'))
			abort();
	}
	free(text);
	return 0;
}
