/* The tunnelctl subcommands. Each takes its own argv (argv[0] is the
 * subcommand's name) and returns the process exit code: 0 success,
 * 1 runtime failure, 2 bad usage or bad config (SPEC.md).
 *
 * tunnel/ctl/ is the CLI only. It depends on the engine through three
 * headers and no others: tunnel/control.h (the control protocol: the wire
 * format of requests, responses and status, and the socket's address),
 * tunnel/daemon.h (the one entry point that runs a link in this process,
 * used by `up`) and tunnel/netcheck.h (netcheck's measurements, no link). Keep it that way: status and down talk to the daemon over
 * the socket (control_client.h), never through engine structures. */
#ifndef TUNNEL_CTL_COMMANDS_H
#define TUNNEL_CTL_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "tunnel/control.h"

#define COMMANDS_DEFAULT_CONFIG_DIR "/etc/tunnel"

/* Prints a new base64 private key, as `wg genkey`. */
int cmd_genkey(int argc, char **argv);

/* Reads a base64 private key on stdin, prints its public key, as `wg pubkey`. */
int cmd_pubkey(int argc, char **argv);

/* Brings a link up (see cmd_up.c). */
int cmd_up(int argc, char **argv);
/* Stops a link and waits until its interface is gone. */
int cmd_down(int argc, char **argv);

/* Asks a running link to re-read and apply its config. */
int cmd_reload(int argc, char **argv);

/* Prints the running links, for people or as JSON. */
int cmd_status(int argc, char **argv);

/* Prints the links as `wg show` prints interfaces ([PEER]). */
int cmd_show(int argc, char **argv);

/* Pings the peer with authenticated path probes, as `tailscale ping`. */
int cmd_ping(int argc, char **argv);

/* Names of the links with a socket in the run directory, sorted, into
 * names and *count (at most max; each CONTROL_NAME_MAX bytes). No
 * directory is no link; -EACCES when this user may not read it. */
int commands_list_links(const char *run_dir, char names[][CONTROL_NAME_MAX], size_t max, size_t *count);

/* getopt_long over a subcommand's argv (argv[0] its name), for every
 * subcommand alike: long options with `--opt=value` or `--opt value`, short
 * ones, options before or after the operands. The caller sets optind = 0
 * before the first call (a fresh scan). `shortopts` must start with ':'.
 * Returns the option's value, -1 after the last option (operands from
 * argv[optind]), or '?' after printing one line on stderr that names the
 * option: "tunnelctl up: option '--wait' needs an argument" or
 * "tunnelctl up: unknown option '--frob'". */
int commands_getopt(int argc, char **argv, const char *shortopts,
		    const struct option *longopts);

/* Reports what the network does to UDP, with no link up (tailscale netcheck). */
int cmd_netcheck(int argc, char **argv);

/* For a subcommand that takes no arguments (genkey, pubkey): true when
 * argv holds none. Otherwise false, with *exit_code 0 after printing
 * "usage: USAGE" and `summary` on stdout for -h/--help/help, or 2 after
 * printing the usage line on stderr for anything else. */
bool commands_no_args(int argc, char **argv, const char *usage, const char *summary,
		      int *exit_code);

/* --config-dir's value if given, else $TUNNEL_CONFIG_DIR, else /etc/tunnel. */
const char *commands_config_dir(const char *flag_value);

#endif
