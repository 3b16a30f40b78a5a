/* Our own addresses and what each is (tunnel/local_addrs.c): a fake
 * getifaddrs (--wrap) and a fake /sys/class/net tree in a temporary
 * directory describe a host with a LAN, another VPN, container bridges,
 * Tailscale and the link's own interface; the table says which addresses
 * become LAN candidates. The route lookup asks the real kernel about
 * 127.0.0.1, which leaves through lo in every network namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tunnel/config.h"
#include "tunnel/local_addrs.h"

#define UP_ETH (IFF_UP | IFF_BROADCAST | IFF_MULTICAST)

/* One interface of the fake host: its flags, its sysfs files and its
 * addresses (NULL: none, as for a bridge port). */
struct fake_if {
	const char *name;
	unsigned flags;
	const char *type;          /* /sys/class/net/IF/type, NULL: no file */
	const char *files;         /* space-separated: "device tun_flags bridge lower_eth2" */
	const char *devtype;       /* uevent DEVTYPE=, NULL: none */
	const char *ports;         /* space-separated: brif/ entries */
	const char *addrs[3];
};

static const struct fake_if host[] = {
	{ "lo", IFF_UP | IFF_LOOPBACK, "772", NULL, NULL, NULL, { "127.0.0.1", "::1" } },
	{ "eth0", UP_ETH, "1", "device", NULL, NULL, { "192.168.1.5", "fe80::5", "169.254.7.7" } },
	{ "veth0", UP_ETH, "1", NULL, NULL, NULL, { "10.1.0.2", "2001:db8:1::2" } },
	{ "wg0", IFF_UP | IFF_POINTOPOINT | IFF_NOARP, "65534", NULL, "wireguard", NULL,
	  { "10.99.0.1" } },
	/* no flags to tell: the hardware type does */
	{ "wg1", IFF_UP, "65534", NULL, NULL, NULL, { "10.98.0.1" } },
	/* a tap: Ethernet, with ARP, but a tun/tap device */
	{ "tap0", UP_ETH, "1", "tun_flags", NULL, NULL, { "10.200.0.1" } },
	{ "vx0", UP_ETH, "1", NULL, "vxlan", NULL, { "10.201.0.1" } },
	{ "ppp0", IFF_UP | IFF_POINTOPOINT, "512", NULL, NULL, NULL, { "10.64.0.9" } },
	{ "tailscale0", IFF_UP | IFF_POINTOPOINT | IFF_NOARP, "65534", "tun_flags", NULL, NULL,
	  { "100.101.102.103", "fd7a:115c:a1e0::1" } },
	/* a CGNAT address on an ordinary interface is still Tailscale's range */
	{ "eth5", UP_ETH, "1", "device", NULL, NULL, { "100.64.3.3" } },
	{ "docker0", UP_ETH, "1", "bridge", "bridge", NULL, { "172.17.0.1" } },
	/* no telling name, but only a veth on it: containers */
	{ "br9", UP_ETH, "1", "bridge", "bridge", "vethc1", { "172.18.0.1" } },
	{ "vethc1", UP_ETH, "1", NULL, NULL, NULL, { NULL } },
	/* a bridge over a NIC is a LAN, and one over a bond of NICs */
	{ "br0", UP_ETH, "1", "bridge", "bridge", "vethc1 eth1", { "192.168.50.1" } },
	{ "eth1", UP_ETH, "1", "device", NULL, NULL, { NULL } },
	{ "br1", UP_ETH, "1", "bridge", "bridge", "bond0", { "192.168.51.1" } },
	{ "bond0", UP_ETH, "1", "lower_eth2", NULL, NULL, { NULL } },
	/* libvirt's name wins over its uplink */
	{ "virbr0", UP_ETH, "1", "bridge", "bridge", "eth1", { "192.168.122.1" } },
	{ "down0", IFF_BROADCAST, "1", "device", NULL, NULL, { "192.168.9.9" } },
	{ "home", IFF_UP | IFF_POINTOPOINT | IFF_NOARP, "65534", "tun_flags", NULL, NULL,
	  { "10.77.0.1" } },
};
#define N_HOST (sizeof(host) / sizeof(host[0]))

struct expect {
	const char *addr;
	enum local_addr_kind kind;
	bool offered;
};

