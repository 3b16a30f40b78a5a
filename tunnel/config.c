/* The config file parser: libinih splits lines into sections and key/value
 * pairs; this file checks every value and builds a struct config.
 *
 * libinih is wrapped by our own line reader (read_line) so that
 *  - every handler call knows its line number (for "FILE:LINE: ..."),
 *  - '#' starts a comment anywhere on a line, as in wg-quick,
 *  - an over-long line is an error instead of being split silently,
 *  - a value reaches us whole, however long (up to CONFIG_LINE_MAX) and
 *    whatever it holds: libinih's line buffer is INI_MAX_LINE (200 bytes
 *    in the distributions' builds) and it cuts " ;" inline comments, which
 *    would break long AllowedIPs lists and PostUp commands. read_line keeps
 *    the value in parse_state and hands libinih "Key = " VALUE_MARK, which
 *    handle_pair swaps back (libinih calls it before reading on),
 *  - an indented line is an ordinary line, not a continuation of the
 *    previous value (libinih's multi-line mode would glue it on),
 *  - section headers are checked (only [Interface] and [Peer], once each). */
#include "tunnel/config.h"

#include "common/hostport.h"
#include "common/ifname.h"
#include "common/keyfile.h"
#include "common/number.h"
#include "crypto/keys.h"
#include "tunnel/control.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CONFIG_FILE_MAX = 256 * 1024 };

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER };

/* Stands for the value kept in parse_state.value (see the file comment). */
#define VALUE_MARK "\x01"

struct parse_state {
	const char *path;
	struct config *cfg;
	char *err;
	bool failed;
	bool resolve; /* host names allowed in endpoints */

	/* the line reader's cursor */
	const char *text;
	size_t pos;
	unsigned line;

	enum section section;
	unsigned interface_line, peer_line;
	/* line where each single-valued key was set, 0 when unset */
	unsigned private_key_line, listen_port_line, mtu_line, rendezvous_key_line;
	unsigned public_key_line, preshared_key_line, endpoint_line, keepalive_line;
	unsigned rendezvous_line;
	unsigned port_mapping_line, punch_line;
	/* Mode = bridge refuses the routed keys: where each first appeared */
	unsigned mode_line, bridge_line, address_line, allowed_ips_line, dns_line;
	unsigned table_line, fwmark_line, save_config_line;

	char value[CONFIG_LINE_MAX];	/* the current line's value */
};

