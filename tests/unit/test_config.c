/* The config parser: a valid file in full, then a table of broken files,
 * each with the exact "file:line: message" a user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tunnel/config.h"

#define PRIV "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PEER "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define RDVK "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

#define GOOD_INTERFACE \
	"[Interface]\n" \
	"PrivateKey = " PRIV "\n"
#define GOOD_PEER \
	"[Peer]\n" \
	"PublicKey = " PEER "\n" \
	"Endpoint = 192.0.2.7:51820\n"

static void test_full_config(void **state)
{
	static const char text[] =
		"# home link\n"
		"[Interface]\n"
		"PrivateKey = " PRIV "   # inline comment, as wg-quick allows\n"
		"Address = 10.77.0.2/24, fd77::2/64\n"
		"  ListenPort = 51820\n"
		"MTU = 1380\n"
		"Rendezvous = 203.0.113.10:3478, [2001:db8::10]:3478\n"
		"RendezvousKey = " RDVK "\n"
		"portmapping = OFF\n"
		"Punch = Basic\n"
		"\n"
		"[Peer]\n"
		"PublicKey = " PEER "\n"
		"PresharedKey = " RDVK "\n"
		"AllowedIPs = 10.77.0.1/32, 10.2.0.77/24\n"
		"AllowedIPs = fd77::/64\n"
		"Endpoint = [2001:db8::7]:51820\n"
		"PersistentKeepalive = 10\n";
	struct config cfg;
	char err[CONFIG_ERR_LEN];
	uint8_t expect_v4[4], expect_v6[16];
	struct sockaddr_in6 *ep;

	(void)state;
	assert_int_equal(config_parse_string("home.conf", "home", text, CONFIG_NUMERIC_ONLY,
					     &cfg, err), 0);
	assert_string_equal(cfg.name, "home");
	assert_int_equal(cfg.n_addresses, 2);
	inet_pton(AF_INET, "10.77.0.2", expect_v4);
	assert_int_equal(cfg.addresses[0].family, AF_INET);
	assert_memory_equal(cfg.addresses[0].addr, expect_v4, 4);
	assert_int_equal(cfg.addresses[0].len, 24);
	inet_pton(AF_INET6, "fd77::2", expect_v6);
	assert_int_equal(cfg.addresses[1].family, AF_INET6);
	assert_memory_equal(cfg.addresses[1].addr, expect_v6, 16);
	assert_int_equal(cfg.addresses[1].len, 64);
	assert_int_equal(cfg.listen_port, 51820);
	assert_int_equal(cfg.mtu, 1380);
	assert_int_equal(cfg.n_rendezvous, 2);
	assert_int_equal(cfg.rendezvous[0].addr.ss_family, AF_INET);
	assert_int_equal(cfg.rendezvous[1].addr.ss_family, AF_INET6);
	assert_true(cfg.has_rendezvous_key);
	assert_false(cfg.port_mapping);
	assert_int_equal(cfg.punch, CONFIG_PUNCH_BASIC);
	assert_true(cfg.has_preshared_key);
	/* host bits of AllowedIPs are cleared, as wg does */
	assert_int_equal(cfg.n_allowed_ips, 3);
	inet_pton(AF_INET, "10.2.0.0", expect_v4);
	assert_memory_equal(cfg.allowed_ips[1].addr, expect_v4, 4);
	assert_int_equal(cfg.allowed_ips[1].len, 24);
	assert_int_equal(cfg.allowed_ips[2].family, AF_INET6);
	assert_true(cfg.has_endpoint);
	ep = (struct sockaddr_in6 *)&cfg.endpoint.addr;
	assert_int_equal(ep->sin6_family, AF_INET6);
	assert_int_equal(ntohs(ep->sin6_port), 51820);
	assert_int_equal(cfg.persistent_keepalive_s, 10);
	config_clear(&cfg);
}

/* The candidate keys: lists that add up over repeated lines, a trailing
 * '*' for a prefix of names, prefixes with their host bits cleared. */
