/* Our own addresses, and what each one is: an ordinary LAN, another tunnel,
 * a container bridge... Only ordinary interfaces make LAN path candidates:
 * an address reached through another VPN or a virtual network would carry
 * our link inside it (docs/BEHAVIOUR.md, "Paths").
 *
 * The rule, per interface (first match wins; `classify` in local_addrs.c):
 *   loopback        IFF_LOOPBACK
 *   tunnel          IFF_POINTOPOINT or IFF_NOARP, a hardware type other
 *                   than Ethernet (WireGuard and tun are ARPHRD_NONE, ppp,
 *                   ipip, sit, gre), /sys/class/net/IF/tun_flags (tun/tap:
 *                   Tailscale, ZeroTier, OpenVPN, a VM's tap), or a device
 *                   type (uevent DEVTYPE) of wireguard, vxlan, geneve
 *   container       a bridge (/sys/class/net/IF/bridge) whose name says
 *                   docker, libvirt, lxc/lxd/incus, podman, cni or k8s, or
 *                   none of whose ports is an uplink (a port with a bus
 *                   device, or stacked on one: bond, VLAN); so docker0 and
 *                   virbr0 are containers, br0 over eth0 a LAN
 *   lan             anything else (eth, wlan, a veth, a bridge over a NIC)
 * and per address: IPv4 169.254/16 and IPv6 fe80::/10 are link-local,
 * 100.64.0.0/10 is the shared CGNAT range where Tailscale puts its nodes.
 * The link's own interface is never a candidate. The config keys
 * CandidateInterfaces, IgnoreInterfaces and IgnorePrefixes come last: a
 * listed interface is offered whatever its kind (not loopback or
 * link-local), an ignored one or prefix never. */
#ifndef TUNNEL_LOCAL_ADDRS_H
#define TUNNEL_LOCAL_ADDRS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/compiler.h"
#include "rendezvous/endpoint.h"
#include "tunnel/config.h"

enum local_addrs_limits {
	LOCAL_ADDRS_MAX = 128,
	LOCAL_IFS_MAX = 64,        /* interfaces with an address */
};

enum local_addr_kind {
	LOCAL_ADDR_LAN,        /* an ordinary interface: a LAN candidate */
	LOCAL_ADDR_TUNNEL,     /* another tunnel or virtual point-to-point device */
	LOCAL_ADDR_CONTAINER,  /* a bridge for containers or VMs */
	LOCAL_ADDR_CGNAT,      /* 100.64.0.0/10 (Tailscale) */
	LOCAL_ADDR_LINK_LOCAL,
	LOCAL_ADDR_LOOPBACK,
	LOCAL_ADDR_LINK,       /* the link's own interface */
};

struct local_if {
	char name[IF_NAMESIZE];
	enum local_addr_kind kind; /* of the interface (LAN, tunnel, container...) */
	bool up;
	bool offered;              /* its addresses may be candidates (kind, config) */
};

struct local_addr {
	struct rdv_endpoint ep;    /* port 0 */
	size_t iface;              /* index into local_addrs.ifs */
	enum local_addr_kind kind; /* the interface's, or the address's own */
	bool offered;              /* a LAN candidate */
};

struct local_addrs {
	struct local_if ifs[LOCAL_IFS_MAX];
	size_t n_ifs;
	struct local_addr addrs[LOCAL_ADDRS_MAX];
	size_t n_addrs;
	const struct config *cfg;  /* borrowed: the link's name and rules */
	const char *sysfs;         /* "/sys/class/net", or a test's tree */
};

/* Reads every interface address (getifaddrs) and classifies it under the
 * rules of `cfg`; `sysfs` is NULL for /sys/class/net. Keeps a reference to
 * cfg (and sysfs) for local_addrs_peer_lan_usable(). -errno when
 * getifaddrs fails. */
must_check int local_addrs_gather(struct local_addrs *la, const struct config *cfg,
				  const char *sysfs);

/* Our LAN candidates, with `port`: the offered addresses (IPv6 only if
 * `ipv6`), at most `max`. */
size_t local_addrs_candidates(const struct local_addrs *la, uint16_t port, bool ipv6,
			      struct rdv_endpoint *out, size_t max);

/* True when ep's address (any port) is one of ours, on any interface and
 * whatever its kind: a candidate there would reach ourselves (two hosts with
 * the same container bridge address, say). */
bool local_addrs_is_own(const struct local_addrs *la, const struct rdv_endpoint *ep);

/* Whether to probe the peer's LAN address `ep`: not in IgnorePrefixes, and
 * the interface the kernel routes it out of (`route_ifname`, from
 * local_addrs_route) is one whose addresses we would offer ourselves. A
 * peer's LAN reached through another VPN, which carries LAN prefixes, is
 * not a LAN path. */
bool local_addrs_peer_lan_usable(const struct local_addrs *la, const struct rdv_endpoint *ep,
				 const char *route_ifname);

/* Asks the kernel (rtnetlink RTM_GETROUTE) which interface a datagram to
 * ep would leave through, into ifname; with `mark` (the link's fwmark, 0
 * for none) as the link's own socket sets it (a full tunnel's, routing.h). -errno if there is no route or
 * netlink fails. */
must_check int local_addrs_route(const struct rdv_endpoint *ep, uint32_t mark,
				  char ifname[static IF_NAMESIZE]);

/* "lan", "tunnel", "container", "cgnat", "link-local", "loopback", "link". */
const char *local_addr_kind_name(enum local_addr_kind kind);

#endif
