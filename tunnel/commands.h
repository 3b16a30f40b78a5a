/* The tunnelctl subcommands. Each takes its own argv (argv[0] is the
 * subcommand's name) and returns the process exit code: 0 success,
 * 1 runtime failure, 2 bad usage or bad config (SPEC.md). */
#ifndef TUNNEL_COMMANDS_H
#define TUNNEL_COMMANDS_H

#define COMMANDS_DEFAULT_CONFIG_DIR "/etc/tunnel"

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* --config-dir's value if given, else $TUNNEL_CONFIG_DIR, else /etc/tunnel. */
const char *commands_config_dir(const char *flag_value);

#endif
