/* The unit tests that run the real tunnel-rendezvous as a child process:
 * reading its counters (--stats FILE, written on SIGUSR1) and stopping it. */
#ifndef TESTS_UNIT_RDV_CHILD_H
#define TESTS_UNIT_RDV_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Puts the path of the built server ($TUNNEL_BUILD_DIR/rendezvous/
 * tunnel-rendezvous) in out. 0 when it is there; else 77 (ctest's "skipped"),
 * after saying why on stderr under the name `test`. */
int rdv_server_binary(const char *test, char *out, size_t cap);

/* The value of counter `name` in a stats text ("name value" lines); fails
 * the test when the counter is missing. */
uint64_t rdv_stat_value(const char *text, const char *name);

/* Asks the server `pid` for its counters (SIGUSR1) and waits, bounded, for
 * a fresh `path`; its text goes to buf (NUL-terminated). Fails the test
 * when no file comes. */
void rdv_read_stats(pid_t pid, const char *path, char *buf, size_t cap);

/* Stops the server *pid with SIGTERM and waits for it: it must exit 0,
 * which under the sanitizers also means no leak was found. *pid becomes 0
 * (nothing left for a cleanup to kill). */
void rdv_stop_server(pid_t *pid);

/* Removes the stats file at `path` and the FILE.tmp the server writes it
 * through (then renames), whichever exists. */
void rdv_remove_stats(const char *path);

/* A cleanup's end for a server still running (*pid > 0): SIGKILL, reaped. */
void rdv_kill_server(pid_t *pid);

#endif
