/* `tunnelctl down PEER`: asks the link's daemon to stop and waits until it
 * has removed its routes, addresses, interface, socket and pid file and
 * exited: when `down` returns 0, nothing of the link is left. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ifname.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"

/* A daemon built with sanitizers checks for leaks on its way out, which on
 * a loaded machine takes seconds: the bound is generous, the poll short. */
enum { DOWN_WAIT_MS = 30000, DOWN_POLL_MS = 50, DOWN_ZOMBIE_GRACE_MS = 2000 };

/* Is process `pid` a zombie: exited, its status not yet collected? */
static bool process_zombie(pid_t pid)
{
	char path[64], stat[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	p = strrchr(stat, ')'); /* the name in parentheses may hold anything */
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* Has the daemon gone? Normally its parent (init, or a subreaper) reaps it
 * at once and the pid disappears, which is what a caller checking with
 * kill(pid, 0) after `down` expects. A zombie has exited and cleaned up,
 * though: one that no parent collects within the grace time counts as
 * gone rather than making `down` fail. */
static bool process_gone(pid_t pid, uint64_t *zombie_since)
{
	uint64_t now = clock_now_ms();

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	if (!process_zombie(pid)) {
		*zombie_since = 0;
		return false;
	}
	if (!*zombie_since)
		*zombie_since = now;
	return now - *zombie_since >= DOWN_ZOMBIE_GRACE_MS;
}

/* The daemon removes its socket and pid file before it exits; one that
 * exited and left either did not shut down cleanly: say so, and remove the
 * stale file (nothing listens on it any more). */
static bool file_left(const char *run_dir, const char *name, const char *ext)
{
	char path[CONTROL_PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/%s.%s", run_dir, name, ext);
	if (access(path, F_OK) != 0)
		return false;
	fprintf(stderr, "tunnelctl: %s: the daemon exited but left %s (removed)\n", name, path);
	unlink(path);
	return true;
}

int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = control_run_dir(), *name;
	char buf[CONTROL_RESPONSE_MAX];
	struct control_status st;
	uint64_t deadline, zombie_since = 0;
	bool left;
	int r;

	optind = 0;
	while ((r = commands_getopt(argc, argv, ":h", opts)) != -1) {
		if (r == 'h') {
			printf("usage: tunnelctl down PEER\n");
			return 0;
		}
		fprintf(stderr, "usage: tunnelctl down PEER\n");
		return 2;
	}
	if (optind != argc - 1 || !ifname_valid(argv[optind])) {
		if (optind == argc)
			fprintf(stderr, "tunnelctl down: which link? (PEER)\n");
		fprintf(stderr, "usage: tunnelctl down PEER\n");
		return 2;
	}
	name = argv[optind];
	/* The pid first, to wait for the daemon's exit rather than its reply. */
	r = control_query(run_dir, name, "get=1\n\n", buf, sizeof(buf));
	if (r == 0)
		r = control_parse_status(buf, strlen(buf), &st);
	if (control_unreachable(run_dir, name, r))
		return 1;
	if (r == 0)
		r = control_query(run_dir, name, "down=1\n\n", buf, sizeof(buf));
	if (r) {
		fprintf(stderr, "tunnelctl: %s: the daemon did not answer: %s\n", name,
			strerror(-r));
		return 1;
	}
	deadline = clock_now_ms() + DOWN_WAIT_MS;
	while (!process_gone((pid_t)st.pid, &zombie_since)) {
		if (clock_now_ms() >= deadline) {
			fprintf(stderr, "tunnelctl: %s: the daemon (pid %llu) is still running "
					"%d s after it was asked to stop\n",
				name, (unsigned long long)st.pid, DOWN_WAIT_MS / 1000);
			return 1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = DOWN_POLL_MS * 1000000L }, NULL);
	}
	left = file_left(run_dir, name, "sock");
	left = file_left(run_dir, name, "pid") || left;
	return left ? 1 : 0;
}
