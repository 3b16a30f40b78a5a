/* The daemon's half of the control socket. The daemon never blocks on
 * a client: clients are non-blocking watches with a bounded buffer, and a
 * reply (a few hundred bytes) fits the socket buffer in one write. */
#include "tunnel/control_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

static int socket_address(struct sockaddr_un *sun, const char *run_dir, const char *name)
{
	*sun = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s.sock", run_dir,
			     name) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int write_pid_file(const char *path)
{
	char text[32];
	int fd, len, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (write(fd, text, (size_t)len) != len)
		r = -EIO;
	close(fd);
	return r;
}

/* Claims NAME's socket; the caller holds the run directory's lock. */
static int claim_socket(struct control_server *srv, const char *run_dir, const char *name)
{
	struct sockaddr_un sun;
	mode_t old_umask;
	int fd, r;

	r = socket_address(&sun, run_dir, name);
	if (r)
		return r;
	if (control_daemon_alive(run_dir, name))
		return -EADDRINUSE;
	snprintf(srv->sock_path, sizeof(srv->sock_path), "%s", sun.sun_path);
	if ((size_t)snprintf(srv->pid_path, sizeof(srv->pid_path), "%s/%s.pid", run_dir, name) >=
	    sizeof(srv->pid_path))
		return -ENAMETOOLONG;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The socket is born 0600: nobody else may even connect. */
	old_umask = umask(077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	umask(old_umask);
	if (r == 0 && listen(fd, CONTROL_MAX_CLIENTS) != 0)
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	srv->watch.fd = fd;
	srv->listening = true;
	r = write_pid_file(srv->pid_path);
	if (r) {
		close(fd);
		unlink(srv->sock_path);
		srv->listening = false;
		srv->watch.fd = -1;
	}
	return r;
}

int control_server_open(struct control_server *srv, const struct control_ops *ops,
			const char *run_dir, const char *name)
{
	int dir_fd, r;

	memset(srv, 0, sizeof(*srv));
	srv->ops = *ops;
	snprintf(srv->name, sizeof(srv->name), "%s", name);
	srv->watch.fd = -1;
	if (mkdir(run_dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	/* Two `up NAME` at once must not both see a stale socket, remove it
	 * and bind: the check and the claim happen under the directory's lock
	 * (a lock on the directory itself leaves no lock file behind). */
	dir_fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	if (flock(dir_fd, LOCK_EX) != 0) {
		r = -errno;
		close(dir_fd);
		return r;
	}
	r = claim_socket(srv, run_dir, name);
	close(dir_fd); /* releases the lock */
	return r;
}

static void client_close(struct control_client *c, struct loop *loop)
{
	if (c->deferred) {
		c->deferred = false;
		c->server->ops.ping_cancel(c->server->ops.ctx, c);
	}
	loop_watch_remove(loop, &c->watch);
	close(c->watch.fd);
	c->used = false;
}

static void client_ready(struct loop_watch *w, uint32_t events)
{
	struct control_client *c = container_of(w, struct control_client, watch);
	struct control_server *srv = c->server;
	char reply[CONTROL_RESPONSE_MAX];
	enum control_request req;
	int len = 0, r;
	ssize_t n;

	(void)events;
	if (c->deferred) {
		/* Waiting for its reply: more bytes are ignored, EOF cancels. */
		n = read(w->fd, c->buf, sizeof(c->buf));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			client_close(c, srv->loop);
		return;
	}
	n = read(w->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c, srv->loop);
		return;
	}
	c->len += (size_t)n;
	r = control_parse_request(c->buf, c->len, &req);
	if (r == -EAGAIN)
		return;
	if (r == 0 && req == CONTROL_GET) {
		struct control_status st;

		srv->ops.status(srv->ops.ctx, &st);
		len = control_format_status(&st, reply, sizeof(reply));
	} else if (r == 0 && req == CONTROL_DOWN) {
		log_info("%s: down requested", srv->name);
		len = snprintf(reply, sizeof(reply), "errno=0\n\n");
		srv->ops.down(srv->ops.ctx);
	} else if (r == 0 && req == CONTROL_RELOAD) {
		char error[CONTROL_ERROR_MAX] = "";

		log_info("%s: reload requested", srv->name);
		len = control_format_reply(srv->ops.reload(srv->ops.ctx, error), error, reply,
					   sizeof(reply));
	} else if (r == 0 && req == CONTROL_SHOW) {
		static struct control_show sh;
		static char show[CONTROL_SHOW_MAX];

		srv->ops.show(srv->ops.ctx, &sh);
		len = control_format_show(&sh, show, sizeof(show));
		if (len > 0) {
			control_client_reply(c, show, (size_t)len);
			return;
		}
	} else if (r == 0 && req == CONTROL_PING) {
		char error[CONTROL_ERROR_MAX] = "";
		int p = srv->ops.ping(srv->ops.ctx, c, error);

		if (p == 0) {
			c->deferred = true;
			return;
		}
		len = control_format_reply(p, error, reply, sizeof(reply));
	}
	if (r != 0 || len < 0)
		len = snprintf(reply, sizeof(reply), "errno=%d\n\n", r ? -r : -len);
	/* MSG_NOSIGNAL: a client that hung up must not kill the daemon. */
	if (send(w->fd, reply, (size_t)len, MSG_NOSIGNAL) != len)
		log_debug("%s: control client went away", srv->name);
	client_close(c, srv->loop);
}

void control_client_reply(struct control_client *c, const char *reply, size_t len)
{
	struct control_server *srv = c->server;

	c->deferred = false;
	/* MSG_NOSIGNAL: a client that hung up must not kill the daemon. */
	if (send(c->watch.fd, reply, len, MSG_NOSIGNAL) != (ssize_t)len)
		log_debug("%s: control client went away", srv->name);
	client_close(c, srv->loop);
}

static void listener_ready(struct loop_watch *w, uint32_t events)
{
	struct control_server *srv = container_of(w, struct control_server, watch);
	struct loop *loop = srv->loop;

	(void)events;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = NULL;
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (size_t k = 0; k < CONTROL_MAX_CLIENTS && !c; k++) {
			if (!srv->clients[k].used)
				c = &srv->clients[k];
		}
		if (!c) {
			close(fd); /* busy: the client sees EOF and retries */
			continue;
		}
		*c = (struct control_client){ .server = srv, .used = true,
					      .watch = { .fd = fd, .ready = client_ready } };
		if (loop_watch_add(loop, &c->watch, EPOLLIN) != 0) {
			close(fd);
			c->used = false;
		}
	}
}

int control_server_watch(struct control_server *srv, struct loop *loop)
{
	srv->loop = loop;
	srv->watch.ready = listener_ready;
	return loop_watch_add(loop, &srv->watch, EPOLLIN);
}

void control_server_close(struct control_server *srv, struct loop *loop)
{
	if (!srv->listening)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (srv->clients[i].used)
			client_close(&srv->clients[i], loop);
	}
	loop_watch_remove(loop, &srv->watch);
	close(srv->watch.fd);
	unlink(srv->sock_path);
	unlink(srv->pid_path);
	srv->listening = false;
}
