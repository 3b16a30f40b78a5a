/* `tunnelctl ping PEER [-c N] [-i SECONDS] [--until-direct] [--json]`, as
 * `tailscale ping`: one authenticated path probe per ping, sent by the
 * daemon on the path in use (the peer's endpoint when direct, the
 * rendezvous server's relay otherwise; see tunnel/ping.h), and for each
 * its round trip and the path it took. Not ICMP: it measures the path,
 * not the peer's IP stack. Without -c: until the first direct pong, at
 * most 10 pings (tailscale's default); with -c N: N pings, or until the
 * first direct pong with --until-direct. Exit 0 when any pong came back,
 * 1 when none did (or the link is not up), 2 for bad usage. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/ifname.h"
#include "common/number.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"
#include "tunnel/ctl/show_format.h"

#define USAGE "usage: tunnelctl ping PEER [-c N] [-i SECONDS] [--until-direct] [--json]"

enum ping_defaults {
	PING_DEFAULT_COUNT = 10,
	PING_MAX_COUNT = 1000000,
	PING_DEFAULT_INTERVAL_MS = 1000,
	/* The peer answers 10 probes a second from one address (probe_guard.h)
	 * and its punching and path checks share that budget: a ping leaves
	 * them more than half of it. */
	PING_MIN_INTERVAL_MS = 200,
	PING_MAX_INTERVAL_MS = 3600 * 1000,
};

struct ping_options {
	const char *name;
	uint64_t count;
	uint64_t interval_ms;
	bool until_direct;
	bool json;
};

/* 0, or 2 after printing why on stderr. */
static int parse_options(int argc, char **argv, struct ping_options *o, bool *help)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "until-direct", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool counted = false;
	int opt;

	*o = (struct ping_options){ .count = PING_DEFAULT_COUNT,
				    .interval_ms = PING_DEFAULT_INTERVAL_MS };
	*help = false;
	optind = 0;
	while ((opt = commands_getopt(argc, argv, ":c:i:ujh", opts)) != -1) {
		char *end;
		double s;

		switch (opt) {
		case 'c':
			if (number_parse_uint(optarg, PING_MAX_COUNT, &o->count) != 0 ||
			    o->count == 0) {
				fprintf(stderr, "tunnelctl ping: -c takes a count from 1 to %d, "
						"not '%s'\n", PING_MAX_COUNT, optarg);
				return 2;
			}
			counted = true;
			break;
		case 'i':
			errno = 0;
			s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(s) ||
			    s * 1000 < PING_MIN_INTERVAL_MS || s * 1000 > PING_MAX_INTERVAL_MS) {
				fprintf(stderr, "tunnelctl ping: -i takes seconds from 0.2 to 3600, "
						"not '%s'\n", optarg);
				return 2;
			}
			o->interval_ms = (uint64_t)(s * 1000 + 0.5);
			break;
		case 'u':
			o->until_direct = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			*help = true;
			return 0;
		default:
			fprintf(stderr, USAGE "\n");
			return 2;
		}
	}
	if (!counted)
		o->until_direct = true;
	if (argc - optind != 1 || !ifname_valid(argv[optind])) {
		fprintf(stderr, USAGE "\n");
		return 2;
	}
	o->name = argv[optind];
	return 0;
}

static void print_json(json_t *o)
{
	/* rtt_ms to the microsecond: 1.234, not 1.2340000000000001 */
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

static void report_pong(const struct ping_options *o, uint64_t seq, const struct control_pong *p,
			const char *change)
{
	char rtt[32];

	if (o->json) {
		print_json(json_pack("{s:s, s:I, s:s, s:s, s:f, s:b}", "peer", o->name,
				     "seq", (json_int_t)seq, "path", p->path,
				     "endpoint", p->endpoint, "rtt_ms", (double)p->rtt_us / 1000,
				     "upgraded", change && !strcmp(p->path, "direct")));
		return;
	}
	if (change)
		printf("%s: the link %s\n", o->name, change);
	printf("pong from %s via %s%s in %s\n", o->name, strcmp(p->path, "relay") ? "" : "relay ",
	       p->endpoint, show_format_rtt(rtt, sizeof(rtt), p->rtt_us));
}

static void report_miss(const struct ping_options *o, uint64_t seq, const char *what)
{
	if (o->json)
		print_json(json_pack("{s:s, s:I, s:s}", "peer", o->name, "seq", (json_int_t)seq,
				     "error", what));
	else
		printf("no pong from %s: %s\n", o->name, what);
}

int cmd_ping(int argc, char **argv)
{
	const char *run_dir = control_run_dir();
	struct ping_options o;
	char last_path[8] = "";
	uint64_t pongs = 0;
	bool help, direct = false;
	int r = parse_options(argc, argv, &o, &help);

	if (r)
		return r;
	if (help) {
		printf(USAGE "\nauthenticated path probes to PEER on the path in use: round "
		       "trip and path of each (direct ip:port, or the relay); without -c until "
		       "the first direct pong, at most %d\n", PING_DEFAULT_COUNT);
		return 0;
	}
	for (uint64_t seq = 1; seq <= o.count; seq++) {
		uint64_t start = clock_now_ms(), now;
		char buf[CONTROL_RESPONSE_MAX], error[CONTROL_ERROR_MAX];
		struct control_pong pong;
		const char *change = NULL;

		r = control_query(run_dir, o.name, "ping=1\n\n", buf, sizeof(buf));
		if (r == -EACCES || r == -EPERM) {
			control_denied(run_dir, o.name);
			return 1;
		}
		if (r == -ENOENT || r == -ECONNREFUSED) {
			control_daemon_alive(run_dir, o.name); /* clears a stale socket */
			fprintf(stderr, "tunnelctl: link %s is not up\n", o.name);
			return 1;
		}
		if (r == 0)
			r = control_parse_pong(buf, strlen(buf), &pong, error);
		else
			snprintf(error, sizeof(error), "%s", strerror(-r));
		if (r == 0) {
			pongs++;
			if (!strcmp(last_path, "relay") && !strcmp(pong.path, "direct"))
				change = "upgraded from relay to direct";
			else if (!strcmp(last_path, "direct") && !strcmp(pong.path, "relay"))
				change = "fell back from direct to relay";
			report_pong(&o, seq, &pong, change);
			snprintf(last_path, sizeof(last_path), "%s", pong.path);
			direct = !strcmp(pong.path, "direct");
		} else {
			report_miss(&o, seq, error[0] ? error : strerror(-r));
		}
		fflush(stdout);
		if ((o.until_direct && direct) || seq == o.count)
			break;
		now = clock_now_ms();
		if (now < start + o.interval_ms)
			(void)poll(NULL, 0, (int)(start + o.interval_ms - now));
	}
	if (o.until_direct && !direct && pongs && !o.json)
		printf("%s: no direct path yet after %llu pings\n", o.name,
		       (unsigned long long)o.count);
	return fflush(stdout) == 0 && pongs ? 0 : 1;
}
