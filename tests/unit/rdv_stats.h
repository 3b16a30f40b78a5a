/* Reading the counters of a tunnel-rendezvous child process in the unit
 * tests that run the real server (--stats FILE, written on SIGUSR1). */
#ifndef TESTS_UNIT_RDV_STATS_H
#define TESTS_UNIT_RDV_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The value of counter `name` in a stats text ("name value" lines); fails
 * the test when the counter is missing. */
uint64_t rdv_stat_value(const char *text, const char *name);

/* Asks the server `pid` for its counters (SIGUSR1) and waits, bounded, for
 * a fresh `path`; its text goes to buf (NUL-terminated). Fails the test
 * when no file comes. */
void rdv_read_stats(pid_t pid, const char *path, char *buf, size_t cap);

#endif
