/* The control protocol between `tunnelctl` and a link's daemon, over the
 * Unix stream socket RUN_DIR/NAME.sock (mode 0600). Modelled on wg's
 * cross-platform userspace API: text lines, easy to poke with socat.
 *
 *   request  := "get=1\n\n"  |  "down=1\n\n"  |  "reload=1\n\n"
 *             |  "show=1\n\n"  |  "ping=1\n\n"
 *   response := *( KEY "=" VALUE "\n" ) "errno=" N "\n\n"
 *
 * A request is at most CONTROL_REQUEST_MAX bytes. KEY is [a-z0-9_]+; VALUE
 * has no control characters. "get" answers with the status keys below, in
 * this order, then errno=0; "down" answers errno=0 and the daemon stops.
 * "reload" re-reads the link's config and applies it (tunnel/reload.h):
 * errno=0 once applied; otherwise "error=" one line for the user (the
 * config's "FILE:LINE: what is wrong") then errno=22 (EINVAL: the new
 * config is refused, the link keeps its old one) or another errno.
 * "show" answers what `wg show` prints and "get" lacks: listen_port=N,
 * preshared_key=true|false, then one allowed_ip=PREFIX line per AllowedIPs
 * entry (as wg's UAPI), then errno=0; at most CONTROL_SHOW_MAX bytes.
 * "ping" sends one authenticated path probe (crypto/probe.h) on the path in
 * use and answers once its response comes back: path=direct|relay,
 * endpoint=IP:PORT (the peer's, or the relay server's), rtt_us=N, errno=0;
 * or errno=110 (ETIMEDOUT) after CONTROL_PING_TIMEOUT_MS without one, or
 * error= and errno=107 (ENOTCONN) when there is no path to probe. The
 * daemon's loop does not wait: the reply is deferred (tunnel/ping.h).
 * Anything else is answered with errno=22 (EINVAL) and the connection closed.
 *
 *   name, public_key, peer_public_key   link name and base64 keys
 *   state        connecting | punching | established | relayed | down
 *   path         direct | relay | none
 *   endpoint     peer ip:port in use ("" when none)
 *   reflexive_endpoint   our ip:port as the rendezvous server saw it ("")
 *   reason       why the link is not (yet) up, human words ("" when up)
 *   last_handshake_age_s, rtt_ms   integers, -1 when unknown
 *   rx_bytes, tx_bytes, keepalive_s, pid   integers
 *   nat_mapping  endpoint-independent | endpoint-dependent | unknown: whether
 *                our public endpoint differs per rendezvous server
 *   nat_port_preserved  true | false | "" (unknown): the NAT kept our port
 *   nat_portmap  upnp | nat-pmp | pcp | "" (none): the router's mapping in use
 *   nat_public   our public ip:port: the router's mapping if any, else
 *                the first server's view ("")
 *   portmap_reason  why there is no router mapping, human words ("")
 *   path_origin  how the path in use was found: lan | portmap | static |
 *                reflexive | birthday | relay | "" (no path)
 *   path_origin_reason  why no better one works, human words ("")
 *   dropped_KIND  one key per drop counter (see enum control_drop)
 */
#ifndef TUNNEL_CONTROL_H
#define TUNNEL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum control_limits {
	CONTROL_REQUEST_MAX = 256,
	CONTROL_RESPONSE_MAX = 4096,
	CONTROL_NAME_MAX = 16,
	CONTROL_KEY_B64_LEN = 45,      /* 44 characters and NUL */
	CONTROL_ENDPOINT_MAX = 64,     /* "[v6]:port" and NUL */
	CONTROL_REASON_MAX = 160,
	CONTROL_PATH_MAX = 108,        /* sun_path */
	CONTROL_PREFIX_MAX = 44,       /* "v6/128" and NUL */
	CONTROL_ALLOWED_IPS_MAX = 256, /* CONFIG_MAX_ALLOWED_IPS */
	/* the "show" response: every allowed_ip line and a few keys */
	CONTROL_SHOW_MAX = 256 * (44 + 12) + 256,
	CONTROL_PING_TIMEOUT_MS = 1500, /* below tunnelctl's 2 s query timeout */
};

enum control_request {
	CONTROL_GET,
	CONTROL_DOWN,
	CONTROL_RELOAD,
	CONTROL_SHOW,
	CONTROL_PING,
};

enum control_reply_limits {
	CONTROL_ERROR_MAX = 512,       /* the "error=" line of a reply */
};

/* Why datagrams were dropped; the counters appear in `status --json`
 * under "dropped" with these names. */
enum control_drop {
	DROP_MALFORMED,     /* too short, unknown type, bad length */
	DROP_UNAUTHENTICATED, /* MAC, AEAD or probe signature did not verify */
	DROP_REPLAYED,      /* counter or timestamp seen before */
	DROP_NO_SESSION,    /* transport data for a session we do not have */
	DROP_NOT_ALLOWED,   /* inner source address outside AllowedIPs */
	DROP_RATE_LIMITED,  /* handshake flood, under load */
	DROP_TUN_FULL,      /* the TUN device would block */
	DROP_NO_ROUTE,      /* TUN packet to an address outside AllowedIPs */
	DROP_TOO_BIG,       /* TUN packet above the path MTU, answered with ICMP; or data
			     * sealed for a relay channel that closed (meet.c) */
	DROP_LOOPED,        /* bridge: local frame from a MAC learned behind the peer */
	DROP_KIND_COUNT,
};

