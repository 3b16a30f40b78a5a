/* A link's lifetime: set-up in an order that can be undone step by step,
 * the event loop's wiring, status snapshots and teardown. */
#include "tunnel/tunnel.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "crypto/keys.h"
#include "tunnel/hooks.h"
#include "tunnel/receive.h"
#include "tunnel/reload.h"
#include "tunnel/send.h"
#include "tunnel/timers.h"

static void tun_ready(struct loop_watch *w, uint32_t events)
{
	struct tunnel *t = container_of(w, struct tunnel, tun_watch);

	(void)events;
	send_from_tun(t);
}

static void udp_ready(struct loop_watch *w, uint32_t events)
{
	struct tunnel *t = container_of(w, struct tunnel, udp_watch);

	(void)events;
	receive_from_udp(t);
}

/* A reload from SIGHUP or the control socket, announced to systemd. */
static int reload(struct tunnel *t, char err[static CONFIG_ERR_LEN])
{
	int r;

	service_reloading(t);
	r = tunnel_reload(t, err);
	service_reloaded(t);
	return r;
}

static void signal_ready(struct loop_watch *w, uint32_t events)
{
	struct tunnel *t = container_of(w, struct tunnel, signal_watch);
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char err[CONFIG_ERR_LEN];

			log_info("%s: SIGHUP, reloading the config", t->cfg.name);
			(void)!reload(t, err); /* logged there */
			return;
		}
		log_info("%s: signal %u, going down", t->cfg.name, si.ssi_signo);
		loop_stop(&t->loop);
	}
}

/* Signals are blocked and read from a signalfd, so they arrive as ordinary
 * events and no handler ever runs in the middle of the loop. */
static int open_signals(struct tunnel *t)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	t->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return t->signal_fd < 0 ? -errno : 0;
}

static int configure_interface(struct tunnel *t, const char *run_dir,
			       char err[static CONFIG_ERR_LEN])
{
	struct tun_config tc = {
		.mtu = config_device_mtu(&t->cfg),
		.addrs = t->cfg.addresses,
		.addrs_len = t->cfg.n_addresses,
		.routes = t->cfg.allowed_ips,
		.routes_len = t->cfg.n_allowed_ips,
		.master = t->cfg.bridge[0] ? t->cfg.bridge : NULL,
	};
	struct tun_error terr = { "" };
	int r;

	if (routing_plan(&t->routing, &t->cfg, &tc, err))
		return -EINVAL;
	/* Our own datagrams keep the real route (tun/policy.h). */
	r = udp_set_mark(t->udp.fd, t->routing.fwmark);
	if (r) {
		config_error(err, "cannot set fwmark 0x%x on the UDP socket: %s",
			     t->routing.fwmark, strerror(-r));
		return r;
	}
	r = tun_device_open(&t->tun, t->cfg.name,
			    TUN_DEVICE_OFFLOAD | (t->bridge ? TUN_DEVICE_TAP : 0), &terr);
	if (r) {
		config_error(err, "%s", terr.msg);
		return r;
	}
	r = tun_setup(&t->tun_applied, t->cfg.name, &tc, &terr);
	if (r) {
		config_error(err, "%s", terr.msg);
		tun_device_close(&t->tun);
		return r;
	}
	if (routing_apply(&t->routing, &t->cfg, run_dir, err))
		return -EINVAL; /* tunnel_destroy removes the interface */
	return 0;
}

/* The control server's view of the link (control_socket.h). */
static void serve_status(void *ctx, struct control_status *st)
{
	tunnel_status(ctx, st);
}

static void serve_down(void *ctx)
{
	struct tunnel *t = ctx;

	loop_stop(&t->loop);
}

_Static_assert((int)CONTROL_ERROR_MAX == (int)CONFIG_ERR_LEN, "reload errors are config errors");

static int serve_reload(void *ctx, char error[static CONTROL_ERROR_MAX])
{
	return reload(ctx, error);
}

static void serve_show(void *ctx, struct control_show *sh)
{
	tunnel_show(ctx, sh);
}

static int serve_ping(void *ctx, struct control_client *c, char error[static CONTROL_ERROR_MAX])
{
	return ping_start(ctx, c, error);
}

static void serve_ping_cancel(void *ctx, struct control_client *c)
{
	ping_cancel(ctx, c);
}

static void loop_settled(struct loop *loop)
{
	service_settled(container_of(loop, struct tunnel, loop));
}

static int watch(struct tunnel *t, struct loop_watch *w, int fd,
		 void (*ready)(struct loop_watch *, uint32_t))
{
	w->fd = fd;
	w->ready = ready;
	return loop_watch_add(&t->loop, w, EPOLLIN);
}

