/* Our own addresses and what each is (the rule is in local_addrs.h). The
 * kernel tells most through getifaddrs' flags; the rest is in sysfs, read
 * under la->sysfs so that tests can hand in a tree of their own. */
#include "tunnel/local_addrs.h"

#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kind_names[] = {
	[LOCAL_ADDR_LAN] = "lan",
	[LOCAL_ADDR_TUNNEL] = "tunnel",
	[LOCAL_ADDR_CONTAINER] = "container",
	[LOCAL_ADDR_CGNAT] = "cgnat",
	[LOCAL_ADDR_LINK_LOCAL] = "link-local",
	[LOCAL_ADDR_LOOPBACK] = "loopback",
	[LOCAL_ADDR_LINK] = "link",
};

/* Bridges that container and VM managers create, by their default names:
 * Docker (docker0, br-<id> for user networks), libvirt, LXC, LXD, Incus,
 * Podman, CNI plugins, kube-router, VMware. */
static const char *const container_bridge_prefixes[] = {
	"docker", "br-", "virbr", "lxcbr", "lxdbr", "incusbr", "podman", "cni", "kube-bridge",
	"vmnet",
};

/* Device types (uevent DEVTYPE) of overlay tunnels that are Ethernet-like. */
static const char *const tunnel_devtypes[] = { "wireguard", "vxlan", "geneve", "gretap" };

