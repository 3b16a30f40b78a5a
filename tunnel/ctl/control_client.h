/* tunnelctl's half of the control socket: find the run directory, send one
 * request and read the daemon's answer. The protocol is tunnel/control.h;
 * the daemon's half is tunnel/control_socket.h. */
#ifndef TUNNEL_CTL_CONTROL_CLIENT_H
#define TUNNEL_CTL_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "tunnel/control.h"

#define CONTROL_DEFAULT_RUN_DIR "/run/tunnel"

enum control_client_limits {
	CONTROL_QUERY_TIMEOUT_MS = 2000,
};

/* The run directory: $TUNNEL_RUN_DIR, else /run/tunnel. */
const char *control_run_dir(void);

/* Connects to NAME's socket, sends `request`, and reads the reply into buf
 * (NUL-terminated). -ENOENT/-ECONNREFUSED when no daemon runs, -ETIMEDOUT
 * when it does not answer in time. */
must_check int control_query(const char *run_dir, const char *name, const char *request,
			     char *buf, size_t size);

/* Prints why a control socket (NAME's, or the run directory when NAME is
 * NULL) refused this user: "tunnelctl: /run/tunnel/home.sock: permission
 * denied (the links are root's: run tunnelctl as root)". */
void control_denied(const char *run_dir, const char *name);

/* What a command that needs NAME's daemon says when control_query()
 * returned r: for no daemon (-ENOENT, -ECONNREFUSED) it clears a stale
 * socket and prints "tunnelctl: link NAME is not up", for -EACCES/-EPERM
 * control_denied()'s line; either way it returns true (the command exits
 * 1). Any other r, 0 included, prints nothing and returns false. */
bool control_unreachable(const char *run_dir, const char *name, int r);

#endif
