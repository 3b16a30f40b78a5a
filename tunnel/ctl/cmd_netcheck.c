/* tunnelctl netcheck: what the network between us and the rendezvous
 * servers does to UDP, with no link up (tunnel/netcheck.h measures). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/number.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/netcheck.h"

static const char usage[] =
	"usage: tunnelctl netcheck [PEER] [--rendezvous ADDR:PORT]... [--json]\n"
	"                          [--timeout MS] [--config-dir DIR]\n";
static const char summary[] =
	"Asks the rendezvous servers of PEER.conf (or --rendezvous, repeatable, a\n"
	"literal address) what our public address and port are, from one socket\n"
	"per address family, and the gateway which port-mapping protocols it\n"
	"speaks. Reports whether UDP gets out, the public IPv4/IPv6 endpoint,\n"
	"whether the NAT maps one endpoint per destination (needs two servers, or\n"
	"a server run with --alt-port), whether it kept our port, and the round\n"
	"trip to each server. No link needs to be up; nothing needs root.\n"
	"  --json          for scripts; keys are stable\n"
	"  --timeout MS    wait for answers at most this long (default 1500)\n";

static json_t *str_or_null(bool has, const char *s)
{
	return has ? json_string(s) : json_null();
}

static json_t *family_json(const struct netcheck_family *f)
{
	char ep[RDV_ENDPOINT_STR];

	if (!f->asked)
		return json_null();
	return json_pack("{s:o, s:I, s:s, s:o}",
			 "public", str_or_null(f->answered,
					       rdv_endpoint_str(&f->public_ep, ep, sizeof(ep))),
			 "local_port", (json_int_t)f->local_port,
			 "mapping", netcheck_mapping_name(f->mapping),
			 "port_preserved", f->port_preserved < 0 ? json_null()
							    : json_boolean(f->port_preserved));
}

static int print_json(const struct netcheck_report *r)
{
	const struct portmap_probe *pm = &r->portmap;
	char gw[RDV_ENDPOINT_STR] = "";
	json_t *servers = json_array(), *o;

	if (pm->has_gateway)
		inet_ntop(AF_INET, &pm->gateway, gw, sizeof(gw));
	for (size_t i = 0; servers && i < r->n_targets; i++) {
		const struct netcheck_target *t = &r->targets[i];
		char a[RDV_ENDPOINT_STR], m[RDV_ENDPOINT_STR];

		json_array_append_new(servers,
			json_pack("{s:s, s:b, s:o, s:o}",
				  "address", rdv_endpoint_str(&t->addr, a, sizeof(a)),
				  "other_port", t->is_other,
				  "rtt_ms", t->answered ? json_integer(t->rtt_ms) : json_null(),
				  "mapped", str_or_null(t->answered,
							rdv_endpoint_str(&t->mapped, m, sizeof(m)))));
	}
	o = json_pack("{s:b, s:o, s:o, s:{s:o, s:b, s:b, s:b}, s:o}",
		      "udp", r->udp,
		      "ipv4", family_json(&r->v4),
		      "ipv6", family_json(&r->v6),
		      "portmap", "gateway", str_or_null(pm->has_gateway, gw),
		      "upnp", pm->upnp, "nat_pmp", pm->natpmp, "pcp", pm->pcp,
		      "rendezvous", servers);
	if (!o) {
		fprintf(stderr, "tunnelctl: out of memory\n");
		return 1;
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
	return 0;
}

static void print_family(const char *name, const struct netcheck_family *f)
{
	char ep[RDV_ENDPOINT_STR];

	if (!f->asked) {
		printf("  %s: no server to ask\n", name);
		return;
	}
	if (!f->answered) {
		printf("  %s: no answer\n", name);
		return;
	}
	printf("  %s: %s (local port %u)\n", name, rdv_endpoint_str(&f->public_ep, ep, sizeof(ep)),
	       (unsigned)f->local_port);
	switch (f->mapping) {
	case NETCHECK_MAPPING_NONE:
		printf("    no NAT: the servers see our own address and port\n");
		break;
	case NETCHECK_MAPPING_INDEPENDENT:
		printf("    mapping: endpoint-independent (one public endpoint for every destination)\n");
		break;
	case NETCHECK_MAPPING_DEPENDENT:
		printf("    mapping: endpoint-dependent (varies by destination: a \"symmetric\" NAT)\n");
		break;
	case NETCHECK_MAPPING_UNKNOWN:
		printf("    mapping: unknown (one destination answered; run the server with "
		       "--alt-port, or list two servers)\n");
		break;
	}
	if (f->mapping != NETCHECK_MAPPING_NONE)
		printf("    port preserved: %s\n", f->port_preserved ? "yes" : "no");
}

static void print_human(const struct netcheck_report *r)
{
	const struct portmap_probe *pm = &r->portmap;

	printf("Report:\n");
	printf("  UDP: %s\n", r->udp ? "yes" : "blocked (no rendezvous server answered)");
	print_family("IPv4", &r->v4);
	print_family("IPv6", &r->v6);
	if (!pm->has_gateway)
		printf("  port mapping: no IPv4 default gateway\n");
	else if (!pm->upnp && !pm->natpmp && !pm->pcp)
		printf("  port mapping: the gateway answers none (UPnP, NAT-PMP, PCP)\n");
	else
		printf("  port mapping:%s%s%s\n", pm->upnp ? " UPnP" : "", pm->natpmp ? " NAT-PMP" : "",
		       pm->pcp ? " PCP" : "");
	printf("  rendezvous:\n");
	for (size_t i = 0; i < r->n_targets; i++) {
		const struct netcheck_target *t = &r->targets[i];
		char a[RDV_ENDPOINT_STR];

		rdv_endpoint_str(&t->addr, a, sizeof(a));
		if (t->answered)
			printf("    %s%s: %lld ms\n", a, t->is_other ? " (other port)" : "",
			       (long long)t->rtt_ms);
		else
			printf("    %s%s: no answer\n", a, t->is_other ? " (other port)" : "");
	}
}

int cmd_netcheck(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rendezvous", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rdv_endpoint servers[NETCHECK_MAX_SERVERS];
	struct netcheck_report report;
	const char *config_dir = NULL;
	size_t n = 0;
	unsigned timeout_ms = NETCHECK_DEFAULT_TIMEOUT_MS;
	bool as_json = false;
	uint64_t v;
	int opt;

	optind = 0;
	while ((opt = commands_getopt(argc, argv, ":r:jt:c:h", opts)) != -1) {
		switch (opt) {
		case 'r':
			if (n == NETCHECK_MAX_SERVERS) {
				fprintf(stderr, "tunnelctl: at most %d --rendezvous\n",
					NETCHECK_MAX_SERVERS);
				return 2;
			}
			if (rdv_endpoint_parse(&servers[n], optarg, false) < 0) {
				fprintf(stderr, "tunnelctl: --rendezvous '%s' is not ADDR:PORT "
						"([V6ADDR]:PORT)\n", optarg);
				return 2;
			}
			n++;
			break;
		case 'j':
			as_json = true;
			break;
		case 't':
			if (number_parse_uint(optarg, 60000, &v) < 0 || v == 0) {
				fprintf(stderr, "tunnelctl: --timeout '%s' is not 1-60000 ms\n", optarg);
				return 2;
			}
			timeout_ms = (unsigned)v;
			break;
		case 'c':
			config_dir = optarg;
			break;
		case 'h':
			printf("%s%s", usage, summary);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc - 1 || (optind == argc && n == 0)) {
		fputs(usage, stderr);
		return 2;
	}
	if (optind == argc - 1) {
		char err[NETCHECK_ERR_LEN];
		size_t got;
		int r = netcheck_servers_from_config(commands_config_dir(config_dir), argv[optind],
						     servers + n, NETCHECK_MAX_SERVERS - n, &got, err);

		if (r) {
			fprintf(stderr, "tunnelctl: %s\n", err);
			return r == -EINVAL || r == -EACCES || r == -ENOENT ? 2 : 1;
		}
		n += got;
	}
	netcheck_run(&report, servers, n, timeout_ms, true);
	if (as_json)
		return print_json(&report);
	print_human(&report);
	return 0;
}
