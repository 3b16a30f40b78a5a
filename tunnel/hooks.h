/* wg-quick's PreUp, PostUp, PreDown and PostDown: each command runs through
 * /bin/sh -c with every "%i" replaced by the interface name, in file order;
 * the first one that fails stops the rest of its kind, as wg-quick's
 * `set -e` does. Also the one place that runs other programs (hooks_spawn),
 * for tunnel/dns.c. Both block until the program ends. */
#ifndef TUNNEL_HOOKS_H
#define TUNNEL_HOOKS_H

#include "common/compiler.h"
#include "tunnel/config.h"

/* Runs cfg's hooks of `kind`, logging each as wg-quick prints it
 * ("[#] command"). Returns 0, or -1 with err saying which failed and how. */
must_check int hooks_run(const struct config *cfg, enum config_hook_kind kind,
			 char err[static CONFIG_ERR_LEN]);

/* Runs argv[0] (looked up in PATH) with `input` on its standard input (NULL:
 * /dev/null) and the daemon's signals unblocked. Returns its exit status
 * (0-255; 128+N when killed by signal N), or a negative errno when it
 * could not be started. */
must_check int hooks_spawn(const char *const argv[], const char *input);

/* wg-quick's name for the kind: "PreUp", "PostUp", ... */
const char *hooks_kind_name(enum config_hook_kind kind);

#endif
