/* Header validation and index access for crypto/messages.h. Works on raw
 * byte buffers (common/bytes.h) so an unaligned datagram is never cast. */
#include "crypto/messages.h"

#include "common/bytes.h"

enum message_type message_validate_header(const uint8_t *buf, size_t len)
{
	/* Length first: not even the type is read from a shorter buffer. */
	if (!buf || len < sizeof(struct message_header))
		return MESSAGE_INVALID;
	switch (load_le32(buf)) {
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
		return load_le32(buf + offsetof(struct message_handshake_response,
						       receiver_index));
	return load_le32(buf + 4);
}

uint32_t message_sender_index(const uint8_t *buf)
{
	return load_le32(buf + 4);
}
