/* Endpoint conversions: socket addresses, text, equality. */
#include "rendezvous/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(ep, 0, sizeof(*ep));
	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port > 65535 || (port == 0 && !allow_port0))
		return -EINVAL;
	ep->port = (uint16_t)port;
	/* IPv6 only in brackets, IPv4 only without. */
	if (h == s && inet_pton(AF_INET, host, ep->addr) == 1) {
		ep->family = AF_INET;
		return 0;
	}
	if (h != s && inet_pton(AF_INET6, host, ep->addr) == 1) {
		ep->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}
