/* The daemon's half of the control socket: the listener at RUN_DIR/NAME.sock
 * (with NAME.pid beside it). The protocol itself is tunnel/control.h;
 * tunnelctl's half is tunnel/ctl/control_client.h. The server knows the
 * link only through struct control_ops, so it does not include tunnel.h. */
#ifndef TUNNEL_CONTROL_SOCKET_H
#define TUNNEL_CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "tunnel/control.h"
#include "tunnel/loop.h"

enum control_socket_limits {
	CONTROL_MAX_CLIENTS = 8,
};

struct control_client;

/* What the server asks of the link it serves (tunnel.c fills this). */
struct control_ops {
	void *ctx;
	/* Fills a status snapshot for "get". */
	void (*status)(void *ctx, struct control_status *st);
	/* Asks the link to stop ("down"); the reply is sent before the loop ends. */
	void (*down)(void *ctx);
	/* Re-reads and applies the link's config ("reload"): 0, or a negative
	 * errno with one line for the user in `error`. */
	int (*reload)(void *ctx, char error[static CONTROL_ERROR_MAX]);
	/* Fills what "show" answers. */
	void (*show)(void *ctx, struct control_show *sh);
	/* Starts a "ping" whose reply comes later through control_client_reply
	 * (0), or refuses it: a negative errno with one line in `error`. */
	int (*ping)(void *ctx, struct control_client *c, char error[static CONTROL_ERROR_MAX]);
	/* The client of a deferred "ping" went away (or the server closes):
	 * forget it, never reply to it. */
	void (*ping_cancel)(void *ctx, struct control_client *c);
};

struct control_client {
	struct loop_watch watch;
	struct control_server *server;
	char buf[CONTROL_REQUEST_MAX];
	size_t len;
	bool used;
	bool deferred;    /* its reply comes later (ops.ping) */
};

struct control_server {
	struct control_ops ops;
	struct loop *loop;
	struct loop_watch watch;
	char name[CONTROL_NAME_MAX]; /* for log lines */
	char sock_path[CONTROL_PATH_MAX];
	char pid_path[CONTROL_PATH_MAX];
	bool listening;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

/* Creates the run directory (0700) if needed, refuses when a live daemon
 * already answers on the socket (-EADDRINUSE), removes a stale socket and
 * pid file, then listens (socket mode 0600) and writes the pid file. */
must_check int control_server_open(struct control_server *srv, const struct control_ops *ops,
				   const char *run_dir, const char *name);

/* Starts serving requests from the loop. */
must_check int control_server_watch(struct control_server *srv, struct loop *loop);

/* Sends the deferred reply to `c` and closes it. */
void control_client_reply(struct control_client *c, const char *reply, size_t len);

/* Stops listening, closes clients, removes the socket and pid file. */
void control_server_close(struct control_server *srv, struct loop *loop);

#endif
