/* What `tunnelctl netcheck` measures, with no link up (as `tailscale
 * netcheck`): from one fresh UDP socket per address family, a STUN Binding
 * request to every rendezvous server, and to the other port each names in
 * its answer (tunnel-rendezvous --alt-port, RFC 5780 OTHER-ADDRESS). The
 * answers give our public address and port, whether the NAT maps one
 * public endpoint per destination (endpoint-dependent, "symmetric") or one
 * for all, whether it kept our port, the round trip to each server, and
 * whether UDP gets out at all; portmap.h's probe says which port-mapping
 * protocols the gateway answers. The third door from tunnel/ctl/ into the
 * engine, next to control.h and daemon.h. Blocks for at most the timeout. */
#ifndef TUNNEL_NETCHECK_H
#define TUNNEL_NETCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"
#include "tunnel/portmap.h"

enum netcheck_limits {
	NETCHECK_MAX_SERVERS = 8,       /* as CONFIG_MAX_RENDEZVOUS */
	NETCHECK_ATTEMPTS_MAX = 16,     /* requests remembered per target */
	NETCHECK_MAX_TARGETS = 2 * NETCHECK_MAX_SERVERS, /* each server and its other port */
	NETCHECK_RESEND_MS = 300,       /* STUN requests go again this often */
	NETCHECK_DEFAULT_TIMEOUT_MS = 1500,
	NETCHECK_ERR_LEN = 512,
};

enum netcheck_mapping {
	NETCHECK_MAPPING_UNKNOWN,      /* fewer than two destinations answered */
	NETCHECK_MAPPING_NONE,         /* no NAT: the servers see our own address and port */
	NETCHECK_MAPPING_INDEPENDENT,  /* one public endpoint for every destination */
	NETCHECK_MAPPING_DEPENDENT,    /* a public endpoint per destination */
};

/* One destination we asked: a server, or the other port it named. */
struct netcheck_target {
	struct rdv_endpoint addr;
	size_t server;                 /* index of the configured server it belongs to */
	bool is_other;                 /* the server's other port */
	bool answered;
	struct rdv_endpoint mapped;    /* our endpoint as it saw it */
	int64_t rtt_ms;                /* -1 until answered */
};

struct netcheck_family {
	bool asked, answered;
	uint16_t local_port;           /* our socket's port */
	struct rdv_endpoint public_ep; /* as the first server to answer saw it */
	enum netcheck_mapping mapping;
	int port_preserved;            /* 1, 0, or -1 unknown */
};

struct netcheck_report {
	struct netcheck_target targets[NETCHECK_MAX_TARGETS];
	size_t n_targets, n_servers;
	struct netcheck_family v4, v6;
	bool udp;                      /* any server answered */
	struct portmap_probe portmap;  /* what the IPv4 gateway answered */
};

/* A measurement in progress, for a caller with its own event loop (the
 * link does one at start, on its own sockets, so the link's socket and
 * its receive path are untouched):
 *   netcheck_start()    opens the sockets (nc->fd4 / nc->fd6, -1 if none)
 *   netcheck_poll()     when its return time comes: sends what is due
 *   netcheck_receive()  when an fd is readable
 *   netcheck_finish()   once poll returned 0: closes, fills nc->report */
struct netcheck {
	struct netcheck_report report;
	struct {
		uint8_t txid[NETCHECK_ATTEMPTS_MAX][12];
		uint64_t sent_ms[NETCHECK_ATTEMPTS_MAX];
		size_t n;
	} pending[NETCHECK_MAX_TARGETS];
	int fd4, fd6;
	uint64_t next_send_ms, deadline_ms;
};

/* Sets up a measurement of up to NETCHECK_MAX_SERVERS servers that ends by
 * now_ms + timeout_ms. Returns 0 or a negative errno (no socket at all). */
must_check int netcheck_start(struct netcheck *nc, const struct rdv_endpoint *servers, size_t n,
			      uint64_t now_ms, unsigned timeout_ms);

/* Sends the requests due; returns when to call again, or 0 when every
 * target answered or the time is up (then call netcheck_finish). */
uint64_t netcheck_poll(struct netcheck *nc, uint64_t now_ms);

/* Takes every datagram waiting on fd (one of nc's sockets). */
void netcheck_receive(struct netcheck *nc, int fd, uint64_t now_ms);

/* Closes the sockets and works out the summary in nc->report. Safe twice. */
void netcheck_finish(struct netcheck *nc);

/* Reads the Rendezvous servers of CONFIG_DIR/NAME.conf (checked as `up`
 * would). Returns 0, or a negative errno with one line for the user in err. */
must_check int netcheck_servers_from_config(const char *config_dir, const char *name,
					    struct rdv_endpoint *out, size_t max, size_t *n,
					    char err[static NETCHECK_ERR_LEN]);

/* Asks every server (and the other ports they name) until all answered or
 * timeout_ms passed, and probes the gateway for port mapping (when
 * `portmap` is true). Never fails: what did not answer stays unanswered. */
void netcheck_run(struct netcheck_report *r, const struct rdv_endpoint *servers, size_t n,
		  unsigned timeout_ms, bool portmap);

const char *netcheck_mapping_name(enum netcheck_mapping m);

#endif
