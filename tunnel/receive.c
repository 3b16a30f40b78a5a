/* The receiving half of the link. Every datagram is classified by the one
 * demux rule (rendezvous/demux.c), then checked before anything else is
 * read: WireGuard header and length (message_validate_header), MACs
 * (cookie_checker_validate), then the Noise or AEAD authentication. Anything
 * that fails is dropped and counted, never answered (except the cookie
 * reply WireGuard itself prescribes under load). Data is decrypted in place
 * in the receive buffer and written to the TUN from there. */
#include "tunnel/receive.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "crypto/keys.h"
#include "rendezvous/demux.h"
#include "tun/mss.h"
#include "tunnel/allowedips.h"
#include "tunnel/meet.h"
#include "tunnel/punch.h"
#include "tunnel/send.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

enum { RECEIVE_ROUNDS = 4 }; /* batches per wake-up, so the TUN gets a turn */

_Static_assert(1 + TUN_COALESCE_IOV_MAX <= TUN_WRITE_IOV_MAX,
	       "a merged frame fits one tun_device_write_gso");

/* The cookie MACs bind a reply to the sender's address: IP then port. */
static size_t encode_source(const struct rdv_endpoint *ep, uint8_t out[COOKIE_MAX_SOURCE_LEN])
{
	size_t alen = ep->family == AF_INET ? 4 : 16;

	memcpy(out, ep->addr, alen);
	store_be16(out + alen, ep->port);
	return alen + 2;
}

static struct noise_handshake *lookup_peer(void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	struct tunnel *t = ctx;

	return keys_equal(remote_static, t->peer.handshake.remote_static) ? &t->peer.handshake
									  : NULL;
}

/* MAC checks shared by initiations and responses. False when the message
 * must not be processed (dropped, or answered with a cookie under load). */
static bool check_macs(struct tunnel *t, const struct udp_datagram *d, bool via_relay)
{
	uint8_t source[COOKIE_MAX_SOURCE_LEN];
	size_t source_len = encode_source(&d->from, source);
	bool under_load = tunnel_note_handshake_load(t);
	enum cookie_mac_state st;

	st = cookie_checker_validate(&t->cookie_checker, d->data, d->len, source, source_len,
				     under_load, t->loop.now_ms);
	if (st == COOKIE_MAC_INVALID) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "handshake with a bad mac1");
		return false;
	}
	if (under_load && st != COOKIE_MAC_VALID_WITH_COOKIE) {
		uint8_t reply[MESSAGE_COOKIE_LEN];

		if (cookie_reply_create(&t->cookie_checker, reply, d->data, d->len, source,
					source_len, t->loop.now_ms) == 0) {
			if (via_relay)
				meet_send_relay(t, reply, sizeof(reply));
			else if (udp_send(&t->udp, &d->from, reply, sizeof(reply)) != 0)
				log_debug("%s: cookie reply not sent", t->cfg.name);
		}
		tunnel_drop(t, DROP_RATE_LIMITED, "handshake under load, cookie sent");
		return false;
	}
	return true;
}

/* A new keypair: hand it to the sessions and start its timers. */
static bool install_keypair(struct peer *peer)
{
	struct keypair kp;

	if (noise_derive_keypair(&peer->handshake, &kp, peer->tunnel->loop.now_ms) != 0)
		return false;
	session_keypairs_insert(&peer->keypairs, &kp);
	timers_session_derived(peer);
	return true;
}

static void handle_initiation(struct tunnel *t, const struct udp_datagram *d, bool via_relay)
{
	struct peer *peer = &t->peer;
	struct noise_handshake *hs;
	uint8_t resp[MESSAGE_RESPONSE_LEN];
	int r;

	if (!check_macs(t, d, via_relay))
		return;
	r = noise_consume_initiation(&t->local, d->data, d->len, lookup_peer, t, t->loop.now_ms,
				     &hs);
	if (r == -EALREADY) {
		tunnel_drop(t, DROP_REPLAYED, "replayed handshake initiation");
		return;
	}
	if (r == -EBUSY) {
		tunnel_drop(t, DROP_RATE_LIMITED, "handshake initiations too fast");
		return;
	}
	if (r == -EPROTONOSUPPORT) {
		/* The peer, authenticated, but speaking the other mode: never
		 * answered, so no session (and no frame or packet) ever
		 * crosses; both ends say why. */
		tunnel_drop(t, DROP_UNAUTHENTICATED, "handshake initiation in the other Mode");
		peer_mode_mismatch(peer, t->bridge);
		return;
	}
	if (r) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "handshake initiation does not decrypt");
		return;
	}
	/* Authenticated: the peer is where this came from (roaming). */
	peer_authenticated_from(peer, &d->from, via_relay);
	r = noise_create_response(hs, peer_new_index(peer), resp);
	if (r == 0)
		r = cookie_maker_add_macs(&peer->cookie, resp, sizeof(resp), t->loop.now_ms);
	if (r || !install_keypair(peer)) {
		log_error("%s: cannot answer a handshake: %s", t->cfg.name, strerror(-r));
		return;
	}
	/* The way it came: a relayed initiation may mean our direct path is dead. */
	if (via_relay)
		meet_send_relay(t, resp, sizeof(resp));
	else
		send_to_peer(peer, resp, sizeof(resp));
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer);
	timers_any_authenticated_packet_sent(peer);
}

