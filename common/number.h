/* The one parser of unsigned decimal numbers from text: config values
 * (ports, MTU, seconds), command-line options (tunnel-rendezvous, the test
 * tools) and the control protocol's counters. Digits only: no sign, no
 * space, no "0x", nothing after the last digit, so "+5", " 5" and "5s" are
 * refused everywhere alike (strtoul would take the first two). */
#ifndef COMMON_NUMBER_H
#define COMMON_NUMBER_H

#include <stdint.h>

#include "common/compiler.h"

/* Sets *out to the value of `s`. Returns 0; -EINVAL when `s` is not one or
 * more digits and nothing else; -ERANGE when the value is above `max`.
 * *out is left alone on error. */
must_check int number_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
