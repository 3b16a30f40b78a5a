/* Configuring the TUN interface through rtnetlink (libnl-route-3 only):
 * MTU, IPv4/IPv6 addresses (point-to-point peers too), link state, and one
 * route per AllowedIPs prefix through the interface.
 *
 * tun_setup applies a struct tun_config and records in struct tun_applied
 * exactly what it changed; tun_teardown undoes exactly that and nothing
 * else. A failing tun_setup has already undone its partial work. */
#ifndef TUN_NETLINK_H
#define TUN_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "tun/error.h"
#include "tun/prefix.h"

enum tun_mtu_limits {
	TUN_MTU_MIN = 68,	/* IPv4's minimum, also the kernel's for TUN */
	TUN_MTU_MIN_IPV6 = 1280,
	TUN_MTU_MAX = 65535,
};

/* Filled by the engine from [Interface] Address/MTU and [Peer] AllowedIPs.
 * The arrays stay owned by the caller and are only read. */
struct tun_config {
	unsigned mtu;			/* 0 keeps the kernel's default */
	const struct tun_prefix *addrs;	/* Address = ..., peers allowed */
	size_t addrs_len;
	const struct tun_prefix *routes;/* AllowedIPs; host bits are ignored */
	size_t routes_len;
	uint32_t table;			/* the routes' table; 0: main */
	bool skip_default;		/* no /0 routes: a full tunnel's are
					 * tun/policy.h's, in their own table */
	const char *master;		/* a Linux bridge to enslave the link to; NULL: none */
};

/* What tun_setup changed. Owned by the caller; tun_teardown frees the
 * arrays. A zeroed struct is a valid "nothing applied". */
struct tun_applied {
	char name[IFNAMSIZ];
	unsigned ifindex;
	uint32_t table;			/* where the routes are */
	bool mtu_changed;
	unsigned old_mtu;
	bool brought_up;
	bool enslaved;			/* to cfg->master, released at teardown */
	struct tun_prefix *addrs;	/* addresses we added, in order */
	size_t addrs_len;
	struct tun_prefix *routes;	/* routes we added, masked, in order */
	size_t routes_len;
	size_t routes_covered;	/* AllowedIPs already covered by a connected
				 * route of ours, so not added */
};

/* Configures interface `ifname` (normally just created, still down) in this
 * order: MTU, bridge port (cfg->master must be an existing Linux bridge),
 * link up, addresses, routes. Refuses an address that another
 * interface already has and a route whose exact prefix another interface or
 * a blackhole already routes, and says plainly when IPv6 is disabled. On
 * failure returns -errno, fills err and leaves the interface as it was. */
must_check int tun_setup(struct tun_applied *applied, const char *ifname,
			 const struct tun_config *cfg, struct tun_error *err);

/* Removes our routes and addresses, takes the link down if we brought it up
 * and restores the MTU. Keeps going past errors, frees the record and zeroes
 * it either way; returns the first error (an interface that has already
 * vanished is not one). Safe on a zeroed struct and safe to call twice. */
must_check int tun_teardown(struct tun_applied *applied, struct tun_error *err);

/* Moves a set-up interface from what `applied` records to `cfg` (a reload):
 * sets the MTU, adds the addresses and routes `cfg` has and `applied` does
 * not, then removes those it no longer has; what both have is not touched,
 * so traffic on it never stops. On failure what this call added is removed
 * again and `applied` still describes the interface; on success it records
 * the new set (and still the MTU to restore at teardown). */
must_check int tun_update(struct tun_applied *applied, const struct tun_config *cfg,
			  struct tun_error *err);

#endif
