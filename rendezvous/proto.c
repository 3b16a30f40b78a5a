/* The only msgpack-c code: encoding and strict decoding of rendezvous bodies
 * (the table in proto.h). msgpack-c's C unpacker allocates an array's slots
 * as soon as it reads the array's header, so a 5-byte "array of 4 billion"
 * would ask for ~96 GB. prescan() therefore walks the headers first and
 * refuses any count or length larger than the bytes left, and any nesting past
 * RDV_DEPTH_MAX; after it, msgpack-c's allocation is bounded by the input. */
#include "rendezvous/proto.h"

#include <errno.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"

/* ---- encoding ---- */

struct out_buf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static int out_write(void *data, const char *buf, size_t len)
{
	struct out_buf *o = data;

	if (len > o->cap - o->len) {
		o->overflow = true;
		return -1;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	return 0;
}

static int pack_key(msgpack_packer *pk, const char *k)
{
	return msgpack_pack_str_with_body(pk, k, strlen(k));
}

static int pack_endpoint(msgpack_packer *pk, const struct rdv_endpoint *ep)
{
	uint8_t b[RDV_ENDPOINT6_LEN];
	size_t alen = ep->family == AF_INET ? 4 : 16;

	if ((ep->family != AF_INET && ep->family != AF_INET6) || ep->port == 0)
		return -1;
	memcpy(b, ep->addr, alen);
	store_be16(b + alen, ep->port);
	return msgpack_pack_bin_with_body(pk, b, alen + 2);
}

static int pack_endpoints(msgpack_packer *pk, const struct rdv_endpoint *eps, size_t n)
{
	if (n > RDV_LAN_MAX || msgpack_pack_array(pk, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (pack_endpoint(pk, &eps[i]))
			return -1;
	return 0;
}

static int pack_keyed_bin(msgpack_packer *pk, const char *k, const uint8_t *b, size_t n)
{
	return pack_key(pk, k) || msgpack_pack_bin_with_body(pk, b, n);
}

/* Field order is fixed per message, so encodings are deterministic. */
static int pack_msg(msgpack_packer *pk, const struct rdv_msg *m)
{
	switch (m->type) {
	case RDV_MSG_REGISTER:
		if (m->reg.n_want > RDV_WANT_MAX)
			return -1;
		if (msgpack_pack_map(pk, 5) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		    pack_key(pk, "lan") || pack_endpoints(pk, m->reg.lan, m->reg.n_lan) ||
		    pack_key(pk, "want") || msgpack_pack_array(pk, m->reg.n_want))
			return -1;
		for (size_t i = 0; i < m->reg.n_want; i++)
			if (msgpack_pack_bin_with_body(pk, m->reg.want[i], RDV_KEY_LEN))
				return -1;
		return pack_keyed_bin(pk, "cookie", m->reg.cookie, RDV_COOKIE_LEN) ||
		       pack_key(pk, "again") || msgpack_pack_uint8(pk, m->reg.again ? 1 : 0);
	case RDV_MSG_REGISTERED:
		if (m->registered.lease_s == 0 || m->registered.lease_s > RDV_LEASE_MAX_S)
			return -1;
		return msgpack_pack_map(pk, 4) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_key(pk, "refl") || pack_endpoint(pk, &m->registered.reflexive) ||
		       pack_key(pk, "lease") || msgpack_pack_uint32(pk, m->registered.lease_s) ||
		       pack_key(pk, "echo") || msgpack_pack_uint64(pk, m->registered.echo);
	case RDV_MSG_INTRODUCE:
		return msgpack_pack_map(pk, 4) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_keyed_bin(pk, "peer", m->introduce.peer, RDV_KEY_LEN) ||
		       pack_key(pk, "refl") || pack_endpoint(pk, &m->introduce.reflexive) ||
		       pack_key(pk, "lan") ||
		       pack_endpoints(pk, m->introduce.lan, m->introduce.n_lan);
	case RDV_MSG_RELAY:
		if (m->relay.len == 0 || m->relay.len > RDV_RELAY_DATA_MAX)
			return -1;
		return msgpack_pack_map(pk, 3) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_keyed_bin(pk, "peer", m->relay.peer, RDV_KEY_LEN) ||
		       pack_keyed_bin(pk, "data", m->relay.data, m->relay.len);
	case RDV_MSG_ERROR:
		return msgpack_pack_map(pk, 3) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_key(pk, "code") || msgpack_pack_uint32(pk, m->error.code) ||
		       pack_keyed_bin(pk, "peer", m->error.peer, RDV_KEY_LEN);
	case RDV_MSG_CHALLENGE:
		return msgpack_pack_map(pk, 3) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_key(pk, "echo") || msgpack_pack_uint64(pk, m->challenge.echo) ||
		       pack_keyed_bin(pk, "cookie", m->challenge.cookie, RDV_COOKIE_LEN);
	case RDV_MSG_CHANNEL_OPEN:
	case RDV_MSG_CHANNEL:
		/* Both the same size: an answer is never larger than the request. */
		return msgpack_pack_map(pk, 3) || pack_key(pk, "t") || msgpack_pack_uint8(pk, m->type) ||
		       pack_keyed_bin(pk, "peer", m->channel.peer, RDV_KEY_LEN) ||
		       pack_keyed_bin(pk, "chan", m->channel.chan, RDV_CHANNEL_ID_LEN);
	}
	return -1;
}

int rdv_body_encode(const struct rdv_msg *msg, uint8_t *out, size_t cap, size_t *len)
{
	struct out_buf o = { .p = out, .cap = MIN(cap, (size_t)RDV_BODY_MAX) };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &o, out_write);
	if (pack_msg(&pk, msg))
		return o.overflow ? -ENOBUFS : -EINVAL;
	*len = o.len;
	return 0;
}

/* ---- decoding ---- */

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Walks the msgpack headers of exactly one object without allocating. Every
 * element takes at least one byte, so a count above the bytes left is a lie. */
static enum rdv_status prescan(const uint8_t *p, size_t len)
{
	uint64_t left[RDV_DEPTH_MAX + 1]; /* elements still owed by each open container */
	size_t depth = 0, pos = 0;

	left[0] = 1;
	while (depth > 0 || left[0] > 0) {
		uint8_t b;
		uint64_t skip = 0, count = 0;
		size_t hdr = 1;
		bool container = false;

		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if (pos >= len)
			return RDV_E_TRUNCATED;
		b = p[pos];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			/* fixint, nil, bool */
		} else if (b <= 0x8f) {
			container = true, count = 2u * (b & 0x0f);
		} else if (b <= 0x9f) {
			container = true, count = b & 0x0f;
		} else if (b <= 0xbf) {
			skip = b & 0x1f;
		} else if (b == 0xc1) {
			return RDV_E_MSGPACK;
		} else if (b >= 0xc4 && b <= 0xc6) { /* bin 8/16/32 */
			hdr = 1 + (1u << (b - 0xc4));
		} else if (b >= 0xc7 && b <= 0xc9) { /* ext 8/16/32: length then type */
			hdr = 1 + (1u << (b - 0xc7));
			skip = 1;
		} else if (b == 0xca || b == 0xcb) {
			skip = b == 0xca ? 4 : 8;
		} else if (b >= 0xcc && b <= 0xd3) { /* uint/int 8..64 */
			skip = 1u << ((b - 0xcc) & 3);
		} else if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16 */
			skip = 1 + (1u << (b - 0xd4));
		} else if (b >= 0xd9 && b <= 0xdb) { /* str 8/16/32 */
			hdr = 1 + (1u << (b - 0xd9));
		} else { /* 0xdc..0xdf: array 16/32, map 16/32 */
			hdr = 1 + (b & 1 ? 4 : 2);
			container = true;
		}
		if (len - pos < hdr)
			return RDV_E_TRUNCATED;
		if (hdr > 1) {
			uint64_t n = be(p + pos + 1, hdr - 1);

			if (container)
				count = b >= 0xde ? 2 * n : n;
			else
				skip += n;
		}
		pos += hdr;
		if (container) {
			if (depth + 1 > RDV_DEPTH_MAX)
				return RDV_E_TOO_DEEP;
			if (count > len - pos)
				return RDV_E_TRUNCATED;
			if (count > 0)
				left[++depth] = count;
		} else {
			if (skip > len - pos)
				return RDV_E_TRUNCATED;
			pos += (size_t)skip;
		}
	}
	return pos == len ? RDV_OK : RDV_E_TRAILING;
}