static void handle_response(struct tunnel *t, const struct udp_datagram *d, bool via_relay)
{
	struct peer *peer = &t->peer;

	if (message_receiver_index(d->data, MESSAGE_HANDSHAKE_RESPONSE) !=
	    peer->handshake.local_index) {
		tunnel_drop(t, DROP_NO_SESSION, "handshake response to no initiation of ours");
		return;
	}
	if (!check_macs(t, d, via_relay))
		return;
	if (noise_consume_response(&peer->handshake, &t->local, d->data, d->len) != 0) {
		tunnel_drop(t, DROP_UNAUTHENTICATED, "handshake response does not decrypt");
		return;
	}
	if (!install_keypair(peer))
		return;
	peer_authenticated_from(peer, &d->from, via_relay);
	timers_handshake_complete(peer);
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer);
	peer_session_confirmed(peer);
	/* The responder waits for our first data message before it uses the
	 * new keys: send what is staged, or a keepalive. */
	send_staged_packets(peer);
}

/* A cookie reply answers any message we sent under load on the other side:
 * our initiation (the handshake's index) or our response (the index of the
 * keypair it made), so every live index counts, as in WireGuard. */
static bool index_is_ours(const struct peer *peer, uint32_t index)
{
	const struct keypairs *k = &peer->keypairs;

	return index == peer->handshake.local_index ||
	       (k->next.valid && index == k->next.local_index) ||
	       (k->current.valid && index == k->current.local_index) ||
	       (k->previous.valid && index == k->previous.local_index);
}

static void handle_cookie(struct tunnel *t, const struct udp_datagram *d)
{
	struct peer *peer = &t->peer;

	if (!index_is_ours(peer, message_receiver_index(d->data, MESSAGE_HANDSHAKE_COOKIE))) {
		tunnel_drop(t, DROP_NO_SESSION, "cookie reply to no handshake of ours");
		return;
	}
	if (cookie_maker_consume_reply(&peer->cookie, d->data, d->len, t->loop.now_ms) != 0)
		tunnel_drop(t, DROP_UNAUTHENTICATED, "cookie reply does not decrypt");
	/* The retransmit timer resends the initiation, now with mac2. */
}

static void write_result(struct tunnel *t, int r)
{
	if (r == -EAGAIN)
		tunnel_drop(t, DROP_TUN_FULL, "TUN queue full");
	else if (r)
		tunnel_drop(t, DROP_MALFORMED, "TUN refused the packet");
}

/* Bridge mode queues the IP packets of untagged frames (tun_out[].data is
 * the packet; its Ethernet header sits just before it): a run merges only
 * frames with one Ethernet header, and the virtio-net header's offsets
 * then count from the frame. */
static size_t same_l2_run(const struct tunnel *t, size_t i, size_t run)
{
	const uint8_t *eth = t->tun_out[i].data - TUN_ETH_HEADER_LEN;

	for (size_t k = 1; k < run; k++)
		if (memcmp(t->tun_out[i + k].data - TUN_ETH_HEADER_LEN, eth, TUN_ETH_HEADER_LEN))
			return k;
	return run;
}

static void vnet_hdr_shift(uint8_t hdr[static TUN_VNET_HDR_LEN], uint16_t by)
{
	uint16_t v;

	for (size_t off = 2; off <= 6; off += 4) { /* hdr_len, csum_start */
		memcpy(&v, hdr + off, 2);
		v = (uint16_t)(v + by);
		memcpy(hdr + off, &v, 2);
	}
}

