/* Interface configuration through libnl-route-3: MTU, addresses, link state
 * and AllowedIPs routes, each step recorded in struct tun_applied so that
 * teardown (and rollback of a failed setup) removes exactly what we added.
 *
 * Kernel errors are captured raw from NLMSG_ERROR (libnl folds many errnos
 * into NLE_FAILURE) and turned into one-line messages naming what is in the
 * way. Checks that the kernel would not make (the same IPv4 address on two
 * interfaces, a route already pointing elsewhere) are done from a dump just
 * before the step they guard. */
#include "tun/netlink.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

struct nlctx {
	struct nl_sock *sk;
	int kerr;		/* -errno of the last NLMSG_ERROR, or 0 */
	const char *ifname;
	unsigned ifindex;
	uint32_t table;		/* the routes' table: RT_TABLE_MAIN unless Table = N */
};

static int on_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlctx *c = arg;

	(void)nla;
	c->kerr = e->error < 0 ? e->error : -e->error;
	return NL_STOP;
}

/* A libnl return code as -errno, preferring what the kernel said. */
static int nl_result(struct nlctx *c, int r)
{
	if (r >= 0)
		return 0;
	if (c->kerr)
		return c->kerr;
	switch (-r) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

static int nlc_open(struct nlctx *c, struct tun_error *err)
{
	int r;

	c->sk = nl_socket_alloc();
	if (!c->sk)
		return tun_error_set(err, -ENOMEM, "out of memory");
	r = nl_socket_modify_err_cb(c->sk, NL_CB_CUSTOM, on_nl_error, c);
	if (r >= 0)
		r = nl_connect(c->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(c->sk);
		c->sk = NULL;
		return tun_error_set(err, -EIO, "cannot open rtnetlink: %s",
				     nl_geterror(r));
	}
	return 0;
}

static void nlc_close(struct nlctx *c)
{
	nl_socket_free(c->sk);	/* closes the socket too */
	c->sk = NULL;
}

/* Name of interface `ifindex` for messages ("ifindex 7" if it is gone). */
static void ifindex_name(struct nlctx *c, int ifindex, char *buf, size_t len)
{
	struct rtnl_link *l = NULL;

	c->kerr = 0;
	if (ifindex > 0 && rtnl_link_get_kernel(c->sk, ifindex, NULL, &l) >= 0 &&
	    rtnl_link_get_name(l))
		snprintf(buf, len, "%s", rtnl_link_get_name(l));
	else
		snprintf(buf, len, "ifindex %d", ifindex);
	rtnl_link_put(l);
}

static int nl_addr_from_prefix(struct nl_addr **out, const struct tun_prefix *p,
			       const uint8_t *bytes)
{
	struct nl_addr *a = nl_addr_build(p->family, bytes,
					  tun_prefix_addr_len(p->family));

	if (!a)
		return -ENOMEM;
	nl_addr_set_prefixlen(a, (int)p->len);
	*out = a;
	return 0;
}

/* An nl_addr (route dst, address local) as a tun_prefix. */
static bool prefix_from_nl_addr(struct tun_prefix *p, struct nl_addr *a, int family)
{
	size_t alen = tun_prefix_addr_len(family);

	memset(p, 0, sizeof(*p));
	p->family = family;
	if (!alen)
		return false;
	if (a) {
		/* A default route may come with an empty address. */
		if (nl_addr_get_len(a) == alen)
			memcpy(p->addr, nl_addr_get_binary_addr(a), alen);
		else if (nl_addr_get_len(a) != 0)
			return false;
		p->len = nl_addr_get_prefixlen(a);
	}
	return p->len <= alen * 8;
}

/* "1" in /proc/sys/net/ipv6/conf/NAME/disable_ipv6 (our netns's view). */
static bool ipv6_disabled(const char *ifname, bool *whole_system)
{
	char path[96], buf[8] = "";
	ssize_t n;
	int fd;

	*whole_system = access("/proc/sys/net/ipv6", F_OK) != 0;
	if (*whole_system)
		return true;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && buf[0] == '1';
}

/* Words an IPv6 failure as "IPv6 is disabled" when that is the cause. */
static bool explain_ipv6(struct nlctx *c, int family, int r, struct tun_error *err)
{
	bool whole;

	if (family != AF_INET6 || !ipv6_disabled(c->ifname, &whole))
		return false;
	if (whole)
		tun_error_set(err, r, "IPv6 is disabled on this system (ipv6.disable=1)");
	else
		tun_error_set(err, r, "IPv6 is disabled on %s (net.ipv6.conf.%s.disable_ipv6=1)",
			      c->ifname, c->ifname);
	return true;
}

static int explain_common(struct nlctx *c, int r, const char *what,
			  struct tun_error *err)
{
	if (r == -EPERM || r == -EACCES)
		return tun_error_set(err, r, "%s on %s needs root or CAP_NET_ADMIN",
				     what, c->ifname);
	if (r == -ENODEV)
		return tun_error_set(err, r, "interface %s disappeared", c->ifname);
	return tun_error_set(err, r, "%s on %s failed: %s", what, c->ifname,
			     strerror(-r));
}

/* mtu 0 keeps it; up < 0 keeps the state, 0 takes it down, 1 brings it up. */
static int link_change(struct nlctx *c, unsigned mtu, int up)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	int r = -ENOMEM;

	if (orig && chg) {
		rtnl_link_set_ifindex(orig, (int)c->ifindex);
		if (mtu)
			rtnl_link_set_mtu(chg, mtu);
		if (up > 0)
			rtnl_link_set_flags(chg, IFF_UP);
		else if (up == 0)
			rtnl_link_unset_flags(chg, IFF_UP);
		c->kerr = 0;
		r = nl_result(c, rtnl_link_change(c->sk, orig, chg, 0));
	}
	rtnl_link_put(orig);
	rtnl_link_put(chg);
	return r;
}

