/* struct tun_prefix: parsing, formatting, masking and containment. Pure
 * functions, no I/O; netlink.c uses them to decide which routes to add and
 * to word its errors. */
#include "tun/prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"

size_t tun_prefix_addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

bool tun_prefix_valid(const struct tun_prefix *p)
{
	size_t alen = tun_prefix_addr_len(p->family);

	return alen != 0 && p->len <= alen * 8;
}

int tun_prefix_parse(struct tun_prefix *p, const char *text)
{
	char buf[TUN_PREFIX_STRLEN];
	const char *slash;
	size_t alen;

	memset(p, 0, sizeof(*p));
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	slash = strchr(text, '/');
	memcpy(buf, text, slash ? (size_t)(slash - text) : strlen(text));
	buf[slash ? (size_t)(slash - text) : strlen(text)] = '\0';

	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	alen = tun_prefix_addr_len(p->family);
	p->len = (unsigned)alen * 8;

	if (slash) {
		const char *s = slash + 1;
		uint64_t v;

		/* Digits only (common/number.h), and at most "128" or "032". */
		if (strlen(s) > 3 || number_parse_uint(s, alen * 8, &v) < 0)
			return -EINVAL;
		p->len = (unsigned)v;
	}
	return 0;
}

void tun_prefix_mask(struct tun_prefix *p)
{
	size_t alen = tun_prefix_addr_len(p->family);

	for (size_t i = 0; i < alen; i++) {
		unsigned bit = (unsigned)i * 8;

		if (bit >= p->len)
			p->addr[i] = 0;
		else if (bit + 8 > p->len)
			p->addr[i] &= (uint8_t)(0xff << (8 - (p->len - bit)));
	}
	for (size_t i = alen; i < sizeof(p->addr); i++)
		p->addr[i] = 0;
}

bool tun_prefix_contains(const struct tun_prefix *outer,
			 const struct tun_prefix *inner)
{
	struct tun_prefix a = *outer, b = *inner;

	if (outer->family != inner->family || !tun_prefix_valid(outer) ||
	    !tun_prefix_valid(inner) || outer->len > inner->len)
		return false;
	/* Compare inner's address cut to outer's length. */
	b.len = a.len;
	tun_prefix_mask(&a);
	tun_prefix_mask(&b);
	return memcmp(a.addr, b.addr, sizeof(a.addr)) == 0;
}

bool tun_prefix_equal(const struct tun_prefix *a, const struct tun_prefix *b)
{
	size_t alen = tun_prefix_addr_len(a->family);

	return a->family == b->family && a->len == b->len && alen != 0 &&
	       memcmp(a->addr, b->addr, alen) == 0;
}

void tun_prefix_format_addr(const struct tun_prefix *p, char *buf, size_t buflen)
{
	char text[INET6_ADDRSTRLEN];

	if (!tun_prefix_addr_len(p->family) ||
	    !inet_ntop(p->family, p->addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "(family %d)", p->family);
	snprintf(buf, buflen, "%s", text);
}

void tun_prefix_format(const struct tun_prefix *p, char *buf, size_t buflen)
{
	char text[INET6_ADDRSTRLEN];

	tun_prefix_format_addr(p, text, sizeof(text));
	snprintf(buf, buflen, "%s/%u", text, p->len);
}
