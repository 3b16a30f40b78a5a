/* The one-line, user-facing error text that tun/ calls fill in alongside
 * their negative errno, e.g. "interface home already exists". */
#ifndef TUN_ERROR_H
#define TUN_ERROR_H

#include <stdarg.h>

enum tun_error_limits { TUN_ERROR_LEN = 256 };

struct tun_error {
	char msg[TUN_ERROR_LEN];	/* "" until a call fails */
};

/* Sets err->msg (err may be NULL) and returns `code` (a negative errno), so
 * callers can `return tun_error_set(err, -EBUSY, "...")` in one statement. */
int tun_error_set(struct tun_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