/* Writes the queued packets (frames in bridge mode), merging runs of one
 * TCP stream. A merged run goes out in one writev straight from the
 * receive buffers: the Ethernet header in bridge mode, the patched
 * headers (a scratch copy), then every payload where it was decrypted. */
static void flush_tun(struct tunnel *t)
{
	size_t n = t->n_tun_out, l2 = t->bridge ? TUN_ETH_HEADER_LEN : 0, il2 = l2 ? 1 : 0;

	for (size_t i = 0; i < n;) {
		size_t run = t->coalesce_off ? 1 : tun_coalesce_run(&t->tun_out[i], n - i);
		uint8_t hdr[TUN_VNET_HDR_LEN], headers[TUN_COALESCE_HEADERS_MAX];
		struct iovec iov[1 + TUN_COALESCE_IOV_MAX];
		int len = -1;

		if (l2 && run > 1)
			run = same_l2_run(t, i, run);
		if (run > 1)
			len = tun_coalesce_build(&t->tun_out[i], run, headers, iov + il2, hdr);
		if (len > 0) {
			int r;

			if (l2) {
				iov[0] = (struct iovec){ .iov_base = (void *)(t->tun_out[i].data - l2),
							 .iov_len = l2 };
				vnet_hdr_shift(hdr, (uint16_t)l2);
			}
			r = tun_device_write_gso(&t->tun, 0, hdr, iov, il2 + 1 + run);

			if (r == 0 || r == -EAGAIN) {
				for (size_t k = 0; k < run; k++)
					write_result(t, r);
				i += run;
				continue;
			}
			/* The kernel refused the super-packet: never lose the run
			 * for it, write its packets one by one from now on. */
			log_warn("%s: TUN refused a coalesced packet (%s); writing packets singly",
				 t->cfg.name, strerror(-r));
			t->coalesce_off = true;
		}
		write_result(t, tun_device_write(&t->tun, 0, t->tun_out[i].data - l2,
						 t->tun_out[i].len + l2));
		i++;
	}
	t->n_tun_out = 0;
}

/* Checks a decrypted packet and writes it to the TUN: at once for data
 * whose buffer is short-lived (a RELAY's), or queued for flush_tun. */
static void deliver_to_tun(struct tunnel *t, uint8_t *plain, size_t len, bool queue)
{
	struct inner_packet ip;

	if (!allowedips_parse_packet(plain, len, &ip)) {
		tunnel_drop(t, DROP_MALFORMED, "decrypted data is not an IP packet");
		return;
	}
	if (!allowedips_contains(t->cfg.allowed_ips, t->cfg.n_allowed_ips, ip.family, ip.src)) {
		tunnel_drop(t, DROP_NOT_ALLOWED, "inner source outside AllowedIPs");
		return;
	}
	/* SYNs coming in are clamped too: the host behind us that answers
	 * them must send segments that fit the path back (site-to-site). */
	tun_mss_clamp(plain, ip.total_len, t->path_mtu);
	if (!queue || t->n_tun_out == UDP_RX_MAX) {
		write_result(t, tun_device_write(&t->tun, 0, plain, ip.total_len));
		return;
	}
	t->tun_out[t->n_tun_out++] = (struct tun_packet){ plain, ip.total_len };
}

/* Mode = bridge: a decrypted Ethernet frame goes to the TAP as it is: an
 * untagged IP frame queued for flush_tun (which merges TCP runs), anything
 * else (and relayed data, whose buffer is short-lived) at once, after what
 * is queued. Its source MAC is remembered as the peer's side
 * (tunnel/mactable.h), and a SYN's MSS is clamped as in routed mode. */
static void deliver_frame(struct tunnel *t, uint8_t *frame, size_t len, bool queue)
{
	bool is_ip;
	size_t l2;

	if (len < TUN_ETH_HEADER_LEN) {
		tunnel_drop(t, DROP_MALFORMED, "decrypted data is not an Ethernet frame");
		return;
	}
	l2 = send_frame_l2_len(frame, len, &is_ip);
	if (is_ip && t->path_mtu > l2)
		tun_mss_clamp(frame + l2, len - l2,
			      MIN(t->path_mtu - (unsigned)l2, config_device_mtu(&t->cfg)));
	mactable_learn(&t->remote_macs, frame + 6, t->loop.now_ms);
	t->frames_rx++;
	if (queue && is_ip && l2 == TUN_ETH_HEADER_LEN && t->n_tun_out < UDP_RX_MAX) {
		t->tun_out[t->n_tun_out++] = (struct tun_packet){ frame + l2, len - l2 };
		return;
	}
	flush_tun(t);
	write_result(t, tun_device_write(&t->tun, 0, frame, len));
}

