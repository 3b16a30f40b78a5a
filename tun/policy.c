/* Full-tunnel policy routing (see policy.h). Rules and routes are built as
 * raw rtnetlink messages on a libnl socket: libnl-route's rule object has
 * no protocol attribute, and the kernel's NLMSG_ERROR is read directly
 * (libnl folds errnos into NLE_FAILURE), as tun/netlink.c does. */
#include "tun/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

enum { TABLES_TRIED = 1024 };

struct pctx {
	struct nl_sock *sk;
	int kerr;
};

static const int families[2] = { AF_INET, AF_INET6 };

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct pctx *c = arg;

	(void)nla;
	c->kerr = e->error < 0 ? e->error : -e->error;
	return NL_STOP;
}

static int open_ctx(struct pctx *c, struct tun_error *err)
{
	int r;

	c->sk = nl_socket_alloc();
	if (!c->sk)
		return tun_error_set(err, -ENOMEM, "out of memory");
	r = nl_socket_modify_err_cb(c->sk, NL_CB_CUSTOM, on_error, c);
	if (r >= 0)
		r = nl_connect(c->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(c->sk);
		c->sk = NULL;
		return tun_error_set(err, -EIO, "cannot open rtnetlink: %s", nl_geterror(r));
	}
	return 0;
}

/* Sends `msg` (freed) and waits for the ack: 0 or the kernel's -errno. */
static int send_sync(struct pctx *c, struct nl_msg *msg)
{
	int r;

	c->kerr = 0;
	r = nl_send_sync(c->sk, msg);
	if (r >= 0)
		return 0;
	return c->kerr ? c->kerr : -EIO;
}

/* "not fwmark M lookup T" (mark) or "lookup main suppress_prefixlength 0". */
static int rule_op(struct pctx *c, int family, bool mark, uint32_t table, uint32_t fwmark,
		   bool add)
{
	struct fib_rule_hdr frh = {
		.family = (uint8_t)family,
		.action = FR_ACT_TO_TBL,
		.flags = mark ? FIB_RULE_INVERT : 0,
	};
	uint32_t t = mark ? table : RT_TABLE_MAIN;
	struct nl_msg *msg;

	frh.table = t < 256 ? (uint8_t)t : RT_TABLE_UNSPEC;
	msg = nlmsg_alloc_simple(add ? RTM_NEWRULE : RTM_DELRULE,
				 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &frh, sizeof(frh), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, FRA_TABLE, t) < 0 ||
	    nla_put_u8(msg, FRA_PROTOCOL, TUN_POLICY_PROTOCOL) < 0 ||
	    (mark && (nla_put_u32(msg, FRA_FWMARK, fwmark) < 0 ||
		      nla_put_u32(msg, FRA_FWMASK, 0xffffffffu) < 0)) ||
	    (!mark && nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, 0) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return send_sync(c, msg);
}

/* "default dev IF table T". */
static int route_op(struct pctx *c, int family, unsigned ifindex, uint32_t table, bool add)
{
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)family,
		.rtm_dst_len = 0,
		.rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
		.rtm_protocol = RTPROT_STATIC,
		.rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(add ? RTM_NEWROUTE : RTM_DELROUTE,
				 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, RTA_TABLE, table) < 0 ||
	    nla_put_u32(msg, RTA_OIF, ifindex) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return send_sync(c, msg);
}

static bool gone(int r)
{
	return r == -ENOENT || r == -ESRCH || r == -ENODEV;
}

int tun_policy_free_table(uint32_t *table, struct tun_error *err)
{
	struct pctx c = { 0 };
	struct nl_cache *cache[2] = { NULL, NULL };
	int r;

	r = open_ctx(&c, err);
	if (r)
		return r;
	for (int f = 0; f < 2; f++) {
		c.kerr = 0;
		if (rtnl_route_alloc_cache(c.sk, families[f], 0, &cache[f]) < 0) {
			r = tun_error_set(err, c.kerr ? c.kerr : -EIO, "cannot read the routes: %s",
					  strerror(c.kerr ? -c.kerr : EIO));
			goto out;
		}
	}
	r = tun_error_set(err, -ENOSPC, "no free routing table from %d to %d",
			  TUN_POLICY_FIRST_TABLE, TUN_POLICY_FIRST_TABLE + TABLES_TRIED - 1);
	for (uint32_t t = TUN_POLICY_FIRST_TABLE; t < TUN_POLICY_FIRST_TABLE + TABLES_TRIED; t++) {
		bool used = false;

		for (int f = 0; f < 2 && !used; f++)
			for (struct nl_object *o = nl_cache_get_first(cache[f]); o && !used;
			     o = nl_cache_get_next(o))
				used = rtnl_route_get_table((struct rtnl_route *)o) == t;
		if (!used) {
			*table = t;
			err->msg[0] = '\0';
			r = 0;
			break;
		}
	}
out:
	nl_cache_free(cache[0]);
	nl_cache_free(cache[1]);
	nl_socket_free(c.sk);
	return r;
}

