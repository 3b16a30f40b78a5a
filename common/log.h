/* Logging for daemons and tools: one line per event, to stderr in the
 * foreground or to syslog once daemonized. Never log key material.
 *
 * Every line carries its syslog priority, so `journalctl -p warning` keeps
 * only what matters: syslog(3) passes it along; on stderr, when stderr is
 * journald's stream (systemd sets JOURNAL_STREAM to its device:inode), each
 * line starts with "<N>", the priority prefix journald's stream protocol
 * reads (SyslogLevelPrefix=, sd-daemon.h's SD_ERR...). A terminal or a test
 * capturing stderr sees "IDENT: LEVEL: text" as before. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* The syslog priorities in use, most severe first: error (something failed),
 * warning (works, but not as configured), notice (the link's big changes:
 * up, relayed, reloaded), info (the rest of what happens), debug. */
enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Call once at start-up. `ident` prefixes every line ("tunnel[home]");
 * use_syslog sends lines to syslog instead of stderr. Checks here whether
 * stderr is the journal (see above). */
void log_open(const char *ident, bool use_syslog, enum log_level max_level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Logs an error and returns `err` (a negative errno) in one statement. */
#define log_error_errno(err, ...) (log_error(__VA_ARGS__), (err))

/* A token bucket for debug lines about dropped datagrams, so a flood of bad
 * input cannot flood the log: at most `burst` lines, refilled one per second. */
struct log_ratelimit {
	uint64_t last_ms;
	unsigned tokens;
	unsigned burst;
	unsigned suppressed;
};

/* True when a line may be logged now; counts the ones that may not. */
bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms);

#endif
