/* Clocks. Intervals use the monotonic clock in milliseconds; wall-clock time
 * is read only for the WireGuard TAI64N timestamp and for display. Code in
 * crypto/ never calls these: its callers pass `now` in. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>

enum { TAI64N_LEN = 12 };

/* Milliseconds on CLOCK_MONOTONIC (never jumps, unrelated to the date). */
uint64_t clock_now_ms(void);

/* Wall-clock milliseconds minus clock_now_ms(): add it to a monotonic time
 * to get Unix time (the rendezvous envelope's timestamps need it). */
int64_t clock_wall_offset_ms(void);

/* The current wall-clock time as a 12-byte big-endian TAI64N label. */
void clock_tai64n(uint8_t out[static TAI64N_LEN]);

#endif
