/* The sending half of the link. Data packets are read from the TUN in
 * batches, sealed in place (header room in front, tag room behind) and sent
 * with one sendmmsg per batch; nothing is allocated per packet. */
#include "tunnel/send.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"
#include "tun/fragment.h"
#include "tun/icmp_too_big.h"
#include "tun/mss.h"
#include "tun/offload.h"
#include "tunnel/allowedips.h"
#include "tunnel/meet.h"
#include "tunnel/timers.h"
#include "tunnel/tunnel.h"

enum { IPV6_MIN_MTU = 1280 };

static uint64_t now(const struct peer *peer)
{
	return peer->tunnel->loop.now_ms;
}

void send_to_peer(struct peer *peer, const uint8_t *data, size_t len)
{
	struct tunnel *t = peer->tunnel;
	int r;

	if (peer->path == PATH_RELAY) {
		meet_send_relay(t, data, len);
		return;
	}
	if (!peer->has_endpoint)
		return;
	r = udp_send(&t->udp, &peer->endpoint, data, len);
	if (r == 0)
		peer->tx_bytes += len;
	else if (r != -EAGAIN && log_ratelimit_allow(&t->drop_log, now(peer)))
		log_debug("%s: send failed: %s", t->cfg.name, strerror(-r));
}

void send_handshake_initiation(struct peer *peer, bool is_retry)
{
	struct tunnel *t = peer->tunnel;
	uint8_t msg[MESSAGE_INITIATION_LEN], timestamp[TAI64N_LEN];
	int r;

	if (!peer_has_path(peer))
		return;
	/* At most one initiation per REKEY_TIMEOUT, except the retransmits. */
	if (!is_retry && peer->last_initiation_sent_ms &&
	    now(peer) - peer->last_initiation_sent_ms < REKEY_TIMEOUT_MS)
		return;
	if (!is_retry)
		peer->handshake_attempts = 0;
	clock_tai64n(timestamp);
	r = noise_create_initiation(&peer->handshake, &t->local, peer_new_index(peer), timestamp,
				    msg);
	if (r == 0)
		r = cookie_maker_add_macs(&peer->cookie, msg, sizeof(msg), now(peer));
	if (r) {
		log_error("%s: cannot build a handshake initiation: %s", t->cfg.name,
			  strerror(-r));
		return;
	}
	send_to_peer(peer, msg, sizeof(msg));
	peer->last_initiation_sent_ms = now(peer);
	timers_any_authenticated_packet_traversal(peer);
	timers_any_authenticated_packet_sent(peer);
	timers_handshake_initiated(peer);
}

/* Seals `plain_len` bytes already at buf + MESSAGE_DATA_HEADER_LEN. */
static int seal(struct peer *peer, uint8_t *buf, size_t plain_len, size_t *out_len)
{
	struct tunnel *t = peer->tunnel;
	/* Padding stops at the path MTU: a full-size packet must not grow
	 * past what the path carries. An Ethernet frame has no length field
	 * to strip padding by: bridge mode sends frames as they are. */
	size_t padded = t->bridge ? plain_len : session_padded_len(plain_len, t->path_mtu);

	memset(buf + MESSAGE_DATA_HEADER_LEN + plain_len, 0, padded - plain_len);
	return session_keypairs_seal(&peer->keypairs, buf, t->packet_max, padded, now(peer),
				     out_len);
}

/* After sealing: the initiator refreshes keys before they grow old. */
static void keep_key_fresh(struct peer *peer)
{
	if (peer->keypairs.current.valid &&
	    session_should_rekey_on_send(&peer->keypairs.current, now(peer)))
		send_handshake_initiation(peer, false);
}

/* Holds a packet (at buf + header) until a session exists; the oldest goes
 * when the queue is full, as in WireGuard. */
static void stage(struct peer *peer, const uint8_t *packet, size_t len)
{
	uint8_t *slot;

	if (peer->n_staged == PEER_STAGED_MAX) {
		slot = peer->staged[0];
		memmove(&peer->staged[0], &peer->staged[1],
			(PEER_STAGED_MAX - 1) * sizeof(peer->staged[0]));
		memmove(&peer->staged_len[0], &peer->staged_len[1],
			(PEER_STAGED_MAX - 1) * sizeof(peer->staged_len[0]));
		peer->staged[PEER_STAGED_MAX - 1] = slot;
		peer->n_staged--;
	}
	slot = peer->staged[peer->n_staged];
	memcpy(slot + MESSAGE_DATA_HEADER_LEN, packet, len);
	peer->staged_len[peer->n_staged++] = len;
}

