/* tests/bench/aead's measuring program: seal and open in place, one core,
 * with each backend of crypto/aead.c (the functions the link calls), at
 * several packet sizes; prints GB/s and ns per packet. Not a test.
 * "link" is what the link does: each size to the backend
 * aead_backend_for() picks.
 *   aead-bench [SECONDS_PER_CELL]   (default 0.5) */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"
#include "crypto/aead.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { BY_SIZE = AEAD_BACKEND_COUNT }; /* what noise_cipher_* does */

/* Packets per second of seal (open = false) or open, for `secs` seconds;
 * every packet gets a new counter nonce, as on the wire. */
static double rate(int which, bool open, size_t len, double secs)
{
	enum aead_backend b = which == BY_SIZE ? aead_backend_for(len) : (enum aead_backend)which;
	static uint8_t buf[8192 + AEAD_TAG_LEN], sealed[8192 + AEAD_TAG_LEN];
	uint8_t key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN] = { 0 };
	uint64_t n = 0;
	double t0, t;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(buf, len);
	aead_seal(b, key, nonce, NULL, 0, buf, len, sealed);
	t0 = now_s();
	do {
		for (int i = 0; i < 256; i++, n++) {
			if (open) {
				/* The same sealed packet each time: opening
				 * costs the same whatever it holds. */
				memcpy(buf, sealed, len + AEAD_TAG_LEN);
				if (aead_open(b, key, nonce, NULL, 0, buf, len + AEAD_TAG_LEN, buf)) {
					fprintf(stderr, "aead-bench: %s failed to open\n",
						aead_backend_names[b]);
					exit(1);
				}
			} else {
				store_le64(nonce + 4, n);
				aead_seal(b, key, nonce, NULL, 0, buf, len, buf);
			}
		}
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

enum { ROUNDS = 3 };

static double median3(const double v[ROUNDS])
{
	double a = v[0], b = v[1], c = v[2];

	if ((a <= b && b <= c) || (c <= b && b <= a))
		return b;
	if ((b <= a && a <= c) || (c <= a && a <= b))
		return a;
	return c;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 128, 256, 512, 1420, 8192 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5;

	if (sodium_init() < 0 || !(secs > 0 && secs <= 60)) {
		fprintf(stderr, "usage: aead-bench [SECONDS_PER_CELL (0..60]]\n");
		return 2;
	}
	printf("%-10s %-5s %6s %10s %12s   (median of %d interleaved rounds)\n", "backend", "op",
	       "bytes", "GB/s", "ns/packet", ROUNDS);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int op = 0; op < 2; op++) {
			double r[BY_SIZE + 1][ROUNDS];

			/* Rounds interleave the backends: a burst of load from
			 * elsewhere on the machine hits them alike. */
			for (int k = 0; k < ROUNDS; k++)
				for (int b = 0; b <= BY_SIZE; b++)
					r[b][k] = rate(b, op, sizes[s], secs / ROUNDS);
			for (int b = 0; b <= BY_SIZE; b++) {
				double pps = median3(r[b]);

				printf("%-10s %-5s %6zu %10.2f %12.0f\n", b == BY_SIZE ? "link" : aead_backend_names[b],
				       op ? "open" : "seal", sizes[s], pps * (double)sizes[s] / 1e9,
				       1e9 / pps);
				fflush(stdout);
			}
		}
	return 0;
}