int tunnel_create(struct tunnel **out, const struct config *cfg, const char *run_dir,
		  char err[static CONFIG_ERR_LEN])
{
	struct tunnel *t;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t) {
		config_error(err, "out of memory");
		return -ENOMEM;
	}
	t->cfg = *cfg;
	t->signal_fd = -1;
	t->udp.fd = -1;
	t->loop.epoll_fd = -1;
	t->drop_log.burst = 10;
	t->path_mtu = cfg->mtu;
	t->bridge = cfg->mode == CONFIG_MODE_BRIDGE;
	mactable_init(&t->remote_macs);
	/* header, an MTU of packet, up to 15 bytes of padding, tag */
	t->packet_max = MESSAGE_DATA_HEADER_LEN + cfg->mtu + MESSAGE_PADDING_MULTIPLE +
			NOISE_AUTHTAG_LEN;

	r = control_server_open(&t->control,
				&(struct control_ops){ .ctx = t, .status = serve_status,
						       .down = serve_down, .reload = serve_reload,
						       .show = serve_show, .ping = serve_ping,
						       .ping_cancel = serve_ping_cancel },
				run_dir, cfg->name);
	if (r == -EADDRINUSE) {
		config_error(err, "link %s is already up", cfg->name);
		goto fail;
	}
	if (r) {
		config_error(err, "cannot create the control socket in %s: %s", run_dir, strerror(-r));
		goto fail;
	}
	/* The link's name is ours now: what a dead daemon left can go. */
	if (routing_clean_stale(run_dir, cfg->name, err)) {
		r = -EIO;
		goto fail;
	}
	if (hooks_run(&t->cfg, CONFIG_HOOK_PRE_UP, err)) {
		r = -ECANCELED;
		goto fail;
	}
	r = noise_local_init(&t->local, cfg->private_key);
	if (r) {
		config_error(err, "the private key is not usable");
		goto fail;
	}
	t->local.mode = t->bridge ? NOISE_MODE_BRIDGE : NOISE_MODE_ROUTED;
	cookie_checker_init(&t->cookie_checker, t->local.public_key);
	r = loop_init(&t->loop);
	if (r) {
		config_error(err, "epoll: %s", strerror(-r));
		goto fail;
	}
	t->tx_storage = malloc(TUNNEL_TX_BATCH * t->packet_max);
	t->tun_read_buf = malloc(TUNNEL_TUN_READ_SIZE);
	if (!t->tx_storage || !t->tun_read_buf) {
		r = -ENOMEM;
		config_error(err, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < TUNNEL_TX_BATCH; i++)
		t->tx[i].data = t->tx_storage + i * t->packet_max;
	/* A relayed data message is a rendezvous datagram, larger than the
	 * WireGuard message inside it; each parser checks its own limits. */
	r = udp_open(&t->udp, cfg->listen_port, MAX(t->packet_max, (size_t)RDV_DATAGRAM_MAX));
	if (r) {
		config_error(err, "cannot open UDP port %u: %s", cfg->listen_port, strerror(-r));
		goto fail;
	}
	r = peer_init(&t->peer, t);
	if (r) {
		config_error(err, "cannot set up the peer: %s", strerror(-r));
		goto fail;
	}
	r = meet_init(t);
	if (r) {
		config_error(err, "cannot set up the rendezvous client: %s", strerror(-r));
		goto fail;
	}
	r = configure_interface(t, run_dir, err);
	if (r)
		goto fail;
	r = open_signals(t);
	if (r) {
		config_error(err, "signalfd: %s", strerror(-r));
		goto fail;
	}
	if ((r = watch(t, &t->tun_watch, tun_device_fd(&t->tun, 0), tun_ready)) ||
	    (r = watch(t, &t->udp_watch, t->udp.fd, udp_ready)) ||
	    (r = watch(t, &t->signal_watch, t->signal_fd, signal_ready)) ||
	    (r = control_server_watch(&t->control, &t->loop))) {
		config_error(err, "epoll: %s", strerror(-r));
		goto fail;
	}
	/* As wg-quick: a failing PostUp takes the link down again, without
	 * PreDown and PostDown. */
	if (hooks_run(&t->cfg, CONFIG_HOOK_POST_UP, err)) {
		r = -ECANCELED;
		goto fail;
	}
	t->up_done = true;
	log_info("%s: interface up (%s), listening on UDP port %u", cfg->name,
		 t->bridge ? "bridge mode: a TAP carrying Ethernet frames" : "routed mode",
		 t->udp.port);
	*out = t;
	return 0;
fail:
	tunnel_destroy(t);
	return r;
}

