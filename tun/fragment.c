/* IPv4 fragmentation (tun/fragment.h). */
#include "tun/fragment.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "tun/offload.h"

enum {
	IPV4_MIN_HEADER = 20,
	IPV4_MAX_HEADER = 60,
	IPV4_DF = 0x4000,
	IPV4_MF = 0x2000,
	IPV4_OFFSET_MASK = 0x1fff,
	IPOPT_END = 0,
	IPOPT_NOOP = 1,
	IPOPT_COPIED = 0x80,
};

/* The options of a later fragment: those marked "copied", then padding.
 * Returns the header length (a multiple of 4), or 0 for malformed options. */
static size_t later_header(const uint8_t *pkt, size_t ihl, uint8_t hdr[static IPV4_MAX_HEADER])
{
	size_t o = IPV4_MIN_HEADER, n = IPV4_MIN_HEADER;

	memcpy(hdr, pkt, IPV4_MIN_HEADER);
	while (o < ihl) {
		uint8_t type = pkt[o];
		size_t olen;

		if (type == IPOPT_END)
			break;
		if (type == IPOPT_NOOP) {
			o++;
			continue;
		}
		if (o + 2 > ihl || pkt[o + 1] < 2 || o + pkt[o + 1] > ihl)
			return 0;
		olen = pkt[o + 1];
		if (type & IPOPT_COPIED) {
			memcpy(hdr + n, pkt + o, olen);
			n += olen;
		}
		o += olen;
	}
	while (n % 4)
		hdr[n++] = IPOPT_END;
	hdr[0] = (uint8_t)(0x40 | n / 4);
	return n;
}

int tun_ipv4_fragment(const uint8_t *pkt, size_t len, size_t mtu, uint8_t *const out[],
		      size_t out_size, size_t out_len[], size_t max_out)
{
	uint8_t later[IPV4_MAX_HEADER];
	size_t ihl, tot, later_ihl, payload, off = 0, n = 0;
	uint16_t frag, base;

	if (len < IPV4_MIN_HEADER || pkt[0] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = load_be16(pkt + 2);
	frag = load_be16(pkt + 6);
	if (ihl < IPV4_MIN_HEADER || tot < ihl || tot > len || (frag & IPV4_DF))
		return -EINVAL;
	later_ihl = later_header(pkt, ihl, later);
	if (later_ihl == 0 || mtu < ihl + 8 || mtu < later_ihl + 8)
		return -EINVAL;
	payload = tot - ihl;
	base = frag & IPV4_OFFSET_MASK;
	while (off < payload || n == 0) {
		size_t hl = n == 0 ? ihl : later_ihl, chunk = payload - off, flen;
		const uint8_t *hdr = n == 0 ? pkt : later;
		bool last;
		uint16_t f;
		uint8_t *o;

		if (hl + chunk > mtu)
			chunk = (mtu - hl) & ~(size_t)7;
		last = off + chunk == payload;
		flen = hl + chunk;
		if (n == max_out || flen > out_size)
			return -ENOSPC;
		if (base + off / 8 > IPV4_OFFSET_MASK)
			return -EINVAL;     /* past the largest offset */
		o = out[n];
		memcpy(o, hdr, hl);
		memcpy(o + hl, pkt + ihl + off, chunk);
		store_be16(o + 2, (uint16_t)flen);
		f = (uint16_t)(base + off / 8);
		if (!last || (frag & IPV4_MF))
			f |= IPV4_MF;
		store_be16(o + 6, f);
		store_be16(o + 10, 0);
		store_be16(o + 10, tun_checksum(o, hl, 0));
		out_len[n++] = flen;
		off += chunk;
	}
	return (int)n;
}