static void test_candidate_keys(void **state)
{
	static const char text[] = GOOD_INTERFACE
		"CandidateInterfaces = eth0, wlan*\n"
		"candidateinterfaces = enp3s0\n"
		"IgnoreInterfaces = docker*, wg0\n"
		"IgnorePrefixes = 10.8.1.7/16, fd00:8::/32\n"
		"IgnorePrefixes = 100.64.0.0/10\n" GOOD_PEER;
	struct config cfg;
	char err[CONFIG_ERR_LEN], buf[TUN_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(config_parse_string("c.conf", "c", text, CONFIG_NUMERIC_ONLY, &cfg, err), 0);
	assert_int_equal(cfg.n_candidate_ifs, 3);
	assert_string_equal(cfg.candidate_ifs[0], "eth0");
	assert_string_equal(cfg.candidate_ifs[1], "wlan*");
	assert_string_equal(cfg.candidate_ifs[2], "enp3s0");
	assert_int_equal(cfg.n_ignore_ifs, 2);
	assert_string_equal(cfg.ignore_ifs[0], "docker*");
	assert_string_equal(cfg.ignore_ifs[1], "wg0");
	assert_int_equal(cfg.n_ignore_prefixes, 3);
	tun_prefix_format(&cfg.ignore_prefixes[0], buf, sizeof(buf));
	assert_string_equal(buf, "10.8.0.0/16");
	tun_prefix_format(&cfg.ignore_prefixes[1], buf, sizeof(buf));
	assert_string_equal(buf, "fd00:8::/32");
	tun_prefix_format(&cfg.ignore_prefixes[2], buf, sizeof(buf));
	assert_string_equal(buf, "100.64.0.0/10");

	/* Not given: every interface may offer, none is ignored. */
	assert_int_equal(config_parse_string("d.conf", "d", GOOD_INTERFACE GOOD_PEER,
					     CONFIG_NUMERIC_ONLY, &cfg, err), 0);
	assert_int_equal(cfg.n_candidate_ifs + cfg.n_ignore_ifs + cfg.n_ignore_prefixes, 0);

	/* The longest name, and one more than that with its '*'. */
	assert_int_equal(config_parse_string("e.conf", "e", GOOD_INTERFACE
					     "IgnoreInterfaces = abcdefghijklmno, abcdefghijklmno*, *\n"
					     GOOD_PEER, CONFIG_NUMERIC_ONLY, &cfg, err), 0);
	assert_int_equal(cfg.n_ignore_ifs, 3);
	assert_string_equal(cfg.ignore_ifs[1], "abcdefghijklmno*");
}

static void test_defaults(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_LEN];

	(void)state;
	assert_int_equal(config_parse_string("x.conf", "x", GOOD_INTERFACE GOOD_PEER,
					     CONFIG_NUMERIC_ONLY, &cfg, err), 0);
	assert_int_equal(cfg.mtu, CONFIG_DEFAULT_MTU);
	assert_int_equal(cfg.persistent_keepalive_s, CONFIG_DEFAULT_KEEPALIVE_S);
	assert_int_equal(cfg.listen_port, 0);
	assert_false(cfg.has_preshared_key);
	assert_int_equal(cfg.n_rendezvous, 0);
	assert_true(cfg.port_mapping);
	assert_int_equal(cfg.mode, CONFIG_MODE_ROUTED);
	assert_string_equal(cfg.bridge, "");
	assert_int_equal(config_device_mtu(&cfg), CONFIG_DEFAULT_MTU);
	assert_int_equal(cfg.punch, CONFIG_PUNCH_BIRTHDAY);
}

/* Mode = bridge with and without Bridge; the TAP's MTU leaves room for an
 * Ethernet header and a VLAN tag inside the message's MTU. */
