/* Boot-time milliseconds for timers, TAI64N for WireGuard handshakes. */
#include "common/clock.h"

#include <time.h>

uint64_t clock_ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_now_ms(void)
{
	return clock_ms_of(CLOCK_TIMERS);
}

void clock_tai64n(uint8_t out[static TAI64N_LEN])
{
	/* TAI64 labels start at 2^62; TAI is ahead of UTC by 10 s at the
	 * epoch plus leap seconds, which WireGuard ignores (it only needs a
	 * value that grows). */
	struct timespec ts;
	uint64_t sec;
	uint32_t nsec;

	clock_gettime(CLOCK_REALTIME, &ts);
	sec = 0x400000000000000aULL + (uint64_t)ts.tv_sec;
	nsec = (uint32_t)ts.tv_nsec;
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}
