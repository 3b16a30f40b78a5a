/* wg show's units and plurals (show_format.h). */
#include "tunnel/ctl/show_format.h"

#include <inttypes.h>
#include <stdio.h>

/* Appends ", " before all but the first unit; a non-zero unit only. */
static void unit(char *buf, size_t size, size_t *pos, uint64_t n, const char *name)
{
	int w;

	if (!n || *pos >= size)
		return;
	w = snprintf(buf + *pos, size - *pos, "%s%" PRIu64 " %s%s", *pos ? ", " : "", n, name,
		     n == 1 ? "" : "s");
	if (w > 0)
		*pos += (size_t)w;
}

const char *show_format_duration(char *buf, size_t size, uint64_t seconds)
{
	uint64_t left = seconds;
	size_t pos = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	unit(buf, size, &pos, left / (365 * 24 * 3600ULL), "year");
	left %= 365 * 24 * 3600ULL;
	unit(buf, size, &pos, left / (24 * 3600), "day");
	left %= 24 * 3600;
	unit(buf, size, &pos, left / 3600, "hour");
	left %= 3600;
	unit(buf, size, &pos, left / 60, "minute");
	unit(buf, size, &pos, left % 60, "second");
	return buf;
}

const char *show_format_ago(char *buf, size_t size, uint64_t seconds)
{
	char d[SHOW_FORMAT_MAX];

	if (seconds == 0)
		snprintf(buf, size, "Now");
	else
		snprintf(buf, size, "%s ago", show_format_duration(d, sizeof(d), seconds));
	return buf;
}

const char *show_format_every(char *buf, size_t size, uint64_t seconds)
{
	char d[SHOW_FORMAT_MAX];

	snprintf(buf, size, "every %s", show_format_duration(d, sizeof(d), seconds));
	return buf;
}

const char *show_format_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	/* KiB below 1 MiB, ..., TiB from 1 TiB on, however large. */
	v /= 1024;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= (1024ULL << (10 * (u + 1)))) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.2f %s", v, units[u]);
	return buf;
}

const char *show_format_rtt(char *buf, size_t size, uint64_t microseconds)
{
	double ms = (double)microseconds / 1000;

	snprintf(buf, size, microseconds < 1000 ? "%.2fms" : "%.1fms", ms);
	return buf;
}