void tunnel_start(struct tunnel *t)
{
	struct peer *peer = &t->peer;

	/* With a static Endpoint, bring the link up now, so `up` can report
	 * it, rather than on the first packet as plain WireGuard would. */
	peer_start(peer);
	timers_set_persistent_keepalive(peer, peer->persistent_keepalive_s);
	meet_start(t);
	/* Host names: their addresses reach the peer and meet as they resolve. */
	resolve_start(t);
}

int tunnel_run(struct tunnel *t)
{
	int r;

	t->loop.now_ms = clock_now_ms();
	/* Before the loop, within portmap.h's budget: the mapping is then the
	 * first candidate of the first registration. */
	meet_portmap_start(t);
	t->loop.now_ms = clock_now_ms(); /* asking the gateway took a while */
	/* Our own sockets, driven by the loop: not in tunnel_start, which the
	 * in-memory tests run without a network. */
	meet_natcheck_start(t);
	t->loop.settled = loop_settled;
	tunnel_start(t);
	r = loop_run(&t->loop);
	service_stopping(t);
	peer_stop(&t->peer);
	meet_portmap_stop(t);
	return r;
}

int tunnel_destroy(struct tunnel *t)
{
	struct tun_error terr = { "" };
	char err[CONFIG_ERR_LEN];
	int failed = 0;

	if (!t)
		return 0;
	/* wg-quick's down: PreDown, the interface and what hangs off it,
	 * PostDown. A failing hook is reported but stops nothing: a link is
	 * never left half down. */
	if (t->up_done && hooks_run(&t->cfg, CONFIG_HOOK_PRE_DOWN, err)) {
		log_error("%s: %s", t->cfg.name, err);
		failed = -1;
	}
	control_server_close(&t->control, &t->loop);
	resolve_stop(t);
	meet_destroy(t);
	if (t->peer.tunnel)
		peer_destroy(&t->peer);
	if (routing_teardown(&t->routing, t->cfg.name))
		failed = -1;
	if (tun_teardown(&t->tun_applied, &terr) != 0)
		log_warn("%s: %s", t->cfg.name, terr.msg);
	tun_device_close(&t->tun);
	if (t->up_done && hooks_run(&t->cfg, CONFIG_HOOK_POST_DOWN, err)) {
		log_error("%s: %s", t->cfg.name, err);
		failed = -1;
	}
	udp_close(&t->udp);
	if (t->signal_fd >= 0)
		close(t->signal_fd);
	loop_destroy(&t->loop);
	if (t->tx_storage)
		sodium_memzero(t->tx_storage, TUNNEL_TX_BATCH * t->packet_max);
	free(t->tx_storage);
	if (t->tun_read_buf)
		sodium_memzero(t->tun_read_buf, TUNNEL_TUN_READ_SIZE);
	free(t->tun_read_buf);
	noise_local_clear(&t->local);
	cookie_checker_clear(&t->cookie_checker);
	config_clear(&t->cfg);
	sodium_memzero(t, sizeof(*t));
	free(t);
	return failed;
}

bool tunnel_note_handshake_load(struct tunnel *t)
{
	uint64_t now = t->loop.now_ms;

	if (now - t->load_window_ms >= 1000) {
		t->load_window_ms = now;
		t->load_handshakes = 0;
	}
	if (++t->load_handshakes > TUNNEL_UNDER_LOAD_HANDSHAKES)
		t->under_load_until_ms = now + TUNNEL_UNDER_LOAD_HOLD_MS;
	return now < t->under_load_until_ms;
}

void tunnel_drop(struct tunnel *t, enum control_drop why, const char *what)
{
	t->dropped[why]++;
	if (log_ratelimit_allow(&t->drop_log, t->loop.now_ms))
		log_debug("%s: dropped: %s", t->cfg.name, what);
}

int tunnel_replace_socket(struct tunnel *t, int fd)
{
	int r;

	loop_watch_remove(&t->loop, &t->udp_watch);
	r = udp_adopt(&t->udp, fd);
	t->udp_watch.fd = t->udp.fd;
	/* On failure the old socket is still the link's: watch it again. */
	if (loop_watch_add(&t->loop, &t->udp_watch, EPOLLIN) != 0 && !r)
		r = -EIO;
	if (!r)
		log_info("%s: the link's UDP socket is now on port %u", t->cfg.name, t->udp.port);
	return r;
}