/* Makes the link a port of the Linux bridge `master` (which must be one). */
static int enslave(struct nlctx *c, const char *master, struct tun_error *err)
{
	struct rtnl_link *m = NULL;
	const char *type;
	int r;

	c->kerr = 0;
	r = nl_result(c, rtnl_link_get_kernel(c->sk, 0, master, &m));
	if (r) {
		if (r == -ENODEV || r == -ENOENT)
			return tun_error_set(err, -ENODEV, "Bridge %s: no such interface (create it "
					     "first: ip link add %s type bridge)", master, master);
		return tun_error_set(err, r, "Bridge %s: %s", master, strerror(-r));
	}
	type = rtnl_link_get_type(m);	/* m owns it */
	if (!type || strcmp(type, "bridge")) {
		r = tun_error_set(err, -EINVAL, "Bridge %s is not a Linux bridge (it is %s)",
				  master, type ? type : "a plain interface");
		rtnl_link_put(m);
		return r;
	}
	c->kerr = 0;
	r = nl_result(c, rtnl_link_enslave_ifindex(c->sk, rtnl_link_get_ifindex(m), (int)c->ifindex));
	rtnl_link_put(m);
	if (r)
		return tun_error_set(err, r, "cannot add %s to bridge %s: %s", c->ifname, master,
				     strerror(-r));
	return 0;
}

/* RTM_NEWADDR/RTM_DELADDR built by hand: rtnl_addr_set_peer refuses IPv6
 * peers, and the kernel takes IFA_LOCAL + IFA_ADDRESS (peer) for both. */
