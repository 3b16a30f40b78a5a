/* Endpoints (IPv4/IPv6 address + UDP port) as the rendezvous protocol carries
 * them, and their conversions to socket addresses and text. */
#ifndef RENDEZVOUS_ENDPOINT_H
#define RENDEZVOUS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"

enum { RDV_ENDPOINT_STR = 64 };

/* An IPv4 or IPv6 address (network order) and a port (host order). */
struct rdv_endpoint {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/* Returns 0, or -EAFNOSUPPORT for anything but AF_INET/AF_INET6. An IPv4-mapped
 * IPv6 address becomes plain IPv4. */
must_check int rdv_endpoint_from_sockaddr(struct rdv_endpoint *ep, const struct sockaddr *sa);

void rdv_endpoint_to_sockaddr(const struct rdv_endpoint *ep, struct sockaddr_storage *ss,
			      socklen_t *sslen);

bool rdv_endpoint_equal(const struct rdv_endpoint *a, const struct rdv_endpoint *b);

/* "192.0.2.1:3478" or "[2001:db8::1]:3478"; returns buf. */
const char *rdv_endpoint_str(const struct rdv_endpoint *ep, char *buf, size_t cap);

/* Parses "ADDR:PORT" or "[V6ADDR]:PORT" (split by common/hostport.h), the
 * address a literal. Returns 0 or -EINVAL; port 0 only when allow_port0. */
must_check int rdv_endpoint_parse(struct rdv_endpoint *ep, const char *s, bool allow_port0);

#endif
