/* Freshness, answer budgets and candidate filtering for path probes. */
#include "tunnel/probe_guard.h"

#include <string.h>
#include <sys/socket.h>

bool probe_fresh(struct probe_freshness *f, uint64_t generation, uint64_t sent_ms,
		 uint64_t now_ms)
{
	uint64_t expected;

	if (!f->seen || generation > f->generation) {
		*f = (struct probe_freshness){ .seen = true, .generation = generation,
					       .newest_sent_ms = sent_ms, .newest_at_ms = now_ms };
		return true;
	}
	if (generation < f->generation)
		return false;
	/* Where the sender's clock should be now, judged by its newest request. */
	expected = f->newest_sent_ms + (now_ms - f->newest_at_ms);
	if (sent_ms + PROBE_FRESH_MS < expected)
		return false;
	if (sent_ms > f->newest_sent_ms) {
		f->newest_sent_ms = sent_ms;
		f->newest_at_ms = now_ms;
	}
	return true;
}

static bool take(struct probe_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)burst * 1000;

	if (!b->used) {
		b->used = true;
		b->millitokens = cap;
	} else if (now_ms > b->last_ms) {
		b->millitokens += (now_ms - b->last_ms) * rate;
		if (b->millitokens > cap)
			b->millitokens = cap;
	}
	b->last_ms = now_ms;
	if (b->millitokens < 1000)
		return false;
	b->millitokens -= 1000;
	return true;
}

static bool same_address(const struct rdv_endpoint *a, const struct rdv_endpoint *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

bool probe_budget_allow(struct probe_budget *b, const struct rdv_endpoint *src, uint64_t now_ms)
{
	struct probe_bucket *slot = NULL;

	for (size_t i = 0; i < PROBE_GUARD_SOURCES && !slot; i++) {
		if (b->sources[i].used && same_address(&b->sources[i].src, src))
			slot = &b->sources[i];
	}
	if (!slot) {
		/* A free slot, else the one heard from least recently. */
		slot = &b->sources[0];
		for (size_t i = 0; i < PROBE_GUARD_SOURCES && slot->used; i++) {
			if (!b->sources[i].used || b->sources[i].last_ms < slot->last_ms)
				slot = &b->sources[i];
		}
		*slot = (struct probe_bucket){ .src = *src };
	}
	if (!take(slot, PROBE_ANSWER_RATE, PROBE_ANSWER_BURST, now_ms))
		return false;
	return take(&b->total, PROBE_ANSWER_TOTAL_RATE, PROBE_ANSWER_TOTAL_BURST, now_ms);
}

static bool v4_usable(const uint8_t a[4])
{
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)  /* this network, loopback, multicast+ */
		return false;
	return !(a[0] == 169 && a[1] == 254);         /* link-local */
}

static bool v6_usable(const uint8_t a[16])
{
	static const uint8_t zero[16];
	static const uint8_t loopback[16] = { [15] = 1 };

	if (!memcmp(a, zero, 16) || !memcmp(a, loopback, 16))
		return false;
	if (a[0] == 0xff)                             /* multicast */
		return false;
	return !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80); /* link-local */
}

bool probe_candidate_usable(const struct rdv_endpoint *ep)
{
	if (ep->port == 0)
		return false;
	if (ep->family == AF_INET)
		return v4_usable(ep->addr);
	return ep->family == AF_INET6 && v6_usable(ep->addr);
}