static void test_bridge_mode(void **state)
{
	static const struct {
		const char *keys;
		enum config_mode mode;
		const char *bridge;
		unsigned device_mtu;
	} cases[] = {
		{ "Mode = routed\n", CONFIG_MODE_ROUTED, "", CONFIG_DEFAULT_MTU },
		{ "Mode = bridge\n", CONFIG_MODE_BRIDGE, "", CONFIG_DEFAULT_MTU - 18 },
		{ "mode = Bridge\nBridge = br-lan.0\n", CONFIG_MODE_BRIDGE, "br-lan.0", 1402 },
		{ "Bridge = br0\nMTU = 1518\nMode = bridge\n", CONFIG_MODE_BRIDGE, "br0", 1500 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512], err[CONFIG_ERR_LEN];
		struct config cfg;

		snprintf(text, sizeof(text), GOOD_INTERFACE "%s" GOOD_PEER, cases[i].keys);
		if (config_parse_string("b.conf", "b", text, CONFIG_NUMERIC_ONLY, &cfg, err) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(cfg.mode, cases[i].mode);
		assert_string_equal(cfg.bridge, cases[i].bridge);
		assert_int_equal(config_device_mtu(&cfg), cases[i].device_mtu);
	}
}

struct bad_case {
	const char *text;
	const char *error; /* the whole message the user sees */
};

static const struct bad_case bad_cases[] = {
	{ "[Interface]\nPrivateKey = nope\n" GOOD_PEER,
	  "t.conf:2: PrivateKey is not a base64 key (as 'tunnelctl genkey' prints)" },
	{ GOOD_INTERFACE "Colour = blue\n" GOOD_PEER,
	  "t.conf:3: unknown key 'Colour' in [Interface]" },
	{ GOOD_INTERFACE GOOD_PEER "Table = off\n",
	  "t.conf:6: unknown key 'Table' in [Peer]" },
	{ GOOD_INTERFACE "Address = 10.0.0.300/24\n" GOOD_PEER,
	  "t.conf:3: Address '10.0.0.300/24' is not an IP address with an optional /prefix" },
	{ GOOD_INTERFACE "Address = 10.0.0.1/33\n" GOOD_PEER,
	  "t.conf:3: Address '10.0.0.1/33' is not an IP address with an optional /prefix" },
	{ GOOD_INTERFACE "Address = fd::1/-1\n" GOOD_PEER,
	  "t.conf:3: Address 'fd::1/-1' is not an IP address with an optional /prefix" },
	{ GOOD_INTERFACE "ListenPort = 65536\n" GOOD_PEER,
	  "t.conf:3: ListenPort '65536' is not a port (0-65535)" },
	{ GOOD_INTERFACE "MTU = 100\n" GOOD_PEER,
	  "t.conf:3: MTU '100' is out of range (576-9000)" },
	{ GOOD_INTERFACE "MTU = 1000\nAddress = fd::1/64\n" GOOD_PEER,
	  "t.conf:3: MTU 1000 is below 1280, which IPv6 address needs" },
	{ GOOD_INTERFACE "Rendezvous = 203.0.113.10\n" GOOD_PEER,
	  "t.conf:3: Rendezvous '203.0.113.10': expected host:port (IPv6 in brackets)" },
	{ GOOD_INTERFACE "Rendezvous = 203.0.113.10:0\n" GOOD_PEER,
	  "t.conf:3: Rendezvous '203.0.113.10:0': bad port" },
	{ GOOD_INTERFACE "Rendezvous = 203.0.113.10:3478\n" GOOD_PEER,
	  "t.conf:1: Rendezvous needs RendezvousKey (the server's public key)" },
	{ GOOD_INTERFACE "RendezvousKey = " RDVK "\n" GOOD_PEER,
	  "t.conf:3: RendezvousKey without Rendezvous" },
	{ GOOD_INTERFACE "PrivateKey = " PRIV "\n" GOOD_PEER,
	  "t.conf:3: PrivateKey/PrivateKeyFile given twice (first on line 2)" },
	{ GOOD_INTERFACE "[Peer]\nPublicKey = " PEER "\n",
	  "t.conf:3: [Peer] has no Endpoint and [Interface] no Rendezvous: no way to reach the peer" },
	{ GOOD_INTERFACE "[Peer]\nEndpoint = 192.0.2.1:1\n",
	  "t.conf:3: [Peer] needs PublicKey" },
	{ GOOD_INTERFACE GOOD_PEER "Endpoint = 192.0.2.1:1\n",
	  "t.conf:6: Endpoint given twice (first on line 5)" },
	{ GOOD_INTERFACE GOOD_PEER "Endpoint2 = [::1:1\n",
	  "t.conf:6: unknown key 'Endpoint2' in [Peer]" },
	{ GOOD_INTERFACE "[Peer]\nPublicKey = " PEER "\nEndpoint = [::1:1\n",
	  "t.conf:5: Endpoint '[::1:1': expected [IPv6]:port" },
	{ GOOD_INTERFACE "[Peer]\nPublicKey = " PEER "\nEndpoint = peer.example:51820\n",
	  "t.conf:5: Endpoint 'peer.example:51820': cannot resolve 'peer.example': not a numeric address" },
	{ GOOD_INTERFACE "PortMapping = yes\n" GOOD_PEER,
	  "t.conf:3: PortMapping 'yes' is neither on nor off" },
	{ GOOD_INTERFACE "PortMapping = on\nPortMapping = off\n" GOOD_PEER,
	  "t.conf:4: PortMapping given twice (first on line 3)" },
	{ GOOD_INTERFACE "Punch = always\n" GOOD_PEER,
	  "t.conf:3: Punch 'always' is none of birthday, basic, off" },
	{ GOOD_INTERFACE "Punch = off\nPunch = basic\n" GOOD_PEER,
	  "t.conf:4: Punch given twice (first on line 3)" },
	{ GOOD_INTERFACE GOOD_PEER "PersistentKeepalive = soon\n",
	  "t.conf:6: PersistentKeepalive 'soon' is not a number of seconds (0-65535, or off)" },
	{ GOOD_INTERFACE GOOD_PEER "AllowedIPs = 10.0.0.0/8, nonsense\n",
	  "t.conf:6: AllowedIPs 'nonsense' is not an IP prefix like 10.0.0.0/24" },
	{ GOOD_INTERFACE GOOD_PEER "AllowedIPs =\n",
	  "t.conf:6: AllowedIPs has no value" },
	{ GOOD_INTERFACE GOOD_PEER GOOD_PEER,
	  "t.conf:6: second [Peer] section (the first is on line 3): a link joins exactly two machines" },
	{ GOOD_INTERFACE "[Wireguard]\n" GOOD_PEER,
	  "t.conf:3: unknown section [Wireguard] (expected [Interface] or [Peer])" },
	{ "PrivateKey = " PRIV "\n" GOOD_PEER,
	  "t.conf:1: 'PrivateKey' outside of [Interface] or [Peer]" },
	{ GOOD_INTERFACE "just some words\n" GOOD_PEER,
	  "t.conf:3: expected 'Key = value' or a [Section]" },
	{ GOOD_PEER, "t.conf: no [Interface] section" },
	{ GOOD_INTERFACE, "t.conf: no [Peer] section" },
	{ "[Interface]\nAddress = 10.0.0.1/24\n" GOOD_PEER,
	  "t.conf:1: [Interface] needs PrivateKey or PrivateKeyFile" },
	{ GOOD_INTERFACE "IgnoreInterfaces = docker0, wg 0\n" GOOD_PEER,
	  "t.conf:3: IgnoreInterfaces 'wg 0' is not an interface name (1-15 characters of "
	  "[A-Za-z0-9_=+.-], or a prefix of one ending in '*')" },
	{ GOOD_INTERFACE "CandidateInterfaces = abcdefghijklmnop\n" GOOD_PEER,
	  "t.conf:3: CandidateInterfaces 'abcdefghijklmnop' is not an interface name (1-15 "
	  "characters of [A-Za-z0-9_=+.-], or a prefix of one ending in '*')" },
	{ GOOD_INTERFACE "CandidateInterfaces = eth*0\n" GOOD_PEER,
	  "t.conf:3: CandidateInterfaces 'eth*0' is not an interface name (1-15 "
	  "characters of [A-Za-z0-9_=+.-], or a prefix of one ending in '*')" },
	{ GOOD_INTERFACE "IgnorePrefixes = 10.8.0.0/33\n" GOOD_PEER,
	  "t.conf:3: IgnorePrefixes '10.8.0.0/33' is not an IP prefix like 10.8.0.0/16" },
	{ GOOD_INTERFACE "IgnoreInterfaces = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n" GOOD_PEER,
	  "t.conf:3: more than 16 interfaces in IgnoreInterfaces" },
	{ GOOD_INTERFACE "IgnorePrefixes =\n" GOOD_PEER,
	  "t.conf:3: IgnorePrefixes has no value" },
	{ GOOD_PEER "IgnorePrefixes = 10.8.0.0/16\n" GOOD_INTERFACE,
	  "t.conf:4: unknown key 'IgnorePrefixes' in [Peer]" },
	/* wg-quick's keys (issue 16) */
	{ GOOD_INTERFACE "Table = nowhere\n" GOOD_PEER,
	  "t.conf:3: Table 'nowhere' is not auto, off, a number or a name in /etc/iproute2/rt_tables" },
	{ GOOD_INTERFACE "Table = 0\n" GOOD_PEER,
	  "t.conf:3: Table '0': table 0 is not a table (auto, off, a number from 1 or a name)" },
	{ GOOD_INTERFACE "Table = 4294967296\n" GOOD_PEER,
	  "t.conf:3: Table '4294967296' is not auto, off, a number or a name in /etc/iproute2/rt_tables" },
	{ GOOD_INTERFACE "Table = off\nTable = auto\n" GOOD_PEER,
	  "t.conf:4: Table given twice (first on line 3)" },
	{ GOOD_INTERFACE "FwMark = 0x1ffffffff\n" GOOD_PEER,
	  "t.conf:3: FwMark '0x1ffffffff' is not a 32-bit number (decimal or 0x hex) or off" },
	{ GOOD_INTERFACE "FwMark = 0xg1\n" GOOD_PEER,
	  "t.conf:3: FwMark '0xg1' is not a 32-bit number (decimal or 0x hex) or off" },
	{ GOOD_INTERFACE "FwMark = 4294967296\n" GOOD_PEER,
	  "t.conf:3: FwMark '4294967296' is not a 32-bit number (decimal or 0x hex) or off" },
	{ GOOD_INTERFACE "FwMark = -1\n" GOOD_PEER,
	  "t.conf:3: FwMark '-1' is not a 32-bit number (decimal or 0x hex) or off" },
	{ GOOD_INTERFACE "FwMark = 1\nFwMark = 2\n" GOOD_PEER,
	  "t.conf:4: FwMark given twice (first on line 3)" },
	{ GOOD_INTERFACE "DNS = 10.0.0.1, 10.0.0.300\n" GOOD_PEER,
	  "t.conf:3: DNS '10.0.0.300' is neither an IP address nor a search domain" },
	{ GOOD_INTERFACE "DNS = 1.1.1.1, bad_domain!\n" GOOD_PEER,
	  "t.conf:3: DNS 'bad_domain!' is neither an IP address nor a search domain" },
	{ GOOD_INTERFACE "DNS = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,"
	  "1.1.1.9\n" GOOD_PEER,
	  "t.conf:3: more than 8 servers in DNS" },
	{ GOOD_INTERFACE "DNS =\n" GOOD_PEER,
	  "t.conf:3: DNS has no value" },
	{ GOOD_INTERFACE "PostUp =\n" GOOD_PEER,
	  "t.conf:3: PostUp has no value" },
	{ GOOD_INTERFACE "SaveConfig = true\n" GOOD_PEER,
	  "t.conf:3: SaveConfig = true is not supported: tunnel never rewrites your config" },
	{ GOOD_INTERFACE "SaveConfig = maybe\n" GOOD_PEER,
	  "t.conf:3: SaveConfig 'maybe' is neither true nor false" },
	{ GOOD_PEER "DNS = 1.1.1.1\n" GOOD_INTERFACE,
	  "t.conf:4: unknown key 'DNS' in [Peer]" },
	{ GOOD_PEER "PostUp = true\n" GOOD_INTERFACE,
	  "t.conf:4: unknown key 'PostUp' in [Peer]" },
	/* Mode and Bridge (issue 17) */
	{ GOOD_INTERFACE "Mode = switch\n" GOOD_PEER,
	  "t.conf:3: Mode 'switch' is neither routed nor bridge" },
	{ GOOD_INTERFACE "Mode = bridge\nMode = bridge\n" GOOD_PEER,
	  "t.conf:4: Mode given twice (first on line 3)" },
	{ GOOD_INTERFACE "Bridge = br0\n" GOOD_PEER,
	  "t.conf:3: Bridge needs Mode = bridge" },
	{ GOOD_INTERFACE "Mode = routed\nBridge = br0\n" GOOD_PEER,
	  "t.conf:4: Bridge needs Mode = bridge" },
	{ GOOD_INTERFACE "Mode = bridge\nBridge = br 0\n" GOOD_PEER,
	  "t.conf:4: Bridge 'br 0' is not an interface name (1-15 characters of "
	  "[A-Za-z0-9_=+.-])" },
	{ GOOD_INTERFACE "Mode = bridge\nBridge = br0\nBridge = br1\n" GOOD_PEER,
	  "t.conf:5: Bridge given twice (first on line 4)" },
	{ GOOD_INTERFACE "Address = 10.9.0.1/24\nMode = bridge\n" GOOD_PEER,
	  "t.conf:3: Address makes no sense with Mode = bridge (put the gateway's address on "
	  "the bridge, not on the tunnel)" },
	{ GOOD_INTERFACE "Mode = bridge\n" GOOD_PEER "AllowedIPs = 10.9.0.0/24\n",
	  "t.conf:7: AllowedIPs makes no sense with Mode = bridge (every frame of the peer is "
	  "accepted; there are no routes)" },
	{ GOOD_INTERFACE "Mode = bridge\nMTU = 590\n" GOOD_PEER,
	  "t.conf:4: MTU 590 leaves the TAP less than 576 bytes with Mode = bridge (18 go to "
	  "the Ethernet header and a VLAN tag)" },
	{ GOOD_INTERFACE "Mode = bridge\nTable = off\n" GOOD_PEER,
	  "t.conf:4: Table makes no sense with Mode = bridge (there are no routes)" },
	{ GOOD_INTERFACE "DNS = 10.9.0.1\nMode = bridge\n" GOOD_PEER,
	  "t.conf:3: DNS makes no sense with Mode = bridge (the LAN's own DHCP and DNS serve "
	  "its hosts)" },
	{ GOOD_PEER "Mode = bridge\n" GOOD_INTERFACE,
	  "t.conf:4: unknown key 'Mode' in [Peer]" },
	/* the peer's key is this machine's own public key */
	{ GOOD_INTERFACE "[Peer]\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\n"
	  "Endpoint = 192.0.2.7:51820\n",
	  "t.conf:4: PublicKey is this machine's own key" },
};

static void test_bad_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct config cfg;
		char err[CONFIG_ERR_LEN];
		int r = config_parse_string("t.conf", "t", bad_cases[i].text,
					    CONFIG_NUMERIC_ONLY, &cfg, err);

		if (r != -EINVAL || strcmp(err, bad_cases[i].error) != 0)
			fail_msg("case %zu: r=%d\n  got:  %s\n  want: %s", i, r, err,
				 bad_cases[i].error);
	}
}