const char *local_addr_kind_name(enum local_addr_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

static bool sysfs_path(const struct local_addrs *la, const char *ifname, const char *attr,
		       char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s/%s", la->sysfs, ifname, attr) < len;
}

static bool sysfs_exists(const struct local_addrs *la, const char *ifname, const char *attr)
{
	char path[512];
	struct stat sb;

	return sysfs_path(la, ifname, attr, path, sizeof(path)) && stat(path, &sb) == 0;
}

/* The first line of an attribute, newline cut; false if unreadable. */
static bool sysfs_read(const struct local_addrs *la, const char *ifname, const char *attr,
		       char *buf, size_t len)
{
	char path[512];
	FILE *f;
	bool ok;

	if (!sysfs_path(la, ifname, attr, path, sizeof(path)) || !(f = fopen(path, "re")))
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool sysfs_read_ulong(const struct local_addrs *la, const char *ifname, const char *attr,
			     unsigned long *out)
{
	char buf[64], *end;

	if (!sysfs_read(la, ifname, attr, buf, sizeof(buf)))
		return false;
	errno = 0;
	*out = strtoul(buf, &end, 0);
	return errno == 0 && end != buf;
}

/* DEVTYPE=... in the device's uevent. */
static bool devtype_is(const struct local_addrs *la, const char *ifname, const char *type)
{
	char path[512], line[128];
	bool found = false;
	FILE *f;

	if (!sysfs_path(la, ifname, "uevent", path, sizeof(path)) || !(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strncmp(line, "DEVTYPE=", 8) && !strcmp(line + 8, type);
	}
	fclose(f);
	return found;
}

/* A bridge port that leads out of the machine: a device on a bus (a NIC),
 * or a device stacked on another (bond, VLAN: lower_* links). A veth or a
 * VM's tap has neither. */
static bool port_is_uplink(const struct local_addrs *la, const char *port)
{
	char path[512];
	struct dirent *e;
	bool lower = false;
	DIR *d;

	if (sysfs_exists(la, port, "device"))
		return true;
	if (!sysfs_path(la, port, "", path, sizeof(path)) || !(d = opendir(path)))
		return false;
	while (!lower && (e = readdir(d)))
		lower = !strncmp(e->d_name, "lower_", 6);
	closedir(d);
	return lower;
}

static bool bridge_has_uplink(const struct local_addrs *la, const char *bridge)
{
	char path[512];
	struct dirent *e;
	bool uplink = false;
	DIR *d;

	if (!sysfs_path(la, bridge, "brif", path, sizeof(path)) || !(d = opendir(path)))
		return false;
	while (!uplink && (e = readdir(d))) {
		if (e->d_name[0] != '.')
			uplink = port_is_uplink(la, e->d_name);
	}
	closedir(d);
	return uplink;
}

static bool has_prefix(const char *name, const char *prefix)
{
	return !strncmp(name, prefix, strlen(prefix));
}

static enum local_addr_kind classify(const struct local_addrs *la, const char *name, unsigned flags)
{
	unsigned long type;

	if (!strcmp(name, la->cfg->name))
		return LOCAL_ADDR_LINK;
	if (flags & IFF_LOOPBACK)
		return LOCAL_ADDR_LOOPBACK;
	if (flags & (IFF_POINTOPOINT | IFF_NOARP))
		return LOCAL_ADDR_TUNNEL;
	/* Unreadable: taken for Ethernet, as most LANs are. */
	if (sysfs_read_ulong(la, name, "type", &type) && type != ARPHRD_ETHER &&
	    type != ARPHRD_IEEE802 && type != ARPHRD_INFINIBAND)
		return LOCAL_ADDR_TUNNEL;
	if (sysfs_exists(la, name, "tun_flags"))
		return LOCAL_ADDR_TUNNEL;
	for (size_t i = 0; i < sizeof(tunnel_devtypes) / sizeof(tunnel_devtypes[0]); i++) {
		if (devtype_is(la, name, tunnel_devtypes[i]))
			return LOCAL_ADDR_TUNNEL;
	}
	if (sysfs_exists(la, name, "bridge")) {
		for (size_t i = 0;
		     i < sizeof(container_bridge_prefixes) / sizeof(container_bridge_prefixes[0]); i++) {
			if (has_prefix(name, container_bridge_prefixes[i]))
				return LOCAL_ADDR_CONTAINER;
		}
		if (!bridge_has_uplink(la, name))
			return LOCAL_ADDR_CONTAINER;
	}
	return LOCAL_ADDR_LAN;
}

/* A config pattern: a whole name, or a prefix ending in '*'. */
static bool name_matches(const char *pattern, const char *name)
{
	size_t len = strlen(pattern);

	if (len && pattern[len - 1] == '*')
		return !strncmp(pattern, name, len - 1);
	return !strcmp(pattern, name);
}

static bool name_listed(const char (*list)[CONFIG_NAME_MAX + 2], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (name_matches(list[i], name))
			return true;
	}
	return false;
}

static bool prefix_ignored(const struct config *cfg, const struct rdv_endpoint *ep)
{
	struct tun_prefix p = { .family = ep->family, .len = ep->family == AF_INET ? 32 : 128 };

	memcpy(p.addr, ep->addr, ep->family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < cfg->n_ignore_prefixes; i++) {
		if (tun_prefix_contains(&cfg->ignore_prefixes[i], &p))
			return true;
	}
	return false;
}

/* The config's word on an interface of `kind`, after the built-in rule. */
static bool if_offered(const struct config *cfg, const char *name, enum local_addr_kind kind)
{
	if (kind == LOCAL_ADDR_LINK || kind == LOCAL_ADDR_LOOPBACK ||
	    name_listed(cfg->ignore_ifs, cfg->n_ignore_ifs, name))
		return false;
	if (cfg->n_candidate_ifs)
		return name_listed(cfg->candidate_ifs, cfg->n_candidate_ifs, name);
	return kind == LOCAL_ADDR_LAN;
}

static enum local_addr_kind address_kind(const struct rdv_endpoint *ep, enum local_addr_kind if_kind)
{
	const uint8_t *a = ep->addr;

	if (if_kind == LOCAL_ADDR_LINK || if_kind == LOCAL_ADDR_LOOPBACK)
		return if_kind;
	if (ep->family == AF_INET ? a[0] == 169 && a[1] == 254 : a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return LOCAL_ADDR_LINK_LOCAL;
	if (if_kind != LOCAL_ADDR_LAN)
		return if_kind;
	if (ep->family == AF_INET && a[0] == 100 && (a[1] & 0xc0) == 64)
		return LOCAL_ADDR_CGNAT;
	return LOCAL_ADDR_LAN;
}

static size_t find_if(const struct local_addrs *la, const char *name)
{
	for (size_t i = 0; i < la->n_ifs; i++) {
		if (!strcmp(la->ifs[i].name, name))
			return i;
	}
	return SIZE_MAX;
}

static size_t add_if(struct local_addrs *la, const char *name, unsigned flags)
{
	size_t i = find_if(la, name);
	struct local_if *li;

	if (i != SIZE_MAX || la->n_ifs == LOCAL_IFS_MAX || strlen(name) >= IF_NAMESIZE)
		return i;
	li = &la->ifs[la->n_ifs];
	strcpy(li->name, name);
	li->up = flags & IFF_UP;
	li->kind = classify(la, name, flags);
	li->offered = li->up && if_offered(la->cfg, name, li->kind);
	return la->n_ifs++;
}

int local_addrs_gather(struct local_addrs *la, const struct config *cfg, const char *sysfs)
{
	struct ifaddrs *ifs, *ifa;

	memset(la, 0, sizeof(*la));
	la->cfg = cfg;
	la->sysfs = sysfs ? sysfs : "/sys/class/net";
	if (getifaddrs(&ifs) != 0)
		return -errno;
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		struct local_addr *a = &la->addrs[la->n_addrs];
		size_t i;

		/* Only interfaces with an IP address take a place in the table
		 * (a container host has hundreds of veths without one); a route
		 * out of another is classified when asked. */
		if (!ifa->ifa_name || !ifa->ifa_addr || la->n_addrs == LOCAL_ADDRS_MAX ||
		    rdv_endpoint_from_sockaddr(&a->ep, ifa->ifa_addr) != 0)
			continue;
		i = add_if(la, ifa->ifa_name, ifa->ifa_flags);
		if (i == SIZE_MAX)
			continue;
		a->ep.port = 0;
		a->iface = i;
		a->kind = address_kind(&a->ep, la->ifs[i].kind);
		if (a->kind == LOCAL_ADDR_LINK_LOCAL)
			a->offered = false;
		else if (cfg->n_candidate_ifs && a->kind != LOCAL_ADDR_LINK &&
			 a->kind != LOCAL_ADDR_LOOPBACK)
			a->offered = la->ifs[i].offered; /* listed: whatever it is */
		else
			a->offered = la->ifs[i].offered && a->kind == LOCAL_ADDR_LAN;
		if (a->offered && prefix_ignored(cfg, &a->ep))
			a->offered = false;
		la->n_addrs++;
	}
	freeifaddrs(ifs);
	return 0;
}

size_t local_addrs_candidates(const struct local_addrs *la, uint16_t port, bool ipv6,
			      struct rdv_endpoint *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < la->n_addrs && n < max; i++) {
		const struct local_addr *a = &la->addrs[i];

		if (!a->offered || (a->ep.family == AF_INET6 && !ipv6))
			continue;
		out[n] = a->ep;
		out[n++].port = port;
	}
	return n;
}

bool local_addrs_is_own(const struct local_addrs *la, const struct rdv_endpoint *ep)
{
	size_t alen = ep->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < la->n_addrs; i++) {
		const struct rdv_endpoint *own = &la->addrs[i].ep;

		if (own->family == ep->family && !memcmp(own->addr, ep->addr, alen))
			return true;
	}
	return false;
}

