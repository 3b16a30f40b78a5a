/* The words `tunnelctl show` and `tunnelctl ping` print, as wg(8)'s show
 * prints them (wireguard-tools src/show.c), so people and scripts used to
 * `wg show` read ours at once. Each writes a NUL-terminated string into
 * buf (truncated to size) and returns buf. Pure: no I/O, no clock. */
#ifndef TUNNEL_CTL_SHOW_FORMAT_H
#define TUNNEL_CTL_SHOW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

enum show_format_limits {
	SHOW_FORMAT_MAX = 96, /* the longest duration with room to spare */
};

/* "1 year, 2 days, 3 hours, 1 minute, 5 seconds": the non-zero units of
 * `seconds`, singular for 1 (a year is 365 days); "" for 0. */
const char *show_format_duration(char *buf, size_t size, uint64_t seconds);

/* "Now" for 0 seconds, else "DURATION ago" (latest handshake). */
const char *show_format_ago(char *buf, size_t size, uint64_t seconds);

/* "every DURATION" (persistent keepalive). */
const char *show_format_every(char *buf, size_t size, uint64_t seconds);

/* "512 B", "1.23 KiB", "4.56 MiB", "7.89 GiB", "1.00 TiB" (1024-based, two
 * decimals above bytes). */
const char *show_format_bytes(char *buf, size_t size, uint64_t bytes);

/* A round-trip time for `ping`: "0.42ms" below 1 ms, "1.2ms" from there
 * on, "1234.5ms" for a slow relay. */
const char *show_format_rtt(char *buf, size_t size, uint64_t microseconds);

#endif
