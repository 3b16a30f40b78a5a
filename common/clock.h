/* Clocks. Intervals use CLOCK_BOOTTIME in milliseconds, as the kernel's
 * WireGuard does: it never jumps with the date and, unlike CLOCK_MONOTONIC,
 * keeps counting while the machine sleeps, so key lifetimes, handshake and
 * keepalive timers and registration leases see the real time that passed
 * across a suspend. Wall-clock time is read only for the WireGuard TAI64N
 * timestamp and for display; no protocol depends on it. Code in crypto/ and
 * rendezvous/ never calls these: its callers pass `now` in. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

enum { TAI64N_LEN = 12 };

/* The clock every timer runs on. */
#define CLOCK_TIMERS CLOCK_BOOTTIME

/* Milliseconds on CLOCK_TIMERS (never jumps, counts suspended time,
 * unrelated to the date). */
uint64_t clock_now_ms(void);

/* Milliseconds of any clock (tests compare clocks with it). */
uint64_t clock_ms_of(clockid_t id);

/* The current wall-clock time as a 12-byte big-endian TAI64N label. */
void clock_tai64n(uint8_t out[static TAI64N_LEN]);

#endif
