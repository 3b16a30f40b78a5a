/* `tunnelctl down PEER`: asks the link's daemon to stop and waits until it
 * has removed its routes, addresses, interface and socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "tunnel/commands.h"
#include "tunnel/config.h"
#include "tunnel/control_socket.h"

enum { DOWN_WAIT_MS = 10000, DOWN_POLL_MS = 50 };

int cmd_down(int argc, char **argv)
{
	const char *run_dir = control_run_dir(), *name;
	char buf[CONTROL_RESPONSE_MAX];
	struct control_status st;
	uint64_t deadline;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: tunnelctl down PEER\n");
		return 0;
	}
	if (argc != 2 || !config_name_valid(argv[1])) {
		fprintf(stderr, "usage: tunnelctl down PEER\n");
		return 2;
	}
	name = argv[1];
	/* The pid first, to wait for the daemon's exit rather than its reply. */
	r = control_query(run_dir, name, "get=1\n\n", buf, sizeof(buf));
	if (r == 0)
		r = control_parse_status(buf, strlen(buf), &st);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		control_daemon_alive(run_dir, name); /* clears a stale socket */
		fprintf(stderr, "tunnelctl: link %s is not up\n", name);
		return 1;
	}
	if (r == 0)
		r = control_query(run_dir, name, "down=1\n\n", buf, sizeof(buf));
	if (r) {
		fprintf(stderr, "tunnelctl: %s: the daemon did not answer: %s\n", name,
			strerror(-r));
		return 1;
	}
	deadline = clock_now_ms() + DOWN_WAIT_MS;
	while (kill((pid_t)st.pid, 0) == 0 || errno != ESRCH) {
		if (clock_now_ms() >= deadline) {
			fprintf(stderr, "tunnelctl: %s: the daemon (pid %llu) is still running\n",
				name, (unsigned long long)st.pid);
			return 1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = DOWN_POLL_MS * 1000000L }, NULL);
	}
	return 0;
}