static int addr_op(struct nlctx *c, const struct tun_prefix *p, bool add)
{
	struct ifaddrmsg ifa = {
		.ifa_family = (uint8_t)p->family,
		.ifa_prefixlen = (uint8_t)p->len,
		.ifa_index = c->ifindex,
		/* Duplicate address detection means nothing on a layer-3
		 * tunnel with no neighbours; skip it so the address never
		 * sits tentative (ipv6_wait_ready covers the rest). */
		.ifa_flags = add && p->family == AF_INET6 ? IFA_F_NODAD : 0,
	};
	int alen = (int)tun_prefix_addr_len(p->family);
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(add ? RTM_NEWADDR : RTM_DELADDR,
				 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, IFA_LOCAL, alen, p->addr) < 0 ||
	    nla_put(msg, IFA_ADDRESS, alen, p->has_peer ? p->peer : p->addr) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	c->kerr = 0;
	return nl_result(c, nl_send_sync(c->sk, msg));	/* frees msg */
}

/* Another interface already holding `p`'s address: its ifindex, else 0. */
static int addr_owner(struct nlctx *c, const struct tun_prefix *p, int *owner)
{
	size_t alen = tun_prefix_addr_len(p->family);
	struct nl_cache *cache = NULL;
	struct nl_object *o;

	*owner = 0;
	c->kerr = 0;
	if (rtnl_addr_alloc_cache(c->sk, &cache) < 0)
		return nl_result(c, -NLE_FAILURE);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);

		if (rtnl_addr_get_family(a) != p->family || !local ||
		    nl_addr_get_len(local) != alen ||
		    memcmp(nl_addr_get_binary_addr(local), p->addr, alen) != 0)
			continue;
		if (rtnl_addr_get_ifindex(a) != (int)c->ifindex) {
			*owner = rtnl_addr_get_ifindex(a);
			break;
		}
	}
	nl_cache_free(cache);
	return 0;
}

static int addr_add(struct nlctx *c, const struct tun_prefix *p, struct tun_error *err)
{
	char text[TUN_PREFIX_STRLEN], other[IFNAMSIZ + 16];
	int owner, r;

	tun_prefix_format_addr(p, text, sizeof(text));
	r = addr_owner(c, p, &owner);
	if (r)
		return explain_common(c, r, "reading addresses", err);
	if (owner) {
		/* The kernel would accept it, but two interfaces answering
		 * for one address is never what the user meant. */
		ifindex_name(c, owner, other, sizeof(other));
		return tun_error_set(err, -EADDRINUSE,
				     "address %s is already on interface %s", text, other);
	}
	r = addr_op(c, p, true);
	if (!r)
		return 0;
	if (r == -EEXIST)
		return tun_error_set(err, r, "address %s is already on interface %s",
				     text, c->ifname);
	if (explain_ipv6(c, p->family, r, err))
		return r;
	if (r == -EINVAL && p->family == AF_INET6)
		return tun_error_set(err, r, "cannot add address %s to %s: %s (is the MTU below %d?)",
				     text, c->ifname, strerror(-r), TUN_MTU_MIN_IPV6);
	return explain_common(c, r, "adding an address", err);
}

/* True when the kernel has put `addr`'s local route in place. */
static bool local_route_present(struct nl_cache *cache, const struct tun_prefix *addr)
{
	struct tun_prefix host = *addr;

	host.len = (unsigned)tun_prefix_addr_len(addr->family) * 8;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct tun_prefix dst;

		if (rtnl_route_get_table(rt) == RT_TABLE_LOCAL &&
		    rtnl_route_get_type(rt) == RTN_LOCAL &&
		    prefix_from_nl_addr(&dst, rtnl_route_get_dst(rt), addr->family) &&
		    tun_prefix_equal(&dst, &host))
			return true;
	}
	return false;
}

enum { IPV6_READY_TIMEOUT_MS = 2000, IPV6_READY_POLL_MS = 5 };

/* The kernel finishes an IPv6 address from a work queue after acking it:
 * until then packets to it are dropped (Ip6InAddrErrors). Wait, bounded,
 * so that the addresses work the moment tun_setup returns. */
static int ipv6_wait_ready(struct nlctx *c, const struct tun_applied *ap,
			   struct tun_error *err)
{
	uint64_t deadline = clock_now_ms() + IPV6_READY_TIMEOUT_MS;

