/* A link's configuration: /etc/tunnel/PEER.conf, wg-quick's format.
 *
 *   [Interface]  PrivateKey | PrivateKeyFile, Address, ListenPort, MTU,
 *                Rendezvous, RendezvousKey, CandidateInterfaces,
 *                IgnoreInterfaces, IgnorePrefixes, PortMapping, Punch, and wg-quick's
 *                Table, FwMark, DNS, PreUp, PostUp, PreDown, PostDown,
 *                SaveConfig (false only); Mode, Bridge (ours)
 *   [Peer]       PublicKey, PresharedKey, AllowedIPs, Endpoint,
 *                PersistentKeepalive
 *
 * Everything in the file is untrusted until config_load() has checked it;
 * errors read "FILE:LINE: what is wrong" and quote the bad value. */
#ifndef TUNNEL_CONFIG_H
#define TUNNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/compiler.h"

/* Punch = off | basic | birthday (docs/BEHAVIOUR.md, "Birthday probing"). */
enum config_punch {
	CONFIG_PUNCH_BIRTHDAY, /* basic, then birthday probing when one NAT is symmetric */
	CONFIG_PUNCH_BASIC,    /* probes at the candidates the rendezvous gives, and learned ones */
	CONFIG_PUNCH_OFF,      /* no probes: the relay, or a static Endpoint */
};
#include "tun/prefix.h"

enum config_limits {
	CONFIG_KEY_LEN = 32,
	CONFIG_MAX_ADDRESSES = 16,
	CONFIG_MAX_ALLOWED_IPS = 256,
	CONFIG_MAX_RENDEZVOUS = 8,
	CONFIG_LINE_MAX = 4096,
	CONFIG_NAME_MAX = 15,            /* an interface name (IFNAMSIZ - 1) */
	CONFIG_DEFAULT_MTU = 1420,
	CONFIG_MIN_MTU = 576,
	CONFIG_MIN_MTU_IPV6 = 1280,      /* below this Linux turns IPv6 off */
	CONFIG_MAX_MTU = 9000,
	CONFIG_DEFAULT_KEEPALIVE_S = 25,
	CONFIG_ERR_LEN = 512,
	CONFIG_MAX_CANDIDATE_IFS = 16,   /* CandidateInterfaces, IgnoreInterfaces each */
	CONFIG_MAX_IGNORE_PREFIXES = 32,
	CONFIG_DIR_MAX = 4096,
	CONFIG_HOST_MAX = 255,           /* common/hostport.h HOSTPORT_HOST_MAX */
	CONFIG_MAX_DNS = 8,              /* DNS servers, and search domains, each */
	CONFIG_DNS_NAME_MAX = 254,       /* a search domain, with a final dot */
	CONFIG_ADDR_TEXT_MAX = 46,       /* INET6_ADDRSTRLEN */
	CONFIG_MAX_HOOKS = 16,           /* PreUp + PostUp + PreDown + PostDown */
	CONFIG_HOOK_MAX = 1024,          /* one hook command, with its '\0' */
	/* Mode = bridge: a message carries an Ethernet frame of at most MTU
	 * bytes, so the TAP's MTU (the IP packet in the frame) is MTU less the
	 * Ethernet header and one 802.1Q tag: 14 + 4. */
	CONFIG_BRIDGE_FRAME_OVERHEAD = 18,
};

/* Mode = routed (IP packets over a TUN, WireGuard's own) or bridge
 * (Ethernet frames over a TAP, docs/PROTOCOL.md 2.6). */
enum config_mode {
	CONFIG_MODE_ROUTED,
	CONFIG_MODE_BRIDGE,
};

/* Table = ...: wg-quick's routing table choice. */
enum config_table_mode {
	CONFIG_TABLE_AUTO,  /* main; a /0 in AllowedIPs gets its own table and rules */
	CONFIG_TABLE_OFF,   /* no routes at all */
	CONFIG_TABLE_SET,   /* every AllowedIPs route goes into `table`, no rules */
};

/* PreUp, PostUp, PreDown, PostDown: when a hook runs. */
enum config_hook_kind {
	CONFIG_HOOK_PRE_UP,
	CONFIG_HOOK_POST_UP,
	CONFIG_HOOK_PRE_DOWN,
	CONFIG_HOOK_POST_DOWN,
};

/* An Endpoint or Rendezvous: a numeric address, or a host name the daemon
 * resolves (tunnel/resolve.h) and re-resolves; until a name has resolved,
 * addr_len is 0 and nothing is sent there. */
struct config_endpoint {
	struct sockaddr_storage addr;
	socklen_t addr_len;              /* 0: a name not resolved (yet) */
	char host[CONFIG_HOST_MAX + 1];  /* the name as written; "" if numeric */
	uint16_t port;
};

