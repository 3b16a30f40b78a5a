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