static const struct expect expected[] = {
	{ "127.0.0.1", LOCAL_ADDR_LOOPBACK, false },
	{ "::1", LOCAL_ADDR_LOOPBACK, false },
	{ "192.168.1.5", LOCAL_ADDR_LAN, true },
	{ "fe80::5", LOCAL_ADDR_LINK_LOCAL, false },
	{ "169.254.7.7", LOCAL_ADDR_LINK_LOCAL, false },
	{ "10.1.0.2", LOCAL_ADDR_LAN, true },
	{ "2001:db8:1::2", LOCAL_ADDR_LAN, true },
	{ "10.99.0.1", LOCAL_ADDR_TUNNEL, false },
	{ "10.98.0.1", LOCAL_ADDR_TUNNEL, false },
	{ "10.200.0.1", LOCAL_ADDR_TUNNEL, false },
	{ "10.201.0.1", LOCAL_ADDR_TUNNEL, false },
	{ "10.64.0.9", LOCAL_ADDR_TUNNEL, false },
	{ "100.101.102.103", LOCAL_ADDR_TUNNEL, false },
	{ "fd7a:115c:a1e0::1", LOCAL_ADDR_TUNNEL, false },
	{ "100.64.3.3", LOCAL_ADDR_CGNAT, false },
	{ "172.17.0.1", LOCAL_ADDR_CONTAINER, false },
	{ "172.18.0.1", LOCAL_ADDR_CONTAINER, false },
	{ "192.168.50.1", LOCAL_ADDR_LAN, true },
	{ "192.168.51.1", LOCAL_ADDR_LAN, true },
	{ "192.168.122.1", LOCAL_ADDR_CONTAINER, false },
	{ "192.168.9.9", LOCAL_ADDR_LAN, false },
	{ "10.77.0.1", LOCAL_ADDR_LINK, false },
};

/* A container host: this many veths without an address come first, as
 * getifaddrs lists every interface's AF_PACKET entry before any address. */
enum { MANY_VETHS = 200 };
static size_t extra_veths;
static char veth_names[MANY_VETHS][IF_NAMESIZE];

static char sysfs[256];
static struct ifaddrs fake_ifa[N_HOST * 4 + MANY_VETHS];
static struct sockaddr_storage fake_sa[N_HOST * 4 + MANY_VETHS];
static size_t fake_handed_out;

int __wrap_getifaddrs(struct ifaddrs **ifap);
void __wrap_freeifaddrs(struct ifaddrs *ifa);

/* As Linux does: one AF_PACKET entry per interface, then its addresses. */
int __wrap_getifaddrs(struct ifaddrs **ifap)
{
	size_t n = 0;

	memset(fake_ifa, 0, sizeof(fake_ifa));
	memset(fake_sa, 0, sizeof(fake_sa));
	for (size_t i = 0; i < extra_veths; i++) {
		snprintf(veth_names[i], sizeof(veth_names[i]), "veth%zu", i + 100);
		fake_ifa[n].ifa_name = veth_names[i];
		fake_ifa[n].ifa_flags = UP_ETH;
		fake_sa[n].ss_family = AF_PACKET;
		fake_ifa[n].ifa_addr = (struct sockaddr *)&fake_sa[n];
		n++;
	}
	for (size_t i = 0; i < N_HOST; i++) {
		fake_ifa[n].ifa_name = (char *)host[i].name;
		fake_ifa[n].ifa_flags = host[i].flags;
		fake_sa[n].ss_family = AF_PACKET;
		fake_ifa[n].ifa_addr = (struct sockaddr *)&fake_sa[n];
		n++;
		for (size_t j = 0; j < 3 && host[i].addrs[j]; j++) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&fake_sa[n];
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&fake_sa[n];

			if (inet_pton(AF_INET, host[i].addrs[j], &sin->sin_addr) == 1)
				sin->sin_family = AF_INET;
			else {
				assert_int_equal(inet_pton(AF_INET6, host[i].addrs[j], &sin6->sin6_addr), 1);
				sin6->sin6_family = AF_INET6;
			}
			fake_ifa[n].ifa_name = (char *)host[i].name;
			fake_ifa[n].ifa_flags = host[i].flags;
			fake_ifa[n].ifa_addr = (struct sockaddr *)&fake_sa[n];
			n++;
		}
	}
	for (size_t i = 0; i + 1 < n; i++)
		fake_ifa[i].ifa_next = &fake_ifa[i + 1];
	fake_handed_out++;
	*ifap = fake_ifa;
	return 0;
}

void __wrap_freeifaddrs(struct ifaddrs *ifa)
{
	assert_ptr_equal(ifa, fake_ifa);
	assert_int_equal(fake_handed_out, 1);
	fake_handed_out--;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void each_word(const char *list, void (*one)(const char *dir, const char *word),
		      const char *dir)
{
	char buf[256], *save = NULL;

	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		one(dir, w);
}

static void make_file(const char *dir, const char *word)
{
	char path[1100];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, word) < sizeof(path));
	/* directories in the real sysfs (device, bridge, lower_*), files here:
	 * existence is what counts */
	write_file(path, "");
}

static void make_port(const char *dir, const char *word)
{
	char path[1100];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/brif/%s", dir, word) < sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
}

