/* `tunnelctl show [PEER]`: the running links as `wg show` prints its
 * interfaces, field by field and in the same order, so people and scripts
 * used to wg read it at once; `status` stays the richer view. One link is
 * an interface with one peer. Two queries per link: "get" (the status) and
 * "show" (listening port, preshared key, allowed ips). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ifname.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"
#include "tunnel/ctl/show_format.h"

enum { SHOW_MAX_LINKS = 256 };

#define USAGE "usage: tunnelctl show [PEER]"

struct colours {
	const char *bold, *green, *yellow, *reset;
};

static void print_link(const struct control_status *st, const struct control_show *sh,
		       const struct colours *c, bool first)
{
	char text[SHOW_FORMAT_MAX], rx[32], tx[32];

	if (!first)
		printf("\n");
	/* wg show: the interface's block, a blank line, each peer's block. */
	printf("%s%sinterface%s: %s%s%s\n", c->bold, c->green, c->reset, c->green, st->name,
	       c->reset);
	printf("  %spublic key%s: %s\n", c->bold, c->reset, st->public_key);
	printf("  %sprivate key%s: (hidden)\n", c->bold, c->reset);
	if (sh->listen_port)
		printf("  %slistening port%s: %llu\n", c->bold, c->reset,
		       (unsigned long long)sh->listen_port);
	printf("\n%s%speer%s: %s%s%s\n", c->bold, c->yellow, c->reset, c->yellow,
	       st->peer_public_key, c->reset);
	if (sh->has_preshared_key)
		printf("  %spreshared key%s: (hidden)\n", c->bold, c->reset);
	if (st->endpoint[0])
		printf("  %sendpoint%s: %s\n", c->bold, c->reset, st->endpoint);
	printf("  %sallowed ips%s: ", c->bold, c->reset);
	for (size_t i = 0; i < sh->n_allowed_ips; i++)
		printf("%s%s", i ? ", " : "", sh->allowed_ips[i]);
	printf("%s\n", sh->n_allowed_ips ? "" : "(none)");
	if (st->last_handshake_age_s >= 0)
		printf("  %slatest handshake%s: %s\n", c->bold, c->reset,
		       show_format_ago(text, sizeof(text), (uint64_t)st->last_handshake_age_s));
	if (st->rx_bytes || st->tx_bytes)
		printf("  %stransfer%s: %s received, %s sent\n", c->bold, c->reset,
		       show_format_bytes(rx, sizeof(rx), st->rx_bytes),
		       show_format_bytes(tx, sizeof(tx), st->tx_bytes));
	if (st->keepalive_s)
		printf("  %spersistent keepalive%s: %s\n", c->bold, c->reset,
		       show_format_every(text, sizeof(text), st->keepalive_s));
}

/* Both answers of NAME's daemon: 0, or a negative errno. */
static int query(const char *run_dir, const char *name, struct control_status *st,
		 struct control_show *sh)
{
	static char buf[CONTROL_SHOW_MAX];
	int r = control_query(run_dir, name, "get=1\n\n", buf, CONTROL_RESPONSE_MAX);

	if (r == 0)
		r = control_parse_status(buf, strlen(buf), st);
	if (r == 0)
		r = control_query(run_dir, name, "show=1\n\n", buf, sizeof(buf));
	if (r == 0)
		r = control_parse_show(buf, strlen(buf), sh);
	return r;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char names[SHOW_MAX_LINKS][CONTROL_NAME_MAX];
	static struct control_show sh;
	const char *run_dir = control_run_dir(), *only = NULL;
	struct colours colours = { "", "", "", "" };
	bool first = true;
	size_t n;
	int rc = 0, opt;

	optind = 0;
	while ((opt = commands_getopt(argc, argv, ":h", opts)) != -1) {
		if (opt == 'h') {
			printf(USAGE "\nthe running links as `wg show` prints them: interface, public "
			       "key, listening port, peer, endpoint, allowed ips, latest handshake, "
			       "transfer, persistent keepalive\n");
			return 0;
		}
		fprintf(stderr, USAGE "\n");
		return 2;
	}
	if (optind < argc)
		only = argv[optind];
	if (argc - optind > 1 || (only && !ifname_valid(only))) {
		fprintf(stderr, USAGE "\n");
		return 2;
	}
	if (isatty(STDOUT_FILENO))
		colours = (struct colours){ "\033[1m", "\033[32m", "\033[33m",
					    "\033[0m" };
	if (only) {
		snprintf(names[0], sizeof(names[0]), "%s", only);
		n = 1;
	} else if (commands_list_links(run_dir, names, SHOW_MAX_LINKS, &n) < 0) {
		control_denied(run_dir, NULL);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct control_status st;
		int r = query(run_dir, names[i], &st, &sh);

		if (r == -ENOENT || r == -ECONNREFUSED)
			control_daemon_alive(run_dir, names[i]); /* clears a stale socket */
		if (r == -EACCES || r == -EPERM) {
			control_denied(run_dir, names[i]);
			rc = 1;
		} else if (r && only) {
			fprintf(stderr, "tunnelctl: link %s is not up\n", names[i]);
			rc = 1;
		} else if (r == 0) {
			print_link(&st, &sh, &colours, first);
			first = false;
		}
	}
	return fflush(stdout) == 0 ? rc : 1;
}