static int fail(struct parse_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Error lines are cut at CONFIG_ERR_LEN; a cut message is still readable. */
void config_error(char err[static CONFIG_ERR_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CONFIG_ERR_LEN, fmt, ap);
	va_end(ap);
}

/* Records the first error as "PATH:LINE: message"; later ones are dropped
 * because they are usually consequences of the first. */
static int fail(struct parse_state *st, const char *fmt, ...)
{
	char msg[CONFIG_ERR_LEN];
	va_list ap;

	if (st->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->line)
		config_error(st->err, "%s:%u: %s", st->path, st->line, msg);
	else
		config_error(st->err, "%s: %s", st->path, msg);
	st->failed = true;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void check_section_header(struct parse_state *st, const char *line)
{
	char name[64];
	const char *close = strchr(line, ']');
	size_t len;

	if (!close)
		return; /* libinih reports the syntax error */
	len = (size_t)(close - line - 1);
	if (len >= sizeof(name)) {
		fail(st, "unknown section '%.40s...'", line + 1);
		return;
	}
	memcpy(name, line + 1, len);
	name[len] = '\0';
	if (!strcasecmp(name, "Interface")) {
		if (st->interface_line)
			fail(st, "second [Interface] section (the first is on line %u)",
			     st->interface_line);
		st->interface_line = st->line;
		st->section = SECTION_INTERFACE;
	} else if (!strcasecmp(name, "Peer")) {
		if (st->peer_line)
			fail(st, "second [Peer] section (the first is on line %u): "
				 "a link joins exactly two machines",
			     st->peer_line);
		st->peer_line = st->line;
		st->section = SECTION_PEER;
	} else {
		fail(st, "unknown section [%s] (expected [Interface] or [Peer])", name);
	}
}

/* libinih's fgets-style reader over st->text (see the file comment). */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	const char *start = st->text + st->pos, *nl;
	char line_buf[CONFIG_LINE_MAX];
	size_t len, keep;
	char *line, *eq;

	if (st->failed || *start == '\0')
		return NULL;
	nl = strchr(start, '\n');
	len = nl ? (size_t)(nl - start) : strlen(start);
	st->pos += len + (nl ? 1 : 0);
	st->line++;

	keep = len;
	for (size_t i = 0; i < len; i++) {
		if (start[i] == '#') {
			keep = i;
			break;
		}
	}
	if (keep >= sizeof(line_buf)) {
		fail(st, "line is longer than %zu characters (split a long list over "
			 "several lines with the same key)", sizeof(line_buf) - 1);
		return NULL;
	}
	memcpy(line_buf, start, keep);
	line_buf[keep] = '\0';
	line = trim(line_buf);
	eq = line[0] == '[' ? NULL : strchr(line, '=');
	if (eq) {
		/* "Key = value": libinih gets the key and the mark. */
		*eq = '\0';
		strcpy(st->value, trim(eq + 1));
		line = trim(line);
		if (size < 3 || strlen(line) + sizeof(" = " VALUE_MARK) + 1 > (size_t)size) {
			fail(st, "key '%.40s...' is too long", line);
			return NULL;
		}
		snprintf(buf, (size_t)size, "%s = " VALUE_MARK "\n", line);
		return buf;
	}
	/* libinih needs room for the line, '\n' and '\0'. */
	if (size < 3 || strlen(line) > (size_t)size - 3) {
		fail(st, "'%.40s...' is not 'Key = value' or a [Section]", line);
		return NULL;
	}
	strcpy(buf, line);
	if (buf[0] == '[')
		check_section_header(st, buf);
	strcat(buf, "\n");
	return buf;
}

/* A WireGuard key: 44 characters of standard base64 for 32 bytes. */
static bool decode_key(const char *value, uint8_t key[static CONFIG_KEY_LEN])
{
	return keys_from_base64(key, value) == 0;
}

/* "10.0.0.1/24", "fd00::1/64", or an address alone (a /32 or /128). */
static bool parse_prefix(const char *value, struct tun_prefix *out, bool network)
{
	if (tun_prefix_parse(out, value) != 0)
		return false;
	/* AllowedIPs = 10.1.2.3/24 means the network 10.1.2.0/24, as in wg. */
	if (network)
		tun_prefix_mask(out);
	return true;
}

/* A DNS host name (RFC 1123): dot-separated labels of 1-63 letters,
 * digits, '-' (not first or last) or '_', at most 253 characters, an
 * optional final dot, and a last label that is not all digits (RFC 3696),
 * so a mistyped address such as 10.0.0.300 stays a config error. */
_Static_assert((int)CONFIG_HOST_MAX == (int)HOSTPORT_HOST_MAX, "a split host fits the config");

static bool host_name_valid(const char *h)
{
	size_t len = strlen(h), label = 0, end, last;

	/* the last label, without a final dot */
	end = len && h[len - 1] == '.' ? len - 1 : len;
	last = end;
	while (last > 0 && h[last - 1] != '.')
		last--;
	if (last < end && strspn(h + last, "0123456789") == end - last)
		return false;

	if (len == 0 || len > 254 || (len == 254 && h[253] != '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (c == '-' && label > 0)) ||
		    ++label > 63)
			return false;
	}
	return label == 0 || h[len - 1] != '-';
}

/* "1.2.3.4:51820", "[2001:db8::1]:51820" or "host.example:51820": the text
 * is split by common/hostport.c. A numeric address is stored; a host name
 * is only checked and kept, for the daemon to resolve (tunnel/resolve.c),
 * so a name that does not resolve yet is no config error. */
static int parse_endpoint(const char *value, struct config_endpoint *out, bool resolve,
			  char *why, size_t why_len)
{
	struct hostport hp;
	const char *bad;
	char port[6];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST };
	struct addrinfo *res = NULL;
	int r;

	if (hostport_split(&hp, value, false, &bad) < 0)
		return snprintf(why, why_len, "%s", bad), -EINVAL;
	if (hp.bracketed)
		hints.ai_family = AF_INET6;
	snprintf(port, sizeof(port), "%u", hp.port);
	memset(out, 0, sizeof(*out));
	out->port = hp.port;

	r = getaddrinfo(hp.host, port, &hints, &res);
	if (r == EAI_NONAME && !hp.bracketed) {
		if (!resolve)
			return snprintf(why, why_len, "cannot resolve '%s': not a numeric address",
					hp.host),
			       -EINVAL;
		if (!host_name_valid(hp.host))
			return snprintf(why, why_len, "'%s' is neither an IP address nor a host name",
					hp.host),
			       -EINVAL;
		snprintf(out->host, sizeof(out->host), "%s", hp.host);
		return 0;
	}
	if (r != 0 || !res)
		return snprintf(why, why_len, "'%s' is not an IP address: %s", hp.host,
				gai_strerror(r)),
		       -EINVAL;
	if (res->ai_addrlen > sizeof(out->addr)) {
		freeaddrinfo(res);
		return snprintf(why, why_len, "address too long"), -EINVAL;
	}
	memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
	out->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Reads a key file for PrivateKeyFile: mode must keep others out. */
static int read_key_file(struct parse_state *st, const char *path,
			 uint8_t key[static CONFIG_KEY_LEN])
{
	char buf[KEYFILE_TEXT_MAX + 1];
	int r = keyfile_read_text(path, buf);

	if (r == -EINVAL)
		r = fail(st, "PrivateKeyFile '%s': not a regular file", path);
	else if (r == -EPERM)
		r = fail(st, "PrivateKeyFile '%s' is readable by others (chmod 600 it)", path);
	else if (r < 0 && r != -EFBIG)
		r = fail(st, "PrivateKeyFile '%s': %s", path, strerror(-r));
	else if (r == -EFBIG || keys_from_base64_text(key, buf) < 0)
		r = fail(st, "PrivateKeyFile '%s' does not hold a base64 key", path);
	else
		r = 1;
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static bool set_once(struct parse_state *st, unsigned *line, const char *key)
{
	if (*line) {
		fail(st, "%s given twice (first on line %u)", key, *line);
		return false;
	}
	*line = st->line;
	return true;
}

/* Calls `one` for each comma-separated item of `value`. */
static int for_each_item(struct parse_state *st, const char *key, const char *value,
			 int (*one)(struct parse_state *, const char *key, const char *item))
{
	char buf[CONFIG_LINE_MAX];
	char *save = NULL, *item;

	if (strlen(value) >= sizeof(buf))
		return fail(st, "%s is too long", key);
	strcpy(buf, value);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!one(st, key, trim(item)))
			return 0;
	}
	return 1;
}