	for (;;) {
		struct nl_cache *cache = NULL;
		const struct tun_prefix *missing = NULL;
		char text[TUN_PREFIX_STRLEN];

		c->kerr = 0;
		if (rtnl_route_alloc_cache(c->sk, AF_INET6, 0, &cache) < 0)
			return explain_common(c, nl_result(c, -NLE_FAILURE), "reading routes", err);
		for (size_t i = 0; i < ap->addrs_len && !missing; i++)
			if (ap->addrs[i].family == AF_INET6 &&
			    !local_route_present(cache, &ap->addrs[i]))
				missing = &ap->addrs[i];
		nl_cache_free(cache);
		if (!missing)
			return 0;
		if (clock_now_ms() >= deadline) {
			tun_prefix_format_addr(missing, text, sizeof(text));
			return tun_error_set(err, -ETIMEDOUT,
					     "IPv6 address %s on %s did not become usable within %d ms",
					     text, c->ifname, IPV6_READY_TIMEOUT_MS);
		}
		poll(NULL, 0, IPV6_READY_POLL_MS);
	}
}

static struct rtnl_route *route_build(struct nlctx *c, const struct tun_prefix *p)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL;

	if (!rt || !nh || nl_addr_from_prefix(&dst, p, p->addr) ||
	    rtnl_route_set_dst(rt, dst) < 0) {
		nl_addr_put(dst);
		rtnl_route_nh_free(nh);
		rtnl_route_put(rt);
		return NULL;
	}
	nl_addr_put(dst);
	rtnl_route_set_table(rt, c->table);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	/* What `ip route add P dev X` sends: link scope for IPv4, universe
	 * for IPv6. */
	rtnl_route_set_scope(rt, p->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
	rtnl_route_nh_set_ifindex(nh, (int)c->ifindex);
	rtnl_route_add_nexthop(rt, nh);	/* rt owns nh now */
	return rt;
}

static int route_op(struct nlctx *c, const struct tun_prefix *p, bool add)
{
	struct rtnl_route *rt = route_build(c, p);
	int r;

	if (!rt)
		return -ENOMEM;
	c->kerr = 0;
	r = nl_result(c, add ? rtnl_route_add(c->sk, rt, NLM_F_EXCL)
			     : rtnl_route_delete(c->sk, rt, 0));
	rtnl_route_put(rt);
	return r;
}

enum route_verdict {
	ROUTE_ADD,		/* nothing in the way */
	ROUTE_COVERED,		/* a connected route of ours already covers it */
	ROUTE_CONFLICT,		/* the same prefix goes elsewhere */
};

/* Looks at the main table as the kernel has it now, after our addresses and
 * link-up created the connected routes. *other names what is in the way. */
static int route_check(struct nlctx *c, const struct tun_prefix *p,
		       enum route_verdict *verdict, char *other, size_t otherlen)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int conflict_ifindex = -1;
	uint8_t conflict_type = RTN_UNICAST;

	*verdict = ROUTE_ADD;
	c->kerr = 0;
	if (rtnl_route_alloc_cache(c->sk, p->family, 0, &cache) < 0)
		return nl_result(c, -NLE_FAILURE);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh = NULL;
		struct tun_prefix dst;
		int oif = 0;

		if (rtnl_route_get_table(rt) != c->table ||
		    !prefix_from_nl_addr(&dst, rtnl_route_get_dst(rt), p->family))
			continue;
		if (rtnl_route_get_nnexthops(rt) > 0)
			nh = rtnl_route_nexthop_n(rt, 0);
		if (nh)
			oif = rtnl_route_nh_get_ifindex(nh);
		if (oif == (int)c->ifindex) {
			if (rtnl_route_get_type(rt) == RTN_UNICAST &&
			    rtnl_route_get_protocol(rt) == RTPROT_KERNEL &&
			    tun_prefix_contains(&dst, p)) {
				*verdict = ROUTE_COVERED;
				break;
			}
			continue;
		}
		if (tun_prefix_equal(&dst, p) && conflict_ifindex < 0) {
			conflict_ifindex = oif;
			conflict_type = rtnl_route_get_type(rt);
		}
	}
	nl_cache_free(cache);
	if (*verdict == ROUTE_COVERED || conflict_ifindex < 0)
		return 0;

	*verdict = ROUTE_CONFLICT;
	if (conflict_type == RTN_UNICAST && conflict_ifindex > 0) {
		char name[IFNAMSIZ + 16];

		ifindex_name(c, conflict_ifindex, name, sizeof(name));
		snprintf(other, otherlen, "via %s", name);
	} else {
		char type[32];

		snprintf(other, otherlen, "of type %s",
			 nl_rtntype2str(conflict_type, type, sizeof(type)));
	}
	return 0;
}