/* libinih's own buffer is 200 bytes: longer lines still reach us whole,
 * up to CONFIG_LINE_MAX. */
static void test_long_line(void **state)
{
	char text[8192], list[1024] = "";
	struct config cfg;
	char err[CONFIG_ERR_LEN];

	(void)state;
	for (int i = 0; i < 40; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.%d.0.0/16",
			 i ? ", " : "", i);
	assert_true(strlen(list) > 400);
	snprintf(text, sizeof(text), GOOD_INTERFACE GOOD_PEER "AllowedIPs = %s\n", list);
	assert_int_equal(config_parse_string("t.conf", "t", text, CONFIG_NUMERIC_ONLY, &cfg,
					     err), 0);
	assert_int_equal(cfg.n_allowed_ips, 40);
	assert_int_equal(cfg.allowed_ips[39].addr[1], 39);

	snprintf(text, sizeof(text), GOOD_INTERFACE GOOD_PEER "AllowedIPs = %05000d\n", 0);
	assert_int_equal(config_parse_string("t.conf", "t", text, CONFIG_NUMERIC_ONLY, &cfg,
					     err), -EINVAL);
	assert_string_equal(err, "t.conf:6: line is longer than 4095 characters (split a long "
				 "list over several lines with the same key)");
}

/* wg-quick's Table, FwMark, DNS, hooks and SaveConfig = false. */
static void test_wg_quick_keys(void **state)
{
	static const char text[] =
		"[Interface]\n"
		"PrivateKey = " PRIV "\n"
		"Table = 1234\n"
		"FwMark = 0xCA6C\n"
		"DNS = 10.77.0.1, fd77::1, corp.example\n"
		"DNS = lab.example.\n"
		"PreUp = echo pre %i\n"
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT ; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
		"PreDown = echo a=b ; echo predown\n"
		"PostDown = echo post %i\n"
		"PostUp = echo second postup\n"
		"SaveConfig = false\n"
		GOOD_PEER
		"AllowedIPs = 0.0.0.0/0, ::/0\n";
	static const struct {
		const char *line;
		enum config_table_mode mode;
		uint32_t table, fwmark;
	} cases[] = {
		{ "Table = auto", CONFIG_TABLE_AUTO, 0, 0 },
		{ "Table = off", CONFIG_TABLE_OFF, 0, 0 },
		{ "Table = main", CONFIG_TABLE_SET, 254, 0 },
		{ "Table = 4294967295", CONFIG_TABLE_SET, 4294967295u, 0 },
		{ "FwMark = 51820", CONFIG_TABLE_AUTO, 0, 51820 },
		{ "FwMark = 0xffffffff", CONFIG_TABLE_AUTO, 0, 0xffffffff },
		{ "FwMark = off", CONFIG_TABLE_AUTO, 0, 0 },
	};
	struct config cfg;
	char err[CONFIG_ERR_LEN], one[512];

	(void)state;
	assert_int_equal(config_parse_string("t.conf", "t", text, CONFIG_NUMERIC_ONLY, &cfg,
					     err), 0);
	assert_int_equal(cfg.table_mode, CONFIG_TABLE_SET);
	assert_int_equal(cfg.table, 1234);
	assert_int_equal(cfg.fwmark, 0xca6c);
	assert_int_equal(cfg.n_dns_servers, 2);
	assert_string_equal(cfg.dns_servers[0], "10.77.0.1");
	assert_string_equal(cfg.dns_servers[1], "fd77::1");
	assert_int_equal(cfg.n_dns_search, 2);
	assert_string_equal(cfg.dns_search[0], "corp.example");
	assert_string_equal(cfg.dns_search[1], "lab.example.");
	assert_int_equal(cfg.n_hooks, 5);
	assert_int_equal(cfg.hook_kind[0], CONFIG_HOOK_PRE_UP);
	assert_string_equal(cfg.hooks[0], "echo pre %i");
	assert_int_equal(cfg.hook_kind[1], CONFIG_HOOK_POST_UP);
	/* " ;" is no comment, '=' in a value is kept */
	assert_string_equal(cfg.hooks[1], "iptables -A FORWARD -i %i -j ACCEPT ; iptables -t nat "
					  "-A POSTROUTING -o eth0 -j MASQUERADE");
	assert_int_equal(cfg.hook_kind[2], CONFIG_HOOK_PRE_DOWN);
	assert_string_equal(cfg.hooks[2], "echo a=b ; echo predown");
	assert_int_equal(cfg.hook_kind[3], CONFIG_HOOK_POST_DOWN);
	assert_int_equal(cfg.hook_kind[4], CONFIG_HOOK_POST_UP);
	assert_true(config_full_tunnel(&cfg, AF_INET));
	assert_true(config_full_tunnel(&cfg, AF_INET6));
	config_clear(&cfg);

	/* the defaults: auto, no mark, no DNS, no hooks */
	assert_int_equal(config_parse_string("t.conf", "t", GOOD_INTERFACE GOOD_PEER,
					     CONFIG_NUMERIC_ONLY, &cfg, err), 0);
	assert_int_equal(cfg.table_mode, CONFIG_TABLE_AUTO);
	assert_int_equal(cfg.fwmark, 0);
	assert_int_equal(cfg.n_dns_servers + cfg.n_dns_search + cfg.n_hooks, 0);
	assert_false(config_full_tunnel(&cfg, AF_INET));

	/* 16 hooks in all, 1023 characters each */
	{
		char many[4096] = GOOD_INTERFACE, big[1200];

		for (int i = 0; i < 17; i++)
			strcat(many, i % 2 ? "PostUp = true\n" : "PreDown = true\n");
		strcat(many, GOOD_PEER);
		assert_int_equal(config_parse_string("t.conf", "t", many, CONFIG_NUMERIC_ONLY, &cfg,
						     err), -EINVAL);
		assert_string_equal(err, "t.conf:19: more than 16 PreUp/PostUp/PreDown/PostDown lines");
		memset(big, 'x', sizeof(big));
		memcpy(big + 1024 - 1, "\0", 1);
		snprintf(many, sizeof(many), GOOD_INTERFACE "PostUp = echo %s\n" GOOD_PEER, big);
		assert_int_equal(config_parse_string("t.conf", "t", many, CONFIG_NUMERIC_ONLY, &cfg,
						     err), -EINVAL);
		assert_string_equal(err, "t.conf:3: PostUp is longer than 1023 characters");
		big[1018] = '\0'; /* "echo " + 1018: exactly 1023 */
		snprintf(many, sizeof(many), GOOD_INTERFACE "PostUp = echo %s\n" GOOD_PEER, big);
		assert_int_equal(config_parse_string("t.conf", "t", many, CONFIG_NUMERIC_ONLY, &cfg,
						     err), 0);
		assert_int_equal(strlen(cfg.hooks[0]), 1023);
	}

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(one, sizeof(one), GOOD_INTERFACE "%s\n" GOOD_PEER, cases[i].line);
		if (config_parse_string("t.conf", "t", one, CONFIG_NUMERIC_ONLY, &cfg, err) != 0)
			fail_msg("%s: %s", cases[i].line, err);
		if (cfg.table_mode != cases[i].mode || cfg.table != cases[i].table ||
		    cfg.fwmark != cases[i].fwmark)
			fail_msg("%s: mode %d table %u fwmark %u", cases[i].line, cfg.table_mode,
				 cfg.table, cfg.fwmark);
	}
}

