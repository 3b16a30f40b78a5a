/* The control socket's transport: the daemon's listener at RUN_DIR/NAME.sock
 * (with NAME.pid beside it) and tunnelctl's one-shot query. The protocol
 * itself is tunnel/control.h. */
#ifndef TUNNEL_CONTROL_SOCKET_H
#define TUNNEL_CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "tunnel/control.h"
#include "tunnel/loop.h"

#define CONTROL_DEFAULT_RUN_DIR "/run/tunnel"

enum control_socket_limits {
	CONTROL_MAX_CLIENTS = 8,
	CONTROL_QUERY_TIMEOUT_MS = 2000,
	CONTROL_PATH_MAX = 108, /* sun_path */
};

struct tunnel;

struct control_client {
	struct loop_watch watch;
	struct control_server *server;
	char buf[CONTROL_REQUEST_MAX];
	size_t len;
	bool used;
};

struct control_server {
	struct tunnel *tunnel;
	struct loop_watch watch;
	char sock_path[CONTROL_PATH_MAX];
	char pid_path[CONTROL_PATH_MAX];
	bool listening;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

/* The run directory: $TUNNEL_RUN_DIR, else /run/tunnel. */
const char *control_run_dir(void);

/* Creates the run directory (0700) if needed, refuses when a live daemon
 * already answers on the socket (-EADDRINUSE), removes a stale socket and
 * pid file, then listens (socket mode 0600) and writes the pid file. */
must_check int control_server_open(struct control_server *srv, struct tunnel *t,
				   const char *run_dir, const char *name);

/* Starts serving requests from the loop. */
must_check int control_server_watch(struct control_server *srv, struct loop *loop);

/* Stops listening, closes clients, removes the socket and pid file. */
void control_server_close(struct control_server *srv, struct loop *loop);

/* tunnelctl's side: connects to NAME's socket, sends `request`, and reads
 * the reply into buf (NUL-terminated). -ENOENT/-ECONNREFUSED when no daemon
 * runs, -ETIMEDOUT when it does not answer in time. */
must_check int control_query(const char *run_dir, const char *name, const char *request,
			     char *buf, size_t size);

/* True when a daemon answers on NAME's socket; removes a stale socket and
 * pid file left by one that died. */
bool control_daemon_alive(const char *run_dir, const char *name);

#endif