void send_drop_staged(struct peer *peer)
{
	peer->n_staged = 0;
}

void send_staged_packets(struct peer *peer)
{
	size_t sent = 0;

	for (size_t i = 0; i < peer->n_staged; i++) {
		size_t out_len;

		if (seal(peer, peer->staged[i], peer->staged_len[i], &out_len) != 0)
			break;
		send_to_peer(peer, peer->staged[i], out_len);
		sent++;
	}
	if (peer->tunnel->bridge)
		peer->tunnel->frames_tx += sent;
	peer->n_staged = 0;
	if (sent) {
		timers_any_authenticated_packet_traversal(peer);
		timers_any_authenticated_packet_sent(peer);
		timers_data_sent(peer);
		keep_key_fresh(peer);
	} else {
		send_keepalive(peer);
	}
}

void send_keepalive(struct peer *peer)
{
	uint8_t buf[MESSAGE_DATA_MIN_LEN];
	size_t out_len;

	if (!peer_has_path(peer))
		return;
	if (session_keypairs_seal(&peer->keypairs, buf, sizeof(buf), 0, now(peer), &out_len)) {
		/* No usable session: the handshake is the keepalive. */
		send_handshake_initiation(peer, false);
		return;
	}
	send_to_peer(peer, buf, out_len);
	timers_any_authenticated_packet_traversal(peer);
	timers_any_authenticated_packet_sent(peer);
	keep_key_fresh(peer);
}

void send_path_check(struct peer *peer, const struct rdv_endpoint *to)
{
	uint8_t buf[MESSAGE_DATA_MIN_LEN];
	size_t out_len;

	if (session_keypairs_seal(&peer->keypairs, buf, sizeof(buf), 0, now(peer), &out_len) != 0)
		return;
	if (udp_send(&peer->tunnel->udp, to, buf, out_len) == 0)
		peer->tx_bytes += out_len;
	timers_any_authenticated_packet_sent(peer);
}

/* Sends the sealed messages in t->tx[0..n) along the peer's path. */
static void flush_batch(struct tunnel *t, size_t n)
{
	struct peer *peer = &t->peer;

	if (n == 0)
		return;
	if (peer->path == PATH_RELAY) {
		meet_send_relay_batch(t, t->tx, n);
	} else {
		size_t bytes = 0;
		int r = udp_send_batch(&t->udp, t->tx, n, &bytes);

		peer->tx_bytes += bytes;
		if (r < 0 && log_ratelimit_allow(&t->drop_log, now(peer)))
			log_debug("%s: send failed: %s", t->cfg.name, strerror(-r));
	}
	timers_any_authenticated_packet_traversal(peer);
	timers_any_authenticated_packet_sent(peer);
	timers_data_sent(peer);
	keep_key_fresh(peer);
}

/* Room in the batch (t->tx from *n on) for a read that can become up to
 * `segs` packets (tun_offload_segments): sends the batch first when they
 * do not fit. Returns how many slots to prepare: only those, so a small
 * packet never touches the whole batch. */
static size_t batch_room(struct tunnel *t, size_t *n, size_t segs)
{
	if (TUNNEL_TX_BATCH - *n < segs) {
		flush_batch(t, *n);
		*n = 0;
	}
	return MIN(TUNNEL_TX_BATCH - *n, MIN(segs, (size_t)TUN_OFFLOAD_MAX_SEGMENTS));
}

/* A packet above the path MTU (tunnel/pmtu.h) from a local sender: answer
 * with ICMP "fragmentation needed" / ICMPv6 "packet too big" through the
 * TUN, so the sender's kernel caches the path MTU, and drop it. True when
 * answered; false when no answer is due (tun/icmp_too_big.h): IPv4 without
 * DF is fragmented instead, anything else goes on whole. */
static bool answer_too_big(struct tunnel *t, const uint8_t *packet, size_t len, size_t mtu)
{
	uint8_t reply[TUN_ICMP_TOO_BIG_MAX];
	struct inner_packet ip;
	int r;

	/* only for what the link would carry: the rest is dropped as such */
	if (!allowedips_parse_packet(packet, len, &ip) ||
	    !allowedips_contains(t->cfg.allowed_ips, t->cfg.n_allowed_ips, ip.family, ip.dst))
		return false;
	r = tun_icmp_too_big(packet, len, (unsigned)mtu, reply, sizeof(reply));
	if (r <= 0)
		return false;
	r = tun_device_write(&t->tun, 0, reply, (size_t)r);
	if (r && log_ratelimit_allow(&t->drop_log, now(&t->peer)))
		log_debug("%s: cannot write a packet-too-big reply: %s", t->cfg.name, strerror(-r));
	tunnel_drop(t, DROP_TOO_BIG, "packet above the path MTU");
	return true;
}

