/* RFC 8899 datagram PLPMTUD for one path: the state table is in pmtu.h.
 * Invariants: base <= max; in SEARCH and ERROR low < high <= max + 1 and
 * current == low; a new state is set at the end of each transition. */
#include "tunnel/pmtu.h"

#include <stdint.h>

#include "common/compiler.h"
#include "crypto/messages.h"
#include "crypto/session.h"

static void settle(struct pmtu *p, uint64_t now)
{
	p->current = p->low;
	p->target = 0;
	p->probe_count = 0;
	p->in_flight = false;
	p->raise_ms = now + PMTU_RAISE_TIMER_MS;
	p->confirm_ms = now + PMTU_CONFIRM_MS;
	p->state = PMTU_SEARCH_COMPLETE;
}

/* A search (upward or below the base) ends once its bounds are close. */
static void settle_if_done(struct pmtu *p, uint64_t now)
{
	if (p->high - p->low <= PMTU_RESOLUTION || p->low >= p->max)
		settle(p, now);
}

static void forget_probe(struct pmtu *p)
{
	p->target = 0;
	p->probe_count = 0;
	p->in_flight = false;
}

static void to_base(struct pmtu *p, uint64_t now)
{
	forget_probe(p);
	p->current = p->base;
	p->low = p->base;
	p->high = p->max + 1;
	p->tried_max = false;
	p->next_probe_ms = now;
	p->state = PMTU_BASE;
}

static void search_up(struct pmtu *p, unsigned from, uint64_t now)
{
	forget_probe(p);
	p->low = from;
	p->current = from;
	p->high = p->max + 1;
	p->tried_max = false;
	p->next_probe_ms = now;
	p->state = PMTU_SEARCH;
	settle_if_done(p, now);
}

/* Search below `failed` (a size the path does not carry, <= base). */
static void search_below(struct pmtu *p, unsigned failed, uint64_t now)
{
	forget_probe(p);
	p->low = MIN((unsigned)PMTU_MIN_MTU, failed);
	p->high = failed;
	p->current = p->low;
	p->next_probe_ms = now;
	p->state = PMTU_ERROR;
	if (p->high - p->low <= PMTU_RESOLUTION)
		settle(p, now);
}

void pmtu_init(struct pmtu *p, unsigned max_mtu)
{
	pmtu_init_base(p, max_mtu, PMTU_BASE_MTU);
}

void pmtu_init_base(struct pmtu *p, unsigned max_mtu, unsigned base_mtu)
{
	*p = (struct pmtu){ .max = max_mtu, .base = MIN(base_mtu, max_mtu) };
	to_base(p, 0);
}

static void blackhole(struct pmtu *p, uint64_t now)
{
	if (p->current > p->base || (p->current == p->base && p->state != PMTU_BASE))
		to_base(p, now);        /* the base is probed again first */
	else if (p->state != PMTU_BASE)
		search_below(p, p->current, now);
	/* in BASE the base is being probed already */
}

/* `size` went unacknowledged PMTU_MAX_PROBES times. */
static void size_failed(struct pmtu *p, unsigned size, uint64_t now)
{
	switch (p->state) {
	case PMTU_BASE:
		search_below(p, p->base, now);
		break;
	case PMTU_SEARCH:
	case PMTU_ERROR:
		forget_probe(p);
		if (size > p->low && size < p->high)
			p->high = size;
		p->next_probe_ms = now;
		settle_if_done(p, now);
		break;
	case PMTU_SEARCH_COMPLETE:
		/* the confirmation probe of the current size: a black hole */
		blackhole(p, now);
		break;
	}
}

/* The probe in flight timed out, or was reported lost. */
static void probe_lost(struct pmtu *p, uint64_t now)
{
	p->in_flight = false;
	if (p->probe_count < PMTU_MAX_PROBES) {
		p->next_probe_ms = now;   /* the timeout already spaced the tries */
		return;
	}
	size_failed(p, p->target, now);
}

