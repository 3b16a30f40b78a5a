/* Running hooks and helper programs (see hooks.h). */
#include "tunnel/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "common/log.h"

const char *hooks_kind_name(enum config_hook_kind kind)
{
	switch (kind) {
	case CONFIG_HOOK_PRE_UP:
		return "PreUp";
	case CONFIG_HOOK_POST_UP:
		return "PostUp";
	case CONFIG_HOOK_PRE_DOWN:
		return "PreDown";
	case CONFIG_HOOK_POST_DOWN:
		return "PostDown";
	}
	return "hook";
}

int hooks_spawn(const char *const argv[], const char *input)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int pipefd[2] = { -1, -1 }, in, status, r;
	pid_t pid;

	if (input) {
		if (pipe2(pipefd, O_CLOEXEC) != 0)
			return -errno;
		in = pipefd[0];
	} else {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return -errno;
	}
	/* posix_spawn, not fork: the resolver's threads may be running. The
	 * child gets the daemon's blocked signals (TERM, INT, HUP, for its
	 * signalfd) unblocked and SIGPIPE at its default. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	r = posix_spawn_file_actions_init(&fa);
	if (r) {
		close(in);
		if (pipefd[1] >= 0)
			close(pipefd[1]);
		return -r;
	}
	r = posix_spawnattr_init(&attr);
	if (r == 0) {
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
		if (!r)
			r = posix_spawnattr_setsigmask(&attr, &none);
		if (!r)
			r = posix_spawnattr_setsigdefault(&attr, &dfl);
		if (!r)
			r = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
		if (!r)
			r = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
		posix_spawnattr_destroy(&attr);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in);
	if (r) {
		if (pipefd[1] >= 0)
			close(pipefd[1]);
		return -r;
	}
	if (input) {
		/* Small (a resolv.conf fragment): fits the pipe's buffer. A
		 * child that does not read it just gets EPIPE here, ignored. */
		size_t left = strlen(input);
		const char *p = input;
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &ign, &old);
		while (left) {
			ssize_t n = write(pipefd[1], p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			p += n;
			left -= (size_t)n;
		}
		close(pipefd[1]);
		sigaction(SIGPIPE, &old, NULL);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* `hook` with every %i replaced by `ifname`; false if it does not fit. */
static bool substitute(char *out, size_t out_len, const char *hook, const char *ifname)
{
	size_t n = 0, ilen = strlen(ifname);

	for (const char *p = hook; *p; p++) {
		if (p[0] == '%' && p[1] == 'i') {
			if (n + ilen >= out_len)
				return false;
			memcpy(out + n, ifname, ilen);
			n += ilen;
			p++;
			continue;
		}
		if (n + 1 >= out_len)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}

int hooks_run(const struct config *cfg, enum config_hook_kind kind,
	      char err[static CONFIG_ERR_LEN])
{
	/* %i grows by at most CONFIG_NAME_MAX - 2 characters each time */
	char cmd[CONFIG_HOOK_MAX * (CONFIG_NAME_MAX / 2 + 1)];
	const char *name = hooks_kind_name(kind);

	for (size_t i = 0; i < cfg->n_hooks; i++) {
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
		int r;

		if (cfg->hook_kind[i] != kind)
			continue;
		if (!substitute(cmd, sizeof(cmd), cfg->hooks[i], cfg->name)) {
			config_error(err, "%s '%.60s...' is too long once %%i is replaced", name,
				     cfg->hooks[i]);
			return -1;
		}
		log_info("%s: [#] %s", cfg->name, cmd);
		r = hooks_spawn(argv, NULL);
		if (r == 0)
			continue;
		if (r < 0)
			config_error(err, "%s '%s' could not run: %s", name, cmd, strerror(-r));
		else if (r > 128)
			config_error(err, "%s '%s' was killed by signal %d", name, cmd, r - 128);
		else
			config_error(err, "%s '%s' failed with exit status %d", name, cmd, r);
		return -1;
	}
	return 0;
}
