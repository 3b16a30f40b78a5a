/* The one reader of "HOST:PORT" text, for the config file (Endpoint,
 * Rendezvous), tunnel-rendezvous --listen and the test tools: where the
 * host ends, what brackets mean, which ports are valid and how each
 * mistake is worded. It only splits; what HOST may be is the caller's:
 * rendezvous/endpoint.c wants a literal address, tunnel/config.c also
 * resolves names with getaddrinfo.
 *
 *   HOST:PORT      HOST holds no ':' (a name or an IPv4 address)
 *   [IPV6]:PORT    the brackets hold an IPv6 address
 *   PORT           1-5 digits, 1-65535 (0 too when asked for) */
#ifndef COMMON_HOSTPORT_H
#define COMMON_HOSTPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"

/* A DNS name is at most 253 characters; an IPv6 literal far less. */
enum { HOSTPORT_HOST_MAX = 255 };

struct hostport {
	char host[HOSTPORT_HOST_MAX + 1];	/* without the brackets */
	uint16_t port;
	bool bracketed;				/* "[...]": the host is IPv6 */
};

/* Splits `s`. Returns 0, or -EINVAL with *why (when why is not NULL)
 * pointing to a static reason for the user: "expected [IPv6]:port",
 * "expected host:port (IPv6 in brackets)", "bad host" or "bad port".
 * Port 0 is accepted only when allow_port0. */
must_check int hostport_split(struct hostport *hp, const char *s, bool allow_port0,
			      const char **why);

#endif
