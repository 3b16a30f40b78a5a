/* One link's daemon state: everything hangs off struct tunnel, passed
 * explicitly (STYLE.md §6). tunnel.c owns its lifetime: set-up in an order
 * that can be undone, the event loop, and teardown. */
#ifndef TUNNEL_TUNNEL_H
#define TUNNEL_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "tun/device.h"
#include "tun/netlink.h"
#include "tun/coalesce.h"
#include "tun/offload.h"
#include "tunnel/config.h"
#include "tunnel/control.h"
#include "tunnel/control_socket.h"
#include "tunnel/loop.h"
#include "tunnel/mactable.h"
#include "tunnel/meet.h"
#include "tunnel/peer.h"
#include "tunnel/ping.h"
#include "tunnel/resolve.h"
#include "tunnel/routing.h"
#include "tunnel/service.h"
#include "tunnel/udp.h"

enum tunnel_limits {
	/* Handshake messages per second above which we answer with cookies. */
	TUNNEL_UNDER_LOAD_HANDSHAKES = 64,
	TUNNEL_UNDER_LOAD_HOLD_MS = 1000,
	TUNNEL_TUN_READS = 64,     /* TUN reads per wake-up */
	/* Sealed messages sent together: room for the largest TCP super-packet
	 * (TUN_OFFLOAD_MAX_SEGMENTS) plus what is already waiting. */
	TUNNEL_TX_BATCH = 1536,
	/* a TSO super-packet, or on a TAP a super-frame */
	TUNNEL_TUN_READ_SIZE = TUN_FRAME_MAX + TUN_VNET_HDR_LEN,
};

_Static_assert((int)TUNNEL_TX_BATCH >= (int)TUN_OFFLOAD_MAX_SEGMENTS,
	       "one TCP super-packet must fit a send batch");

struct tunnel {
	struct config cfg;
	struct loop loop;
	struct noise_local local;
	struct cookie_checker cookie_checker;
	struct peer peer;
	struct meet meet;
	struct resolver resolver;            /* host names in the config */

	struct tun_device tun;
	struct tun_applied tun_applied;
	struct routing routing;              /* full tunnel rules, DNS */
	bool up_done;                        /* PostUp ran: PreDown/PostDown will */
	struct udp_socket udp;
	int signal_fd;
	struct loop_watch tun_watch, udp_watch, signal_watch;
	struct control_server control;
	struct ping ping;                    /* `tunnelctl ping` in flight */
	struct service service;              /* what systemd was told */

	/* Inner MTU the current path carries (tunnel/pmtu.h): cfg.mtu until
	 * the path's discovery says less. send.c cuts, clamps and answers
	 * "too big" to it. */
	unsigned path_mtu;

	/* Largest datagram: a data message carrying an MTU-sized packet. */
	size_t packet_max;
	uint8_t *tun_read_buf;               /* TUNNEL_TUN_READ_SIZE */

	/* decrypted packets waiting to be written to the TUN, merged where
	 * they can be (tun/coalesce.h); they point into the receive buffers */
	struct tun_packet tun_out[UDP_RX_MAX];
	size_t n_tun_out;
	bool coalesce_off;                   /* the kernel refused a super-packet */
	uint8_t *tx_storage;                 /* TUNNEL_TX_BATCH * packet_max */
	struct udp_datagram tx[TUNNEL_TX_BATCH];
	uint8_t *split_out[TUNNEL_TX_BATCH];  /* scratch for tun_offload_split */
	size_t split_len[TUNNEL_TX_BATCH];

	/* handshake load, for the cookie defence */
	uint64_t load_window_ms;
	unsigned load_handshakes;
	uint64_t under_load_until_ms;

	uint64_t dropped[DROP_KIND_COUNT];
	struct log_ratelimit drop_log;

	/* Mode = bridge (cfg.mode): the device is a TAP and messages carry
	 * Ethernet frames (send.c send_from_tap, receive.c deliver_frame). */
	bool bridge;
	struct mactable remote_macs;         /* source MACs of the peer's frames */
	uint64_t frames_rx, frames_tx;
};

/* Claims the control socket in `run_dir` (refusing if the link is already
 * up), removes what a crashed daemon of the link left (routing.h), runs
 * PreUp, creates and configures the interface, its rules and DNS, opens the
 * UDP socket, sets up the peer and runs PostUp. `cfg` is copied (the caller may wipe its copy). On failure
 * everything done so far is undone and err holds one line for the user. */
must_check int tunnel_create(struct tunnel **out, const struct config *cfg, const char *run_dir,
			     char err[static CONFIG_ERR_LEN]);

/* What the link does first, at loop.now_ms: the first handshake towards a
 * static Endpoint, the persistent keepalive, the first registrations.
 * tunnel_run calls it; an in-memory test calls it instead. */
void tunnel_start(struct tunnel *t);

/* Runs the link until SIGINT/SIGTERM or a "down" request. */
must_check int tunnel_run(struct tunnel *t);

/* Runs PreDown (if PostUp ran), removes DNS, rules, routes, addresses and
 * the interface, runs PostDown, wipes keys, frees. Returns -1 when a hook
 * or an undo failed (logged), else 0. */
int tunnel_destroy(struct tunnel *t);

/* True while handshakes arrive faster than TUNNEL_UNDER_LOAD_HANDSHAKES/s;
 * counts one more handshake message. */
bool tunnel_note_handshake_load(struct tunnel *t);

/* Makes `fd` the link's UDP socket (tunnel/birthday.h's winner): the
 * loop watches it instead of the old one, which closes (udp_adopt). */
must_check int tunnel_replace_socket(struct tunnel *t, int fd);

/* Counts a dropped datagram, with rate-limited debug output. */
void tunnel_drop(struct tunnel *t, enum control_drop why, const char *what);

/* Fills a status snapshot for the control socket. */
void tunnel_status(struct tunnel *t, struct control_status *st);

/* Fills what `tunnelctl show` adds to the status (control "show"). */
void tunnel_show(struct tunnel *t, struct control_show *sh);

#endif
