/* PCP (RFC 6887) ANNOUNCE and MAP: wire building and parsing (see pcp.h). */
#include "tunnel/pcp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

/* RFC 6887 §5: IPv4 addresses travel as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
static void put_v4_mapped(uint8_t out[static 16], const uint8_t v4[static 4])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static bool is_v4_mapped(const uint8_t a[static 16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static void put_header(uint8_t *out, uint8_t opcode, uint32_t lifetime_s,
		       const uint8_t client[static 4])
{
	out[0] = PCP_VERSION;
	out[1] = opcode;
	out[2] = 0;
	out[3] = 0;
	store_be32(out + 4, lifetime_s);
	put_v4_mapped(out + 8, client);
}

size_t pcp_build_announce(const uint8_t client[static 4], uint8_t out[static PCP_HEADER_LEN])
{
	put_header(out, PCP_OP_ANNOUNCE, 0, client);
	return PCP_HEADER_LEN;
}

size_t pcp_build_map(const uint8_t client[static 4], const uint8_t nonce[static PCP_NONCE_LEN],
		     uint16_t internal_port, uint16_t suggested_port, uint32_t lifetime_s,
		     uint8_t out[static PCP_MAP_LEN])
{
	static const uint8_t any[4] = { 0 };
	uint8_t *p = out + PCP_HEADER_LEN;

	put_header(out, PCP_OP_MAP, lifetime_s, client);
	memcpy(p, nonce, PCP_NONCE_LEN);
	p[12] = PCP_PROTO_UDP;
	p[13] = p[14] = p[15] = 0;
	store_be16(p + 16, internal_port);
	store_be16(p + 18, suggested_port);
	/* no preference for the external address: ::ffff:0.0.0.0 (§11.1) */
	put_v4_mapped(p + 20, any);
	return PCP_MAP_LEN;
}

int pcp_parse_response(const uint8_t *pkt, size_t len, struct pcp_response *r)
{
	memset(r, 0, sizeof(*r));
	if (len < PCP_HEADER_LEN || len > PCP_MAX_MESSAGE || len % 4 != 0)
		return -EBADMSG;
	if (pkt[0] != PCP_VERSION || !(pkt[1] & PCP_OP_RESPONSE))
		return -EBADMSG;
	r->opcode = pkt[1] & (uint8_t)~PCP_OP_RESPONSE;
	r->result = pkt[3];
	r->lifetime_s = load_be32(pkt + 4);
	r->epoch_s = load_be32(pkt + 8);
	if (r->opcode != PCP_OP_MAP)
		return 0;
	/* §7.2: an error response may carry no payload at all */
	if (len < PCP_MAP_LEN)
		return r->result == PCP_SUCCESS ? -EBADMSG : 0;
	pkt += PCP_HEADER_LEN;
	memcpy(r->nonce, pkt, PCP_NONCE_LEN);
	r->protocol = pkt[12];
	r->internal_port = load_be16(pkt + 16);
	r->external_port = load_be16(pkt + 18);
	if (r->result == PCP_SUCCESS && (!is_v4_mapped(pkt + 20) || r->external_port == 0))
		return -EBADMSG;
	memcpy(r->external_ip, pkt + 32, 4);
	return 0;
}

bool pcp_response_matches(const struct pcp_response *r, const uint8_t nonce[static PCP_NONCE_LEN],
			  uint16_t internal_port)
{
	return r->opcode == PCP_OP_MAP && r->protocol == PCP_PROTO_UDP &&
	       r->internal_port == internal_port && memcmp(r->nonce, nonce, PCP_NONCE_LEN) == 0;
}

const char *pcp_result_name(uint8_t result)
{
	static const char *const names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
		"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};

	return result < ARRAY_SIZE(names) ? names[result] : "unknown result";
}