extern const char *const control_drop_names[DROP_KIND_COUNT];

struct control_status {
	char name[CONTROL_NAME_MAX];
	char public_key[CONTROL_KEY_B64_LEN];
	char peer_public_key[CONTROL_KEY_B64_LEN];
	char state[16];
	char path[8];
	char endpoint[CONTROL_ENDPOINT_MAX];
	char reflexive_endpoint[CONTROL_ENDPOINT_MAX];
	char reason[CONTROL_REASON_MAX];
	int64_t last_handshake_age_s; /* -1: never */
	int64_t rtt_ms;               /* -1: unknown */
	uint64_t rx_bytes, tx_bytes;
	uint64_t keepalive_s;
	uint64_t path_mtu;            /* inner bytes the path in use carries */
	uint64_t path_changes;        /* moves between paths and endpoints */
	uint64_t probes_sent;         /* path probe requests sent since up */
	char mode[8];                 /* "routed" or "bridge" */
	uint64_t frames_rx, frames_tx; /* bridge: Ethernet frames each way */
	uint64_t remote_macs;         /* bridge: MACs learned behind the peer */
	uint64_t pid;
	uint64_t dropped[DROP_KIND_COUNT];
	char nat_mapping[24];
	char nat_port_preserved[8];
	char nat_portmap[8];
	char nat_public[CONTROL_ENDPOINT_MAX];
	char portmap_reason[CONTROL_REASON_MAX];
	char path_origin[16];
	char path_origin_reason[CONTROL_REASON_MAX];
	char relay_channel[8];        /* "open", "asking" or "none" (meet_channel_state) */
};

/* The "show" response: what `wg show` prints beyond the status. */
struct control_show {
	uint64_t listen_port;
	bool has_preshared_key;
	size_t n_allowed_ips;
	char allowed_ips[CONTROL_ALLOWED_IPS_MAX][CONTROL_PREFIX_MAX];
};

/* A "ping" response. */
struct control_pong {
	char path[8];                     /* direct | relay */
	char endpoint[CONTROL_ENDPOINT_MAX];
	uint64_t rtt_us;
};

/* Parses one complete request (up to and including the blank line).
 * Returns 0 and sets *req, -EAGAIN when more bytes are needed, -EINVAL for
 * anything else. */
must_check int control_parse_request(const char *buf, size_t len, enum control_request *req);

/* Writes the "get" response for `st` into buf; returns its length, or
 * -ENOSPC if it does not fit. */
must_check int control_format_status(const struct control_status *st, char *buf, size_t size);

/* Parses a "get" response. Returns 0, -EAGAIN when incomplete, -EINVAL when
 * malformed or missing a key, or the daemon's own errno (negated). */
must_check int control_parse_status(const char *buf, size_t len, struct control_status *st);

/* Writes a reply without status keys: "error=ERROR\n" when `error` is
 * non-empty (control characters replaced), then "errno=E\n\n" with E the
 * positive errno of `r` (0 for success). Returns its length, or -ENOSPC. */
must_check int control_format_reply(int r, const char *error, char *buf, size_t size);

/* Parses a reply to "down" or "reload": 0 for errno=0, else the daemon's
 * errno (negated) with its "error=" line (if any) copied into `error`;
 * -EAGAIN when incomplete, -EINVAL when malformed. */
must_check int control_parse_reply(const char *buf, size_t len, char error[static CONTROL_ERROR_MAX]);

/* Writes the "show" response; its length, or -ENOSPC. */
must_check int control_format_show(const struct control_show *sh, char *buf, size_t size);

/* Parses a "show" response: 0, -EAGAIN, -EINVAL, or the daemon's errno. */
must_check int control_parse_show(const char *buf, size_t len, struct control_show *sh);

/* Writes a successful "ping" response; its length, or -ENOSPC. */
must_check int control_format_pong(const struct control_pong *p, char *buf, size_t size);

/* Parses a "ping" response: 0 with *p filled; the daemon's errno (negated)
 * with its "error=" line in `error`; -EAGAIN or -EINVAL. */
must_check int control_parse_pong(const char *buf, size_t len, struct control_pong *p,
				  char error[static CONTROL_ERROR_MAX]);

/* Where the protocol is spoken: both halves (the daemon's listener in
 * control_socket.c, tunnelctl's client in ctl/control_client.c) find a
 * link's socket at RUN_DIR/NAME.sock, with NAME.pid beside it. NAME follows
 * common/ifname.h's rule. */

/* Connects to NAME's socket; returns the fd or a negative errno
 * (-ENOENT/-ECONNREFUSED when no daemon listens). */
must_check int control_connect(const char *run_dir, const char *name);

/* True when a daemon answers on NAME's socket; removes a stale socket and
 * pid file left by one that died. */
bool control_daemon_alive(const char *run_dir, const char *name);

#endif