enum field {
	F_T, F_LAN, F_WANT, F_REFL, F_LEASE, F_PEER, F_DATA, F_CODE, F_COOKIE, F_AGAIN, F_ECHO,
	F_CHAN, F_COUNT
};

static const char *const field_names[F_COUNT] = {
	[F_T] = "t", [F_LAN] = "lan", [F_WANT] = "want", [F_REFL] = "refl",
	[F_LEASE] = "lease", [F_PEER] = "peer", [F_DATA] = "data", [F_CODE] = "code",
	[F_COOKIE] = "cookie", [F_AGAIN] = "again", [F_ECHO] = "echo", [F_CHAN] = "chan",
};

/* Which fields each message has (all required). */
static unsigned fields_of(enum rdv_msg_type t)
{
	switch (t) {
	case RDV_MSG_REGISTER:
		return 1u << F_T | 1u << F_LAN | 1u << F_WANT | 1u << F_COOKIE | 1u << F_AGAIN;
	case RDV_MSG_REGISTERED:
		return 1u << F_T | 1u << F_REFL | 1u << F_LEASE | 1u << F_ECHO;
	case RDV_MSG_INTRODUCE:
		return 1u << F_T | 1u << F_PEER | 1u << F_REFL | 1u << F_LAN;
	case RDV_MSG_RELAY:
		return 1u << F_T | 1u << F_PEER | 1u << F_DATA;
	case RDV_MSG_ERROR:
		return 1u << F_T | 1u << F_CODE | 1u << F_PEER;
	case RDV_MSG_CHALLENGE:
		return 1u << F_T | 1u << F_ECHO | 1u << F_COOKIE;
	case RDV_MSG_CHANNEL_OPEN:
	case RDV_MSG_CHANNEL:
		return 1u << F_T | 1u << F_PEER | 1u << F_CHAN;
	}
	return 0;
}

