/* A link's routing beyond its interface, wg-quick's way: the full tunnel's
 * table, mark and rules (tun/policy.h), DNS (tunnel/dns.h), and a record of
 * both in the run directory (RUN_DIR/NAME.routing) written before they are
 * applied and removed after they are undone, so that the next `up` of the
 * link removes exactly what a crashed (kill -9) daemon left behind. */
#ifndef TUNNEL_ROUTING_H
#define TUNNEL_ROUTING_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "tun/netlink.h"
#include "tun/policy.h"
#include "tunnel/config.h"
#include "tunnel/dns.h"

struct routing {
	bool full[2];			/* AllowedIPs has 0.0.0.0/0, ::/0 (Table = auto) */
	uint32_t table, fwmark;		/* the full tunnel's; fwmark also from FwMark */
	struct tun_policy policy;
	enum dns_backend dns;
	bool dns_applied;
	char record[PATH_MAX];		/* "" when none is written */
};

/* Removes what the record RUN_DIR/NAME.routing of a daemon that is gone
 * names (call once the link's control socket is ours), then the record.
 * Returns 0 or -1 with err filled; logs what it removed. */
must_check int routing_clean_stale(const char *run_dir, const char *name,
				   char err[static CONFIG_ERR_LEN]);

/* Decides the table and mark (wg-quick: FwMark, else the first free table
 * from 51820, used as both) and fills tc's routing fields. Nothing is
 * changed yet. */
must_check int routing_plan(struct routing *rt, const struct config *cfg,
			    struct tun_config *tc, char err[static CONFIG_ERR_LEN]);

/* After the interface is set up: writes the record, adds the rules and
 * sets DNS. On failure undoes its part and fills err. */
must_check int routing_apply(struct routing *rt, const struct config *cfg, const char *run_dir,
			     char err[static CONFIG_ERR_LEN]);

/* Undoes routing_apply (DNS, rules), then removes the record; logs
 * problems. Returns 0 or -1. Safe on a zeroed struct and twice. */
int routing_teardown(struct routing *rt, const char *name);

#endif
