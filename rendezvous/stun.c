/* STUN parsing and the Binding success response (RFC 8489 §5, §14; RFC 3489
 * §11 for legacy clients). Every length is checked before it is used; a
 * message either parses completely or is rejected with a named reason. */
#include "rendezvous/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "rendezvous/demux.h"

enum { FINGERPRINT_XOR = 0x5354554e, FAMILY_IPV4 = 0x01, FAMILY_IPV6 = 0x02 };

/* CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), bitwise: STUN messages
 * are small and none of our libraries exports a CRC-32. */
uint32_t stun_fingerprint(const uint8_t *msg, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= msg[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc ^ FINGERPRINT_XOR;
}

/* (XOR-)MAPPED-ADDRESS value: 0, family, port, address (RFC 8489 §14.1-2). */
static enum stun_parse_result parse_address(const struct stun_msg *msg, const uint8_t *v,
					    uint16_t len, bool xor_mapped,
					    struct sockaddr_storage *out)
{
	uint8_t mask[16];
	uint16_t port;

	store_be32(mask, DEMUX_STUN_MAGIC_COOKIE);
	memcpy(mask + 4, msg->txid, STUN_TXID_LEN);
	if (len < 4 || v[0] != 0)
		return STUN_ERR_ADDRESS;
	port = load_be16(v + 2);
	if (xor_mapped)
		port ^= DEMUX_STUN_MAGIC_COOKIE >> 16;
	memset(out, 0, sizeof(*out));
	if (v[1] == FAMILY_IPV4 && len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, v + 4, 4);
		if (xor_mapped)
			for (int i = 0; i < 4; i++)
				((uint8_t *)&sin->sin_addr)[i] ^= mask[i];
		return STUN_OK;
	}
	if (v[1] == FAMILY_IPV6 && len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, v + 4, 16);
		if (xor_mapped)
			for (int i = 0; i < 16; i++)
				sin6->sin6_addr.s6_addr[i] ^= mask[i];
		return STUN_OK;
	}
	return STUN_ERR_ADDRESS;
}

static enum stun_parse_result parse_attr(const uint8_t *pkt, struct stun_msg *msg,
					 const struct stun_attr *a)
{
	const uint8_t *v = pkt + a->offset;

	switch (a->type) {
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		if (msg->legacy)
			return STUN_OK; /* meaningless without the cookie */
		msg->has_mapped = true;
		return parse_address(msg, v, a->len, true, &msg->mapped);
	case STUN_ATTR_MAPPED_ADDRESS:
		if (msg->has_mapped)
			return STUN_OK; /* XOR-MAPPED-ADDRESS wins */
		msg->has_mapped = true;
		return parse_address(msg, v, a->len, false, &msg->mapped);
	case STUN_ATTR_OTHER_ADDRESS:
		if (msg->legacy)
			return STUN_OK;
		msg->has_other = true;
		return parse_address(msg, v, a->len, false, &msg->other);
	case STUN_ATTR_CHANGE_REQUEST:
		if (a->len != 4)
			return STUN_ERR_ADDRESS;
		msg->change_request = load_be32(v);
		return STUN_OK;
	default:
		return STUN_OK; /* other attributes are carried, not interpreted */
	}
}

enum stun_parse_result stun_parse(const uint8_t *pkt, size_t len, struct stun_msg *msg)
{
	size_t pos = STUN_HEADER_LEN;
	enum stun_parse_result r;

	memset(msg, 0, sizeof(*msg));
	if (len < STUN_HEADER_LEN)
		return STUN_ERR_SHORT;
	if ((pkt[0] & 0xc0) != 0)
		return STUN_ERR_HEADER;
	msg->type = load_be16(pkt);
	msg->length = load_be16(pkt + 2);
	if (msg->length % 4 != 0 || (size_t)msg->length + STUN_HEADER_LEN != len)
		return STUN_ERR_LENGTH;
	if (load_be32(pkt + 4) == DEMUX_STUN_MAGIC_COOKIE) {
		memcpy(msg->txid, pkt + 8, STUN_TXID_LEN);
	} else if (msg->type == STUN_BINDING_REQUEST || msg->type == STUN_BINDING_SUCCESS) {
		msg->legacy = true;
		memcpy(msg->txid, pkt + 4, STUN_LEGACY_TXID_LEN);
	} else {
		return STUN_ERR_HEADER;
	}

