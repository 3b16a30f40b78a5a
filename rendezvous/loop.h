/* tunnel-rendezvous's socket loop: one UDP socket per listen address and
 * worker thread (SO_REUSEPORT when there are several), epoll, signalfd
 * (SIGINT/SIGTERM stop, SIGUSR1 dumps counters, SIGHUP reloads the allowed
 * keys), a 1 s timer for lease expiry. All datagrams go through
 * rdv_server_handle(), one batch at a time under one mutex. */
#ifndef RENDEZVOUS_LOOP_H
#define RENDEZVOUS_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"
#include "rendezvous/server.h"

enum { RDV_LOOP_LISTEN_MAX = 8, RDV_LOOP_THREADS_MAX = 16, RDV_LOOP_THREADS_AUTO_MAX = 4 };

struct rdv_loop_config {
	struct rdv_endpoint listen[RDV_LOOP_LISTEN_MAX];
	size_t n_listen;
	const char *stats_path; /* written on SIGUSR1 and at exit, or NULL */
	const char *allowed_keys_path; /* reloaded on SIGHUP, or NULL */
	bool daemonize;         /* detach after the sockets are bound */
	unsigned threads;       /* worker threads, 1..RDV_LOOP_THREADS_MAX */
};

/* The default thread count: the CPUs this process may run on, at most
 * RDV_LOOP_THREADS_AUTO_MAX (1 if that cannot be learnt). */
unsigned rdv_loop_threads_auto(void);

/* Binds every listen address (IPv6 sockets are IPV6_V6ONLY, so 0.0.0.0 and
 * [::] on one port coexist), once per thread: fds[t * n_listen + i] is
 * thread t's socket for listen[i] (cfg->threads * cfg->n_listen fds).
 * With several threads the sockets of one address form a SO_REUSEPORT
 * group, after a bind without SO_REUSEPORT found the address free: a
 * second server on a port in use fails here (-EADDRINUSE) as with one
 * thread. Returns -errno if one fails (nothing left open). */
must_check int rdv_loop_open(const struct rdv_loop_config *cfg, int *fds);

/* Closes what rdv_loop_open() opened. */
void rdv_loop_close(const struct rdv_loop_config *cfg, int *fds);

/* Loads cfg->allowed_keys_path into srv (nothing without one). Returns 0,
 * or -errno after logging which line or why; srv keeps its old list then. */
must_check int rdv_loop_load_allowed(struct rdv_server *srv, const struct rdv_loop_config *cfg);

/* Runs until SIGINT or SIGTERM: the calling thread serves thread 0's
 * sockets, the signals and the timer; cfg->threads - 1 more threads serve
 * theirs. The server sees only thread 0's fds (what it stores and what
 * rdv_server_set_other_address() must name); each thread sends on its own
 * socket for the same address. Returns 0, or -errno on a fatal error. */
must_check int rdv_loop_run(struct rdv_server *srv, const struct rdv_loop_config *cfg,
			    const int *fds);

#endif