static int route_add(struct nlctx *c, const struct tun_prefix *p,
		     enum route_verdict *verdict, struct tun_error *err)
{
	char text[TUN_PREFIX_STRLEN], other[IFNAMSIZ + 48];
	int r;

	tun_prefix_format(p, text, sizeof(text));
	r = route_check(c, p, verdict, other, sizeof(other));
	if (r)
		return explain_common(c, r, "reading routes", err);
	if (*verdict == ROUTE_COVERED)
		return 0;
	if (*verdict == ROUTE_CONFLICT)
		return tun_error_set(err, -EEXIST,
				     "route %s conflicts with an existing route %s",
				     text, other);
	r = route_op(c, p, true);
	if (!r)
		return 0;
	if (r == -EEXIST)
		return tun_error_set(err, r, "route %s conflicts with an existing route",
				     text);
	if (explain_ipv6(c, p->family, r, err))
		return r;
	return explain_common(c, r, "adding a route", err);
}

static bool addr_usable(const struct tun_prefix *p)
{
	size_t alen = tun_prefix_addr_len(p->family);
	static const uint8_t zero[TUN_ADDR_MAX_LEN];

	if (memcmp(p->addr, zero, alen) == 0)
		return false;
	if (p->family == AF_INET)
		return p->addr[0] < 224;	/* not multicast or class E */
	return p->addr[0] != 0xff;		/* not multicast */
}

/* Everything that can be said about the config without the kernel. */
static int config_check(const struct tun_config *cfg, struct tun_error *err)
{
	char text[TUN_PREFIX_STRLEN];
	bool any_ipv6 = false;

	if ((cfg->addrs_len && !cfg->addrs) || (cfg->routes_len && !cfg->routes))
		return tun_error_set(err, -EINVAL, "interface config has no arrays");
	if (cfg->mtu && (cfg->mtu < TUN_MTU_MIN || cfg->mtu > TUN_MTU_MAX))
		return tun_error_set(err, -EINVAL, "MTU %u is out of range (%d-%d)",
				     cfg->mtu, TUN_MTU_MIN, TUN_MTU_MAX);
	for (size_t i = 0; i < cfg->addrs_len; i++) {
		const struct tun_prefix *p = &cfg->addrs[i];

		if (!tun_prefix_valid(p))
			return tun_error_set(err, -EINVAL, "address %zu is not a valid IPv4 or IPv6 prefix", i + 1);
		tun_prefix_format_addr(p, text, sizeof(text));
		if (!addr_usable(p))
			return tun_error_set(err, -EINVAL, "address %s cannot be an interface address", text);
		for (size_t j = 0; j < i; j++)
			if (cfg->addrs[j].family == p->family &&
			    !memcmp(cfg->addrs[j].addr, p->addr, sizeof(p->addr)))
				return tun_error_set(err, -EINVAL, "address %s is listed twice", text);
		any_ipv6 |= p->family == AF_INET6;
	}
	for (size_t i = 0; i < cfg->routes_len; i++) {
		const struct tun_prefix *p = &cfg->routes[i];

		if (!tun_prefix_valid(p))
			return tun_error_set(err, -EINVAL, "route %zu is not a valid IPv4 or IPv6 prefix", i + 1);
		if (p->has_peer) {
			tun_prefix_format(p, text, sizeof(text));
			return tun_error_set(err, -EINVAL, "route %s cannot have a peer address", text);
		}
		any_ipv6 |= p->family == AF_INET6;
	}
	if (any_ipv6 && cfg->mtu && cfg->mtu < TUN_MTU_MIN_IPV6)
		return tun_error_set(err, -EINVAL, "MTU %u is below %d, the minimum for IPv6",
				     cfg->mtu, TUN_MTU_MIN_IPV6);
	return 0;
}

