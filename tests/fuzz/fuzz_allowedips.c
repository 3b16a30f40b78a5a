/* libFuzzer target: the inner-packet checks the engine runs on every
 * decrypted packet (tunnel/allowedips.h): allowedips_parse_packet, then
 * allowedips_contains against AllowedIPs the input chooses, and
 * allowedips_is_multicast.
 *
 * Input: one byte n (low two bits: 0..3 prefixes), then per prefix one byte
 * (bit 7: IPv6; the rest: the length, cut to the family's) and 4 or 16
 * address bytes; the rest is the packet. Beyond "no crash, no read past
 * len" (the packet is an exact-size heap copy) it checks:
 *  - an accepted packet's family is its version nibble, its header length
 *    field lies within len, and src/dst point inside the header;
 *  - padding does not matter: the packet cut to total_len parses the same;
 *  - allowedips_contains and allowedips_is_multicast agree with a
 *    bit-by-bit reference written here. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tunnel/allowedips.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_PREFIXES = 3 };

static bool bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* Reference: addr lies in some prefix of its family, compared bit by bit. */
static bool ref_contains(const struct tun_prefix *p, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		unsigned b = 0;

		if (p[i].family != family)
			continue;
		while (b < p[i].len && bit(p[i].addr, b) == bit(addr, b))
			b++;
		if (b == p[i].len)
			return true;
	}
	return false;
}

static void check_parse(const uint8_t *pkt, size_t len, const struct tun_prefix *prefixes,
			size_t n)
{
	struct inner_packet ip, again;
	size_t alen, hlen;
	uint8_t *cut;

	if (!allowedips_parse_packet(pkt, len, &ip))
		return;
	if (ip.family == AF_INET) {
		alen = 4;
		hlen = (size_t)(pkt[0] & 0x0f) * 4;
		if (pkt[0] >> 4 != 4 || hlen < 20)
			abort();
	} else if (ip.family == AF_INET6) {
		alen = 16;
		hlen = 40;
		if (pkt[0] >> 4 != 6)
			abort();
	} else {
		abort();
	}
	if (ip.total_len < hlen || ip.total_len > len)
		abort();
	if (ip.src < pkt || ip.src + alen > pkt + hlen || ip.dst < pkt || ip.dst + alen > pkt + hlen)
		abort();

	/* The same packet without its padding, again an exact-size copy. */
	cut = malloc(ip.total_len);
	if (!cut)
		return;
	memcpy(cut, pkt, ip.total_len);
	if (!allowedips_parse_packet(cut, ip.total_len, &again) || again.family != ip.family ||
	    again.total_len != ip.total_len || again.src - cut != ip.src - pkt ||
	    again.dst - cut != ip.dst - pkt)
		abort();
	free(cut);

	if (allowedips_contains(prefixes, n, ip.family, ip.src) !=
	    ref_contains(prefixes, n, ip.family, ip.src))
		abort();
	if (allowedips_contains(prefixes, n, ip.family, ip.dst) !=
	    ref_contains(prefixes, n, ip.family, ip.dst))
		abort();
	if (allowedips_is_multicast(&ip) !=
	    (ip.family == AF_INET ? ip.dst[0] >= 224 && ip.dst[0] <= 239 : ip.dst[0] == 0xff))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_prefix prefixes[MAX_PREFIXES];
	size_t n = 0, want;
	uint8_t *pkt;

	if (size < 1)
		return 0;
	want = data[0] & 3;
	data++, size--;
	memset(prefixes, 0, sizeof(prefixes));
	while (n < want && n < MAX_PREFIXES && size >= 1) {
		struct tun_prefix *p = &prefixes[n];
		bool v6 = data[0] & 0x80;
		size_t alen = v6 ? 16 : 4;

		if (size < 1 + alen)
			break;
		p->family = v6 ? AF_INET6 : AF_INET;
		p->len = (data[0] & 0x7f) % (unsigned)(alen * 8 + 1);
		memcpy(p->addr, data + 1, alen);
		tun_prefix_mask(p); /* AllowedIPs keep no host bits (config.h) */
		data += 1 + alen, size -= 1 + alen;
		n++;
	}

	/* An exact-size heap copy: ASan then catches a read past len. */
	pkt = malloc(size ? size : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	check_parse(pkt, size, prefixes, n);
	/* The lookup alone, on whatever 16 bytes lead the packet. */
	if (size >= 16) {
		if (allowedips_contains(prefixes, n, AF_INET, pkt) !=
			    ref_contains(prefixes, n, AF_INET, pkt) ||
		    allowedips_contains(prefixes, n, AF_INET6, pkt) !=
			    ref_contains(prefixes, n, AF_INET6, pkt))
			abort();
	}
	free(pkt);
	return 0;
}
