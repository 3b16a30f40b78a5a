/* Unsigned decimal numbers: see number.h. */
#include "common/number.h"

#include <errno.h>
#include <stdbool.h>

int number_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool over = false;
	const char *c;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (c = s; *c >= '0' && *c <= '9'; c++) {
		unsigned d = (unsigned)(*c - '0');

		/* Keep reading after an overflow: "99...9x" is -EINVAL, not -ERANGE. */
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (*c)
		return -EINVAL;
	if (over || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