static void handle_data(struct tunnel *t, struct udp_datagram *d, bool via_relay, bool queue)
{
	struct peer *peer = &t->peer;
	uint8_t *plain;
	size_t plain_len;
	bool rotated = false;
	int r;

	r = session_keypairs_open(&peer->keypairs, d->data, d->len, t->loop.now_ms, &plain,
				  &plain_len, &rotated);
	switch (r) {
	case 0:
		break;
	case -EALREADY:
		tunnel_drop(t, DROP_REPLAYED, "replayed or too old data message");
		return;
	case -EBADMSG:
		tunnel_drop(t, DROP_UNAUTHENTICATED, "data message does not authenticate");
		return;
	case -EINVAL:
		tunnel_drop(t, DROP_MALFORMED, "malformed data message");
		return;
	default: /* -ENOENT, -ESTALE */
		tunnel_drop(t, DROP_NO_SESSION, "data message for no live session");
		return;
	}
	peer->rx_bytes += d->len;
	peer_authenticated_from(peer, &d->from, via_relay);
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer);
	if (rotated) {
		/* Our responder keypair is confirmed: the handshake is done. */
		timers_handshake_complete(peer);
		send_staged_packets(peer);
	}
	peer_session_confirmed(peer);
	if (peer->keypairs.current.valid &&
	    session_should_rekey_on_receive(&peer->keypairs.current, t->loop.now_ms))
		send_handshake_initiation(peer, false);
	if (plain_len == 0)
		return; /* a keepalive */
	timers_data_received(peer);
	if (t->bridge)
		deliver_frame(t, plain, plain_len, queue);
	else
		deliver_to_tun(t, plain, plain_len, queue);
}

/* queue: d->data lives in the receive batch (until flush_tun). */
static void receive_wg(struct tunnel *t, struct udp_datagram *d, bool via_relay, bool queue)
{
	switch (message_validate_header(d->data, d->len)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		handle_initiation(t, d, via_relay);
		break;
	case MESSAGE_HANDSHAKE_RESPONSE:
		handle_response(t, d, via_relay);
		break;
	case MESSAGE_HANDSHAKE_COOKIE:
		handle_cookie(t, d);
		break;
	case MESSAGE_DATA:
		handle_data(t, d, via_relay, queue);
		break;
	case MESSAGE_INVALID:
		tunnel_drop(t, DROP_MALFORMED, "WireGuard message of the wrong length");
		break;
	}
}

void receive_wireguard(struct tunnel *t, struct udp_datagram *d, bool via_relay)
{
	receive_wg(t, d, via_relay, !via_relay);
}

void receive_wireguard_channel(struct tunnel *t, struct udp_datagram *d)
{
	receive_wg(t, d, true, true);
}

static void handle_datagram(struct tunnel *t, struct udp_datagram *d)
{
	switch (demux_classify(d->data, d->len)) {
	case DEMUX_WIREGUARD:
		receive_wireguard(t, d, false);
		break;
	case DEMUX_RENDEZVOUS:
		meet_receive(t, d);
		break;
	case DEMUX_PROBE:
		punch_receive(&t->peer, d, false);
		break;
	case DEMUX_CHANNEL:
		meet_receive_channel(t, d);
		break;
	case DEMUX_STUN:
	case DEMUX_STUN_LEGACY:
	case DEMUX_UNKNOWN:
		tunnel_drop(t, DROP_MALFORMED, "datagram of no known kind");
		break;
	}
}

void receive_from_udp(struct tunnel *t)
{
	for (int round = 0; round < RECEIVE_ROUNDS; round++) {
		unsigned oversized = 0;
		int n = udp_receive_batch(&t->udp, &oversized);

		for (unsigned i = 0; i < oversized; i++)
			tunnel_drop(t, DROP_MALFORMED, "oversized datagram");
		if (n <= 0) {
			if (n < 0 && log_ratelimit_allow(&t->drop_log, t->loop.now_ms))
				log_debug("%s: receive failed: %s", t->cfg.name, strerror(-n));
			return;
		}
		for (int i = 0; i < n; i++)
			handle_datagram(t, &t->udp.rx[i]);
		/* Before the next receive reuses the buffers they point into. */
		flush_tun(t);
		if (n == 0)
			return;
	}
}
