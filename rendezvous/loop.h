/* tunnel-rendezvous's socket loop: one UDP socket per listen address, epoll,
 * signalfd (SIGINT/SIGTERM stop, SIGUSR1 dumps counters, SIGHUP reloads the
 * allowed keys), a 1 s timer for lease expiry. All datagrams go through rdv_server_handle(). */
#ifndef RENDEZVOUS_LOOP_H
#define RENDEZVOUS_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"
#include "rendezvous/server.h"

enum { RDV_LOOP_LISTEN_MAX = 8 };

struct rdv_loop_config {
	struct rdv_endpoint listen[RDV_LOOP_LISTEN_MAX];
	size_t n_listen;
	const char *stats_path; /* written on SIGUSR1 and at exit, or NULL */
	const char *allowed_keys_path; /* reloaded on SIGHUP, or NULL */
	bool daemonize;         /* detach after the sockets are bound */
};

/* Binds every listen address (IPv6 sockets are IPV6_V6ONLY, so 0.0.0.0 and
 * [::] on one port coexist). Returns -errno if one fails. */
must_check int rdv_loop_open(const struct rdv_loop_config *cfg, int *fds);

/* Loads cfg->allowed_keys_path into srv (nothing without one). Returns 0,
 * or -errno after logging which line or why; srv keeps its old list then. */
must_check int rdv_loop_load_allowed(struct rdv_server *srv, const struct rdv_loop_config *cfg);

/* Runs until SIGINT or SIGTERM. Returns 0, or -errno on a fatal error. */
must_check int rdv_loop_run(struct rdv_server *srv, const struct rdv_loop_config *cfg,
			    const int *fds);

#endif
