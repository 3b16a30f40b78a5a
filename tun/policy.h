/* Policy routing for a full tunnel (AllowedIPs = 0.0.0.0/0 and/or ::/0),
 * the way wg-quick(8) does it, through rtnetlink (libnl-3), per family:
 *
 *   default dev IF table T            the tunnel's own table
 *   not fwmark M lookup T             everything unmarked: into the tunnel
 *   lookup main suppress_prefixlength 0
 *                                     ...except what main routes more
 *                                     specifically than a default route
 *
 * The link's own UDP socket carries mark M (SO_MARK), so its datagrams
 * (WireGuard, rendezvous, probes, keepalives) keep the real default route.
 * The rules carry protocol TUN_POLICY_PROTOCOL, so that removing them
 * (at teardown, or after a crashed daemon) never takes a rule that is not
 * ours even when it looks the same (wg-quick's own, for instance). */
#ifndef TUN_POLICY_H
#define TUN_POLICY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "tun/error.h"

enum tun_policy_limits {
	TUN_POLICY_FIRST_TABLE = 51820,	/* wg-quick's first automatic table */
	TUN_POLICY_PROTOCOL = 110,	/* rule protocol: "ip rule" shows proto 110 */
};

/* What tun_policy_setup added; a zeroed struct is "nothing". Index 0 is
 * IPv4, 1 is IPv6. */
struct tun_policy {
	char name[IFNAMSIZ];
	unsigned ifindex;		/* 0: the interface is gone (a crashed daemon's) */
	uint32_t table, fwmark;
	bool route[2], mark_rule[2], suppress_rule[2];
};

/* The first table from TUN_POLICY_FIRST_TABLE with no route in it (either
 * family), as wg-quick picks one. */
must_check int tun_policy_free_table(uint32_t *table, struct tun_error *err);

/* Adds the routes and rules above for IPv4 (v4) and/or IPv6 (v6) through
 * interface `ifname`, and sets net.ipv4.conf.all.src_valid_mark as wg-quick
 * does. On failure removes what it added and fills err. */
must_check int tun_policy_setup(struct tun_policy *p, const char *ifname, uint32_t table,
				uint32_t fwmark, bool v4, bool v6, struct tun_error *err);

/* Removes what `p` records (rules, then routes); one already gone is no
 * error. Zeroes `p`; returns the first error. Safe on a zeroed struct. */
must_check int tun_policy_teardown(struct tun_policy *p, struct tun_error *err);

#endif