static void applied_free(struct tun_applied *applied)
{
	free(applied->addrs);
	free(applied->routes);
	memset(applied, 0, sizeof(*applied));
}

/* Undo in reverse order of setup. Returns the first real error. */
static int undo(struct nlctx *c, struct tun_applied *ap, struct tun_error *err)
{
	int first = 0, r;
	char text[TUN_PREFIX_STRLEN];

	for (size_t i = ap->routes_len; i-- > 0;) {
		r = route_op(c, &ap->routes[i], false);
		if (r == -ENODEV)
			return 0;	/* interface gone: so is everything on it */
		if (r && r != -ESRCH && r != -ENOENT && !first) {
			tun_prefix_format(&ap->routes[i], text, sizeof(text));
			first = tun_error_set(err, r, "cannot remove route %s from %s: %s",
					      text, c->ifname, strerror(-r));
		}
	}
	for (size_t i = ap->addrs_len; i-- > 0;) {
		r = addr_op(c, &ap->addrs[i], false);
		if (r == -ENODEV)
			return 0;
		if (r && r != -EADDRNOTAVAIL && !first) {
			tun_prefix_format_addr(&ap->addrs[i], text, sizeof(text));
			first = tun_error_set(err, r, "cannot remove address %s from %s: %s",
					      text, c->ifname, strerror(-r));
		}
	}
	if (ap->enslaved) {
		c->kerr = 0;
		r = nl_result(c, rtnl_link_release_ifindex(c->sk, (int)c->ifindex));
		if (r == -ENODEV)
			return first;
		if (r && !first)
			first = tun_error_set(err, r, "cannot take %s out of its bridge: %s",
					      c->ifname, strerror(-r));
	}
	if (ap->brought_up || ap->mtu_changed) {
		r = link_change(c, ap->mtu_changed ? ap->old_mtu : 0,
				ap->brought_up ? 0 : -1);
		if (r && r != -ENODEV && !first)
			first = tun_error_set(err, r, "cannot restore link state of %s: %s",
					      c->ifname, strerror(-r));
	}
	return first;
}