static int field_lookup(const msgpack_object *k)
{
	if (k->type != MSGPACK_OBJECT_STR)
		return -1;
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == k->via.str.size &&
		    memcmp(field_names[f], k->via.str.ptr, k->via.str.size) == 0)
			return f;
	return F_COUNT;
}

static enum rdv_status get_uint(const msgpack_object *o, uint64_t max, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return RDV_E_WRONG_TYPE;
	if (o->via.u64 > max)
		return RDV_E_BAD_VALUE;
	*v = o->via.u64;
	return RDV_OK;
}

static enum rdv_status get_key(const msgpack_object *o, uint8_t key[static RDV_KEY_LEN])
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return RDV_E_WRONG_TYPE;
	if (o->via.bin.size != RDV_KEY_LEN)
		return RDV_E_BAD_VALUE;
	memcpy(key, o->via.bin.ptr, RDV_KEY_LEN);
	return RDV_OK;
}

static enum rdv_status get_endpoint(const msgpack_object *o, struct rdv_endpoint *ep)
{
	const uint8_t *b = (const uint8_t *)o->via.bin.ptr;
	size_t alen;

	if (o->type != MSGPACK_OBJECT_BIN)
		return RDV_E_WRONG_TYPE;
	memset(ep, 0, sizeof(*ep));
	if (o->via.bin.size == RDV_ENDPOINT4_LEN)
		ep->family = AF_INET, alen = 4;
	else if (o->via.bin.size == RDV_ENDPOINT6_LEN)
		ep->family = AF_INET6, alen = 16;
	else
		return RDV_E_BAD_VALUE;
	memcpy(ep->addr, b, alen);
	ep->port = load_be16(b + alen);
	return ep->port ? RDV_OK : RDV_E_BAD_VALUE;
}

static enum rdv_status get_endpoints(const msgpack_object *o, struct rdv_endpoint *eps,
				     size_t *n)
{
	enum rdv_status s;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return RDV_E_WRONG_TYPE;
	if (o->via.array.size > RDV_LAN_MAX)
		return RDV_E_OVERSIZE;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		s = get_endpoint(&o->via.array.ptr[i], &eps[i]);
		if (s != RDV_OK)
			return s;
	}
	*n = o->via.array.size;
	return RDV_OK;
}

static enum rdv_status get_field(struct rdv_msg *m, int f, const msgpack_object *v)
{
	enum rdv_status s = RDV_OK;
	uint64_t u = 0;

