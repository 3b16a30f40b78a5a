/* The link's policy routing and DNS, with a crash record (see routing.h). */
#include "tunnel/routing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* The record: one line, "table T fwmark M v4 0|1 v6 0|1 dns N". */
#define RECORD_FORMAT "table %u fwmark %u v4 %d v6 %d dns %d\n"

static int record_path(char *out, size_t len, const char *run_dir, const char *name)
{
	return (size_t)snprintf(out, len, "%s/%s.routing", run_dir, name) >= len ? -ENAMETOOLONG
										  : 0;
}

int routing_clean_stale(const char *run_dir, const char *name, char err[static CONFIG_ERR_LEN])
{
	char path[PATH_MAX], line[128];
	struct tun_policy p = { 0 };
	struct tun_error terr = { "" };
	unsigned table, fwmark;
	int v4, v6, dns, r = 0;
	FILE *f;

	if (record_path(path, sizeof(path), run_dir, name))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, RECORD_FORMAT, &table, &fwmark, &v4, &v6, &dns) != 5 ||
	    dns < DNS_NONE || dns > DNS_RESOLVCONF) {
		fclose(f);
		log_warn("%s: %s is not a routing record: ignored", name, path);
		unlink(path);
		return 0;
	}
	fclose(f);
	log_notice("%s: a previous daemon of this link ended without cleaning up: removing its "
		   "rules (table %u, fwmark 0x%x) and DNS", name, table, fwmark);
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.table = table;
	p.fwmark = fwmark;
	for (int i = 0; i < 2; i++)
		p.mark_rule[i] = p.suppress_rule[i] = (i ? v6 : v4) != 0;
	if (tun_policy_teardown(&p, &terr)) {
		config_error(err, "%s", terr.msg);
		r = -1;
	}
	if (dns_unset(name, (enum dns_backend)dns, err))
		r = -1;
	if (r == 0)
		unlink(path);
	return r;
}

int routing_plan(struct routing *rt, const struct config *cfg, struct tun_config *tc,
		 char err[static CONFIG_ERR_LEN])
{
	struct tun_error terr = { "" };

	memset(rt, 0, sizeof(*rt));
	rt->fwmark = cfg->fwmark;
	rt->dns = dns_backend(cfg);
	switch (cfg->table_mode) {
	case CONFIG_TABLE_OFF:
		tc->routes_len = 0;
		return 0;
	case CONFIG_TABLE_SET:
		tc->table = cfg->table;
		return 0;
	case CONFIG_TABLE_AUTO:
		break;
	}
	rt->full[0] = config_full_tunnel(cfg, AF_INET);
	rt->full[1] = config_full_tunnel(cfg, AF_INET6);
	if (!rt->full[0] && !rt->full[1])
		return 0;
	tc->skip_default = true;
	if (rt->fwmark) {
		rt->table = rt->fwmark;
		return 0;
	}
	if (tun_policy_free_table(&rt->table, &terr)) {
		config_error(err, "%s", terr.msg);
		return -1;
	}
	rt->fwmark = rt->table;
	return 0;
}

static int write_record(struct routing *rt, const char *run_dir, const char *name)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int r;

	r = record_path(rt->record, sizeof(rt->record), run_dir, name);
	if (r)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.new", rt->record);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	r = fprintf(f, RECORD_FORMAT, rt->table, rt->fwmark, rt->full[0], rt->full[1],
		    (int)rt->dns) < 0;
	r |= fflush(f) != 0 || fsync(fileno(f)) != 0;
	r |= fclose(f) != 0;
	if (r || rename(tmp, rt->record) != 0) {
		r = -errno;
		unlink(tmp);
		rt->record[0] = '\0';
		return r ? r : -EIO;
	}
	return 0;
}

int routing_apply(struct routing *rt, const struct config *cfg, const char *run_dir,
		  char err[static CONFIG_ERR_LEN])
{
	struct tun_error terr = { "" };
	int r;

	if (!rt->full[0] && !rt->full[1] && rt->dns == DNS_NONE)
		return 0;
	r = write_record(rt, run_dir, cfg->name);
	if (r) {
		config_error(err, "cannot write %s/%s.routing: %s", run_dir, cfg->name,
			     strerror(-r));
		return -1;
	}
	if (rt->full[0] || rt->full[1]) {
		r = tun_policy_setup(&rt->policy, cfg->name, rt->table, rt->fwmark, rt->full[0],
				     rt->full[1], &terr);
		if (r) {
			config_error(err, "%s", terr.msg);
			goto fail;
		}
		log_info("%s: full tunnel (%s%s%s): table %u, fwmark 0x%x", cfg->name,
			 rt->full[0] ? "IPv4" : "", rt->full[0] && rt->full[1] ? ", " : "",
			 rt->full[1] ? "IPv6" : "", rt->table, rt->fwmark);
	}
	if (rt->dns != DNS_NONE) {
		if (dns_set(cfg, rt->dns, err))
			goto fail;
		rt->dns_applied = true;
	}
	return 0;
fail:
	(void)!tun_policy_teardown(&rt->policy, &terr);
	unlink(rt->record);
	rt->record[0] = '\0';
	return -1;
}

int routing_teardown(struct routing *rt, const char *name)
{
	struct tun_error terr = { "" };
	char err[CONFIG_ERR_LEN];
	int r = 0;

	if (rt->dns_applied) {
		if (dns_unset(name, rt->dns, err)) {
			log_warn("%s: %s", name, err);
			r = -1;
		}
		rt->dns_applied = false;
	}
	if (tun_policy_teardown(&rt->policy, &terr)) {
		log_warn("%s: %s", name, terr.msg);
		r = -1;
	}
	/* A record that names what could not be undone stays, for the next up. */
	if (rt->record[0] && r == 0)
		unlink(rt->record);
	rt->record[0] = '\0';
	return r;
}