static unsigned choose_size(const struct pmtu *p)
{
	switch (p->state) {
	case PMTU_BASE:
		return p->base;
	case PMTU_SEARCH:
		if (!p->tried_max)
			return p->max;
		return p->low + (p->high - p->low) / 2;
	case PMTU_ERROR:
		return p->low + (p->high - p->low) / 2;
	case PMTU_SEARCH_COMPLETE:
		break;
	}
	return p->current;
}

uint64_t pmtu_next_probe(struct pmtu *p, uint64_t now, unsigned *size)
{
	unsigned s;

	*size = 0;
	if (p->in_flight) {
		uint64_t deadline = p->probe_sent_ms + PMTU_PROBE_TIMEOUT_MS;

		if (now < deadline)
			return deadline;
		probe_lost(p, now);
	}
	if (p->state == PMTU_SEARCH_COMPLETE && p->target == 0) {
		if (p->current < p->max && now >= p->raise_ms) {
			search_up(p, p->current, now);
		} else if (now >= p->confirm_ms) {
			p->next_probe_ms = now;
		} else {
			return p->current < p->max ? MIN(p->raise_ms, p->confirm_ms) : p->confirm_ms;
		}
	}
	if (now < p->next_probe_ms)
		return p->next_probe_ms;
	s = choose_size(p);
	if (s != p->target) {
		p->target = s;
		p->probe_count = 0;
	}
	if (p->state == PMTU_SEARCH && s == p->max)
		p->tried_max = true;
	p->probe_count++;
	p->in_flight = true;
	p->probe_sent_ms = now;
	*size = s;
	return now + PMTU_PROBE_TIMEOUT_MS;
}

void pmtu_probe_acked(struct pmtu *p, unsigned size, uint64_t now)
{
	if (size == 0 || size > p->max)
		return;         /* not a size we probe: ignore */
	if (p->target && size >= p->target)
		forget_probe(p);
	switch (p->state) {
	case PMTU_BASE:
		if (size >= p->base)
			search_up(p, size, now);
		break;
	case PMTU_ERROR:
		if (size >= p->base) {
			search_up(p, size, now);  /* the base passes after all */
			break;
		}
		/* fall through */
	case PMTU_SEARCH:
		if (size > p->low) {
			p->low = size;
			p->current = size;
		}
		if (p->high <= p->low)
			p->high = p->max + 1;    /* the path grew: the old bound is stale */
		p->next_probe_ms = now;
		settle_if_done(p, now);
		break;
	case PMTU_SEARCH_COMPLETE:
		if (size >= p->current) {
			if (size > p->current)
				p->low = p->current = size;
			p->confirm_ms = now + PMTU_CONFIRM_MS;
		}
		break;
	}
}

void pmtu_probe_lost(struct pmtu *p, unsigned size, uint64_t now)
{
	if (p->in_flight && size == p->target)
		probe_lost(p, now);
}

void pmtu_blackhole_suspected(struct pmtu *p, uint64_t now)
{
	blackhole(p, now);
}

unsigned pmtu_current(const struct pmtu *p)
{
	return p->current;
}

const char *pmtu_state_name(enum pmtu_state s)
{
	switch (s) {
	case PMTU_BASE:
		return "base";
	case PMTU_SEARCH:
		return "search";
	case PMTU_SEARCH_COMPLETE:
		return "search_complete";
	case PMTU_ERROR:
		return "error";
	}
	return "?";
}

size_t pmtu_data_outer_len(size_t inner_len, size_t pad_cap)
{
	return MESSAGE_DATA_HEADER_LEN + session_padded_len(inner_len, pad_cap) + NOISE_AUTHTAG_LEN;
}

size_t pmtu_inner_for_outer(size_t udp_payload)
{
	/* Padded to its own MTU, a full-size packet is not padded at all. */
	if (udp_payload <= (size_t)MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN)
		return 0;
	return udp_payload - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN;
}