	switch (f) {
	case F_LAN:
		return m->type == RDV_MSG_REGISTER
			       ? get_endpoints(v, m->reg.lan, &m->reg.n_lan)
			       : get_endpoints(v, m->introduce.lan, &m->introduce.n_lan);
	case F_WANT:
		if (v->type != MSGPACK_OBJECT_ARRAY)
			return RDV_E_WRONG_TYPE;
		if (v->via.array.size > RDV_WANT_MAX)
			return RDV_E_OVERSIZE;
		for (uint32_t i = 0; i < v->via.array.size && s == RDV_OK; i++)
			s = get_key(&v->via.array.ptr[i], m->reg.want[i]);
		m->reg.n_want = v->via.array.size;
		return s;
	case F_REFL:
		return get_endpoint(v, m->type == RDV_MSG_REGISTERED ? &m->registered.reflexive
								     : &m->introduce.reflexive);
	case F_LEASE:
		s = get_uint(v, RDV_LEASE_MAX_S, &u);
		if (s == RDV_OK && u == 0)
			s = RDV_E_BAD_VALUE;
		m->registered.lease_s = (uint32_t)u;
		return s;
	case F_PEER:
		return get_key(v, m->type == RDV_MSG_RELAY	   ? m->relay.peer
				  : m->type == RDV_MSG_ERROR ? m->error.peer
				  : m->type == RDV_MSG_INTRODUCE ? m->introduce.peer
							     : m->channel.peer);
	case F_CHAN:
		if (v->type != MSGPACK_OBJECT_BIN)
			return RDV_E_WRONG_TYPE;
		if (v->via.bin.size != RDV_CHANNEL_ID_LEN)
			return RDV_E_BAD_VALUE;
		memcpy(m->channel.chan, v->via.bin.ptr, RDV_CHANNEL_ID_LEN);
		return RDV_OK;
	case F_DATA:
		if (v->type != MSGPACK_OBJECT_BIN)
			return RDV_E_WRONG_TYPE;
		if (v->via.bin.size > RDV_RELAY_DATA_MAX)
			return RDV_E_OVERSIZE;
		if (v->via.bin.size == 0)
			return RDV_E_BAD_VALUE;
		memcpy(m->relay.data, v->via.bin.ptr, v->via.bin.size);
		m->relay.len = v->via.bin.size;
		return RDV_OK;
	case F_CODE:
		s = get_uint(v, UINT32_MAX, &u);
		m->error.code = (uint32_t)u;
		return s;
	case F_COOKIE:
		if (v->type != MSGPACK_OBJECT_BIN)
			return RDV_E_WRONG_TYPE;
		if (v->via.bin.size != RDV_COOKIE_LEN)
			return RDV_E_BAD_VALUE;
		memcpy(m->type == RDV_MSG_REGISTER ? m->reg.cookie : m->challenge.cookie,
		       v->via.bin.ptr, RDV_COOKIE_LEN);
		return RDV_OK;
	case F_AGAIN:
		s = get_uint(v, 1, &u);
		m->reg.again = u == 1;
		return s;
	case F_ECHO:
		s = get_uint(v, UINT64_MAX, &u);
		if (m->type == RDV_MSG_REGISTERED)
			m->registered.echo = u;
		else
			m->challenge.echo = u;
		return s;
	}
	return RDV_OK; /* F_T was read first */
}

static enum rdv_status decode_map(const msgpack_object *root, struct rdv_msg *m)
{
	const msgpack_object_map *map = &root->via.map;
	unsigned allowed, seen = 0;
	enum rdv_status s;
	uint64_t t = 0;
	bool have_t = false;

