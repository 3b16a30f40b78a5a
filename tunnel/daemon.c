/* The daemon's start (see daemon.h): what `tunnelctl up` runs in the
 * process that becomes the link. */
#include "tunnel/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel/config.h"
#include "tunnel/tunnel.h"

_Static_assert((int)DAEMON_ERR_LEN == (int)CONFIG_ERR_LEN, "daemon errors are config errors");

struct daemon_link {
	struct config cfg;
};

int daemon_load(struct daemon_link **out, const char *config_dir, const char *name,
		char err[static DAEMON_ERR_LEN])
{
	struct daemon_link *link = calloc(1, sizeof(*link));
	int r;

	if (!link) {
		config_error(err, "out of memory");
		return -ENOMEM;
	}
	r = config_load(config_dir, name, &link->cfg, err);
	if (r) {
		daemon_free(link);
		return r;
	}
	*out = link;
	return 0;
}

void daemon_free(struct daemon_link *link)
{
	if (!link)
		return;
	config_clear(&link->cfg);
	free(link);
}

/* Runs the daemon in this process until it is told to stop. */
static int run_daemon(struct tunnel *t)
{
	int r = tunnel_run(t);

	/* PreDown/PostDown failures (logged) show in the exit status. */
	if (tunnel_destroy(t))
		r = -1;
	return r ? 1 : 0;
}

static int run_foreground(const struct config *cfg, const char *run_dir)
{
	char err[CONFIG_ERR_LEN];
	struct tunnel *t;
	int r;

	log_open("tunnel", false, getenv("TUNNEL_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	r = tunnel_create(&t, cfg, run_dir, err);
	if (r) {
		fprintf(stderr, "tunnelctl: %s: %s\n", cfg->name, err);
		return 1;
	}
	return run_daemon(t);
}

/* The forked child: create the link, tell the parent how that went through
 * `report` (one NUL byte for success, else the error line), detach from
 * the terminal and run. Returns the daemon's exit code. */
static int run_detached(const struct config *cfg, const char *run_dir, int report)
{
	char err[CONFIG_ERR_LEN], ident[48];
	struct tunnel *t = NULL;
	int devnull, r;

	setsid();
	snprintf(ident, sizeof(ident), "tunnel[%s]", cfg->name);
	log_open(ident, true, LOG_LEVEL_INFO);
	r = tunnel_create(&t, cfg, run_dir, err);
	if (r) {
		if (write(report, err, strlen(err)) < 0)
			log_error("%s", err);
		close(report);
		return 1;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
	if (write(report, "", 1) != 1) {
		close(report);
		tunnel_destroy(t);
		return 1;
	}
	close(report);
	return run_daemon(t);
}

int daemon_run(const struct daemon_link *link, const char *run_dir, int report)
{
	return report < 0 ? run_foreground(&link->cfg, run_dir)
			  : run_detached(&link->cfg, run_dir, report);
}
