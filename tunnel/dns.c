/* DNS for the link (see dns.h). */
#include "tunnel/dns.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel/hooks.h"

/* systemd-resolved's varlink socket: present while it runs. */
#define RESOLVED_SOCKET "/run/systemd/resolve/io.systemd.Resolve"

/* "PREFIX.NAME": a prefix from a 128-byte line of interface-order */
enum { DNS_RECORD_MAX = 128 + 1 + CONFIG_NAME_MAX + 1 };

enum { DNS_INPUT_MAX = CONFIG_MAX_DNS * (CONFIG_ADDR_TEXT_MAX + 12) +
		       CONFIG_MAX_DNS * (CONFIG_DNS_NAME_MAX + 1) + 16 };

enum dns_backend dns_backend(const struct config *cfg)
{
	if (!cfg->n_dns_servers && !cfg->n_dns_search)
		return DNS_NONE;
	return access(RESOLVED_SOCKET, F_OK) == 0 ? DNS_RESOLVED : DNS_RESOLVCONF;
}

/* wg-quick's resolvconf_iface_prefix: Debian's resolvconf orders its
 * interfaces by /etc/resolvconf/interface-order; the first pattern there of
 * the form "NAME*" gives our records a "NAME." prefix. */
static void iface_record(const char *name, char *out, size_t len)
{
	FILE *f = fopen("/etc/resolvconf/interface-order", "re");
	char line[128];

	snprintf(out, len, "%s", name);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-");

		if (n > 0 && line[n] == '*' && (line[n + 1] == '\n' || line[n + 1] == '\0')) {
			line[n] = '\0';
			snprintf(out, len, "%.127s.%.15s", line, name);
			break;
		}
	}
	fclose(f);
}

static int run(const char *what, const char *const argv[], const char *input,
	       char err[static CONFIG_ERR_LEN])
{
	int r = hooks_spawn(argv, input);

	if (r == 0)
		return 0;
	if (r < 0)
		config_error(err, "DNS: cannot run %s: %s", argv[0], strerror(-r));
	else
		config_error(err, "DNS: %s failed with exit status %d", what, r);
	return -1;
}

int dns_set(const struct config *cfg, enum dns_backend backend, char err[static CONFIG_ERR_LEN])
{
	char input[DNS_INPUT_MAX], record[DNS_RECORD_MAX];
	size_t n = 0;

	if (backend == DNS_NONE)
		return 0;
	if (backend == DNS_RESOLVED) {
		const char *argv[4 + CONFIG_MAX_DNS] = { "resolvectl", "dns", cfg->name };
		size_t k = 3;

		for (size_t i = 0; i < cfg->n_dns_servers; i++)
			argv[k++] = cfg->dns_servers[i];
		if (cfg->n_dns_servers && run("resolvectl dns", argv, NULL, err))
			return -1;
		k = 3;
		argv[1] = "domain";
		for (size_t i = 0; i < cfg->n_dns_search; i++)
			argv[k++] = cfg->dns_search[i];
		argv[k] = NULL;
		if (cfg->n_dns_search && run("resolvectl domain", argv, NULL, err)) {
			(void)!dns_unset(cfg->name, backend, err);
			config_error(err, "DNS: resolvectl domain failed");
			return -1;
		}
		log_info("%s: DNS set through systemd-resolved", cfg->name);
		return 0;
	}
	input[0] = '\0';
	for (size_t i = 0; i < cfg->n_dns_servers; i++)
		n += (size_t)snprintf(input + n, sizeof(input) - n, "nameserver %s\n",
				      cfg->dns_servers[i]);
	if (cfg->n_dns_search) {
		n += (size_t)snprintf(input + n, sizeof(input) - n, "search");
		for (size_t i = 0; i < cfg->n_dns_search; i++)
			n += (size_t)snprintf(input + n, sizeof(input) - n, " %s",
					      cfg->dns_search[i]);
		snprintf(input + n, sizeof(input) - n, "\n");
	}
	iface_record(cfg->name, record, sizeof(record));
	{
		const char *argv[] = { "resolvconf", "-a", record, "-m", "0", "-x", NULL };

		log_info("%s: [#] resolvconf -a %s -m 0 -x", cfg->name, record);
		return run("resolvconf -a", argv, input, err);
	}
}

int dns_unset(const char *name, enum dns_backend backend, char err[static CONFIG_ERR_LEN])
{
	char record[DNS_RECORD_MAX];

	if (backend == DNS_RESOLVED) {
		const char *argv[] = { "resolvectl", "revert", name, NULL };

		return run("resolvectl revert", argv, NULL, err);
	}
	if (backend == DNS_RESOLVCONF) {
		const char *argv[] = { "resolvconf", "-d", record, "-f", NULL };

		iface_record(name, record, sizeof(record));
		log_info("%s: [#] resolvconf -d %s -f", name, record);
		return run("resolvconf -d", argv, NULL, err);
	}
	return 0;
}