/* Checks and seals the packet at t->tx[n].data + header; true when it
 * joined the batch. Packets without a session are staged instead. */
static bool seal_into_batch(struct tunnel *t, size_t n, size_t len, bool *need_handshake)
{
	struct peer *peer = &t->peer;
	uint8_t *buf = t->tx[n].data, *packet = buf + MESSAGE_DATA_HEADER_LEN;
	struct inner_packet ip;
	size_t out_len;

	if (!allowedips_parse_packet(packet, len, &ip)) {
		tunnel_drop(t, DROP_MALFORMED, "TUN packet that is not IPv4 or IPv6");
		return false;
	}
	if (!allowedips_contains(t->cfg.allowed_ips, t->cfg.n_allowed_ips, ip.family, ip.dst)) {
		/* The kernel's own multicast on a new interface (IPv6 router
		 * solicitations, MLD) is expected: not worth a drop counter. */
		if (!allowedips_is_multicast(&ip))
			tunnel_drop(t, DROP_NO_ROUTE, "packet to an address outside AllowedIPs");
		return false;
	}
	if (!peer_has_path(peer)) {
		tunnel_drop(t, DROP_NO_ROUTE, "packet while there is no path to the peer");
		return false;
	}
	if (seal(peer, buf, len, &out_len) != 0) {
		stage(peer, packet, len);
		*need_handshake = true;
		return false;
	}
	t->tx[n].len = out_len;
	t->tx[n].from = peer->endpoint;
	return true;
}

/* An IPv4 packet without DF above the path MTU, alone at t->tx[*n] (+
 * header): cut into fragments (tun/fragment.h) that are sealed into the
 * batch from slot *n on, as a router with a narrower next hop would. True
 * when done; false when it cannot be fragmented: the packet is then at
 * t->tx[*n] (+ header) and t->split_out[0] (*n may have become 0). Uses
 * t->split_out / t->split_len, the caller's out / out_len of one packet. */
static bool fragment_into_batch(struct tunnel *t, size_t *n, size_t len, size_t path_mtu,
				bool *need_handshake)
{
	uint8_t *src = t->tx[*n].data + MESSAGE_DATA_HEADER_LEN;
	size_t room, sealed = 0;
	int k;

	if (path_mtu < 68)
		return false;
	/* at most this many fragments, each with up to 60 header bytes */
	room = len / ((path_mtu - 60) & ~(size_t)7) + 2;
	if (TUNNEL_TX_BATCH - *n < room + 1) {
		flush_batch(t, *n);
		*n = 0;
		memmove(t->tx[0].data + MESSAGE_DATA_HEADER_LEN, src, len);
		src = t->tx[0].data + MESSAGE_DATA_HEADER_LEN;
	}
	room = TUNNEL_TX_BATCH - *n - 1;
	for (size_t j = 0; j < room; j++)
		t->split_out[j] = t->tx[*n + 1 + j].data + MESSAGE_DATA_HEADER_LEN;
	k = tun_ipv4_fragment(src, len, path_mtu, t->split_out, path_mtu, t->split_len, room);
	if (k < 0) {
		t->split_out[0] = src;  /* the caller's out[0]: the packet, as it was */
		return false;
	}
	/* fragment j sits one slot or more beyond where it is sealed */
	for (int j = 0; j < k; j++) {
		memcpy(t->tx[*n + sealed].data + MESSAGE_DATA_HEADER_LEN, t->split_out[j],
		       t->split_len[j]);
		if (seal_into_batch(t, *n + sealed, t->split_len[j], need_handshake))
			sealed++;
	}
	*n += sealed;
	return true;
}

enum {
	ETH_TYPE_IPV4 = 0x0800,
	ETH_TYPE_IPV6 = 0x86dd,
	ETH_TYPE_VLAN = 0x8100,
	ETH_VLAN_HEADER_LEN = TUN_ETH_HEADER_LEN + 4,
};

