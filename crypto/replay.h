/* The receive-side replay window of one transport keypair: an RFC 6479 style
 * ring bitmap of REPLAY_BITS_TOTAL bits (crypto/messages.h), tracking the
 * REPLAY_WINDOW_SIZE counters below the greatest one seen.
 *
 * The check is split from the update so that a counter is committed only
 * after its packet authenticated: replay_check() first (cheap, no change),
 * then the AEAD, then replay_update(). Forged packets never move the window. */
#ifndef CRYPTO_REPLAY_H
#define CRYPTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/messages.h"

struct replay_window {
	/* One more than the greatest counter accepted so far (0: none yet),
	 * so counter 0 fits the same arithmetic as the rest. */
	uint64_t next;
	uint64_t bitmap[REPLAY_BITS_TOTAL / REPLAY_WORD_BITS];
};

/* Empties the window (a new keypair). */
void replay_init(struct replay_window *w);

/* True when `counter` may be accepted: below REJECT_AFTER_MESSAGES, not
 * older than the window, and not seen yet. Changes nothing. */
bool replay_check(const struct replay_window *w, uint64_t counter);

/* Records `counter` as received; call only after replay_check() said yes
 * and the packet authenticated. */
void replay_update(struct replay_window *w, uint64_t counter);

/* replay_check() then replay_update() in one step (for callers that have
 * already authenticated the packet); returns what replay_check() said. */
bool replay_check_and_update(struct replay_window *w, uint64_t counter);

#endif