bool local_addrs_peer_lan_usable(const struct local_addrs *la, const struct rdv_endpoint *ep,
				 const char *route_ifname)
{
	char flags_text[32];
	unsigned long flags = 0;
	size_t i;

	if (prefix_ignored(la->cfg, ep))
		return false;
	if (!route_ifname || !route_ifname[0])
		return true; /* no route known: probing finds out, as before */
	i = find_if(la, route_ifname);
	if (i != SIZE_MAX)
		return la->ifs[i].offered;
	/* An interface that appeared since we looked: its flags from sysfs. */
	if (sysfs_read(la, route_ifname, "flags", flags_text, sizeof(flags_text)))
		flags = strtoul(flags_text, NULL, 0);
	return if_offered(la->cfg, route_ifname, classify(la, route_ifname, (unsigned)flags)) &&
	       (flags & IFF_UP);
}

struct route_answer {
	int oif;
	int error;
};

static int route_valid(struct nl_msg *msg, void *arg)
{
	struct route_answer *ans = arg;
	struct nlattr *tb[RTA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtmsg), tb, RTA_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[RTA_OIF])
		ans->oif = (int)nla_get_u32(tb[RTA_OIF]);
	return NL_OK;
}

int local_addrs_route(const struct rdv_endpoint *ep, uint32_t mark, char ifname[static IF_NAMESIZE])
{
	struct rtmsg rtm = { .rtm_family = ep->family, .rtm_dst_len = ep->family == AF_INET ? 32 : 128 };
	struct route_answer ans = { 0 };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	int r = -ENOMEM;

	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		r = -EIO;
		goto out;
	}
	msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	if (!msg || nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, ep->family == AF_INET ? 4 : 16, ep->addr) < 0 ||
	    (mark && nla_put_u32(msg, RTA_MARK, mark) < 0))
		goto out;
	nl_socket_disable_auto_ack(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, route_valid, &ans);
	/* An unreachable destination comes back as an NLMSG_ERROR. */
	if (nl_send_auto(sk, msg) < 0 || nl_recvmsgs_default(sk) < 0) {
		r = -EHOSTUNREACH;
		goto out;
	}
	r = ans.oif > 0 && if_indextoname((unsigned)ans.oif, ifname) ? 0 : -ENODEV;
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return r;
}
