/* Reference checksums and a packet fixer for the fuzz targets (inet.h). */
#include "tests/fuzz/inet.h"

#include "common/bytes.h"

uint32_t inet_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += load_be16(p + i);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint32_t inet_pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint32_t s = ip[0] >> 4 == 6 ? inet_sum(ip + 8, 32, 0) : inet_sum(ip + 12, 8, 0);

	s += proto + (uint32_t)l4_len;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

bool inet_l4_checksum_ok(const uint8_t *ip, size_t l4_off, size_t len, uint8_t proto)
{
	return inet_sum(ip + l4_off, len - l4_off, inet_pseudo_sum(ip, proto, len - l4_off)) == 0xffff;
}

size_t inet_l4_offset(const uint8_t *pkt, size_t len, uint8_t proto, size_t min_l4)
{
	size_t off;

	if (len >= 20 && pkt[0] >> 4 == 4 && pkt[9] == proto)
		off = (size_t)(pkt[0] & 0x0f) * 4;
	else if (len >= 40 && pkt[0] >> 4 == 6 && pkt[6] == proto)
		off = 40;
	else
		return 0;
	return off >= 20 && off + min_l4 <= len ? off : 0;
}

void inet_fix(uint8_t *pkt, size_t len)
{
	size_t off;
	uint8_t proto;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		proto = pkt[9];
		store_be16(pkt + 2, (uint16_t)len);
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		proto = pkt[6];
		store_be16(pkt + 4, (uint16_t)(len - 40));
	} else {
		return;
	}
	off = inet_l4_offset(pkt, len, proto, proto == 6 ? 20 : 8);
	if (pkt[0] >> 4 == 4 && (pkt[0] & 0x0f) >= 5 && (size_t)(pkt[0] & 0x0f) * 4 <= len) {
		store_be16(pkt + 10, 0);
		store_be16(pkt + 10, (uint16_t)~inet_sum(pkt, (size_t)(pkt[0] & 0x0f) * 4, 0));
	}
	if (!off || (proto != 6 && proto != 17))
		return;
	if (proto == 17) {
		uint16_t c;

		store_be16(pkt + off + 4, (uint16_t)(len - off));
		store_be16(pkt + off + 6, 0);
		c = (uint16_t)~inet_sum(pkt + off, len - off, inet_pseudo_sum(pkt, 17, len - off));
		store_be16(pkt + off + 6, c ? c : 0xffff); /* zero: "no checksum" */
		return;
	}
	store_be16(pkt + off + 16, 0);
	store_be16(pkt + off + 16,
	      (uint16_t)~inet_sum(pkt + off, len - off, inet_pseudo_sum(pkt, 6, len - off)));
}
