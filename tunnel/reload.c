/* Applying a re-read config to a running link (see reload.h). Everything
 * that can fail runs before the first change: the file, the checks, the
 * new private key, then the interface (tun_update rolls itself back); past
 * that point the in-memory changes cannot fail, except for memory during a
 * re-key. */
#include "tunnel/reload.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "crypto/messages.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

static bool endpoint_equal(const struct config_endpoint *a, const struct config_endpoint *b)
{
	return a->addr_len == b->addr_len && !memcmp(&a->addr, &b->addr, a->addr_len) &&
	       !strcasecmp(a->host, b->host) && a->port == b->port;
}

/* A host name that stays keeps the address it resolved to (re-resolved in
 * due time): the same name is no change. */
static void carry_resolved(const struct config_endpoint *old, struct config_endpoint *new)
{
	if (new->host[0] && old->addr_len && new->port == old->port &&
	    !strcasecmp(new->host, old->host)) {
		new->addr = old->addr;
		new->addr_len = old->addr_len;
	}
}

static void carry_all_resolved(const struct config *old, struct config *next)
{
	if (old->has_endpoint && next->has_endpoint)
		carry_resolved(&old->endpoint, &next->endpoint);
	for (size_t i = 0; i < next->n_rendezvous; i++)
		for (size_t j = 0; j < old->n_rendezvous; j++)
			carry_resolved(&old->rendezvous[j], &next->rendezvous[i]);
}

static bool keys_changed(const struct config *a, const struct config *b)
{
	return sodium_memcmp(a->private_key, b->private_key, CONFIG_KEY_LEN) != 0 ||
	       sodium_memcmp(a->peer_public_key, b->peer_public_key, CONFIG_KEY_LEN) != 0 ||
	       a->has_preshared_key != b->has_preshared_key ||
	       sodium_memcmp(a->preshared_key, b->preshared_key, CONFIG_KEY_LEN) != 0;
}

static bool rendezvous_changed(const struct config *a, const struct config *b)
{
	if (a->n_rendezvous != b->n_rendezvous || a->has_rendezvous_key != b->has_rendezvous_key ||
	    memcmp(a->rendezvous_key, b->rendezvous_key, CONFIG_KEY_LEN))
		return true;
	for (size_t i = 0; i < a->n_rendezvous; i++)
		if (!endpoint_equal(&a->rendezvous[i], &b->rendezvous[i]))
			return true;
	return false;
}

static bool prefixes_changed(const struct tun_prefix *a, size_t na, const struct tun_prefix *b,
			     size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (!tun_prefix_equal(&a[i], &b[i]) || a[i].len != b[i].len)
			return true;
	return false;
}

/* The largest MTU the link's buffers hold: the one it started with. */
static unsigned mtu_capacity(const struct tunnel *t)
{
	return (unsigned)(t->packet_max - MESSAGE_DATA_HEADER_LEN - MESSAGE_PADDING_MULTIPLE -
			  NOISE_AUTHTAG_LEN);
}

static bool dns_changed(const struct config *a, const struct config *b)
{
	if (a->n_dns_servers != b->n_dns_servers || a->n_dns_search != b->n_dns_search)
		return true;
	for (size_t i = 0; i < a->n_dns_servers; i++)
		if (strcmp(a->dns_servers[i], b->dns_servers[i]))
			return true;
	for (size_t i = 0; i < a->n_dns_search; i++)
		if (strcmp(a->dns_search[i], b->dns_search[i]))
			return true;
	return false;
}

/* What a running link cannot take; names the file as config_load does.
 * Hooks are not run by a reload: new PreDown/PostDown lines are simply the
 * ones that run at down. */
