/* Test-only entry points into the generic Noise layers. Production code
 * never includes this header and the crypto library holds no test symbol:
 * the hooks are static inline here, and only tests/ include it. */
#ifndef CRYPTO_NOISE_TEST_HOOKS_H
#define CRYPTO_NOISE_TEST_HOOKS_H

#include <stdbool.h>
#include <string.h>

#include "crypto/noise_core.h"

/* The next `e` token of `hs` uses this ephemeral private key instead of a
 * fresh random one (noise_ik_write_message reads e_injected): the published
 * Noise vectors fix the ephemerals. */
static inline void noise_ik_test_set_ephemeral(struct noise_ik *hs,
					       const uint8_t e_priv[static NOISE_PRIVATE_KEY_LEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_PRIVATE_KEY_LEN);
	hs->e_injected = true;
}

#endif