/* Host names in Endpoint and Rendezvous are kept for the daemon to
 * resolve (tunnel/resolve.c): no lookup at parse time, so a name that does
 * not resolve yet is no error; what cannot be a host name is. */
static void test_host_names(void **state)
{
	static const struct {
		const char *endpoint;
		const char *host;   /* NULL: refused, with `error` */
		const char *error;
	} cases[] = {
		{ "home.example:51820", "home.example", NULL },
		{ "does-not-exist.invalid:1", "does-not-exist.invalid", NULL },
		{ "Home.Example.:51820", "Home.Example.", NULL },
		{ "_srv.x-1.example:2", "_srv.x-1.example", NULL },
		{ "192.0.2.7:51820", "", NULL },
		{ "10.0.0.300:1", NULL,
		  "t.conf:5: Endpoint '10.0.0.300:1': '10.0.0.300' is neither an IP address nor a host name" },
		{ "-home.example:1", NULL,
		  "t.conf:5: Endpoint '-home.example:1': '-home.example' is neither an IP address nor a host name" },
		{ "home-.example:1", NULL,
		  "t.conf:5: Endpoint 'home-.example:1': 'home-.example' is neither an IP address nor a host name" },
		{ "home..example:1", NULL,
		  "t.conf:5: Endpoint 'home..example:1': 'home..example' is neither an IP address nor a host name" },
		{ "h\xc3\xb6me.example:1", NULL,
		  "t.conf:5: Endpoint 'h\xc3\xb6me.example:1': 'h\xc3\xb6me.example' is neither an IP address nor a host name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		char text[512], err[CONFIG_ERR_LEN];
		int r;

		snprintf(text, sizeof(text), GOOD_INTERFACE "[Peer]\nPublicKey = " PEER
			 "\nEndpoint = %s\n", cases[i].endpoint);
		r = config_parse_string("t.conf", "t", text, 0, &cfg, err);
		if (cases[i].host) {
			if (r != 0 || !cfg.has_endpoint || strcmp(cfg.endpoint.host, cases[i].host) ||
			    (cfg.endpoint.addr_len == 0) != (cases[i].host[0] != '\0'))
				fail_msg("case %zu: r=%d host '%s' addr_len %u (%s)", i, r,
					 cfg.endpoint.host, (unsigned)cfg.endpoint.addr_len, err);
		} else if (r != -EINVAL || strcmp(err, cases[i].error)) {
			fail_msg("case %zu: r=%d\n  got:  %s\n  want: %s", i, r, err, cases[i].error);
		}
	}
}

static void test_names(void **state)
{
	static const char *const good[] = { "home", "a", "office-b", "x_1.2=+", "fifteen-chars15" };
	static const char *const bad[] = { "", ".", "..", "a/b", "with space", "sixteen-chars-16",
					   "tab\tname", "ümlaut" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(config_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(config_name_valid(bad[i]));
}

/* config_load: the file's own checks (permissions, missing file). */
static void test_load_file(void **state)
{
	char dir[] = "/tmp/tnl-config-XXXXXX";
	char path[256], err[CONFIG_ERR_LEN];
	struct config cfg;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/home.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(GOOD_INTERFACE GOOD_PEER, f);
	fclose(f);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(config_load(dir, "home", &cfg, err), -EACCES);
	assert_non_null(strstr(err, "home.conf: readable by others"));

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(config_load(dir, "home", &cfg, err), 0);
	config_clear(&cfg);

	assert_int_equal(config_load(dir, "away", &cfg, err), -ENOENT);
	assert_non_null(strstr(err, "away.conf: No such file or directory"));

	assert_int_equal(config_load(dir, "../etc", &cfg, err), -EINVAL);

	unlink(path);
	rmdir(dir);
}

static void test_private_key_file(void **state)
{
	char dir[] = "/tmp/tnl-config-XXXXXX";
	char keypath[256], text[1024], err[CONFIG_ERR_LEN];
	struct config cfg;
	uint8_t expect[32];
	size_t len;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(keypath, sizeof(keypath), "%s/private.key", dir);
	fd = open(keypath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, PRIV "\n", 45), 45);
	close(fd);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n" GOOD_PEER, keypath);

	assert_int_equal(config_parse_string("t.conf", "t", text, 0, &cfg, err), 0);
	assert_int_equal(sodium_base642bin(expect, 32, PRIV, 44, NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_memory_equal(cfg.private_key, expect, 32);
	config_clear(&cfg);

	assert_int_equal(chmod(keypath, 0640), 0);
	assert_int_equal(config_parse_string("t.conf", "t", text, 0, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: PrivateKeyFile"));
	assert_non_null(strstr(err, "is readable by others (chmod 600 it)"));

	unlink(keypath);
	assert_int_equal(config_parse_string("t.conf", "t", text, 0, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "No such file or directory"));
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bridge_mode),
		cmocka_unit_test(test_candidate_keys),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_wg_quick_keys),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_private_key_file),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
