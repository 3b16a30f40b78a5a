/* STUN (RFC 8489, with the RFC 5389 magic cookie; RFC 3489 Binding requests
 * for old clients): strict parsing of any STUN message and building of the one
 * reply we send, the Binding success response. docs/PROTOCOL.md section 1
 * says which datagrams reach this parser. No I/O, no allocation. */
#ifndef RENDEZVOUS_STUN_H
#define RENDEZVOUS_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"

enum stun_limits {
	STUN_HEADER_LEN = 20,
	STUN_TXID_LEN = 12,        /* RFC 5389/8489 transaction id */
	STUN_LEGACY_TXID_LEN = 16, /* RFC 3489: cookie bytes are part of the id */
	STUN_MAX_ATTRS = 32,       /* more is malformed for our purposes */
	STUN_MAX_MESSAGE = 548,    /* RFC 8489 §6.1 path MTU floor for IPv4 */
	STUN_RESPONSE_MAX = 88,    /* our largest reply: IPv6, OTHER-ADDRESS IPv6, FINGERPRINT */
};

enum stun_message_type {
	STUN_BINDING_REQUEST = 0x0001,
	STUN_BINDING_INDICATION = 0x0011,
	STUN_BINDING_SUCCESS = 0x0101,
	STUN_BINDING_ERROR = 0x0111,
};

enum stun_attr_type {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_CHANGE_REQUEST = 0x0003, /* RFC 3489 */
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_OTHER_ADDRESS = 0x802c,  /* RFC 5780: the server's alternate endpoint */
};

/* Why a datagram is not a STUN message we accept. */
enum stun_parse_result {
	STUN_OK,
	STUN_ERR_SHORT,           /* fewer than 20 bytes */
	STUN_ERR_HEADER,          /* top bits set, or no cookie and not a legacy Binding request */
	STUN_ERR_LENGTH,          /* length field not a multiple of 4 or != datagram - 20 */
	STUN_ERR_ATTR_OVERRUN,    /* an attribute runs past the end */
	STUN_ERR_TOO_MANY_ATTRS,  /* more than STUN_MAX_ATTRS */
	STUN_ERR_FINGERPRINT,     /* FINGERPRINT wrong size, wrong value or not last */
	STUN_ERR_ADDRESS,         /* a (XOR-)MAPPED-ADDRESS with a bad family or length */
};

struct stun_attr {
	uint16_t type;
	uint16_t len;    /* value length, without padding */
	uint16_t offset; /* of the value, from the start of the message */
};

struct stun_msg {
	uint16_t type;
	uint16_t length; /* the header's length field */
	bool legacy;     /* RFC 3489: no magic cookie, 16-byte transaction id */
	uint8_t txid[STUN_LEGACY_TXID_LEN]; /* first 12 bytes used unless legacy */
	size_t n_attrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
	bool has_fingerprint;    /* present and verified (parse fails otherwise) */
	bool has_mapped;         /* XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS if legacy */
	struct sockaddr_storage mapped;
	uint32_t change_request; /* RFC 3489 CHANGE-REQUEST flags, 0 if absent */
	bool has_other;          /* OTHER-ADDRESS (RFC 5780), in a response */
	struct sockaddr_storage other;
};

/* Parses a whole datagram. Padding bytes are ignored; a FINGERPRINT, if
 * present, must be the last attribute and must match. */
enum stun_parse_result stun_parse(const uint8_t *pkt, size_t len, struct stun_msg *msg);

const char *stun_parse_result_name(enum stun_parse_result r);

/* CRC-32 of msg[0..len) XOR 0x5354554e (RFC 8489 §14.7). */
uint32_t stun_fingerprint(const uint8_t *msg, size_t len);

/* True when the server should answer this message: a Binding request, and for
 * a legacy request no CHANGE-REQUEST we cannot honour (one address only). */
bool stun_is_answerable(const struct stun_msg *msg);

/* Encodes an XOR-MAPPED-ADDRESS value (8 bytes for IPv4, 20 for IPv6) for the
 * given transaction id. Returns the value length, or -EAFNOSUPPORT. */
must_check int stun_xor_address_encode(const struct sockaddr *addr,
				       const uint8_t txid[static STUN_TXID_LEN],
				       uint8_t out[static 20]);

/* Builds the Binding success response to `req` telling the requester its
 * source address `src`: XOR-MAPPED-ADDRESS (plus FINGERPRINT if the request
 * had one), or MAPPED-ADDRESS for a legacy request. Returns 0 and sets
 * *out_len, or -EAFNOSUPPORT / -ENOBUFS. */
must_check int stun_build_binding_response(const struct stun_msg *req,
					   const struct sockaddr *src,
					   uint8_t *out, size_t cap, size_t *out_len);

/* As stun_build_binding_response, plus (unless `other` is NULL or the
 * request is legacy) an RFC 5780 OTHER-ADDRESS: where the same server
 * answers from another port (tunnel-rendezvous --alt-port), so a client can
 * tell whether its NAT maps per destination. */
must_check int stun_build_binding_response_other(const struct stun_msg *req,
						 const struct sockaddr *src,
						 const struct sockaddr *other, uint8_t *out,
						 size_t cap, size_t *out_len);

/* Builds a 20-byte RFC 8489 Binding request with the given transaction id
 * (for test clients). Returns the length, or -ENOBUFS. */
must_check int stun_build_binding_request(const uint8_t txid[static STUN_TXID_LEN],
					  uint8_t *out, size_t cap);

#endif