static void make_if(const char *name, unsigned flags, const char *type, const char *files,
		    const char *devtype, const char *ports)
{
	char dir[512], path[600], text[64];

	snprintf(dir, sizeof(dir), "%s/%s", sysfs, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	if (type) {
		snprintf(path, sizeof(path), "%s/type", dir);
		snprintf(text, sizeof(text), "%s\n", type);
		write_file(path, text);
	}
	snprintf(path, sizeof(path), "%s/flags", dir);
	snprintf(text, sizeof(text), "0x%x\n", flags);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/uevent", dir);
	snprintf(text, sizeof(text), "INTERFACE=%s\n%s%s%s", name, devtype ? "DEVTYPE=" : "",
		 devtype ? devtype : "", devtype ? "\n" : "");
	write_file(path, text);
	each_word(files, make_file, dir);
	if (ports) {
		snprintf(path, sizeof(path), "%s/brif", dir);
		assert_int_equal(mkdir(path, 0700), 0);
		each_word(ports, make_port, dir);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(sysfs, sizeof(sysfs), "/tmp/test_local_addrs.XXXXXX");
	assert_non_null(mkdtemp(sysfs));
	for (size_t i = 0; i < N_HOST; i++)
		make_if(host[i].name, host[i].flags, host[i].type, host[i].files, host[i].devtype,
			host[i].ports);
	/* in sysfs only: interfaces that appear after the gathering */
	make_if("newtun", IFF_UP | IFF_POINTOPOINT | IFF_NOARP, "65534", "tun_flags", NULL, NULL);
	make_if("newlan", UP_ETH, "1", "device", NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct rdv_endpoint ep_of(const char *text)
{
	struct rdv_endpoint ep = { 0 };

	if (inet_pton(AF_INET, text, ep.addr) == 1)
		ep.family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, ep.addr), 1);
		ep.family = AF_INET6;
	}
	return ep;
}

static struct config config_of(const char *extra)
{
	struct config cfg;
	char text[1024], err[CONFIG_ERR_LEN];

	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n%s"
		 "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		 "Endpoint = 192.0.2.7:51820\n", extra);
	if (config_parse_string("home.conf", "home", text, CONFIG_NUMERIC_ONLY, &cfg, err) != 0)
		fail_msg("%s", err);
	return cfg;
}

static const struct local_addr *find(const struct local_addrs *la, const char *text)
{
	struct rdv_endpoint ep = ep_of(text);

	for (size_t i = 0; i < la->n_addrs; i++) {
		if (la->addrs[i].ep.family == ep.family &&
		    !memcmp(la->addrs[i].ep.addr, ep.addr, ep.family == AF_INET ? 4 : 16))
			return &la->addrs[i];
	}
	fail_msg("%s not gathered", text);
	return NULL;
}

static void test_classify(void **state)
{
	struct config cfg = config_of("");
	struct local_addrs la;

	(void)state;
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	assert_int_equal(la.n_addrs, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct local_addr *a = find(&la, expected[i].addr);

		if (a->kind != expected[i].kind || a->offered != expected[i].offered)
			fail_msg("%s on %s: %s%s, want %s%s", expected[i].addr, la.ifs[a->iface].name,
				 local_addr_kind_name(a->kind), a->offered ? " (offered)" : "",
				 local_addr_kind_name(expected[i].kind),
				 expected[i].offered ? " (offered)" : "");
	}
}

/* Hundreds of interfaces without an address crowd out nothing. */
static void test_many_interfaces(void **state)
{
	struct config cfg = config_of("");
	struct local_addrs la;
	struct rdv_endpoint out[LOCAL_ADDRS_MAX];

	(void)state;
	extra_veths = MANY_VETHS;
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	extra_veths = 0;
	assert_int_equal(la.n_addrs, sizeof(expected) / sizeof(expected[0]));
	assert_int_equal(local_addrs_candidates(&la, 1, true, out, LOCAL_ADDRS_MAX), 5);
	assert_false(find(&la, "10.99.0.1")->offered);
}

static void test_candidates(void **state)
{
	static const char *const want_v4[] = { "192.168.1.5", "10.1.0.2", "192.168.50.1",
					       "192.168.51.1" };
	struct config cfg = config_of("");
	struct local_addrs la;
	struct rdv_endpoint out[LOCAL_ADDRS_MAX];
	size_t n;

	(void)state;
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	n = local_addrs_candidates(&la, 51820, false, out, LOCAL_ADDRS_MAX);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		struct rdv_endpoint want = ep_of(want_v4[i]);

		want.port = 51820;
		assert_true(rdv_endpoint_equal(&out[i], &want));
	}
	/* with IPv6 on the socket, the global IPv6 address too; and the cap */
	assert_int_equal(local_addrs_candidates(&la, 1, true, out, LOCAL_ADDRS_MAX), 5);
	assert_int_equal(local_addrs_candidates(&la, 1, true, out, 2), 2);
}

