/* `tunnelctl up PEER [--wait S] [--foreground] [--config-dir DIR]`
 *
 * Reads PEER.conf, then (unless --foreground) forks the link's daemon. The
 * daemon creates the interface and reports success or the reason for
 * failure through a pipe, then detaches; `up` then polls the control socket
 * until the link is established or --wait seconds pass. Either way the
 * daemon keeps running: a link that is not up yet keeps trying, as a
 * wg-quick user would expect from a persistent link. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/number.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"
#include "tunnel/daemon.h"

enum { UP_DEFAULT_WAIT_S = 15, UP_MAX_WAIT_S = 3600, UP_POLL_MS = 100 };

static void usage(FILE *f)
{
	fprintf(f, "usage: tunnelctl up PEER [--wait SECONDS] [--foreground] "
		   "[--config-dir DIR]\n");
}

const char *commands_config_dir(const char *flag_value)
{
	const char *env = getenv("TUNNEL_CONFIG_DIR");

	if (flag_value)
		return flag_value;
	return env && *env ? env : COMMANDS_DEFAULT_CONFIG_DIR;
}

/* May this user open DIR/NAME.conf? -EACCES from the config loader is
 * either this (not root: a runtime failure, exit 1) or a file that others
 * may read (a config error, exit 2). */
static bool config_readable(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	return access(path, R_OK) == 0 || errno != EACCES;
}

/* Reads the daemon's start-up report until the child closes the pipe.
 * 0 when the daemon is running. */
static int read_report(int report, const char *name, pid_t child)
{
	char msg[DAEMON_ERR_LEN + 1];
	size_t len = 0;

	while (len < sizeof(msg) - 1) {
		ssize_t n = read(report, msg + len, sizeof(msg) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len == 1 && msg[0] == '\0')
		return 0;
	msg[len] = '\0';
	waitpid(child, NULL, 0);
	if (len == 0)
		fprintf(stderr, "tunnelctl: %s: the daemon exited during start-up\n", name);
	else
		fprintf(stderr, "tunnelctl: %s: %s\n", name, msg);
	return -1;
}

/* Polls the daemon until the link is up or `wait_s` pass. */
static int wait_established(const char *run_dir, const char *name, unsigned wait_s)
{
	uint64_t deadline = clock_now_ms() + wait_s * 1000ULL;
	struct control_status st = { .reason = "no answer from the daemon" };
	char buf[CONTROL_RESPONSE_MAX];

	for (;;) {
		int r = control_query(run_dir, name, "get=1\n\n", buf, sizeof(buf));

		if (r == 0 && control_parse_status(buf, strlen(buf), &st) == 0 &&
		    (!strcmp(st.state, "established") || !strcmp(st.state, "relayed"))) {
			printf("%s: %s, %s path to %s\n", name, st.state, st.path, st.endpoint);
			return 0;
		}
		if (r == -ENOENT || r == -ECONNREFUSED) {
			fprintf(stderr, "tunnelctl: %s: the daemon has stopped\n", name);
			return 1;
		}
		if (clock_now_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = UP_POLL_MS * 1000000L }, NULL);
	}
	fprintf(stderr, "tunnelctl: %s: not up after %u s: %s (the daemon keeps trying; "
			"'tunnelctl down %s' stops it)\n",
		name, wait_s, st.reason[0] ? st.reason : st.state, name);
	return 1;
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *config_dir = NULL, *run_dir = control_run_dir();
	bool foreground = false;
	uint64_t wait_s = UP_DEFAULT_WAIT_S;
	char err[DAEMON_ERR_LEN];
	struct daemon_link *link;
	int pipefd[2], r;
	pid_t child;

	optind = 0;
	while ((r = commands_getopt(argc, argv, ":w:fc:h", opts)) != -1) {
		switch (r) {
		case 'f':
			foreground = true;
			break;
		case 'w':
			if (number_parse_uint(optarg, UP_MAX_WAIT_S, &wait_s) < 0) {
				fprintf(stderr, "tunnelctl: --wait takes seconds (0-%d), not '%s'\n",
					UP_MAX_WAIT_S, optarg);
				return 2;
			}
			break;
		case 'c':
			config_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		if (optind == argc)
			fprintf(stderr, "tunnelctl up: which link? (PEER, the name of PEER.conf)\n");
		else
			fprintf(stderr, "tunnelctl up: one link at a time, not '%s'\n",
				argv[optind + 1]);
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	r = daemon_load(&link, commands_config_dir(config_dir), name, err);
	if (r) {
		fprintf(stderr, "tunnelctl: %s\n", err);
		if (r == -EACCES && !config_readable(commands_config_dir(config_dir), name)) {
			fprintf(stderr, "tunnelctl: links are root's: run 'tunnelctl up' as root\n");
			return 1;
		}
		return r == -ENOENT || r == -EIO || r == -ENOMEM ? 1 : 2;
	}
	if (control_daemon_alive(run_dir, name)) {
		fprintf(stderr, "tunnelctl: link %s is already up\n", name);
		daemon_free(link);
		return 1;
	}

	if (foreground) {
		r = daemon_run(link, run_dir, -1);
		daemon_free(link);
		return r;
	}

	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		fprintf(stderr, "tunnelctl: pipe: %s\n", strerror(errno));
		daemon_free(link);
		return 1;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "tunnelctl: fork: %s\n", strerror(errno));
		daemon_free(link);
		return 1;
	}
	if (child == 0) {
		close(pipefd[0]);
		r = daemon_run(link, run_dir, pipefd[1]);
		daemon_free(link);
		return r;
	}
	daemon_free(link);
	close(pipefd[1]);
	r = read_report(pipefd[0], name, child);
	close(pipefd[0]);
	if (r)
		return 1;
	return wait_established(run_dir, name, (unsigned)wait_s);
}
