/* An IP prefix (address + prefix length, optionally a point-to-point peer):
 * the one value type tun/ uses for interface addresses and AllowedIPs routes.
 * Plain bytes in network order so the engine can fill it from its config
 * without touching netlink types. */
#ifndef TUN_PREFIX_H
#define TUN_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum tun_prefix_limits {
	TUN_ADDR_MAX_LEN = 16,	/* bytes of an IPv6 address */
	/* "ffff:...:ffff/128" plus NUL, rounded up. */
	TUN_PREFIX_STRLEN = 64,
};

struct tun_prefix {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[TUN_ADDR_MAX_LEN];	/* first 4 bytes for AF_INET */
	unsigned len;			/* prefix length in bits */
	/* Point-to-point: the far end's address. As with `ip addr add A peer
	 * P/len`, `len` then describes the peer's network, not `addr`'s.
	 * Only meaningful for interface addresses, never for routes. */
	bool has_peer;
	uint8_t peer[TUN_ADDR_MAX_LEN];
};

/* Bytes in an address of `family` (4 or 16), 0 for anything else. */
size_t tun_prefix_addr_len(int family);

/* True when family is AF_INET/AF_INET6 and len fits it. */
bool tun_prefix_valid(const struct tun_prefix *p);

/* Parses "10.2.0.0/24", "fd77::2/64" or a bare address (full length).
 * No peer. -EINVAL on anything else, including junk after the length. */
must_check int tun_prefix_parse(struct tun_prefix *p, const char *text);

/* Clears the host bits after `len` (AllowedIPs semantics: 10.2.0.9/24 is
 * the route 10.2.0.0/24). */
void tun_prefix_mask(struct tun_prefix *p);

/* True when every address in `inner` is also in `outer` (same family,
 * outer no longer than inner, equal network bits). */
bool tun_prefix_contains(const struct tun_prefix *outer,
			 const struct tun_prefix *inner);

/* Same family, length and address bytes (peers ignored). */
bool tun_prefix_equal(const struct tun_prefix *a, const struct tun_prefix *b);

/* "10.2.0.0/24" into buf (TUN_PREFIX_STRLEN bytes is always enough). */
void tun_prefix_format(const struct tun_prefix *p, char *buf, size_t buflen);

/* The address alone, "10.77.0.2" or "fd77::2". */
void tun_prefix_format_addr(const struct tun_prefix *p, char *buf, size_t buflen);

#endif
