/* Inner IP packets for the fuzz targets: a reference Internet checksum
 * (RFC 1071, written plainly, independent of tun/offload.c's) and a fixer
 * that makes a TCP or UDP packet's lengths and checksums right, as a real
 * sender would. Lets a target turn the fuzzer's bytes into packets that
 * get past "the checksum is wrong" and into the code behind it. The tun/
 * unit tests (test_tun_*.c) use the same sums as their oracle. */
#ifndef TESTS_FUZZ_INET_H
#define TESTS_FUZZ_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ones' complement sum of 16-bit big-endian words (an odd last byte
 * padded), folded, added to `sum`. */
uint32_t inet_sum(const uint8_t *p, size_t len, uint32_t sum);

/* The pseudo-header sum (addresses, protocol, length) of the IPv4 or IPv6
 * packet `ip` carrying `l4_len` bytes of `proto`, folded. */
uint32_t inet_pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4_len);

/* Does the transport checksum of the IPv4 or IPv6 packet `ip` (`len`
 * bytes, the `proto` header at `l4_off`) verify, pseudo-header included? */
bool inet_l4_checksum_ok(const uint8_t *ip, size_t l4_off, size_t len, uint8_t proto);

/* Where the transport header of an IPv4 (any IHL) or IPv6 (no extension
 * header) packet of `proto` starts, if it fits `len` (with min_l4 bytes of
 * it); 0 otherwise. */
size_t inet_l4_offset(const uint8_t *pkt, size_t len, uint8_t proto, size_t min_l4);

/* Sets the IP length field(s) to `len` and recomputes the IPv4 header and
 * TCP or UDP checksums; anything else is left alone. */
void inet_fix(uint8_t *pkt, size_t len);

#endif
