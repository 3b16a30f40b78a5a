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
	{ "status", cmd_status, "show running links ([PEER] [--json])" },
	{ "netcheck", cmd_netcheck, "public address, NAT behaviour, port mapping, UDP ([PEER])" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tunnelctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'tunnelctl COMMAND --help' describes one command.\n");
}

bool commands_no_args(int argc, char **argv, const char *usage, const char *summary,
		      int *exit_code)
{
	if (argc == 1)
		return true;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "help"))) {
		printf("usage: %s\n%s\n", usage, summary);
		*exit_code = 0;
	} else {
		fprintf(stderr, "usage: %s\n", usage);
		*exit_code = 2;
	}
	return false;
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
	const struct command *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		/* `tunnelctl help CMD` is `tunnelctl CMD --help`. */
		if (argc >= 3 && (cmd = find(argv[2]))) {
			char *sub_argv[] = { argv[2], "--help", NULL };

			return cmd->run(2, sub_argv);
		}
		usage(stdout);
		return argc >= 3 ? 2 : 0;
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
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "tunnelctl: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	return cmd->run(argc - 1, argv + 1);
}