int tun_setup(struct tun_applied *applied, const char *ifname,
	      const struct tun_config *cfg, struct tun_error *err)
{
	struct nlctx c = { .ifname = ifname, .table = cfg->table ? cfg->table : RT_TABLE_MAIN };
	struct rtnl_link *link = NULL;
	struct tun_applied *ap = applied;
	struct tun_error undo_err;
	int r;

	memset(ap, 0, sizeof(*ap));
	ap->table = c.table;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return tun_error_set(err, -EINVAL, "invalid interface name");
	r = config_check(cfg, err);
	if (r)
		return r;
	if ((cfg->addrs_len && !(ap->addrs = calloc(cfg->addrs_len, sizeof(*ap->addrs)))) ||
	    (cfg->routes_len && !(ap->routes = calloc(cfg->routes_len, sizeof(*ap->routes))))) {
		applied_free(ap);
		return tun_error_set(err, -ENOMEM, "out of memory");
	}
	r = nlc_open(&c, err);
	if (r) {
		applied_free(ap);
		return r;
	}

	r = nl_result(&c, rtnl_link_get_kernel(c.sk, 0, ifname, &link));
	if (r) {
		tun_error_set(err, r, r == -ENODEV ? "no interface %s" : "cannot read interface %s: %s",
			      ifname, strerror(-r));
		goto fail;
	}
	memcpy(ap->name, ifname, strlen(ifname) + 1);
	ap->ifindex = (unsigned)rtnl_link_get_ifindex(link);
	c.ifindex = ap->ifindex;

	if (cfg->mtu && cfg->mtu != rtnl_link_get_mtu(link)) {
		r = link_change(&c, cfg->mtu, -1);
		if (r) {
			explain_common(&c, r, "setting the MTU", err);
			goto fail;
		}
		ap->mtu_changed = true;
		ap->old_mtu = rtnl_link_get_mtu(link);
	}

	if (cfg->master) {
		r = enslave(&c, cfg->master, err);
		if (r)
			goto fail;
		ap->enslaved = true;
	}

	/* Up before addresses: an IPv6 peer route is only made when the
	 * address is added to an up link (not when the link comes up later). */
	if (!(rtnl_link_get_flags(link) & IFF_UP)) {
		r = link_change(&c, 0, 1);
		if (r) {
			explain_common(&c, r, "bringing the link up", err);
			goto fail;
		}
		ap->brought_up = true;
	}

	for (size_t i = 0; i < cfg->addrs_len; i++) {
		r = addr_add(&c, &cfg->addrs[i], err);
		if (r)
			goto fail;
		ap->addrs[ap->addrs_len++] = cfg->addrs[i];
	}
	r = ipv6_wait_ready(&c, ap, err);
	if (r)
		goto fail;

	for (size_t i = 0; i < cfg->routes_len; i++) {
		struct tun_prefix p = cfg->routes[i];
		enum route_verdict verdict;
		bool dup = false;

		tun_prefix_mask(&p);
		if (cfg->skip_default && p.len == 0)
			continue;	/* the full tunnel's: tun/policy.h */
		for (size_t j = 0; j < ap->routes_len && !dup; j++)
			dup = tun_prefix_equal(&ap->routes[j], &p);
		if (dup)
			continue;	/* AllowedIPs listed the prefix twice */
		r = route_add(&c, &p, &verdict, err);
		if (r)
			goto fail;
		if (verdict == ROUTE_COVERED)
			ap->routes_covered++;
		else
			ap->routes[ap->routes_len++] = p;
	}

	rtnl_link_put(link);
	nlc_close(&c);
	return 0;

fail:
	/* err already says what went wrong; rollback problems are secondary. */
	(void)undo(&c, ap, &undo_err);
	rtnl_link_put(link);
	nlc_close(&c);
	applied_free(ap);
	return r;
}

int tun_teardown(struct tun_applied *applied, struct tun_error *err)
{
	struct nlctx c = { .ifname = applied->name, .ifindex = applied->ifindex,
			   .table = applied->table };
	int r;

	if (applied->ifindex == 0) {
		applied_free(applied);
		return 0;
	}
	r = nlc_open(&c, err);
	if (!r) {
		r = undo(&c, applied, err);
		nlc_close(&c);
	}
	applied_free(applied);
	return r;
}

static bool prefix_listed(const struct tun_prefix *list, size_t len, const struct tun_prefix *p)
{
	for (size_t i = 0; i < len; i++)
		if (tun_prefix_equal(&list[i], p))
			return true;
	return false;
}

