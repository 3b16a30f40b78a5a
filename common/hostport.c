/* HOST:PORT text: see hostport.h for the rule. */
#include "common/hostport.h"

#include <errno.h>
#include <string.h>

#include "common/number.h"

static int refuse(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

int hostport_split(struct hostport *hp, const char *s, bool allow_port0, const char **why)
{
	const char *host = s, *port;
	size_t host_len;
	uint64_t num;

	memset(hp, 0, sizeof(*hp));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return refuse(why, "expected [IPv6]:port");
		host = s + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
		hp->bracketed = true;
	} else {
		const char *colon = strchr(s, ':');

		/* A second ':' is an IPv6 address without its brackets. */
		if (!colon || strchr(colon + 1, ':'))
			return refuse(why, "expected host:port (IPv6 in brackets)");
		host_len = (size_t)(colon - s);
		port = colon + 1;
	}
	if (host_len == 0 || host_len > HOSTPORT_HOST_MAX)
		return refuse(why, "bad host");
	if (strlen(port) > 5 || number_parse_uint(port, 65535, &num) < 0 ||
	    (num == 0 && !allow_port0))
		return refuse(why, "bad port");
	memcpy(hp->host, host, host_len);
	hp->host[host_len] = '\0';
	hp->port = (uint16_t)num;
	return 0;
}