static int add_address(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;

	if (cfg->n_addresses == CONFIG_MAX_ADDRESSES)
		return fail(st, "more than %d addresses in %s", CONFIG_MAX_ADDRESSES, key);
	if (!parse_prefix(item, &cfg->addresses[cfg->n_addresses], false))
		return fail(st, "%s '%s' is not an IP address with an optional /prefix",
			    key, item);
	cfg->n_addresses++;
	return 1;
}

static int add_allowed_ip(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;

	if (cfg->n_allowed_ips == CONFIG_MAX_ALLOWED_IPS)
		return fail(st, "more than %d prefixes in %s", CONFIG_MAX_ALLOWED_IPS, key);
	if (!parse_prefix(item, &cfg->allowed_ips[cfg->n_allowed_ips], true))
		return fail(st, "%s '%s' is not an IP prefix like 10.0.0.0/24", key, item);
	cfg->n_allowed_ips++;
	return 1;
}

static int add_rendezvous(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;
	char why[300];

	if (cfg->n_rendezvous == CONFIG_MAX_RENDEZVOUS)
		return fail(st, "more than %d servers in %s", CONFIG_MAX_RENDEZVOUS, key);
	if (parse_endpoint(item, &cfg->rendezvous[cfg->n_rendezvous], st->resolve, why,
			   sizeof(why)) != 0)
		return fail(st, "%s '%s': %s", key, item, why);
	cfg->n_rendezvous++;
	return 1;
}

/* An interface name for CandidateInterfaces / IgnoreInterfaces: a whole
 * name, or a prefix of one followed by '*' ("docker*"). */
static bool interface_pattern_valid(const char *item)
{
	char name[CONFIG_NAME_MAX + 2];
	size_t len = strlen(item);

	if (len == 0 || len > CONFIG_NAME_MAX + 1)
		return false;
	memcpy(name, item, len + 1);
	if (name[len - 1] == '*') {
		if (len == 1)
			return true; /* "*": every interface */
		name[len - 1] = '\0';
	} else if (len > CONFIG_NAME_MAX) {
		return false;
	}
	return ifname_valid(name);
}