static void nat_status(struct tunnel *t, struct control_status *st)
{
	const struct portmap *pm = &t->meet.portmap;
	static const char *const mapping[] = {
		[MEET_NAT_UNKNOWN] = "unknown",
		[MEET_NAT_ENDPOINT_INDEPENDENT] = "endpoint-independent",
		[MEET_NAT_ENDPOINT_DEPENDENT] = "endpoint-dependent",
	};
	struct rdv_endpoint ep;

	snprintf(st->nat_mapping, sizeof(st->nat_mapping), "%s", mapping[meet_nat_mapping(t)]);
	if (t->meet.has_reflexive)
		snprintf(st->nat_port_preserved, sizeof(st->nat_port_preserved), "%s",
			 t->meet.reflexive.port == t->udp.port ? "true" : "false");
	if (pm->proto != PORTMAP_NONE &&
	    rdv_endpoint_from_sockaddr(&ep, (const struct sockaddr *)&pm->external) == 0) {
		snprintf(st->nat_portmap, sizeof(st->nat_portmap), "%s",
			 portmap_proto_name(pm->proto));
		rdv_endpoint_str(&ep, st->nat_public, sizeof(st->nat_public));
	} else if (t->meet.has_reflexive)
		rdv_endpoint_str(&t->meet.reflexive, st->nat_public, sizeof(st->nat_public));
	snprintf(st->portmap_reason, sizeof(st->portmap_reason), "%s", pm->reason);
}

void tunnel_status(struct tunnel *t, struct control_status *st)
{
	struct peer *peer = &t->peer;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", t->cfg.name);
	keys_to_base64(st->public_key, t->local.public_key);
	keys_to_base64(st->peer_public_key, t->cfg.peer_public_key);
	snprintf(st->state, sizeof(st->state), "%s", peer_state_name(peer->state));
	snprintf(st->path, sizeof(st->path), "%s", peer_path_name(peer->path));
	/* On the relay, the endpoint in use is the relay server's. */
	if (peer->path == PATH_RELAY && t->meet.has_relay)
		rdv_endpoint_str(&t->meet.servers[t->meet.relay_server].addr, st->endpoint,
				 sizeof(st->endpoint));
	else if (peer->has_endpoint && peer->path == PATH_DIRECT)
		rdv_endpoint_str(&peer->endpoint, st->endpoint, sizeof(st->endpoint));
	if (t->meet.has_reflexive)
		rdv_endpoint_str(&t->meet.reflexive, st->reflexive_endpoint,
				 sizeof(st->reflexive_endpoint));
	snprintf(st->reason, sizeof(st->reason), "%s", peer->reason);
	st->last_handshake_age_s =
		peer->last_handshake_ms ? (int64_t)((clock_now_ms() - peer->last_handshake_ms) / 1000)
					: -1;
	st->rtt_ms = peer->punch.has_chosen && peer->path == PATH_DIRECT ? peer->punch.rtt_ms : -1;
	st->rx_bytes = peer->rx_bytes;
	st->tx_bytes = peer->tx_bytes;
	st->keepalive_s = peer->persistent_keepalive_s;
	st->path_mtu = t->path_mtu;
	st->path_changes = peer->path_changes;
	st->probes_sent = peer->punch.probes_sent;
	snprintf(st->mode, sizeof(st->mode), "%s", t->bridge ? "bridge" : "routed");
	st->frames_rx = t->frames_rx;
	st->frames_tx = t->frames_tx;
	st->remote_macs = mactable_count(&t->remote_macs, t->loop.now_ms);
	st->pid = (uint64_t)getpid();
	memcpy(st->dropped, t->dropped, sizeof(st->dropped));
	nat_status(t, st);
	snprintf(st->path_origin, sizeof(st->path_origin), "%s",
		 punch_path_origin(peer, st->path_origin_reason, sizeof(st->path_origin_reason)));
	snprintf(st->relay_channel, sizeof(st->relay_channel), "%s", meet_channel_state(t));
}

void tunnel_show(struct tunnel *t, struct control_show *sh)
{
	_Static_assert((int)CONTROL_ALLOWED_IPS_MAX >= (int)CONFIG_MAX_ALLOWED_IPS,
		       "show carries every AllowedIPs entry");
	memset(sh, 0, sizeof(*sh));
	sh->listen_port = t->udp.port;
	sh->has_preshared_key = t->cfg.has_preshared_key;
	for (size_t i = 0; i < t->cfg.n_allowed_ips && i < CONTROL_ALLOWED_IPS_MAX; i++)
		tun_prefix_format(&t->cfg.allowed_ips[i], sh->allowed_ips[i],
				  sizeof(sh->allowed_ips[i]));
	sh->n_allowed_ips = MIN(t->cfg.n_allowed_ips, (size_t)CONTROL_ALLOWED_IPS_MAX);
}
