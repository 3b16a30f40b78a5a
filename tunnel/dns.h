/* wg-quick's DNS = servers and search domains, set for the link while it is
 * up: through systemd-resolved where it runs (`resolvectl dns IF ...`,
 * `resolvectl domain IF ...`, `resolvectl revert IF`), otherwise through
 * resolvconf(8) exactly as wg-quick calls it (`resolvconf -a IF -m 0 -x`
 * with "nameserver" and "search" lines on its input, `resolvconf -d IF
 * -f`), Debian's resolvconf and openresolv alike. */
#ifndef TUNNEL_DNS_H
#define TUNNEL_DNS_H

#include <stdbool.h>

#include "common/compiler.h"
#include "tunnel/config.h"

enum dns_backend {
	DNS_NONE,	/* the config has no DNS */
	DNS_RESOLVED,	/* systemd-resolved, through resolvectl */
	DNS_RESOLVCONF,	/* resolvconf(8) */
};

/* Which backend `dns_set` uses for cfg on this machine. */
enum dns_backend dns_backend(const struct config *cfg);

/* Sets cfg's DNS for the link. Returns 0 or -1 with err saying what failed. */
must_check int dns_set(const struct config *cfg, enum dns_backend backend,
		       char err[static CONFIG_ERR_LEN]);

/* Undoes dns_set for link `name` (also a crashed daemon's). Returns 0, or
 * -1 with err filled. */
must_check int dns_unset(const char *name, enum dns_backend backend,
			 char err[static CONFIG_ERR_LEN]);

#endif