static int add_interface_pattern(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;
	bool only = !strcasecmp(key, "CandidateInterfaces");
	size_t *n = only ? &cfg->n_candidate_ifs : &cfg->n_ignore_ifs;
	char(*list)[CONFIG_NAME_MAX + 2] = only ? cfg->candidate_ifs : cfg->ignore_ifs;

	if (*n == CONFIG_MAX_CANDIDATE_IFS)
		return fail(st, "more than %d interfaces in %s", CONFIG_MAX_CANDIDATE_IFS, key);
	if (!interface_pattern_valid(item))
		return fail(st, "%s '%s' is not an interface name (" IFNAME_RULE
			    ", or a prefix of one ending in '*')", key, item);
	strcpy(list[(*n)++], item);
	return 1;
}

static int add_ignore_prefix(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;

	if (cfg->n_ignore_prefixes == CONFIG_MAX_IGNORE_PREFIXES)
		return fail(st, "more than %d prefixes in %s", CONFIG_MAX_IGNORE_PREFIXES, key);
	if (!parse_prefix(item, &cfg->ignore_prefixes[cfg->n_ignore_prefixes], true))
		return fail(st, "%s '%s' is not an IP prefix like 10.8.0.0/16", key, item);
	cfg->n_ignore_prefixes++;
	return 1;
}

/* FwMark: "off", decimal or 0x-hex, 32 bits; 0 is off (as in wg). */
static bool parse_fwmark(const char *value, uint32_t *out)
{
	uint64_t num;

	if (!strcasecmp(value, "off")) {
		*out = 0;
		return true;
	}
	if ((value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))) {
		size_t n = strlen(value + 2);

		if (n == 0 || n > 8 || strspn(value + 2, "0123456789abcdefABCDEF") != n)
			return false;
		*out = (uint32_t)strtoul(value + 2, NULL, 16);
		return true;
	}
	if (number_parse_uint(value, UINT32_MAX, &num) < 0)
		return false;
	*out = (uint32_t)num;
	return true;
}

/* A table name from iproute2's rt_tables ("NUMBER NAME" lines). */
static bool table_from_file(const char *path, const char *name, uint32_t *out)
{
	char line[256];
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char num[32], word[128];
		uint64_t v;

		if (sscanf(line, " %31s %127s", num, word) == 2 && num[0] != '#' &&
		    !strcmp(word, name) && number_parse_uint(num, UINT32_MAX, &v) == 0) {
			*out = (uint32_t)v;
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Table = auto | off | NUMBER | NAME (iproute2's rt_tables, as `ip` reads
 * them; main, local and default are always known). */
static int parse_table(struct parse_state *st, const char *value)
{
	struct config *cfg = st->cfg;
	static const struct { const char *name; uint32_t id; } builtin[] = {
		{ "main", 254 }, { "local", 255 }, { "default", 253 },
	};
	uint64_t num;

	if (!strcasecmp(value, "auto")) {
		cfg->table_mode = CONFIG_TABLE_AUTO;
		return 1;
	}
	if (!strcasecmp(value, "off")) {
		cfg->table_mode = CONFIG_TABLE_OFF;
		return 1;
	}
	cfg->table_mode = CONFIG_TABLE_SET;
	if (number_parse_uint(value, UINT32_MAX, &num) == 0) {
		if (num == 0)
			return fail(st, "Table '%s': table 0 is not a table (auto, off, "
				    "a number from 1 or a name)", value);
		cfg->table = (uint32_t)num;
		return 1;
	}
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (!strcmp(value, builtin[i].name)) {
			cfg->table = builtin[i].id;
			return 1;
		}
	}
	if (table_from_file("/etc/iproute2/rt_tables", value, &cfg->table) ||
	    table_from_file("/usr/share/iproute2/rt_tables", value, &cfg->table) ||
	    table_from_file("/usr/lib/iproute2/rt_tables", value, &cfg->table))
		return 1;
	return fail(st, "Table '%s' is not auto, off, a number or a name in "
		    "/etc/iproute2/rt_tables", value);
}

/* DNS: an IP address is a server, anything else a search domain (wg-quick). */
static int add_dns(struct parse_state *st, const char *key, const char *item)
{
	struct config *cfg = st->cfg;
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, item, &a4) == 1 || inet_pton(AF_INET6, item, &a6) == 1) {
		if (cfg->n_dns_servers == CONFIG_MAX_DNS)
			return fail(st, "more than %d servers in %s", CONFIG_MAX_DNS, key);
		snprintf(cfg->dns_servers[cfg->n_dns_servers++], CONFIG_ADDR_TEXT_MAX, "%s", item);
		return 1;
	}
	if (!host_name_valid(item) || strlen(item) > CONFIG_DNS_NAME_MAX)
		return fail(st, "%s '%s' is neither an IP address nor a search domain", key, item);
	if (cfg->n_dns_search == CONFIG_MAX_DNS)
		return fail(st, "more than %d search domains in %s", CONFIG_MAX_DNS, key);
	snprintf(cfg->dns_search[cfg->n_dns_search++], CONFIG_DNS_NAME_MAX + 1, "%s", item);
	return 1;
}

