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