	if (root->type != MSGPACK_OBJECT_MAP)
		return RDV_E_NOT_MAP;
	for (uint32_t i = 0; i < map->size; i++) {
		int f = field_lookup(&map->ptr[i].key);

		if (f < 0)
			return RDV_E_WRONG_TYPE;
		if (f == F_T) {
			if (have_t)
				return RDV_E_DUPLICATE_FIELD;
			s = get_uint(&map->ptr[i].val, UINT32_MAX, &t);
			if (s != RDV_OK)
				return s;
			have_t = true;
		}
	}
	if (!have_t)
		return RDV_E_MISSING_FIELD;
	allowed = fields_of((enum rdv_msg_type)t);
	if (!allowed)
		return RDV_E_UNKNOWN_TYPE;
	memset(m, 0, sizeof(*m));
	m->type = (enum rdv_msg_type)t;
	for (uint32_t i = 0; i < map->size; i++) {
		int f = field_lookup(&map->ptr[i].key);

		if (f == F_COUNT || !(allowed & 1u << f))
			return RDV_E_UNKNOWN_FIELD;
		if (seen & 1u << f)
			return RDV_E_DUPLICATE_FIELD;
		seen |= 1u << f;
		s = get_field(m, f, &map->ptr[i].val);
		if (s != RDV_OK)
			return s;
	}
	return seen == allowed ? RDV_OK : RDV_E_MISSING_FIELD;
}

enum rdv_status rdv_body_decode(const uint8_t *body, size_t len, struct rdv_msg *msg)
{
	msgpack_unpacked up;
	msgpack_unpack_return r;
	enum rdv_status s;
	size_t off = 0;

	if (len > RDV_BODY_MAX)
		return RDV_E_OVERSIZE_BODY;
	s = prescan(body, len);
	if (s != RDV_OK)
		return s;
	msgpack_unpacked_init(&up);
	r = msgpack_unpack_next(&up, (const char *)body, len, &off);
	if (r == MSGPACK_UNPACK_SUCCESS && off == len)
		s = decode_map(&up.data, msg);
	else if (r == MSGPACK_UNPACK_NOMEM_ERROR)
		s = RDV_E_NOMEM;
	else
		s = RDV_E_MSGPACK; /* prescan accepted what msgpack-c refused */
	msgpack_unpacked_destroy(&up);
	return s;
}

const char *rdv_status_name(enum rdv_status s)
{
	static const char *const names[RDV_STATUS_COUNT] = {
		[RDV_OK] = "ok",
		[RDV_E_SHORT] = "short",
		[RDV_E_HEADER] = "bad-header",
		[RDV_E_WRONG_KEY] = "wrong-key",
		[RDV_E_BAD_MAC] = "bad-mac",
		[RDV_E_REPLAY] = "replayed",
		[RDV_E_STALE] = "stale",
		[RDV_E_OVERSIZE_BODY] = "oversize-body",
		[RDV_E_MSGPACK] = "not-msgpack",
		[RDV_E_TRUNCATED] = "truncated",
		[RDV_E_TRAILING] = "trailing-bytes",
		[RDV_E_TOO_DEEP] = "too-deep",
		[RDV_E_NOT_MAP] = "not-a-map",
		[RDV_E_WRONG_TYPE] = "wrong-type",
		[RDV_E_UNKNOWN_TYPE] = "unknown-type",
		[RDV_E_UNKNOWN_FIELD] = "unknown-field",
		[RDV_E_DUPLICATE_FIELD] = "duplicate-field",
		[RDV_E_MISSING_FIELD] = "missing-field",
		[RDV_E_OVERSIZE] = "oversize",
		[RDV_E_BAD_VALUE] = "bad-value",
		[RDV_E_NOMEM] = "no-memory",
	};

	return (unsigned)s < RDV_STATUS_COUNT ? names[s] : "?";
}

const char *rdv_error_code_name(uint32_t code)
{
	switch (code) {
	case RDV_ERROR_NOT_REGISTERED:
		return "not-registered";
	case RDV_ERROR_NOT_INTRODUCED:
		return "not-introduced";
	case RDV_ERROR_SERVER_FULL:
		return "server-full";
	case RDV_ERROR_RATE_LIMITED:
		return "rate-limited";
	case RDV_ERROR_BAD_REQUEST:
		return "bad-request";
	}
	return "unknown";
}

const char *rdv_msg_type_name(enum rdv_msg_type t)
{
	switch (t) {
	case RDV_MSG_REGISTER:
		return "register";
	case RDV_MSG_REGISTERED:
		return "registered";
	case RDV_MSG_INTRODUCE:
		return "introduce";
	case RDV_MSG_RELAY:
		return "relay";
	case RDV_MSG_ERROR:
		return "error";
	case RDV_MSG_CHALLENGE:
		return "challenge";
	case RDV_MSG_CHANNEL_OPEN:
		return "channel-open";
	case RDV_MSG_CHANNEL:
		return "channel";
	}
	return "?";
}