	while (pos < len) {
		struct stun_attr *a;
		size_t padded;

		if (msg->has_fingerprint)
			return STUN_ERR_FINGERPRINT; /* FINGERPRINT must be last */
		if (msg->n_attrs == STUN_MAX_ATTRS)
			return STUN_ERR_TOO_MANY_ATTRS;
		if (len - pos < 4)
			return STUN_ERR_ATTR_OVERRUN;
		a = &msg->attrs[msg->n_attrs++];
		a->type = load_be16(pkt + pos);
		a->len = load_be16(pkt + pos + 2);
		a->offset = (uint16_t)(pos + 4);
		padded = ((size_t)a->len + 3) & ~(size_t)3;
		if (padded > len - pos - 4)
			return STUN_ERR_ATTR_OVERRUN;
		if (a->type == STUN_ATTR_FINGERPRINT) {
			if (a->len != 4 || load_be32(pkt + a->offset) != stun_fingerprint(pkt, pos))
				return STUN_ERR_FINGERPRINT;
			msg->has_fingerprint = true;
		} else {
			r = parse_attr(pkt, msg, a);
			if (r != STUN_OK)
				return r;
		}
		pos += 4 + padded;
	}
	return STUN_OK;
}

const char *stun_parse_result_name(enum stun_parse_result r)
{
	static const char *const names[] = {
		[STUN_OK] = "ok",
		[STUN_ERR_SHORT] = "short",
		[STUN_ERR_HEADER] = "header",
		[STUN_ERR_LENGTH] = "length",
		[STUN_ERR_ATTR_OVERRUN] = "attribute-overrun",
		[STUN_ERR_TOO_MANY_ATTRS] = "too-many-attributes",
		[STUN_ERR_FINGERPRINT] = "fingerprint",
		[STUN_ERR_ADDRESS] = "address",
	};

	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "?";
}

bool stun_is_answerable(const struct stun_msg *msg)
{
	if (msg->type != STUN_BINDING_REQUEST)
		return false;
	/* We have one address and port: a request to answer from another one
	 * (RFC 3489 CHANGE-REQUEST) gets no answer rather than a wrong one. */
	return !(msg->legacy && (msg->change_request & 0x6));
}

int stun_xor_address_encode(const struct sockaddr *addr, const uint8_t txid[static STUN_TXID_LEN],
			    uint8_t out[static 20])
{
	uint8_t mask[16];

	store_be32(mask, DEMUX_STUN_MAGIC_COOKIE);
	memcpy(mask + 4, txid, STUN_TXID_LEN);
	out[0] = 0;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
		const uint8_t *a = (const uint8_t *)&sin->sin_addr;

		out[1] = FAMILY_IPV4;
		store_be16(out + 2, ntohs(sin->sin_port) ^ (DEMUX_STUN_MAGIC_COOKIE >> 16));
		for (int i = 0; i < 4; i++)
			out[4 + i] = a[i] ^ mask[i];
		return 8;
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		out[1] = FAMILY_IPV6;
		store_be16(out + 2, ntohs(sin6->sin6_port) ^ (DEMUX_STUN_MAGIC_COOKIE >> 16));
		for (int i = 0; i < 16; i++)
			out[4 + i] = sin6->sin6_addr.s6_addr[i] ^ mask[i];
		return 20;
	}
	return -EAFNOSUPPORT;
}

/* RFC 3489 MAPPED-ADDRESS for legacy clients: IPv4 only, as in RFC 3489. */
static int legacy_address_encode(const struct sockaddr *addr, uint8_t out[static 8])
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

	if (addr->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	out[0] = 0;
	out[1] = FAMILY_IPV4;
	memcpy(out + 2, &sin->sin_port, 2);
	memcpy(out + 4, &sin->sin_addr, 4);
	return 8;
}

