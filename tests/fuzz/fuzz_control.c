/* libFuzzer target: the control protocol parsers (tunnel/control.h), the
 * daemon's request parser and tunnelctl's status, reply, "show" and
 * "ping" parsers, on arbitrary bytes. Oracle beyond "no crash": a status,
 * a reply, a show or a pong that parses formats, the formatted text parses
 * (a reply to the same errno), and formatting is then stable (format,
 * parse, format gives the same bytes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control_status st, again;
	static char first[CONTROL_RESPONSE_MAX], second[CONTROL_RESPONSE_MAX];
	static char error[CONTROL_ERROR_MAX], error2[CONTROL_ERROR_MAX];
	static struct control_show sh, sh2;
	static char show1[CONTROL_SHOW_MAX], show2[CONTROL_SHOW_MAX];
	struct control_pong pong, pong2;
	enum control_request req;
	int r, n1, n2;
	char *buf;

	/* Exact-size heap copy: ASan then sees any read past the bytes. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	r = control_parse_request(buf, size, &req);
	if (r != 0 && r != -EAGAIN && r != -EINVAL)
		abort();
	if (r == 0 && req != CONTROL_GET && req != CONTROL_DOWN && req != CONTROL_RELOAD &&
	    req != CONTROL_SHOW && req != CONTROL_PING)
		abort();

	r = control_parse_reply(buf, size, error);
	if (r > 0 || r < -4095)
		abort();
	if (r != -EAGAIN && r != -EINVAL) {
		int r2;

		n1 = control_format_reply(r, error, first, sizeof(first));
		if (n1 <= 0 || (r2 = control_parse_reply(first, (size_t)n1, error2)) != r)
			abort();
		n2 = control_format_reply(r2, error2, second, sizeof(second));
		if (n2 != n1 || memcmp(first, second, (size_t)n1))
			abort();
	}

	r = control_parse_status(buf, size, &st);
	if (r > 0 || r < -4095)
		abort();
	if (r == 0) {
		n1 = control_format_status(&st, first, sizeof(first));
		if (n1 <= 0 || control_parse_status(first, (size_t)n1, &again) != 0)
			abort();
		n2 = control_format_status(&again, second, sizeof(second));
		if (n2 != n1 || memcmp(first, second, (size_t)n1))
			abort();
	}

	r = control_parse_show(buf, size, &sh);
	if (r > 0 || r < -4095)
		abort();
	if (r == 0) {
		n1 = control_format_show(&sh, show1, sizeof(show1));
		if (n1 <= 0 || control_parse_show(show1, (size_t)n1, &sh2) != 0)
			abort();
		n2 = control_format_show(&sh2, show2, sizeof(show2));
		if (n2 != n1 || memcmp(show1, show2, (size_t)n1))
			abort();
	}

	r = control_parse_pong(buf, size, &pong, error);
	if (r > 0 || r < -4095)
		abort();
	if (r == 0) {
		n1 = control_format_pong(&pong, first, sizeof(first));
		if (n1 <= 0 || control_parse_pong(first, (size_t)n1, &pong2, error2) != 0)
			abort();
		n2 = control_format_pong(&pong2, second, sizeof(second));
		if (n2 != n1 || memcmp(first, second, (size_t)n1))
			abort();
	}
	free(buf);
	return 0;
}
