/* Endpoint conversions: socket addresses, text, equality. */
#include "rendezvous/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/hostport.h"

int rdv_endpoint_from_sockaddr(struct rdv_endpoint *ep, const struct sockaddr *sa)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		ep->family = AF_INET;
		memcpy(ep->addr, &sin->sin_addr, 4);
		ep->port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ep->family = AF_INET;
			memcpy(ep->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			ep->family = AF_INET6;
			memcpy(ep->addr, &sin6->sin6_addr, 16);
		}
		ep->port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void rdv_endpoint_to_sockaddr(const struct rdv_endpoint *ep, struct sockaddr_storage *ss,
			      socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ep->addr, 4);
		sin->sin_port = htons(ep->port);
		*sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ep->addr, 16);
		sin6->sin6_port = htons(ep->port);
		*sslen = sizeof(*sin6);
	}
}

bool rdv_endpoint_equal(const struct rdv_endpoint *a, const struct rdv_endpoint *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

const char *rdv_endpoint_str(const struct rdv_endpoint *ep, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (ep->family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", ip, ep->port);
	else
		snprintf(buf, cap, "%s:%u", ip, ep->port);
	return buf;
}

int rdv_endpoint_parse(struct rdv_endpoint *ep, const char *s, bool allow_port0)
{
	struct hostport hp;

	memset(ep, 0, sizeof(*ep));
	if (hostport_split(&hp, s, allow_port0, NULL) < 0)
		return -EINVAL;
	/* A literal address: IPv6 only in brackets, IPv4 only without. */
	ep->family = hp.bracketed ? AF_INET6 : AF_INET;
	if (inet_pton(ep->family, hp.host, ep->addr) != 1) {
		memset(ep, 0, sizeof(*ep));
		return -EINVAL;
	}
	ep->port = hp.port;
	return 0;
}
