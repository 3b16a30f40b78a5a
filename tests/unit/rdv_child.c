/* See rdv_child.h. */
#include "tests/unit/rdv_child.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

int rdv_server_binary(const char *test, char *out, size_t cap)
{
	const char *build = getenv("TUNNEL_BUILD_DIR");

	if (!build) {
		fprintf(stderr, "%s: TUNNEL_BUILD_DIR not set, skipping\n", test);
		return 77;
	}
	snprintf(out, cap, "%s/rendezvous/tunnel-rendezvous", build);
	if (access(out, X_OK) != 0) {
		fprintf(stderr, "%s: %s not built, skipping\n", test, out);
		return 77;
	}
	return 0;
}

uint64_t rdv_stat_value(const char *text, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(text, key);
	if (!p && strncmp(text, key + 1, strlen(key + 1)) == 0)
		p = text - 1; /* the first line */
	if (!p)
		fail_msg("no %s in the stats", name);
	return strtoull(p + strlen(key), NULL, 10);
}

void rdv_read_stats(pid_t pid, const char *path, char *buf, size_t cap)
{
	for (int tries = 0; tries < 100; tries++) {
		FILE *f = NULL;
		size_t n;

		unlink(path);
		assert_int_equal(kill(pid, SIGUSR1), 0);
		for (int i = 0; i < 50 && !f; i++) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			f = fopen(path, "r");
			if (!f)
				nanosleep(&ts, NULL);
		}
		if (!f)
			continue;
		n = fread(buf, 1, cap - 1, f);
		buf[n] = '\0';
		fclose(f);
		return;
	}
	fail_msg("server wrote no stats");
}

void rdv_stop_server(pid_t *pid)
{
	int status;

	assert_int_equal(kill(*pid, SIGTERM), 0);
	assert_int_equal(waitpid(*pid, &status, 0), *pid);
	*pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

void rdv_kill_server(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

void rdv_remove_stats(const char *path)
{
	char tmp[4300];

	unlink(path);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) < (int)sizeof(tmp))
		unlink(tmp);
}
