/* Header validation and little-endian field access for crypto/messages.h.
 * Works on raw byte buffers so an unaligned datagram is never cast. */
#include "crypto/messages.h"

uint32_t message_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t message_get_le64(const uint8_t *p)
{
	return (uint64_t)message_get_le32(p) | (uint64_t)message_get_le32(p + 4) << 32;
}

void message_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void message_put_le64(uint8_t *p, uint64_t v)
{
	message_put_le32(p, (uint32_t)v);
	message_put_le32(p + 4, (uint32_t)(v >> 32));
}

enum message_type message_validate_header(const uint8_t *buf, size_t len)
{
	/* Length first: not even the type is read from a shorter buffer. */
	if (!buf || len < sizeof(struct message_header))
		return MESSAGE_INVALID;
	switch (message_get_le32(buf)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == MESSAGE_INITIATION_LEN ? MESSAGE_HANDSHAKE_INITIATION
						     : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == MESSAGE_RESPONSE_LEN ? MESSAGE_HANDSHAKE_RESPONSE
						   : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == MESSAGE_COOKIE_LEN ? MESSAGE_HANDSHAKE_COOKIE : MESSAGE_INVALID;
	case MESSAGE_DATA:
		return len >= MESSAGE_DATA_MIN_LEN ? MESSAGE_DATA : MESSAGE_INVALID;
	default:
		return MESSAGE_INVALID;
	}
}

uint32_t message_receiver_index(const uint8_t *buf, enum message_type type)
{
	if (type == MESSAGE_HANDSHAKE_RESPONSE)
		return message_get_le32(buf + offsetof(struct message_handshake_response,
						       receiver_index));
	return message_get_le32(buf + 4);
}

uint32_t message_sender_index(const uint8_t *buf)
{
	return message_get_le32(buf + 4);
}