/* PreUp, PostUp, PreDown, PostDown: one command per line, kept in order. */
static int add_hook(struct parse_state *st, const char *key, const char *value,
		    enum config_hook_kind kind)
{
	struct config *cfg = st->cfg;

	if (cfg->n_hooks == CONFIG_MAX_HOOKS)
		return fail(st, "more than %d PreUp/PostUp/PreDown/PostDown lines",
			    CONFIG_MAX_HOOKS);
	if (strlen(value) >= CONFIG_HOOK_MAX)
		return fail(st, "%s is longer than %d characters", key, CONFIG_HOOK_MAX - 1);
	strcpy(cfg->hooks[cfg->n_hooks], value);
	cfg->hook_kind[cfg->n_hooks++] = kind;
	return 1;
}

/* Mode = routed|bridge, Bridge = IFACE (an existing Linux bridge). */
static int mode_key(struct parse_state *st, const char *key, const char *value)
{
	struct config *cfg = st->cfg;

	if (!strcasecmp(key, "Mode")) {
		if (!set_once(st, &st->mode_line, key))
			return 0;
		if (!strcasecmp(value, "routed"))
			cfg->mode = CONFIG_MODE_ROUTED;
		else if (!strcasecmp(value, "bridge"))
			cfg->mode = CONFIG_MODE_BRIDGE;
		else
			return fail(st, "Mode '%s' is neither routed nor bridge", value);
		return 1;
	}
	if (!set_once(st, &st->bridge_line, key))
		return 0;
	if (!ifname_valid(value))
		return fail(st, "Bridge '%s' is not an interface name (" IFNAME_RULE ")", value);
	strcpy(cfg->bridge, value);
	return 1;
}

