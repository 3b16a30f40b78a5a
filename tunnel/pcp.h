/* PCP (RFC 6887), the part a UDP port-mapping client needs: ANNOUNCE (is a
 * PCP server there?) and MAP for UDP (create, renew, delete a mapping).
 * Building and strict parsing only: no I/O, no clock; tunnel/portmap.c
 * sends and receives. docs/PROTOCOL.md section 5 has the prose.
 *
 *   request header (24 bytes)      response header (24 bytes)
 *     0  version = 2                 0  version = 2
 *     1  R = 0 | opcode              1  R = 1 | opcode
 *     2  reserved (2)                2  reserved, 3 result code
 *     4  requested lifetime (s)      4  lifetime (s)
 *     8  client IP (16, v4-mapped)   8  epoch time (s), 12 reserved (12)
 *
 *   MAP payload (36 bytes, request and response alike)
 *     0  mapping nonce (12)   12  protocol (17: UDP)   13  reserved (3)
 *    16  internal port        18  (suggested | assigned) external port
 *    20  (suggested | assigned) external IP (16, v4-mapped)
 */
#ifndef TUNNEL_PCP_H
#define TUNNEL_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

enum pcp_limits {
	PCP_PORT = 5351,            /* the server's port (shared with NAT-PMP) */
	PCP_VERSION = 2,
	PCP_HEADER_LEN = 24,
	PCP_MAP_PAYLOAD_LEN = 36,
	PCP_MAP_LEN = PCP_HEADER_LEN + PCP_MAP_PAYLOAD_LEN,
	PCP_NONCE_LEN = 12,
	PCP_MAX_MESSAGE = 1100,     /* RFC 6887 §7: a PCP message is at most 1100 bytes */
	PCP_PROTO_UDP = 17,
};

enum pcp_opcode {
	PCP_OP_ANNOUNCE = 0,
	PCP_OP_MAP = 1,
	PCP_OP_RESPONSE = 0x80,     /* the R bit */
};

enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

/* A parsed response. For ANNOUNCE only the header fields are set. */
struct pcp_response {
	uint8_t opcode;          /* without the R bit */
	uint8_t result;          /* enum pcp_result */
	uint32_t lifetime_s;
	uint32_t epoch_s;
	uint8_t nonce[PCP_NONCE_LEN];
	uint8_t protocol;
	uint16_t internal_port;
	uint16_t external_port;
	uint8_t external_ip[4];  /* IPv4 only: the v4-mapped address's last 4 bytes */
};

/* Builds an ANNOUNCE request from IPv4 client address `client` (network
 * order) into out[PCP_HEADER_LEN]; returns its length. */
size_t pcp_build_announce(const uint8_t client[static 4], uint8_t out[static PCP_HEADER_LEN]);

/* Builds a MAP request for UDP: `lifetime_s` 0 deletes the mapping named by
 * `nonce` and `internal_port`. `suggested_port` 0 lets the server choose.
 * Writes PCP_MAP_LEN bytes and returns that length. */
size_t pcp_build_map(const uint8_t client[static 4], const uint8_t nonce[static PCP_NONCE_LEN],
		     uint16_t internal_port, uint16_t suggested_port, uint32_t lifetime_s,
		     uint8_t out[static PCP_MAP_LEN]);

/* Parses a datagram from the server. Returns 0, or -EBADMSG when it is not
 * a PCP response (wrong version, no R bit, too short or long, length not a
 * multiple of 4, a MAP response without its payload or with an external
 * address that is not IPv4-mapped on success). Options are skipped. */
must_check int pcp_parse_response(const uint8_t *pkt, size_t len, struct pcp_response *r);

/* True when `r` answers our MAP request with this nonce and internal port. */
bool pcp_response_matches(const struct pcp_response *r, const uint8_t nonce[static PCP_NONCE_LEN],
			  uint16_t internal_port);

/* A short name for logs ("NOT_AUTHORIZED", ...). */
const char *pcp_result_name(uint8_t result);

#endif