static void test_is_own(void **state)
{
	struct config cfg = config_of("");
	struct local_addrs la;
	struct rdv_endpoint ep;

	(void)state;
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	/* every kind counts: a container bridge with the same address on the
	 * peer's host is ourselves, whatever the port */
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		ep = ep_of(expected[i].addr);
		ep.port = 4000;
		if (!local_addrs_is_own(&la, &ep))
			fail_msg("%s is ours", expected[i].addr);
	}
	ep = ep_of("172.17.0.2");
	assert_false(local_addrs_is_own(&la, &ep));
	ep = ep_of("::");
	assert_false(local_addrs_is_own(&la, &ep));
	/* same bytes, other family */
	ep = ep_of("::1");
	ep.family = AF_INET;
	assert_false(local_addrs_is_own(&la, &ep));
}

static void test_config_rules(void **state)
{
	struct local_addrs la;
	struct config cfg;

	(void)state;
	/* ignored by name (a pattern) and by prefix */
	cfg = config_of("IgnoreInterfaces = veth*\nIgnorePrefixes = 192.168.48.0/22\n");
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	assert_false(find(&la, "10.1.0.2")->offered);
	assert_false(find(&la, "2001:db8:1::2")->offered);
	assert_false(find(&la, "192.168.50.1")->offered);
	assert_false(find(&la, "192.168.51.1")->offered);
	assert_true(find(&la, "192.168.1.5")->offered);

	/* only the listed ones, whatever they are; never loopback, link-local
	 * or the link itself */
	cfg = config_of("CandidateInterfaces = wg0, docker0, eth5, lo, home, eth0\n");
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	assert_true(find(&la, "10.99.0.1")->offered);
	assert_true(find(&la, "172.17.0.1")->offered);
	assert_true(find(&la, "100.64.3.3")->offered);
	assert_true(find(&la, "192.168.1.5")->offered);
	assert_false(find(&la, "fe80::5")->offered);
	assert_false(find(&la, "169.254.7.7")->offered);
	assert_false(find(&la, "127.0.0.1")->offered);
	assert_false(find(&la, "10.77.0.1")->offered);
	assert_false(find(&la, "10.1.0.2")->offered);
	assert_false(find(&la, "192.168.50.1")->offered);

	/* ignoring beats listing */
	cfg = config_of("CandidateInterfaces = eth*\nIgnoreInterfaces = eth0\n");
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	assert_false(find(&la, "192.168.1.5")->offered);
	assert_true(find(&la, "100.64.3.3")->offered);
}

static void test_peer_lan(void **state)
{
	struct config cfg = config_of("IgnorePrefixes = 10.8.0.0/16\n");
	struct local_addrs la;
	struct rdv_endpoint ep = ep_of("10.2.0.2");
	struct rdv_endpoint ignored = ep_of("10.8.4.4");

	(void)state;
	assert_int_equal(local_addrs_gather(&la, &cfg, sysfs), 0);
	/* reached through a LAN interface of ours: probed */
	assert_true(local_addrs_peer_lan_usable(&la, &ep, "eth0"));
	assert_true(local_addrs_peer_lan_usable(&la, &ep, "veth0"));
	assert_true(local_addrs_peer_lan_usable(&la, &ep, "br0"));
	/* through another VPN or a container bridge: not a LAN path */
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "wg0"));
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "tailscale0"));
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "docker0"));
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "home"));
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "lo"));
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "down0"));
	/* interfaces that came up after the gathering, from sysfs alone */
	assert_false(local_addrs_peer_lan_usable(&la, &ep, "newtun"));
	assert_true(local_addrs_peer_lan_usable(&la, &ep, "newlan"));
	/* no route known: probing decides, as before */
	assert_true(local_addrs_peer_lan_usable(&la, &ep, ""));
	assert_true(local_addrs_peer_lan_usable(&la, &ep, NULL));
	/* IgnorePrefixes covers the peer's addresses too */
	assert_false(local_addrs_peer_lan_usable(&la, &ignored, "eth0"));
	assert_false(local_addrs_peer_lan_usable(&la, &ignored, NULL));
}

static void test_route(void **state)
{
	struct rdv_endpoint ep = ep_of("127.0.0.1");
	char ifname[IF_NAMESIZE] = "";
	char lo[IF_NAMESIZE];

	(void)state;
	assert_non_null(if_indextoname(1, lo)); /* the loopback is always index 1 */
	assert_int_equal(local_addrs_route(&ep, 0, ifname), 0);
	assert_string_equal(ifname, lo);
	ep.port = 9;
	assert_int_equal(local_addrs_route(&ep, 0, ifname), 0);
	assert_string_equal(ifname, lo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_many_interfaces),
		cmocka_unit_test(test_is_own),
		cmocka_unit_test(test_config_rules),
		cmocka_unit_test(test_peer_lan),
		cmocka_unit_test(test_route),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
