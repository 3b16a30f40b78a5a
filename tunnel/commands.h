/* The tunnelctl subcommands. Each takes its own argv (argv[0] is the
 * subcommand's name) and returns the process exit code: 0 success,
 * 1 runtime failure, 2 bad usage or bad config (SPEC.md). */
#ifndef TUNNEL_COMMANDS_H
#define TUNNEL_COMMANDS_H

#define COMMANDS_DEFAULT_CONFIG_DIR "/etc/tunnel"

/* Prints a new base64 private key, as `wg genkey`. */
int cmd_genkey(int argc, char **argv);

/* Reads a base64 private key on stdin, prints its public key, as `wg pubkey`. */
int cmd_pubkey(int argc, char **argv);

/* Brings a link up (see cmd_up.c). */
int cmd_up(int argc, char **argv);
/* Stops a link and waits until its interface is gone. */
int cmd_down(int argc, char **argv);

/* Prints the running links, for people or as JSON. */
int cmd_status(int argc, char **argv);

/* --config-dir's value if given, else $TUNNEL_CONFIG_DIR, else /etc/tunnel. */
const char *commands_config_dir(const char *flag_value);

#endif
