/* Asking the default gateway for a UDP port mapping, as Tailscale's
 * portmapper does: one short probe of all three protocols at once (PCP
 * ANNOUNCE and a NAT-PMP public address request to gateway:5351, an SSDP
 * M-SEARCH to gateway:1900), then a mapping through the first that answered
 * in the order PCP (our own client, tunnel/pcp.h), NAT-PMP (libnatpmp),
 * UPnP IGD (libminiupnpc).
 *
 * Everything here blocks, each call within a strict budget (PORTMAP_*_MS),
 * and runs off the packet path: the daemon probes and maps once before its
 * event loop starts, renews from a loop timer at half the lifetime (a LAN
 * round trip to a gateway that answered before), and deletes after the loop
 * ends. A gateway that answers nothing costs PORTMAP_PROBE_MS once. IPv4
 * only: an IPv6 host needs no port mapping to be reachable through a NAT. */
#ifndef TUNNEL_PORTMAP_H
#define TUNNEL_PORTMAP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "tunnel/pcp.h"

enum portmap_timing {
	PORTMAP_PROBE_MS = 250,     /* the probe of all three protocols */
	PORTMAP_MAP_MS = 500,       /* one PCP or NAT-PMP request and its answer */
	PORTMAP_LIFETIME_S = 7200,  /* asked for; RFC 6886 recommends two hours */
	PORTMAP_RETRY_S = 60,       /* a failed renewal is tried again this soon */
};

enum portmap_proto {
	PORTMAP_NONE,
	PORTMAP_UPNP,
	PORTMAP_NATPMP,
	PORTMAP_PCP,
};

enum { PORTMAP_URL_MAX = 256, PORTMAP_REASON_MAX = 128 };

/* What the gateway answered to the probe. */
struct portmap_probe {
	bool has_gateway;
	struct in_addr gateway, self;  /* the default gateway and our address towards it */
	bool pcp, natpmp, upnp;
	bool has_public;               /* NAT-PMP told us the gateway's public address */
	struct in_addr public_addr;
	char upnp_location[PORTMAP_URL_MAX]; /* the IGD's root description URL */
};

/* One mapping of our UDP port. */
struct portmap {
	enum portmap_proto proto;      /* PORTMAP_NONE: no mapping */
	struct portmap_probe probe;
	uint16_t internal_port;
	struct sockaddr_in external;   /* the gateway's public address and port */
	uint32_t lifetime_s;
	uint8_t nonce[PCP_NONCE_LEN];  /* PCP: names the mapping in renewals */
	char control_url[PORTMAP_URL_MAX], service_type[PORTMAP_URL_MAX]; /* UPnP */
	char reason[PORTMAP_REASON_MAX]; /* why there is no mapping ("" when there is one) */
};

const char *portmap_proto_name(enum portmap_proto p);

/* Finds the IPv4 default gateway (/proc/net/route) and our address towards
 * it. Returns 0, or -ENETUNREACH when there is no default route. */
must_check int portmap_find_gateway(struct in_addr *gateway, struct in_addr *self);

/* Probes the gateway for PCP, NAT-PMP and UPnP IGD at once, waiting at most
 * budget_ms (less when all three answered). Never fails: an empty probe
 * says nothing answered (probe->has_gateway false: no default route). */
void portmap_probe(struct portmap_probe *probe, unsigned budget_ms);

/* Probes, then maps UDP `port` through the first protocol that answered
 * (PCP, NAT-PMP, UPnP). Returns 0 with m->proto set, or a negative errno
 * with m->reason saying why (-ENOENT: nothing answered the probe). */
must_check int portmap_create(struct portmap *m, uint16_t port);

/* Asks for the same mapping again (before it expires). Returns 0, or a
 * negative errno (the mapping is then forgotten, m->reason says why). */
must_check int portmap_renew(struct portmap *m);

/* Deletes the mapping at the gateway (best effort) and forgets it. */
void portmap_delete(struct portmap *m);

#endif