static int interface_key(struct parse_state *st, const char *key, const char *value)
{
	struct config *cfg = st->cfg;
	uint64_t num;

	if (!strcasecmp(key, "PrivateKey")) {
		if (!set_once(st, &st->private_key_line, "PrivateKey/PrivateKeyFile"))
			return 0;
		if (!decode_key(value, cfg->private_key))
			return fail(st, "PrivateKey is not a base64 key (as 'tunnelctl genkey' prints)");
		return 1;
	}
	if (!strcasecmp(key, "PrivateKeyFile")) {
		if (!set_once(st, &st->private_key_line, "PrivateKey/PrivateKeyFile"))
			return 0;
		return read_key_file(st, value, cfg->private_key);
	}
	if (!strcasecmp(key, "Address")) {
		if (!st->address_line)
			st->address_line = st->line;
		return for_each_item(st, key, value, add_address);
	}
	if (!strcasecmp(key, "ListenPort")) {
		if (!set_once(st, &st->listen_port_line, key))
			return 0;
		if (number_parse_uint(value, 65535, &num) < 0)
			return fail(st, "ListenPort '%s' is not a port (0-65535)", value);
		cfg->listen_port = (uint16_t)num;
		return 1;
	}
	if (!strcasecmp(key, "MTU")) {
		if (!set_once(st, &st->mtu_line, key))
			return 0;
		if (number_parse_uint(value, CONFIG_MAX_MTU, &num) < 0 || num < CONFIG_MIN_MTU)
			return fail(st, "MTU '%s' is out of range (%d-%d)", value,
				    CONFIG_MIN_MTU, CONFIG_MAX_MTU);
		cfg->mtu = (unsigned)num;
		return 1;
	}
	if (!strcasecmp(key, "Rendezvous")) {
		if (!st->rendezvous_line)
			st->rendezvous_line = st->line;
		return for_each_item(st, key, value, add_rendezvous);
	}
	if (!strcasecmp(key, "RendezvousKey")) {
		if (!set_once(st, &st->rendezvous_key_line, key))
			return 0;
		if (!decode_key(value, cfg->rendezvous_key))
			return fail(st, "RendezvousKey is not a base64 key");
		cfg->has_rendezvous_key = true;
		return 1;
	}
	if (!strcasecmp(key, "CandidateInterfaces") || !strcasecmp(key, "IgnoreInterfaces"))
		return for_each_item(st, key, value, add_interface_pattern);
	if (!strcasecmp(key, "IgnorePrefixes"))
		return for_each_item(st, key, value, add_ignore_prefix);
	if (!strcasecmp(key, "PortMapping")) {
		if (!set_once(st, &st->port_mapping_line, key))
			return 0;
		if (!strcasecmp(value, "on"))
			cfg->port_mapping = true;
		else if (!strcasecmp(value, "off"))
			cfg->port_mapping = false;
		else
			return fail(st, "PortMapping '%s' is neither on nor off", value);
		return 1;
	}
	if (!strcasecmp(key, "Punch")) {
		if (!set_once(st, &st->punch_line, key))
			return 0;
		if (!strcasecmp(value, "birthday"))
			cfg->punch = CONFIG_PUNCH_BIRTHDAY;
		else if (!strcasecmp(value, "basic"))
			cfg->punch = CONFIG_PUNCH_BASIC;
		else if (!strcasecmp(value, "off"))
			cfg->punch = CONFIG_PUNCH_OFF;
		else
			return fail(st, "Punch '%s' is none of birthday, basic, off", value);
		return 1;
	}
	if (!strcasecmp(key, "Table")) {
		if (!set_once(st, &st->table_line, key))
			return 0;
		return parse_table(st, value);
	}
	if (!strcasecmp(key, "FwMark")) {
		if (!set_once(st, &st->fwmark_line, key))
			return 0;
		if (!parse_fwmark(value, &cfg->fwmark))
			return fail(st, "FwMark '%s' is not a 32-bit number (decimal or 0x hex) "
				    "or off", value);
		return 1;
	}
	if (!strcasecmp(key, "DNS")) {
		if (!st->dns_line)
			st->dns_line = st->line;
		return for_each_item(st, key, value, add_dns);
	}
	if (!strcasecmp(key, "PreUp"))
		return add_hook(st, key, value, CONFIG_HOOK_PRE_UP);
	if (!strcasecmp(key, "PostUp"))
		return add_hook(st, key, value, CONFIG_HOOK_POST_UP);
	if (!strcasecmp(key, "PreDown"))
		return add_hook(st, key, value, CONFIG_HOOK_PRE_DOWN);
	if (!strcasecmp(key, "PostDown"))
		return add_hook(st, key, value, CONFIG_HOOK_POST_DOWN);
	if (!strcasecmp(key, "SaveConfig")) {
		if (!set_once(st, &st->save_config_line, key))
			return 0;
		if (!strcasecmp(value, "false"))
			return 1;
		if (!strcasecmp(value, "true"))
			return fail(st, "SaveConfig = true is not supported: tunnel never "
				    "rewrites your config");
		return fail(st, "SaveConfig '%s' is neither true nor false", value);
	}
	if (!strcasecmp(key, "Mode") || !strcasecmp(key, "Bridge"))
		return mode_key(st, key, value);
	return fail(st, "unknown key '%s' in [Interface]", key);
}

static int peer_key(struct parse_state *st, const char *key, const char *value)
{
	struct config *cfg = st->cfg;
	uint64_t num;
	char why[300];

	if (!strcasecmp(key, "PublicKey")) {
		if (!set_once(st, &st->public_key_line, key))
			return 0;
		if (!decode_key(value, cfg->peer_public_key))
			return fail(st, "PublicKey is not a base64 key");
		return 1;
	}
	if (!strcasecmp(key, "PresharedKey")) {
		if (!set_once(st, &st->preshared_key_line, key))
			return 0;
		if (!decode_key(value, cfg->preshared_key))
			return fail(st, "PresharedKey is not a base64 key");
		cfg->has_preshared_key = true;
		return 1;
	}
	if (!strcasecmp(key, "AllowedIPs")) {
		if (!st->allowed_ips_line)
			st->allowed_ips_line = st->line;
		return for_each_item(st, key, value, add_allowed_ip);
	}
	if (!strcasecmp(key, "Endpoint")) {
		if (!set_once(st, &st->endpoint_line, key))
			return 0;
		if (parse_endpoint(value, &cfg->endpoint, st->resolve, why, sizeof(why)) != 0)
			return fail(st, "Endpoint '%s': %s", value, why);
		cfg->has_endpoint = true;
		return 1;
	}
	if (!strcasecmp(key, "PersistentKeepalive")) {
		if (!set_once(st, &st->keepalive_line, key))
			return 0;
		if (!strcasecmp(value, "off"))
			num = 0;
		else if (number_parse_uint(value, 65535, &num) < 0)
			return fail(st, "PersistentKeepalive '%s' is not a number of seconds "
					"(0-65535, or off)", value);
		cfg->persistent_keepalive_s = (unsigned)num;
		return 1;
	}
	return fail(st, "unknown key '%s' in [Peer]", key);
}