/* RFC 5780 §7.4: OTHER-ADDRESS has MAPPED-ADDRESS's format (not XORed). */
static int plain_address_encode(const struct sockaddr *addr, uint8_t out[static 20])
{
	out[0] = 0;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

		out[1] = FAMILY_IPV4;
		memcpy(out + 2, &sin->sin_port, 2);
		memcpy(out + 4, &sin->sin_addr, 4);
		return 8;
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		out[1] = FAMILY_IPV6;
		memcpy(out + 2, &sin6->sin6_port, 2);
		memcpy(out + 4, &sin6->sin6_addr, 16);
		return 20;
	}
	return -EAFNOSUPPORT;
}

int stun_build_binding_response(const struct stun_msg *req, const struct sockaddr *src,
				uint8_t *out, size_t cap, size_t *out_len)
{
	return stun_build_binding_response_other(req, src, NULL, out, cap, out_len);
}

int stun_build_binding_response_other(const struct stun_msg *req, const struct sockaddr *src,
				      const struct sockaddr *other, uint8_t *out, size_t cap,
				      size_t *out_len)
{
	uint8_t value[20], other_value[20];
	size_t pos = STUN_HEADER_LEN;
	int vlen, olen = 0;

	vlen = req->legacy ? legacy_address_encode(src, value)
			   : stun_xor_address_encode(src, req->txid, value);
	if (vlen < 0)
		return vlen;
	if (other && !req->legacy) {
		olen = plain_address_encode(other, other_value);
		if (olen < 0)
			return olen;
	}
	if (cap < STUN_HEADER_LEN + 4 + (size_t)vlen + (olen ? 4 + (size_t)olen : 0) + 8)
		return -ENOBUFS;
	store_be16(out, STUN_BINDING_SUCCESS);
	if (req->legacy) {
		memcpy(out + 4, req->txid, STUN_LEGACY_TXID_LEN);
	} else {
		store_be32(out + 4, DEMUX_STUN_MAGIC_COOKIE);
		memcpy(out + 8, req->txid, STUN_TXID_LEN);
	}
	store_be16(out + pos, req->legacy ? STUN_ATTR_MAPPED_ADDRESS : STUN_ATTR_XOR_MAPPED_ADDRESS);
	store_be16(out + pos + 2, (uint16_t)vlen);
	memcpy(out + pos + 4, value, (size_t)vlen);
	pos += 4 + (size_t)vlen;
	if (olen) {
		store_be16(out + pos, STUN_ATTR_OTHER_ADDRESS);
		store_be16(out + pos + 2, (uint16_t)olen);
		memcpy(out + pos + 4, other_value, (size_t)olen);
		pos += 4 + (size_t)olen;
	}
	if (req->has_fingerprint && !req->legacy) {
		/* The length field counts the FINGERPRINT before it is computed. */
		store_be16(out + 2, (uint16_t)(pos + 8 - STUN_HEADER_LEN));
		store_be16(out + pos, STUN_ATTR_FINGERPRINT);
		store_be16(out + pos + 2, 4);
		store_be32(out + pos + 4, stun_fingerprint(out, pos));
		pos += 8;
	} else {
		store_be16(out + 2, (uint16_t)(pos - STUN_HEADER_LEN));
	}
	*out_len = pos;
	return 0;
}

int stun_build_binding_request(const uint8_t txid[static STUN_TXID_LEN], uint8_t *out, size_t cap)
{
	if (cap < STUN_HEADER_LEN)
		return -ENOBUFS;
	store_be16(out, STUN_BINDING_REQUEST);
	store_be16(out + 2, 0);
	store_be32(out + 4, DEMUX_STUN_MAGIC_COOKIE);
	memcpy(out + 8, txid, STUN_TXID_LEN);
	return STUN_HEADER_LEN;
}
