/* Logging backend. The only mutable file-scope state is the sink chosen once
 * at start-up by log_open(), read-only afterwards (STYLE.md §6). */
#include "common/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_ident = "tunnel";
static bool log_to_syslog;
static bool log_to_journal;
static enum log_level log_max = LOG_LEVEL_INFO;

/* True when stderr is the stream systemd connected to journald: the
 * device and inode in JOURNAL_STREAM are stderr's (systemd.exec(5)). A
 * child whose stderr was redirected elsewhere inherits the variable but
 * fails the comparison. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	int end = 0;

	if (!env || sscanf(env, "%ju:%ju%n", &dev, &ino, &end) != 2 || env[end] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void log_open(const char *ident, bool use_syslog, enum log_level max_level)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	log_to_journal = !use_syslog && stderr_is_journal();
	log_max = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
					   LOG_DEBUG };
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(syslog_prio[level], fmt, ap);
	} else {
		char line[1024];

		vsnprintf(line, sizeof(line), fmt, ap);
		/* The journal adds the program's name and its own priority
		 * colours: the "<N>" prefix alone says the rest. */
		if (log_to_journal)
			fprintf(stderr, "<%d>%s\n", syslog_prio[level], line);
		else
			fprintf(stderr, "%s: %s: %s\n", log_ident, names[level], line);
	}
	va_end(ap);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms)
{
	if (rl->burst == 0)
		rl->burst = 10;
	if (rl->last_ms == 0 || now_ms - rl->last_ms >= 1000) {
		unsigned refill = rl->last_ms == 0 ? rl->burst
						   : (unsigned)((now_ms - rl->last_ms) / 1000);
		rl->tokens = refill >= rl->burst ? rl->burst : rl->tokens + refill;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}