static int handle_pair(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;

	(void)section; /* read_line tracks sections, with their line numbers */
	if (st->failed)
		return 0;
	if (!strcmp(value, VALUE_MARK))
		value = st->value;
	if (value[0] == '\0')
		return fail(st, "%s has no value", key);
	switch (st->section) {
	case SECTION_INTERFACE:
		return interface_key(st, key, value);
	case SECTION_PEER:
		return peer_key(st, key, value);
	case SECTION_NONE:
		break;
	}
	return fail(st, "'%s' outside of [Interface] or [Peer]", key);
}

/* Mode = bridge carries frames, not IP packets: no addresses on the TAP
 * (the gateway's address belongs on the bridge), no AllowedIPs (any frame
 * of the peer's is accepted; there is nothing to route). */
static int check_mode(struct parse_state *st)
{
	struct config *cfg = st->cfg;

	if (cfg->mode == CONFIG_MODE_ROUTED) {
		if (!st->bridge_line)
			return 1;
		st->line = st->bridge_line;
		return fail(st, "Bridge needs Mode = bridge");
	}
	if (st->address_line) {
		st->line = st->address_line;
		return fail(st, "Address makes no sense with Mode = bridge (put the gateway's "
				"address on the bridge, not on the tunnel)");
	}
	if (st->allowed_ips_line) {
		st->line = st->allowed_ips_line;
		return fail(st, "AllowedIPs makes no sense with Mode = bridge (every frame of "
				"the peer is accepted; there are no routes)");
	}
	if (st->table_line) {
		st->line = st->table_line;
		return fail(st, "Table makes no sense with Mode = bridge (there are no routes)");
	}
	if (st->dns_line) {
		st->line = st->dns_line;
		return fail(st, "DNS makes no sense with Mode = bridge (the LAN's own DHCP and "
				"DNS serve its hosts)");
	}
	if (cfg->mtu - CONFIG_BRIDGE_FRAME_OVERHEAD < CONFIG_MIN_MTU) {
		st->line = st->mtu_line;
		return fail(st, "MTU %u leaves the TAP less than %d bytes with Mode = bridge "
				"(%d go to the Ethernet header and a VLAN tag)",
			    cfg->mtu, CONFIG_MIN_MTU, CONFIG_BRIDGE_FRAME_OVERHEAD);
	}
	return 1;
}

unsigned config_device_mtu(const struct config *cfg)
{
	return cfg->mode == CONFIG_MODE_BRIDGE ? cfg->mtu - CONFIG_BRIDGE_FRAME_OVERHEAD
					       : cfg->mtu;
}

/* Checks that need the whole file: required keys and combinations. */
static int check_complete(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	uint8_t own_public[CONFIG_KEY_LEN];

	st->line = 0;
	if (!st->interface_line)
		return fail(st, "no [Interface] section");
	if (!st->peer_line)
		return fail(st, "no [Peer] section");
	st->line = st->interface_line;
	if (!st->private_key_line)
		return fail(st, "[Interface] needs PrivateKey or PrivateKeyFile");
	if (st->rendezvous_line && !cfg->has_rendezvous_key)
		return fail(st, "Rendezvous needs RendezvousKey (the server's public key)");
	if (cfg->has_rendezvous_key && !st->rendezvous_line) {
		st->line = st->rendezvous_key_line;
		return fail(st, "RendezvousKey without Rendezvous");
	}
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		if (cfg->addresses[i].family == AF_INET6 && cfg->mtu < CONFIG_MIN_MTU_IPV6) {
			st->line = st->mtu_line ? st->mtu_line : st->interface_line;
			return fail(st, "MTU %u is below %d, which IPv6 address needs",
				    cfg->mtu, CONFIG_MIN_MTU_IPV6);
		}
	}
	st->line = st->peer_line;
	if (!st->public_key_line)
		return fail(st, "[Peer] needs PublicKey");
	if (!cfg->has_endpoint && !st->rendezvous_line)
		return fail(st, "[Peer] has no Endpoint and [Interface] no Rendezvous: "
				"no way to reach the peer");
	if (keys_public_from_private(own_public, cfg->private_key) != 0) {
		st->line = st->private_key_line;
		return fail(st, "PrivateKey is not usable (its public key is zero)");
	}
	if (keys_equal(own_public, cfg->peer_public_key)) {
		st->line = st->public_key_line;
		return fail(st, "PublicKey is this machine's own key");
	}
	return 1;
}