size_t send_frame_l2_len(const uint8_t *frame, size_t len, bool *is_ip)
{
	uint16_t type = load_be16(frame + 12);
	size_t l2 = TUN_ETH_HEADER_LEN;

	if (type == ETH_TYPE_VLAN && len >= ETH_VLAN_HEADER_LEN) {
		type = load_be16(frame + 16);
		l2 = ETH_VLAN_HEADER_LEN;
	}
	*is_ip = type == ETH_TYPE_IPV4 || type == ETH_TYPE_IPV6;
	return l2;
}

/* Mode = bridge: one frame read from the TAP (behind its virtio-net header)
 * into the batch from slot *n on. A TCP super-frame is cut as a TUN's
 * super-packet is (tun/offload.h), each segment behind a copy of the
 * frame's Ethernet header; a frame the path cannot carry is dropped and
 * counted (bridges do not fragment). */
static void frame_into_batch(struct tunnel *t, size_t *n, size_t len, size_t path_mtu,
			     bool *need_handshake)
{
	uint8_t *frame = t->tun_read_buf + TUN_VNET_HDR_LEN, **out = t->split_out;
	size_t flen = len - TUN_VNET_HDR_LEN, l2, room, *out_len = t->split_len;
	struct tun_vnet_hdr h;
	bool is_ip, gso;
	int segs;

	if (flen < TUN_ETH_HEADER_LEN) {
		tunnel_drop(t, DROP_MALFORMED, "frame shorter than an Ethernet header");
		return;
	}
	if (mactable_contains(&t->remote_macs, frame + 6, t->loop.now_ms)) {
		tunnel_drop(t, DROP_LOOPED, "local frame from a MAC that lives behind the peer");
		return;
	}
	l2 = send_frame_l2_len(frame, flen, &is_ip);
	tun_vnet_hdr_parse(&h, t->tun_read_buf);
	gso = (h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
	if (gso) {
		/* The header's offsets count from the frame: make them count
		 * from the IP packet, which is what gets cut. */
		if (!is_ip || h.csum_start < l2 || path_mtu <= l2) {
			tunnel_drop(t, DROP_MALFORMED, "TAP frame with an unusable offload header");
			return;
		}
		h.csum_start = (uint16_t)(h.csum_start - l2);
		tun_offload_fit(&h, frame + l2, flen - l2, path_mtu - l2);
	}
	room = batch_room(t, n, tun_offload_segments(&h, flen));
	for (size_t i = 0; i < room; i++)
		out[i] = t->tx[*n + i].data + MESSAGE_DATA_HEADER_LEN + (gso ? l2 : 0);
	if (gso)
		segs = tun_offload_split(&h, frame + l2, flen - l2, out, t->cfg.mtu - l2, out_len,
					 room);
	else
		segs = tun_offload_split(&h, frame, flen, out, t->cfg.mtu, out_len, room);
	if (segs == -ENOSPC || (segs == 1 && !gso && out_len[0] > path_mtu)) {
		tunnel_drop(t, DROP_TOO_BIG, "frame above the path MTU");
		return;
	}
	if (segs < 0) {
		tunnel_drop(t, DROP_MALFORMED, "TAP frame with an unusable offload header");
		return;
	}
	for (int i = 0; i < segs; i++) {
		uint8_t *f = out[i] - (gso ? l2 : 0);
		size_t f_len = out_len[i] + (gso ? l2 : 0);

		if (gso)
			memcpy(f, frame, l2);
		/* SYNs crossing the bridge announce an MSS that fits the path
		 * and the TAP, as in routed mode: the hosts on both LANs may
		 * keep their MTU. */
		if (is_ip)
			tun_mss_clamp(f + l2, f_len - l2,
				      (unsigned)MIN(path_mtu - l2, (size_t)config_device_mtu(&t->cfg)));
		if (!peer_has_path(&t->peer)) {
			tunnel_drop(t, DROP_NO_ROUTE, "frame while there is no path to the peer");
			continue;
		}
		if (f != t->tx[*n].data + MESSAGE_DATA_HEADER_LEN)
			memmove(t->tx[*n].data + MESSAGE_DATA_HEADER_LEN, f, f_len);
		if (seal(&t->peer, t->tx[*n].data, f_len, &t->tx[*n].len) != 0) {
			stage(&t->peer, f, f_len);
			*need_handshake = true;
			continue;
		}
		t->tx[*n].from = t->peer.endpoint;
		t->frames_tx++;
		(*n)++;
	}
}

/* Mode = bridge: what send_from_tun does for a TUN, for the TAP's frames. */
static void send_from_tap(struct tunnel *t)
{
	size_t path_mtu = MIN((size_t)t->path_mtu, (size_t)t->cfg.mtu), n = 0;
	bool need_handshake = false;

	for (size_t reads = 0; reads < TUNNEL_TUN_READS; reads++) {
		ssize_t len = tun_device_read(&t->tun, 0, t->tun_read_buf, TUNNEL_TUN_READ_SIZE);

		if (len == -EAGAIN)
			break;
		if (len < 0) {
			if (len != -EMSGSIZE)
				break;
			tunnel_drop(t, DROP_MALFORMED, "oversized frame from the TAP");
			continue;
		}
		if (len <= TUN_VNET_HDR_LEN) {
			tunnel_drop(t, DROP_MALFORMED, "empty frame from the TAP");
			continue;
		}
		frame_into_batch(t, &n, (size_t)len, path_mtu, &need_handshake);
	}
	flush_batch(t, n);
	if (need_handshake)
		send_handshake_initiation(&t->peer, false);
}

void send_from_tun(struct tunnel *t)
{
	struct peer *peer = &t->peer;
	size_t mtu = t->cfg.mtu, path_mtu = MIN((size_t)t->path_mtu, mtu), n = 0;
	bool need_handshake = false;

	if (t->bridge) {
		send_from_tap(t);
		return;
	}
	for (size_t reads = 0; reads < TUNNEL_TUN_READS; reads++) {
		uint8_t **out = t->split_out;
		size_t *out_len = t->split_len, room;
		struct tun_vnet_hdr h;
		ssize_t len;
		int segs;

		/* The kernel may hand us a TCP super-packet (TSO): read it whole
		 * behind its virtio-net header, then cut it into MTU-sized
		 * packets straight into the send buffers. */
		len = tun_device_read(&t->tun, 0, t->tun_read_buf, TUNNEL_TUN_READ_SIZE);
		if (len == -EAGAIN)
			break;
		if (len < 0) {
			if (len != -EMSGSIZE)
				break;
			tunnel_drop(t, DROP_MALFORMED, "oversized packet from the TUN");
			continue;
		}
		if (len <= TUN_VNET_HDR_LEN) {
			tunnel_drop(t, DROP_MALFORMED, "empty packet from the TUN");
			continue;
		}
		tun_vnet_hdr_parse(&h, t->tun_read_buf);
		/* TCP segments are cut to the path MTU, not the interface's. */
		tun_offload_fit(&h, t->tun_read_buf + TUN_VNET_HDR_LEN,
				(size_t)len - TUN_VNET_HDR_LEN, path_mtu);
		/* Make room for the most segments this read can become. */
		room = batch_room(t, &n, tun_offload_segments(&h, (size_t)len));
		for (size_t i = 0; i < room; i++)
			out[i] = t->tx[n + i].data + MESSAGE_DATA_HEADER_LEN;
		segs = tun_offload_split(&h, t->tun_read_buf + TUN_VNET_HDR_LEN,
					 (size_t)len - TUN_VNET_HDR_LEN, out, mtu, out_len, room);
		if (segs < 0) {
			tunnel_drop(t, DROP_MALFORMED, "TUN packet with an unusable offload header");
			continue;
		}
		/* Sealing may drop packets: close the gaps as we go. */
		for (int i = 0; i < segs; i++) {
			/* IPv6 needs 1280 of every link (RFC 8200 5); a path
			 * below that carries it in outer fragments. */
			size_t limit = out[i][0] >> 4 == 6 ? MAX(path_mtu, (size_t)IPV6_MIN_MTU)
							   : path_mtu;

			if (out_len[i] > limit) {
				if (answer_too_big(t, out[i], out_len[i], limit))
					continue;
				/* no DF: fragment (a lone packet: segs is 1) */
				if (segs == 1 && fragment_into_batch(t, &n, out_len[i], path_mtu,
								     &need_handshake))
					continue;
			}
			if (out[i] != t->tx[n].data + MESSAGE_DATA_HEADER_LEN)
				memcpy(t->tx[n].data + MESSAGE_DATA_HEADER_LEN, out[i], out_len[i]);
			/* SYNs from the TUN (local or forwarded) announce an MSS
			 * that fits the path. */
			tun_mss_clamp(t->tx[n].data + MESSAGE_DATA_HEADER_LEN, out_len[i],
				      (unsigned)path_mtu);
			if (seal_into_batch(t, n, out_len[i], &need_handshake))
				n++;
		}
	}
	flush_batch(t, n);
	if (need_handshake)
		send_handshake_initiation(peer, false);
}