static int check(const struct tunnel *t, const struct config *next,
		 char err[static CONFIG_ERR_LEN])
{
	if (next->listen_port != t->cfg.listen_port) {
		config_error(err, "%s/%s.conf: ListenPort changed from %u to %u: a running link "
				  "keeps its port (restart the link to move it)",
			     next->dir, next->name, t->cfg.listen_port, next->listen_port);
		return -EINVAL;
	}
	if (next->mode != t->cfg.mode || strcmp(next->bridge, t->cfg.bridge)) {
		config_error(err, "%s/%s.conf: Mode or Bridge changed: a running link keeps "
				  "its device (restart the link to change them)",
			     next->dir, next->name);
		return -EINVAL;
	}
	if (next->table_mode != t->cfg.table_mode || next->table != t->cfg.table ||
	    next->fwmark != t->cfg.fwmark ||
	    (next->table_mode == CONFIG_TABLE_AUTO &&
	     (config_full_tunnel(next, AF_INET) != t->routing.full[0] ||
	      config_full_tunnel(next, AF_INET6) != t->routing.full[1]))) {
		config_error(err, "%s/%s.conf: Table, FwMark or a full tunnel's 0.0.0.0/0 or ::/0 "
				  "changed: a running link keeps its routing rules (restart the "
				  "link to change them)", next->dir, next->name);
		return -EINVAL;
	}
	if (dns_changed(&t->cfg, next)) {
		config_error(err, "%s/%s.conf: DNS changed: a running link keeps its DNS "
				  "(restart the link to change it)", next->dir, next->name);
		return -EINVAL;
	}
	if (next->mtu > mtu_capacity(t)) {
		config_error(err, "%s/%s.conf: MTU %u is above the %u the link started with "
				  "(restart the link to raise it)",
			     next->dir, next->name, next->mtu, mtu_capacity(t));
		return -EINVAL;
	}
	return 0;
}

/* New keys: a new local identity and a new peer, from scratch, on the same
 * interface and socket. */
static int rekey(struct tunnel *t, struct noise_local *local)
{
	int r;

	meet_destroy(t);
	peer_destroy(&t->peer);
	noise_local_clear(&t->local);
	cookie_checker_clear(&t->cookie_checker);
	t->local = *local;
	sodium_memzero(local, sizeof(*local));
	cookie_checker_init(&t->cookie_checker, t->local.public_key);
	t->path_mtu = t->cfg.mtu;
	r = peer_init(&t->peer, t);
	if (r)
		return r;
	r = meet_init(t);
	if (r)
		return r;
	tunnel_start(t);
	return 0;
}