struct config {
	char name[CONFIG_NAME_MAX + 1];  /* the link and interface name */
	char dir[CONFIG_DIR_MAX];        /* where config_load found it ("" if
					  * parsed from a string): a reload
					  * reads DIR/NAME.conf again */

	/* [Interface] */
	uint8_t private_key[CONFIG_KEY_LEN];
	struct tun_prefix addresses[CONFIG_MAX_ADDRESSES];     /* host bits kept */
	size_t n_addresses;
	uint16_t listen_port;            /* 0: any */
	unsigned mtu;
	struct config_endpoint rendezvous[CONFIG_MAX_RENDEZVOUS];
	size_t n_rendezvous;
	uint8_t rendezvous_key[CONFIG_KEY_LEN];
	bool has_rendezvous_key;
	/* Which interfaces' addresses are path candidates (tunnel/local_addrs.h).
	 * Names are whole interface names, or a prefix ending in '*'. */
	char candidate_ifs[CONFIG_MAX_CANDIDATE_IFS][CONFIG_NAME_MAX + 2]; /* only these */
	size_t n_candidate_ifs;          /* 0: every interface that qualifies */
	char ignore_ifs[CONFIG_MAX_CANDIDATE_IFS][CONFIG_NAME_MAX + 2];    /* never these */
	size_t n_ignore_ifs;
	struct tun_prefix ignore_prefixes[CONFIG_MAX_IGNORE_PREFIXES];    /* host bits cleared */
	size_t n_ignore_prefixes;
	bool port_mapping;              /* ask the router (UPnP, NAT-PMP, PCP); default on */
	enum config_punch punch;        /* how a direct path is looked for; default birthday */
	enum config_table_mode table_mode;
	uint32_t table;                  /* CONFIG_TABLE_SET: the table's number */
	uint32_t fwmark;                 /* on the link's UDP socket(s); 0: none */
	/* DNS: servers (numeric addresses as written) and search domains */
	char dns_servers[CONFIG_MAX_DNS][CONFIG_ADDR_TEXT_MAX];
	size_t n_dns_servers;
	char dns_search[CONFIG_MAX_DNS][CONFIG_DNS_NAME_MAX + 1];
	size_t n_dns_search;
	/* hooks in file order; %i is substituted when they run */
	char hooks[CONFIG_MAX_HOOKS][CONFIG_HOOK_MAX];
	enum config_hook_kind hook_kind[CONFIG_MAX_HOOKS];
	size_t n_hooks;
	enum config_mode mode;
	char bridge[CONFIG_NAME_MAX + 1]; /* Bridge = IFACE the TAP joins; "" none */

	/* [Peer] */
	uint8_t peer_public_key[CONFIG_KEY_LEN];
	uint8_t preshared_key[CONFIG_KEY_LEN];
	bool has_preshared_key;
	struct tun_prefix allowed_ips[CONFIG_MAX_ALLOWED_IPS]; /* host bits cleared */
	size_t n_allowed_ips;
	struct config_endpoint endpoint;
	bool has_endpoint;
	unsigned persistent_keepalive_s; /* 0: off */
};

/* Reads DIR/NAME.conf into `out`. On failure returns a negative errno and
 * writes one line for the user into err ("DIR/NAME.conf:7: ..."):
 * -ENOENT no such file, -EACCES readable by others, -EINVAL bad content. */
must_check int config_load(const char *dir, const char *name, struct config *out,
			   char err[static CONFIG_ERR_LEN]);

enum config_flags {
	CONFIG_NUMERIC_ONLY = 1 << 0, /* refuse host names (fuzzing, unit tests) */
};

/* Parses `text` as if it were the file `path` (its permissions are not
 * checked). The unit tests and the fuzz target call this directly. */
must_check int config_parse_string(const char *path, const char *name, const char *text,
				   unsigned flags, struct config *out,
				   char err[static CONFIG_ERR_LEN]);

/* Formats a one-line error for the user into err, cut to fit. The link's
 * set-up (tunnel_create) reports its errors the same way. */
void config_error(char err[static CONFIG_ERR_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when AllowedIPs holds a default route (0.0.0.0/0 or ::/0) of
 * `family`: a full tunnel for that family. */
bool config_full_tunnel(const struct config *cfg, int family);

/* The MTU of the interface the link opens: MTU itself for a TUN, MTU less
 * CONFIG_BRIDGE_FRAME_OVERHEAD for a bridge-mode TAP. */
unsigned config_device_mtu(const struct config *cfg);

/* Wipes the key material in `cfg`. */
void config_clear(struct config *cfg);

/* True for a usable link name (common/ifname.h's rule: 1..15 characters
 * from [A-Za-z0-9_=+.-], not "." or ".."). The name becomes the interface
 * and file name. */
bool config_name_valid(const char *name);

#endif
