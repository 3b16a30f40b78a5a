/* Relay fallback: when no direct path answers, WireGuard datagrams travel
 * inside rendezvous RELAY messages through the server that introduced the
 * peers. They stay end-to-end encrypted: the server sees WireGuard
 * ciphertext only. Punching goes on in the background (tunnel/punch.c). */
#ifndef TUNNEL_RELAY_H
#define TUNNEL_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer;

/* Switches the peer to the relay path if a server introduced us; starts a
 * handshake through it when there is no session. False: no relay. */
bool relay_start(struct peer *peer);

/* Sends one WireGuard datagram to the peer through the relay. */
void relay_send(struct peer *peer, const uint8_t *data, size_t len);

/* Handles a WireGuard datagram the server relayed from the peer; `data` is
 * decrypted in place. */
void relay_receive(struct peer *peer, uint8_t *data, size_t len, size_t server);

#endif
