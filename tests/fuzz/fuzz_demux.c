/* libFuzzer target: the datagram demux rule (rendezvous/demux.h) on
 * arbitrary bytes. Besides "no crash, no read past len", it checks the
 * rule's promises: the answer depends only on the bytes given, and every
 * class has a name. */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/demux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum demux_class c = demux_classify(data, size);
	const char *name = demux_class_name(c);
	uint8_t *copy;

	if (!name || !name[0])
		abort();
	/* An exact-size heap copy: ASan then catches a read past len. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (demux_classify(copy, size) != c)
		abort();
	/* Families are told apart by their first bytes: a WireGuard type byte
	 * is 1..4, STUN has its top two bits clear, ours have them set. */
	if (c == DEMUX_WIREGUARD && (size < 4 || data[0] < 1 || data[0] > 4))
		abort();
	if ((c == DEMUX_STUN || c == DEMUX_STUN_LEGACY) && (size < 20 || (data[0] & 0xc0)))
		abort();
	if ((c == DEMUX_RENDEZVOUS || c == DEMUX_PROBE || c == DEMUX_CHANNEL) &&
	    (data[0] & 0xc0) != 0xc0)
		abort();
	free(copy);
	return 0;
}
