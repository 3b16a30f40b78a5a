/* The relay path: WireGuard datagrams in rendezvous RELAY messages. */
#include "tunnel/relay.h"

#include "common/log.h"
#include "tunnel/meet.h"
#include "tunnel/peer.h"
#include "tunnel/receive.h"
#include "tunnel/send.h"
#include "tunnel/tunnel.h"

bool relay_start(struct peer *peer)
{
	struct tunnel *t = peer->tunnel;

	if (!t->meet.has_relay)
		return false;
	peer->path = PATH_RELAY;
	if (peer->keypairs.current.valid) {
		peer_update_state(peer);
	} else {
		peer_set_state(peer, LINK_PUNCHING, PATH_RELAY,
			       "no direct path answered; WireGuard handshake through the relay");
		send_handshake_initiation(peer, true);
	}
	return true;
}

void relay_send(struct peer *peer, const uint8_t *data, size_t len)
{
	struct tunnel *t = peer->tunnel;

	meet_send_relay(t, t->meet.relay_server, data, len);
}

void relay_receive(struct peer *peer, uint8_t *data, size_t len, size_t server)
{
	struct tunnel *t = peer->tunnel;
	struct udp_datagram d = { .data = data, .len = len, .from = t->meet.servers[server].addr };

	receive_wireguard(t, &d, true);
}