int tun_update(struct tun_applied *ap, const struct tun_config *cfg, struct tun_error *err)
{
	struct nlctx c = { .ifname = ap->name, .ifindex = ap->ifindex, .table = ap->table };
	struct tun_prefix *addrs = NULL, *routes = NULL, *added_addrs = NULL, *added_routes = NULL;
	size_t n_addrs = 0, n_routes = 0, n_added_addrs = 0, n_added_routes = 0, covered = 0;
	struct rtnl_link *link = NULL;
	int r;

	r = config_check(cfg, err);
	if (r)
		return r;
	/* room for the new set and for old entries that refuse to go */
	addrs = calloc(cfg->addrs_len + ap->addrs_len + 1, sizeof(*addrs));
	routes = calloc(cfg->routes_len + ap->routes_len + 1, sizeof(*routes));
	added_addrs = calloc(cfg->addrs_len + 1, sizeof(*added_addrs));
	added_routes = calloc(cfg->routes_len + 1, sizeof(*added_routes));
	if (!addrs || !routes || !added_addrs || !added_routes) {
		r = tun_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = nlc_open(&c, err);
	if (r)
		goto out;
	r = nl_result(&c, rtnl_link_get_kernel(c.sk, (int)ap->ifindex, NULL, &link));
	if (r) {
		tun_error_set(err, r, "cannot read interface %s: %s", ap->name, strerror(-r));
		goto undo;
	}
	if (cfg->mtu && cfg->mtu != rtnl_link_get_mtu(link)) {
		unsigned old = rtnl_link_get_mtu(link);

		r = link_change(&c, cfg->mtu, -1);
		if (r) {
			explain_common(&c, r, "setting the MTU", err);
			goto undo;
		}
		if (!ap->mtu_changed) {
			ap->mtu_changed = true;
			ap->old_mtu = old;
		}
	}
	for (size_t i = 0; i < cfg->addrs_len; i++) {
		if (prefix_listed(addrs, n_addrs, &cfg->addrs[i]))
			continue;
		if (!prefix_listed(ap->addrs, ap->addrs_len, &cfg->addrs[i])) {
			r = addr_add(&c, &cfg->addrs[i], err);
			if (r)
				goto undo;
			added_addrs[n_added_addrs++] = cfg->addrs[i];
		}
		addrs[n_addrs++] = cfg->addrs[i];
	}
	for (size_t i = 0; i < cfg->routes_len; i++) {
		struct tun_prefix p = cfg->routes[i];
		enum route_verdict verdict;

		tun_prefix_mask(&p);
		if (prefix_listed(routes, n_routes, &p) || (cfg->skip_default && p.len == 0))
			continue;
		if (!prefix_listed(ap->routes, ap->routes_len, &p)) {
			r = route_add(&c, &p, &verdict, err);
			if (r)
				goto undo;
			if (verdict == ROUTE_COVERED) {
				covered++;
				continue;
			}
			added_routes[n_added_routes++] = p;
		}
		routes[n_routes++] = p;
	}
	/* Everything new is in place: only now remove what went away. One
	 * that cannot be removed stays recorded, for teardown to try again. */
	for (size_t i = ap->routes_len; i-- > 0;) {
		if (prefix_listed(routes, n_routes, &ap->routes[i]))
			continue;
		r = route_op(&c, &ap->routes[i], false);
		if (r && r != -ESRCH && r != -ENOENT)
			routes[n_routes++] = ap->routes[i];
	}
	for (size_t i = ap->addrs_len; i-- > 0;) {
		if (prefix_listed(addrs, n_addrs, &ap->addrs[i]))
			continue;
		r = addr_op(&c, &ap->addrs[i], false);
		if (r && r != -EADDRNOTAVAIL)
			addrs[n_addrs++] = ap->addrs[i];
	}
	free(ap->addrs);
	free(ap->routes);
	ap->addrs = addrs;
	ap->addrs_len = n_addrs;
	ap->routes = routes;
	ap->routes_len = n_routes;
	ap->routes_covered = covered;
	addrs = routes = NULL;
	r = 0;
	goto out;
undo:
	for (size_t i = n_added_routes; i-- > 0;)
		(void)route_op(&c, &added_routes[i], false);
	for (size_t i = n_added_addrs; i-- > 0;)
		(void)addr_op(&c, &added_addrs[i], false);
out:
	if (link)
		rtnl_link_put(link);
	if (c.sk)
		nlc_close(&c);
	free(addrs);
	free(routes);
	free(added_addrs);
	free(added_routes);
	return r;
}
