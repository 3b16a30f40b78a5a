/* Reloading a running link's config: SIGHUP, `tunnelctl reload PEER` and
 * the unit's ExecReload= all end here. The file is read and checked as at
 * `up`; a config that does not load, or asks for what a running link
 * cannot change (ListenPort, an MTU above the one it started with), is
 * refused and the link keeps running on its old config untouched.
 *
 * What changes in place, without dropping the session, when the keys stay:
 *   PersistentKeepalive   the timer, and the rendezvous refresh with it
 *   AllowedIPs            the routes (new ones added before old ones go)
 *                         and the inner-address filters
 *   Address, MTU          the interface (netlink)
 *   Endpoint              traffic moves there (peer_endpoint_configured);
 *                         a removed Endpoint keeps the current one, as wg
 *   Rendezvous, RendezvousKey   the clients start again with the new list
 * A changed PrivateKey, PublicKey or PresharedKey re-establishes: the
 * sessions are wiped and a new handshake starts, over the same interface
 * and UDP port. */
#ifndef TUNNEL_RELOAD_H
#define TUNNEL_RELOAD_H

#include "common/compiler.h"
#include "tunnel/config.h"

struct tunnel;

/* Re-reads CFG.DIR/NAME.conf and applies it. Returns 0, or a negative
 * errno (-EINVAL a refused config) with one line for the user in err
 * ("FILE:LINE: what is wrong"), also logged. */
must_check int tunnel_reload(struct tunnel *t, char err[static CONFIG_ERR_LEN]);

#endif
