/* The daemon's entry point: the one door from tunnelctl (tunnel/ctl/) into
 * the engine, besides the control protocol (tunnel/control.h). `up` loads a
 * link's configuration here, then runs the link in its own process, in the
 * foreground or as a detached daemon it has forked. */
#ifndef TUNNEL_DAEMON_H
#define TUNNEL_DAEMON_H

#include "common/compiler.h"

enum daemon_limits {
	DAEMON_ERR_LEN = 512, /* one line for the user, as config.h's */
};

/* A link's configuration, loaded and checked, not yet running. */
struct daemon_link;

/* Reads CONFIG_DIR/NAME.conf. On failure returns a negative errno (-ENOENT
 * no such file, -EACCES readable by others, -EINVAL bad content, -EIO,
 * -ENOMEM) and writes one line for the user into err. */
must_check int daemon_load(struct daemon_link **out, const char *config_dir, const char *name,
			   char err[static DAEMON_ERR_LEN]);

/* Wipes the link's keys and frees it. */
void daemon_free(struct daemon_link *link);

/* Runs the link in this process until it is told to stop; returns the
 * process exit code. It claims the control socket and pid file in
 * run_dir, creates the interface, then runs the loop.
 *
 * report < 0: in the foreground, logging to stderr; a start-up failure is
 * printed as "tunnelctl: NAME: REASON".
 * report >= 0: as a daemon in a freshly forked child: a new session,
 * logging to syslog; how the start-up went is written to the pipe `report`
 * (one NUL byte for success, else the reason, then the pipe is closed),
 * and stdin/stdout/stderr are pointed at /dev/null before it runs. */
int daemon_run(const struct daemon_link *link, const char *run_dir, int report);

#endif