_Static_assert((int)CONFIG_NAME_MAX + 1 == (int)CONTROL_NAME_MAX, "a link name fits the control protocol");

_Static_assert((int)CONFIG_NAME_MAX == (int)IFNAME_MAX_LEN, "a link name is an interface name");

bool config_name_valid(const char *name)
{
	return ifname_valid(name);
}

int config_parse_string(const char *path, const char *name, const char *text,
			unsigned flags, struct config *out, char err[static CONFIG_ERR_LEN])
{
	struct parse_state st = {
		.path = path, .cfg = out, .err = err, .text = text,
		.resolve = !(flags & CONFIG_NUMERIC_ONLY),
	};
	int r;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (!config_name_valid(name)) {
		config_error(err, "%s: link name '%.40s' is not " IFNAME_RULE, path, name);
		return -EINVAL;
	}
	strcpy(out->name, name);
	out->mtu = CONFIG_DEFAULT_MTU;
	out->persistent_keepalive_s = CONFIG_DEFAULT_KEEPALIVE_S;
	out->port_mapping = true;
	out->punch = CONFIG_PUNCH_BIRTHDAY;

	r = ini_parse_stream(read_line, &st, handle_pair, &st);
	if (!st.failed && r > 0) {
		st.line = (unsigned)r;
		fail(&st, "expected 'Key = value' or a [Section]");
	}
	if (!st.failed)
		check_complete(&st);
	if (!st.failed)
		check_mode(&st);
	if (st.failed) {
		config_clear(out);
		return -EINVAL;
	}
	return 0;
}

int config_load(const char *dir, const char *name, struct config *out,
		char err[static CONFIG_ERR_LEN])
{
	char path[4096];
	char *text = NULL;
	struct stat sb;
	ssize_t n;
	int fd, r;

	if (!config_name_valid(name)) {
		config_error(err, "link name '%.40s' is not " IFNAME_RULE, name);
		return -EINVAL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.conf", dir, name) >= sizeof(path)) {
		config_error(err, "config directory path is too long");
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		config_error(err, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		config_error(err, "%s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (sb.st_mode & 077) {
		config_error(err, "%s: readable by others, and it holds keys (chmod 600 it)", path);
		r = -EACCES;
		goto out;
	}
	if (sb.st_size > CONFIG_FILE_MAX) {
		config_error(err, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	text = malloc((size_t)sb.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		config_error(err, "%s: out of memory", path);
		goto out;
	}
	n = read(fd, text, (size_t)sb.st_size);
	if (n != sb.st_size) {
		config_error(err, "%s: short read", path);
		r = -EIO;
		goto out;
	}
	text[n] = '\0';
	if (strlen(text) != (size_t)n) {
		config_error(err, "%s: contains a NUL byte", path);
		r = -EINVAL;
		goto out;
	}
	r = config_parse_string(path, name, text, 0, out, err);
	if (r == 0)
		snprintf(out->dir, sizeof(out->dir), "%s", dir);
out:
	if (text) {
		sodium_memzero(text, (size_t)sb.st_size);
		free(text);
	}
	close(fd);
	return r;
}

bool config_full_tunnel(const struct config *cfg, int family)
{
	for (size_t i = 0; i < cfg->n_allowed_ips; i++)
		if (cfg->allowed_ips[i].family == family && cfg->allowed_ips[i].len == 0)
			return true;
	return false;
}

void config_clear(struct config *cfg)
{
	sodium_memzero(cfg->private_key, sizeof(cfg->private_key));
	sodium_memzero(cfg->preshared_key, sizeof(cfg->preshared_key));
}
