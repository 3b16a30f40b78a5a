/* tunnelctl's half of the control socket (see control_client.h). One
 * request per connection; the answer is bounded in size and in time. */
#include "tunnel/ctl/control_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"

const char *control_run_dir(void)
{
	const char *dir = getenv("TUNNEL_RUN_DIR");

	return dir && *dir ? dir : CONTROL_DEFAULT_RUN_DIR;
}

int control_query(const char *run_dir, const char *name, const char *request, char *buf,
		  size_t size)
{
	uint64_t deadline = clock_now_ms() + CONTROL_QUERY_TIMEOUT_MS;
	size_t len = 0, req_len = strlen(request);
	int fd, r = 0;

	fd = control_connect(run_dir, name);
	if (fd < 0)
		return fd;
	if (send(fd, request, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
		r = -EIO;
		goto out;
	}
	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = clock_now_ms();
		ssize_t n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) == 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memmem(buf, len, "\n\n", 2))
			break;
	}
	buf[len] = '\0';
	if (!memmem(buf, len, "\n\n", 2))
		r = -EPROTO;
out:
	close(fd);
	return r;
}

void control_denied(const char *run_dir, const char *name)
{
	if (name)
		fprintf(stderr, "tunnelctl: %s/%s.sock: permission denied (the links are root's: "
				"run tunnelctl as root)\n", run_dir, name);
	else
		fprintf(stderr, "tunnelctl: %s: permission denied (the links are root's: "
				"run tunnelctl as root)\n", run_dir);
}

bool control_unreachable(const char *run_dir, const char *name, int r)
{
	if (r == -ENOENT || r == -ECONNREFUSED) {
		control_daemon_alive(run_dir, name); /* clears a stale socket */
		fprintf(stderr, "tunnelctl: link %s is not up\n", name);
		return true;
	}
	if (r == -EACCES || r == -EPERM) {
		control_denied(run_dir, name);
		return true;
	}
	return false;
}
