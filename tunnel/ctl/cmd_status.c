/* `tunnelctl status [PEER] [--json]`: one block per running link for people
 * (coloured on a terminal), or a JSON array for scripts whose keys are
 * stable (SPEC.md). Links are found by their sockets in the run directory. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ifname.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"

enum { STATUS_MAX_LINKS = 256 };

static json_t *string_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *int_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* "nat": {mapping, port_preserved, portmap, public, portmap_reason} */
static json_t *nat_json(const struct control_status *st)
{
	json_t *preserved = !strcmp(st->nat_port_preserved, "true")	 ? json_true()
			    : !strcmp(st->nat_port_preserved, "false") ? json_false()
								   : json_null();

	return json_pack("{s:s, s:o, s:o, s:o, s:o}",
			 "mapping", st->nat_mapping[0] ? st->nat_mapping : "unknown",
			 "port_preserved", preserved,
			 "portmap", string_or_null(st->nat_portmap),
			 "public", string_or_null(st->nat_public),
			 "portmap_reason", string_or_null(st->portmap_reason));
}

static json_t *status_json(const struct control_status *st)
{
	json_t *dropped = json_object();
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:s, s:I}",
			      "name", st->name,
			      "public_key", st->public_key,
			      "peer_public_key", st->peer_public_key,
			      "state", st->state,
			      "path", st->path,
			      "endpoint", string_or_null(st->endpoint),
			      "reflexive_endpoint", string_or_null(st->reflexive_endpoint),
			      "last_handshake_age_s", int_or_null(st->last_handshake_age_s),
			      "rx_bytes", (json_int_t)st->rx_bytes,
			      "tx_bytes", (json_int_t)st->tx_bytes,
			      "keepalive_s", (json_int_t)st->keepalive_s,
			      "rtt_ms", int_or_null(st->rtt_ms),
			      "reason", st->reason,
			      "pid", (json_int_t)st->pid);

	if (o) {
		json_object_set_new(o, "path_mtu", json_integer((json_int_t)st->path_mtu));
		json_object_set_new(o, "path_changes", json_integer((json_int_t)st->path_changes));
		json_object_set_new(o, "probes_sent", json_integer((json_int_t)st->probes_sent));
		json_object_set_new(o, "mode", json_string(st->mode));
		json_object_set_new(o, "frames_rx", json_integer((json_int_t)st->frames_rx));
		json_object_set_new(o, "frames_tx", json_integer((json_int_t)st->frames_tx));
		json_object_set_new(o, "remote_macs", json_integer((json_int_t)st->remote_macs));
	}

	if (!o || !dropped) {
		json_decref(o);
		json_decref(dropped);
		return NULL;
	}
	for (size_t i = 0; i < DROP_KIND_COUNT; i++)
		json_object_set_new(dropped, control_drop_names[i],
				    json_integer((json_int_t)st->dropped[i]));
	json_object_set_new(o, "dropped", dropped);
	json_object_set_new(o, "nat", nat_json(st));
	json_object_set_new(o, "path_origin", string_or_null(st->path_origin));
	json_object_set_new(o, "path_origin_reason", string_or_null(st->path_origin_reason));
	json_object_set_new(o, "relay_channel", json_string(st->relay_channel));
	return o;
}

