/* Filling struct tun_error: formats the message and keeps it on one line. */
#include "tun/error.h"

#include <stdio.h>

int tun_error_set(struct tun_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* Interface names come from the kernel; keep the message one line. */
	for (char *c = err->msg; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return code;
}