/* wg-quick: "sysctl -q net.ipv4.conf.all.src_valid_mark=1", so that reverse
 * path filtering sees the mark of our replies. Best effort. */
static void set_src_valid_mark(void)
{
	int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "1\n", 2) != 2) {
		/* nothing more to do: rp_filter off or loose works without it */
	}
	close(fd);
}

static int undo(struct pctx *c, struct tun_policy *p, struct tun_error *err)
{
	int first = 0, r;

	for (int f = 1; f >= 0; f--) {
		const char *fam = f ? "IPv6" : "IPv4";

		if (p->suppress_rule[f]) {
			r = rule_op(c, families[f], false, p->table, p->fwmark, false);
			if (r && !gone(r) && !first)
				first = tun_error_set(err, r, "cannot remove the %s rule "
					"'lookup main suppress_prefixlength 0': %s", fam, strerror(-r));
			p->suppress_rule[f] = false;
		}
		if (p->mark_rule[f]) {
			r = rule_op(c, families[f], true, p->table, p->fwmark, false);
			if (r && !gone(r) && !first)
				first = tun_error_set(err, r, "cannot remove the %s rule 'not fwmark "
					"0x%x lookup %u': %s", fam, p->fwmark, p->table, strerror(-r));
			p->mark_rule[f] = false;
		}
		/* A crashed daemon's interface is gone, and its routes with it. */
		if (p->route[f] && p->ifindex) {
			r = route_op(c, families[f], p->ifindex, p->table, false);
			if (r && !gone(r) && !first)
				first = tun_error_set(err, r, "cannot remove the %s default route "
					"of table %u: %s", fam, p->table, strerror(-r));
		}
		p->route[f] = false;
	}
	return first;
}

int tun_policy_setup(struct tun_policy *p, const char *ifname, uint32_t table,
		     uint32_t fwmark, bool v4, bool v6, struct tun_error *err)
{
	struct pctx c = { 0 };
	struct rtnl_link *link = NULL;
	struct tun_error undo_err;
	const bool want[2] = { v4, v6 };
	int r;

	memset(p, 0, sizeof(*p));
	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return tun_error_set(err, -EINVAL, "invalid interface name");
	if (!fwmark || !table)
		return tun_error_set(err, -EINVAL, "a full tunnel needs a table and a mark");
	r = open_ctx(&c, err);
	if (r)
		return r;
	c.kerr = 0;
	if (rtnl_link_get_kernel(c.sk, 0, ifname, &link) < 0) {
		r = tun_error_set(err, c.kerr ? c.kerr : -ENODEV, "no interface %s", ifname);
		goto out;
	}
	snprintf(p->name, sizeof(p->name), "%s", ifname);
	p->ifindex = (unsigned)rtnl_link_get_ifindex(link);
	p->table = table;
	p->fwmark = fwmark;
	/* wg-quick's order: the table's default route, the mark rule, then
	 * the rule that lets main's more specific routes win. */
	for (int f = 0; f < 2; f++) {
		const char *fam = f ? "IPv6" : "IPv4";

		if (!want[f])
			continue;
		r = route_op(&c, families[f], p->ifindex, table, true);
		if (r) {
			tun_error_set(err, r, "cannot add an %s default route through %s to table "
				      "%u: %s", fam, ifname, table, strerror(-r));
			goto fail;
		}
		p->route[f] = true;
		r = rule_op(&c, families[f], true, table, fwmark, true);
		if (r) {
			tun_error_set(err, r, "cannot add the %s rule 'not fwmark 0x%x lookup %u': %s",
				      fam, fwmark, table, strerror(-r));
			goto fail;
		}
		p->mark_rule[f] = true;
		r = rule_op(&c, families[f], false, table, fwmark, true);
		if (r) {
			tun_error_set(err, r, "cannot add the %s rule 'lookup main "
				      "suppress_prefixlength 0': %s", fam, strerror(-r));
			goto fail;
		}
		p->suppress_rule[f] = true;
	}
	if (v4)
		set_src_valid_mark();
	r = 0;
	goto out;
fail:
	(void)undo(&c, p, &undo_err);
	memset(p, 0, sizeof(*p));
out:
	rtnl_link_put(link);
	nl_socket_free(c.sk);
	return r;
}

int tun_policy_teardown(struct tun_policy *p, struct tun_error *err)
{
	struct pctx c = { 0 };
	int r;

	if (!p->route[0] && !p->route[1] && !p->mark_rule[0] && !p->mark_rule[1] &&
	    !p->suppress_rule[0] && !p->suppress_rule[1]) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	r = open_ctx(&c, err);
	if (!r) {
		r = undo(&c, p, err);
		nl_socket_free(c.sk);
	}
	memset(p, 0, sizeof(*p));
	return r;
}