static void print_human(const struct control_status *st, bool colour)
{
	const char *bold = colour ? "\033[1m" : "", *reset = colour ? "\033[0m" : "";
	const char *state_colour = "";
	uint64_t total_dropped = 0;

	if (colour)
		state_colour = !strcmp(st->state, "established") ? "\033[32m"
			     : !strcmp(st->state, "relayed")     ? "\033[33m"
								 : "\033[31m";
	for (size_t i = 0; i < DROP_KIND_COUNT; i++)
		total_dropped += st->dropped[i];
	printf("%slink: %s%s\n", bold, st->name, reset);
	printf("  public key: %s\n", st->public_key);
	printf("  peer: %s\n", st->peer_public_key);
	printf("  state: %s%s%s (path %s)\n", state_colour, st->state, reset, st->path);
	if (st->reason[0])
		printf("  reason: %s\n", st->reason);
	if (st->endpoint[0])
		printf("  endpoint: %s\n", st->endpoint);
	if (st->path_origin[0])
		printf("  path found by: %s%s%s%s\n", st->path_origin,
		       st->path_origin_reason[0] ? " (" : "", st->path_origin_reason,
		       st->path_origin_reason[0] ? ")" : "");
	if (strcmp(st->relay_channel, "none") != 0)
		printf("  relay channel: %s\n", st->relay_channel);
	if (st->reflexive_endpoint[0])
		printf("  our public endpoint: %s\n", st->reflexive_endpoint);
	if (st->nat_mapping[0])
		printf("  NAT: mapping %s, port %s%s%s\n", st->nat_mapping,
		       !strcmp(st->nat_port_preserved, "true")	  ? "preserved"
		       : !strcmp(st->nat_port_preserved, "false") ? "not preserved"
								  : "preservation unknown",
		       st->nat_portmap[0] ? ", router port mapping by " : "", st->nat_portmap);
	if (st->portmap_reason[0])
		printf("  port mapping: %s\n", st->portmap_reason);
	if (st->last_handshake_age_s >= 0)
		printf("  latest handshake: %lld s ago\n", (long long)st->last_handshake_age_s);
	if (st->rtt_ms >= 0)
		printf("  round trip: %lld ms\n", (long long)st->rtt_ms);
	if (st->path_mtu)
		printf("  path MTU: %llu\n", (unsigned long long)st->path_mtu);
	printf("  transfer: %llu B received, %llu B sent\n", (unsigned long long)st->rx_bytes,
	       (unsigned long long)st->tx_bytes);
	if (!strcmp(st->mode, "bridge"))
		printf("  bridge: %llu frames received, %llu sent; %llu MACs behind the peer\n",
		       (unsigned long long)st->frames_rx, (unsigned long long)st->frames_tx,
		       (unsigned long long)st->remote_macs);
	if (st->keepalive_s)
		printf("  persistent keepalive: every %llu s\n", (unsigned long long)st->keepalive_s);
	printf("  dropped: %llu datagrams\n", (unsigned long long)total_dropped);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int commands_list_links(const char *run_dir, char names[][CONTROL_NAME_MAX], size_t max,
			size_t *count)
{
	DIR *dir = opendir(run_dir);
	struct dirent *de;
	size_t n = 0;

	*count = 0;
	if (!dir)
		return errno == EACCES || errno == EPERM ? -EACCES : 0;
	while ((de = readdir(dir)) && n < max) {
		size_t len = strlen(de->d_name);

		if (len <= 5 || len - 5 >= CONTROL_NAME_MAX || strcmp(de->d_name + len - 5, ".sock"))
			continue;
		memcpy(names[n], de->d_name, len - 5);
		names[n][len - 5] = '\0';
		if (ifname_valid(names[n]))
			n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), compare_names);
	*count = n;
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char names[STATUS_MAX_LINKS][CONTROL_NAME_MAX];
	const char *run_dir = control_run_dir(), *only = NULL;
	bool as_json = false, colour = isatty(STDOUT_FILENO);
	json_t *array = NULL;
	size_t n;
	int rc = 0, opt;

	optind = 0;
	while ((opt = commands_getopt(argc, argv, ":jh", opts)) != -1) {
		switch (opt) {
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: tunnelctl status [PEER] [--json]\n");
			return 0;
		default:
			fprintf(stderr, "usage: tunnelctl status [PEER] [--json]\n");
			return 2;
		}
	}
	if (optind < argc)
		only = argv[optind];
	if (argc - optind > 1 || (only && !ifname_valid(only))) {
		fprintf(stderr, "usage: tunnelctl status [PEER] [--json]\n");
		return 2;
	}
	if (only) {
		snprintf(names[0], sizeof(names[0]), "%s", only);
		n = 1;
	} else if (commands_list_links(run_dir, names, STATUS_MAX_LINKS, &n) < 0) {
		control_denied(run_dir, NULL);
		return 1;
	}
	if (as_json)
		array = json_array();
	for (size_t i = 0; i < n; i++) {
		char buf[CONTROL_RESPONSE_MAX];
		struct control_status st;
		int r = control_query(run_dir, names[i], "get=1\n\n", buf, sizeof(buf));

		if (r == 0)
			r = control_parse_status(buf, strlen(buf), &st);
		if (r) {
			if (r == -ENOENT || r == -ECONNREFUSED)
				control_daemon_alive(run_dir, names[i]); /* clears a stale socket */
			if (r == -EACCES || r == -EPERM) {
				control_denied(run_dir, names[i]);
				rc = 1;
				continue;
			}
			if (only) {
				fprintf(stderr, "tunnelctl: link %s is not up\n", names[i]);
				rc = 1;
			}
			continue;
		}
		if (as_json)
			json_array_append_new(array, status_json(&st));
		else
			print_human(&st, colour);
	}
	if (as_json) {
		if (!only || rc == 0) {
			char *text = json_dumps(array, JSON_INDENT(2));

			if (text)
				puts(text);
			free(text);
		}
		json_decref(array);
	}
	return rc;
}
