/* `tunnelctl reload PEER`: asks the link's daemon to re-read PEER.conf and
 * apply what changed (tunnel/reload.h; the same as SIGHUP and the unit's
 * ExecReload=). A refused config is printed as the daemon saw it,
 * "FILE:LINE: what is wrong", and exits 2; the link keeps running on its
 * old config. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ifname.h"
#include "tunnel/control.h"
#include "tunnel/ctl/commands.h"
#include "tunnel/ctl/control_client.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tunnelctl reload PEER\n");
}

int cmd_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = control_run_dir(), *name;
	char buf[CONTROL_RESPONSE_MAX], error[CONTROL_ERROR_MAX];
	int r;

	optind = 0;
	while ((r = commands_getopt(argc, argv, ":h", opts)) != -1) {
		if (r == 'h') {
			usage(stdout);
			printf("Re-reads PEER.conf and applies what changed without dropping the "
			       "session\n(new keys re-establish it); a bad config is refused and "
			       "the link keeps its old one.\n");
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (optind != argc - 1 || !ifname_valid(argv[optind])) {
		if (optind == argc)
			fprintf(stderr, "tunnelctl reload: which link? (PEER)\n");
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	r = control_query(run_dir, name, "reload=1\n\n", buf, sizeof(buf));
	if (control_unreachable(run_dir, name, r))
		return 1;
	if (r == 0)
		r = control_parse_reply(buf, strlen(buf), error);
	if (r == 0) {
		printf("%s: reloaded\n", name);
		return 0;
	}
	if (error[0]) {
		fprintf(stderr, "tunnelctl: %s: reload refused: %s\n", name, error);
		return r == -EINVAL ? 2 : 1;
	}
	fprintf(stderr, "tunnelctl: %s: the daemon did not reload: %s\n", name, strerror(-r));
	return 1;
}
