/* libFuzzer target: the STUN parser (rendezvous/stun.h) on arbitrary
 * bytes. Oracle beyond "no crash": a parsed message's attributes lie inside
 * the datagram, and for an answerable request the Binding response we build
 * parses back and tells exactly the source address we gave it, over IPv4
 * and IPv6. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(const struct stun_msg *req, const struct sockaddr *src)
{
	uint8_t out[STUN_RESPONSE_MAX];
	static struct stun_msg resp;
	size_t out_len = 0;
	int r = stun_build_binding_response(req, src, out, sizeof(out), &out_len);

	/* RFC 3489's MAPPED-ADDRESS has no IPv6 form. */
	if (req->legacy && src->sa_family == AF_INET6) {
		if (r != -EAFNOSUPPORT)
			abort();
		return;
	}
	if (r != 0 || out_len < STUN_HEADER_LEN || out_len > sizeof(out))
		abort();
	if (req->legacy)
		return; /* RFC 3489 replies carry no cookie: not ours to parse */
	if (stun_parse(out, out_len, &resp) != STUN_OK || resp.type != STUN_BINDING_SUCCESS ||
	    !resp.has_mapped || memcmp(resp.txid, req->txid, STUN_TXID_LEN) ||
	    resp.has_fingerprint != req->has_fingerprint)
		abort();
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)src;
		const struct sockaddr_in *b = (const struct sockaddr_in *)(const void *)&resp.mapped;

		if (b->sin_family != AF_INET || b->sin_port != a->sin_port ||
		    b->sin_addr.s_addr != a->sin_addr.s_addr)
			abort();
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)src;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)(const void *)&resp.mapped;

		if (b->sin6_family != AF_INET6 || b->sin6_port != a->sin6_port ||
		    memcmp(&b->sin6_addr, &a->sin6_addr, sizeof(a->sin6_addr)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stun_msg msg;
	enum stun_parse_result r = stun_parse(data, size, &msg);
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(51820) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(3478) };
	const char *name = stun_parse_result_name(r);

	if (!name || !name[0])
		abort();
	if (r != STUN_OK)
		return 0;
	if (msg.n_attrs > STUN_MAX_ATTRS)
		abort();
	for (size_t i = 0; i < msg.n_attrs; i++) {
		if ((size_t)msg.attrs[i].offset + msg.attrs[i].len > size)
			abort();
	}
	if (!stun_is_answerable(&msg))
		return 0;
	inet_pton(AF_INET, "198.51.100.7", &v4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);
	answer(&msg, (const struct sockaddr *)&v4);
	answer(&msg, (const struct sockaddr *)&v6);
	return 0;
}