int tunnel_reload(struct tunnel *t, char err[static CONFIG_ERR_LEN])
{
	struct config *next = calloc(1, sizeof(*next));
	struct noise_local local;
	struct tun_error terr = { "" };
	struct tun_config tc;
	bool rekeyed, rdv, ep, keepalive, routes, mtu, refused = true;
	char what[160] = "";
	int r;

	memset(&local, 0, sizeof(local));
	if (!next) {
		config_error(err, "out of memory");
		return -ENOMEM;
	}
	if (!t->cfg.dir[0]) {
		config_error(err, "the link's config was not read from a file");
		r = -EINVAL;
		goto out;
	}
	r = config_load(t->cfg.dir, t->cfg.name, next, err);
	if (r == 0)
		r = check(t, next, err);
	rekeyed = r == 0 && keys_changed(&t->cfg, next);
	if (rekeyed && noise_local_init(&local, next->private_key) != 0) {
		config_error(err, "%s/%s.conf: the private key is not usable", next->dir, next->name);
		r = -EINVAL;
	}
	local.mode = t->local.mode; /* Mode cannot change (check) */
	if (r)
		goto out;
	tc = (struct tun_config){
		.mtu = config_device_mtu(next),
		.addrs = next->addresses,
		.addrs_len = next->n_addresses,
		.routes = next->allowed_ips,
		.routes_len = next->table_mode == CONFIG_TABLE_OFF ? 0 : next->n_allowed_ips,
		.table = t->tun_applied.table,
		.skip_default = t->routing.full[0] || t->routing.full[1],
	};
	r = tun_update(&t->tun_applied, &tc, &terr);
	if (r) {
		config_error(err, "%s", terr.msg);
		goto out;
	}

	carry_all_resolved(&t->cfg, next);
	rdv = rendezvous_changed(&t->cfg, next);
	ep = next->has_endpoint &&
	     (!t->cfg.has_endpoint || !endpoint_equal(&t->cfg.endpoint, &next->endpoint));
	keepalive = next->persistent_keepalive_s != t->cfg.persistent_keepalive_s;
	routes = prefixes_changed(t->cfg.allowed_ips, t->cfg.n_allowed_ips, next->allowed_ips,
				  next->n_allowed_ips) ||
		 prefixes_changed(t->cfg.addresses, t->cfg.n_addresses, next->addresses,
				  next->n_addresses);
	mtu = next->mtu != t->cfg.mtu;
	/* A removed Endpoint keeps the one in use (as `wg` does). */
	if (!next->has_endpoint && t->cfg.has_endpoint && t->cfg.endpoint.addr_len) {
		next->endpoint = t->cfg.endpoint;
		next->endpoint.host[0] = '\0'; /* the name is gone: never re-resolved */
		next->has_endpoint = true;
	}
	if (mtu && t->path_mtu >= t->cfg.mtu)
		t->path_mtu = next->mtu;
	else if (t->path_mtu > next->mtu)
		t->path_mtu = next->mtu;
	/* The lookups under way read the old names. */
	resolve_stop(t);
	config_clear(&t->cfg);
	t->cfg = *next;
	refused = false;

	if (rekeyed) {
		r = rekey(t, &local);
		if (r) {
			/* Half a peer cannot run: stop, and let the service
			 * manager start the link afresh. */
			config_error(err, "re-keying failed: %s; stopping", strerror(-r));
			log_error("%s: %s", t->cfg.name, err);
			loop_stop(&t->loop);
			goto out;
		}
		log_notice("%s: reloaded %s/%s.conf: new keys, re-establishing the link",
			   t->cfg.name, t->cfg.dir, t->cfg.name);
		goto out;
	}
	if (keepalive) {
		timers_set_persistent_keepalive(&t->peer, t->cfg.persistent_keepalive_s);
		for (size_t i = 0; i < t->meet.n_servers; i++)
			rdv_client_set_refresh_max(&t->meet.servers[i].client,
						   t->cfg.persistent_keepalive_s * 1000ULL);
	}
	if (rdv) {
		meet_destroy(t);
		r = meet_init(t);
		if (r) {
			config_error(err, "cannot set up the rendezvous client: %s; stopping",
				     strerror(-r));
			log_error("%s: %s", t->cfg.name, err);
			loop_stop(&t->loop);
			goto out;
		}
		meet_start(t);
	}
	/* A new name moves the endpoint once it resolves (resolve_start). */
	if (ep && t->cfg.endpoint.addr_len) {
		struct rdv_endpoint rep;

		if (rdv_endpoint_from_sockaddr(&rep, (const struct sockaddr *)&t->cfg.endpoint.addr) ==
		    0)
			peer_endpoint_configured(&t->peer, &rep);
	}
	resolve_start(t);
	snprintf(what, sizeof(what), "%s%s%s%s%s", keepalive ? " PersistentKeepalive" : "",
		 routes ? " AllowedIPs/Address" : "", mtu ? " MTU" : "", ep ? " Endpoint" : "",
		 rdv ? " Rendezvous" : "");
	log_notice("%s: reloaded %s/%s.conf: %s", t->cfg.name, t->cfg.dir, t->cfg.name,
		   what[0] ? what + 1 : "nothing changed");
out:
	if (r && refused)
		log_error("%s: reload refused, the link keeps its config: %s", t->cfg.name, err);
	sodium_memzero(&local, sizeof(local));
	config_clear(next);
	free(next);
	return r;
}
