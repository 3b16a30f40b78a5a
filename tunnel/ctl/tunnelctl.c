/* tunnelctl: the command-line front end. Owns only the subcommand table and
 * the top-level usage (and the argument check the subcommands without
 * arguments share); each subcommand lives in its own cmd_<name>.c and
 * gets its own argv (argv[0] = its name). Exit codes (SPEC.md): 0 success,
 * 1 runtime failure, 2 bad usage or bad config. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/compiler.h"
#include "tunnel/ctl/commands.h"
#include "tunnel_version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "genkey", cmd_genkey, "print a new base64 private key (as wg genkey)" },
	{ "pubkey", cmd_pubkey, "read a private key on stdin, print its public key" },
	{ "up", cmd_up, "bring up the link to PEER (reads PEER.conf)" },
	{ "down", cmd_down, "stop the link to PEER and remove its interface" },
	{ "reload", cmd_reload, "re-read PEER.conf and apply it to the running link" },
	{ "status", cmd_status, "show running links ([PEER] [--json])" },
	{ "show", cmd_show, "show running links as `wg show` does ([PEER])" },
	{ "ping", cmd_ping, "ping PEER with path probes: round trip and path ([-c N] [--json])" },
	{ "netcheck", cmd_netcheck, "public address, NAT behaviour, port mapping, UDP ([PEER])" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tunnelctl COMMAND [ARGS]\n       tunnelctl --version\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'tunnelctl COMMAND --help' describes one command; man tunnelctl, "
		   "man tunnel.conf.\n");
}

int commands_getopt(int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	const char *word, *what;
	int opt;

	opterr = 0; /* the messages below name the subcommand and the option */
	opt = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (opt != ':' && opt != '?')
		return opt;
	/* argv[optind - 1] is the word that failed (`--wait` at the end,
	 * `--frob`, `--json=1`, `-x`); optopt is the short option or the long
	 * one's value, 0 for an unknown long one. */
	word = argv[optind - 1];
	what = opt == ':' ? "needs an argument"
	     : optopt && strchr(word, '=') ? "takes no argument"
					   : "is unknown";
	if (!strncmp(word, "--", 2))
		fprintf(stderr, "tunnelctl %s: option '%.*s' %s\n", argv[0],
			(int)strcspn(word, "="), word, what);
	else
		fprintf(stderr, "tunnelctl %s: option '-%c' %s\n", argv[0], optopt, what);
	return '?';
}

bool commands_no_args(int argc, char **argv, const char *usage, const char *summary,
		      int *exit_code)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool help = false;
	int opt;

	optind = 0;
	while ((opt = commands_getopt(argc, argv, ":h", opts)) != -1) {
		if (opt != 'h') {
			fprintf(stderr, "usage: %s\n", usage);
			*exit_code = 2;
			return false;
		}
		help = true;
	}
	/* `tunnelctl genkey help` too, as `tunnelctl help genkey`. */
	if (!help && optind == argc - 1 && !strcmp(argv[optind], "help")) {
		help = true;
		optind++;
	}
	if (optind == argc && !help)
		return true;
	if (help && optind == argc) {
		printf("usage: %s\n%s\n", usage, summary);
		*exit_code = 0;
	} else {
		fprintf(stderr, "usage: %s\n", usage);
		*exit_code = 2;
	}
	return false;
}

static void version(void)
{
	if (TUNNEL_REVISION[0])
		printf("tunnelctl %s (git %s)\n", TUNNEL_VERSION, TUNNEL_REVISION);
	else
		printf("tunnelctl %s\n", TUNNEL_VERSION);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	bool help = false, show_version = false;
	int opt;

	/* Options before the command ('+': the first operand is the command,
	 * whose own options its cmd_*.c parses). */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		if (opt == 'h') {
			help = true;
		} else if (opt == 'V') {
			show_version = true;
		} else {
			fprintf(stderr, "tunnelctl: option '%s' is unknown\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (show_version) {
		if (argc > 0 || help) {
			usage(stderr);
			return 2;
		}
		version();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc == 0 && !help) {
		usage(stderr);
		return 2;
	}
	if (help || !strcmp(argv[0], "help")) {
		/* `tunnelctl help CMD` and `tunnelctl --help CMD` are
		 * `tunnelctl CMD --help`. */
		const char *name = help ? argv[0] : argv[1];
		int rest = help ? argc : argc - 1;

		if (rest >= 1 && (cmd = find(name))) {
			char *sub_argv[] = { (char *)cmd->name, "--help", NULL };

			return cmd->run(2, sub_argv);
		}
		usage(stdout);
		return rest >= 1 ? 2 : 0;
	}
	/* Before any subcommand: besides seeding its random generator,
	 * sodium_init picks the fastest ChaCha20/Poly1305 code for this CPU;
	 * without it the data path ran at half speed. */
	if (sodium_init() < 0) {
		fprintf(stderr, "tunnelctl: cannot initialise libsodium\n");
		return 1;
	}
	/* Errors on sockets and pipes are handled where they happen; a peer
	 * that went away must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	cmd = find(argv[0]);
	if (!cmd) {
		fprintf(stderr, "tunnelctl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	return cmd->run(argc, argv);
}
