/* Sliding replay window (RFC 6479, as WireGuard's counter_validate): the
 * bitmap is a ring of 64-bit words indexed by counter / 64. Moving the
 * window forward clears only the words it skips, so the cost is bounded by
 * the ring size however far the counter jumps. */
#include "crypto/replay.h"

#include <string.h>

enum { RING_WORDS = REPLAY_BITS_TOTAL / REPLAY_WORD_BITS };

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

bool replay_check(const struct replay_window *w, uint64_t counter)
{
	uint64_t n;

	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	n = counter + 1;	/* cannot overflow: counter < REJECT_AFTER_MESSAGES */
	if (n > w->next)
		return true;	/* ahead of everything seen */
	if (n + REPLAY_WINDOW_SIZE < w->next)
		return false;	/* fell out of the back of the window */
	return !(w->bitmap[(n / REPLAY_WORD_BITS) % RING_WORDS] &
		 (1ULL << (n % REPLAY_WORD_BITS)));
}

void replay_update(struct replay_window *w, uint64_t counter)
{
	uint64_t n = counter + 1;

	if (n > w->next) {
		uint64_t cur_word = w->next / REPLAY_WORD_BITS;
		uint64_t skip = n / REPLAY_WORD_BITS - cur_word;

		if (skip > RING_WORDS)
			skip = RING_WORDS;
		for (uint64_t i = 1; i <= skip; i++)
			w->bitmap[(cur_word + i) % RING_WORDS] = 0;
		w->next = n;
	}
	w->bitmap[(n / REPLAY_WORD_BITS) % RING_WORDS] |= 1ULL << (n % REPLAY_WORD_BITS);
}

bool replay_check_and_update(struct replay_window *w, uint64_t counter)
{
	if (!replay_check(w, counter))
		return false;
	replay_update(w, counter);
	return true;
}
