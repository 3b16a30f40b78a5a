/* The daemon's name resolution (see resolve.h). One loop timer drives it:
 * it polls lookups under way every RESOLVE_POLL_MS and otherwise wakes for
 * the next lookup due, at most RESOLVE_UNANSWERED_MS ahead, so a peer that
 * stops answering is noticed without an event from peer.c. */
#include "tunnel/resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"
#include "tunnel/tunnel.h"

static struct config_endpoint *entry(struct tunnel *t, const struct resolve_name *n)
{
	return n->slot == RESOLVE_ENDPOINT ? &t->cfg.endpoint : &t->cfg.rendezvous[n->slot];
}

static const char *what(const struct resolve_name *n)
{
	return n->slot == RESOLVE_ENDPOINT ? "Endpoint" : "Rendezvous";
}

/* `ms` minus up to 10 %. */
static uint64_t jitter(uint64_t ms)
{
	return ms - (ms / 10 ? randombytes_uniform((uint32_t)(ms / 10)) : 0);
}

/* Does the peer answer: the link is up and no handshake is going
 * unanswered? */
static bool peer_answers(const struct tunnel *t)
{
	return (t->peer.state == LINK_ESTABLISHED || t->peer.state == LINK_RELAYED) &&
	       t->peer.handshake_attempts == 0;
}

static void lookup(struct tunnel *t, struct resolve_name *n)
{
	struct gaicb *list[1] = { &n->req };
	int r;

	memset(&n->req, 0, sizeof(n->req));
	n->req.ar_name = n->host;
	n->req.ar_service = n->service;
	n->req.ar_request = &n->hints;
	r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (r != 0) {
		/* Could not even queue it (out of memory, threads): retry. */
		log_warn("%s: cannot look up %s: %s", t->cfg.name, n->host, gai_strerror(r));
		n->next_ms = t->loop.now_ms + RESOLVE_RETRY_MIN_MS;
		return;
	}
	n->pending = true;
}

/* Traffic follows a name whose address changed. */
static void apply(struct tunnel *t, const struct resolve_name *n)
{
	struct rdv_endpoint ep;
	int r;

	if (n->slot == RESOLVE_ENDPOINT) {
		if (rdv_endpoint_from_sockaddr(&ep, (const struct sockaddr *)&t->cfg.endpoint.addr) ==
		    0)
			peer_endpoint_configured(&t->peer, &ep);
		return;
	}
	/* The clients are rebuilt from the config's resolved servers. */
	meet_destroy(t);
	r = meet_init(t);
	if (r) {
		log_error("%s: cannot set up the rendezvous client: %s", t->cfg.name, strerror(-r));
		return;
	}
	meet_start(t);
}

static void done(struct tunnel *t, struct resolve_name *n, int r)
{
	struct config_endpoint *ce = entry(t, n);
	struct addrinfo *ai = n->req.ar_result;
	uint64_t now = t->loop.now_ms, delay;
	char addr[RDV_ENDPOINT_STR], reason[CONTROL_REASON_MAX];
	struct rdv_endpoint ep;

	n->pending = false;
	if (r == 0 && ai && ai->ai_addrlen <= sizeof(ce->addr) &&
	    rdv_endpoint_from_sockaddr(&ep, ai->ai_addr) == 0) {
		bool changed = ce->addr_len != ai->ai_addrlen ||
			       memcmp(&ce->addr, ai->ai_addr, ai->ai_addrlen) != 0;

		rdv_endpoint_str(&ep, addr, sizeof(addr));
		if (n->failures)
			log_notice("%s: %s %s resolves again, to %s", t->cfg.name, what(n), n->host,
				   addr);
		else if (changed && ce->addr_len)
			log_notice("%s: %s %s moved to %s", t->cfg.name, what(n), n->host, addr);
		else if (changed)
			log_info("%s: %s %s is %s", t->cfg.name, what(n), n->host, addr);
		n->failures = 0;
		n->last_error = 0;
		n->resolved_ms = now;
		n->next_ms = now + jitter(RESOLVE_REFRESH_MS);
		if (changed) {
			memset(&ce->addr, 0, sizeof(ce->addr));
			memcpy(&ce->addr, ai->ai_addr, ai->ai_addrlen);
			ce->addr_len = ai->ai_addrlen;
			apply(t, n);
		}
	} else {
		if (r == 0)
			r = EAI_FAIL; /* an answer we cannot use */
		n->failures++;
		delay = RESOLVE_RETRY_MIN_MS;
		for (unsigned i = 1; i < n->failures && delay < RESOLVE_RETRY_MAX_MS; i++)
			delay *= 2;
		delay = jitter(delay < RESOLVE_RETRY_MAX_MS ? delay : RESOLVE_RETRY_MAX_MS);
		n->next_ms = now + delay;
		snprintf(reason, sizeof(reason), "cannot resolve %s %.80s: %s; retrying", what(n),
			 n->host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		/* A new error is worth a warning; the same again only debug. */
		if (r != n->last_error)
			log_warn("%s: %s", t->cfg.name, reason);
		else
			log_debug("%s: %s; next try in %llu ms", t->cfg.name, reason,
				  (unsigned long long)delay);
		n->last_error = r;
		peer_rendezvous_progress(&t->peer, reason);
	}
	if (n->req.ar_result)
		freeaddrinfo(n->req.ar_result);
	n->req.ar_result = NULL;
}

static void tick(struct loop_timer *timer, uint64_t now)
{
	struct resolver *rs = container_of(timer, struct resolver, timer);
	struct tunnel *t = container_of(rs, struct tunnel, resolver);
	bool answers = peer_answers(t), pending = false;
	uint64_t next = now + RESOLVE_UNANSWERED_MS;

	for (size_t i = 0; i < rs->n; i++) {
		struct resolve_name *n = &rs->names[i];
		uint64_t due = n->next_ms;

		if (n->pending) {
			int r = gai_error(&n->req);

			if (r == EAI_INPROGRESS) {
				pending = true;
				continue;
			}
			done(t, n, r);
			due = n->next_ms;
		} else {
			/* A peer that stopped answering may have moved. */
			if (!answers && n->failures == 0 && n->resolved_ms &&
			    n->resolved_ms + RESOLVE_UNANSWERED_MS < due)
				due = n->resolved_ms + RESOLVE_UNANSWERED_MS;
			if (now >= due) {
				lookup(t, n);
				pending = pending || n->pending;
				continue;
			}
		}
		if (due < next)
			next = due;
	}
	loop_timer_arm(&t->loop, timer, pending ? now + RESOLVE_POLL_MS : next);
}

static void add(struct tunnel *t, size_t slot)
{
	struct resolver *rs = &t->resolver;
	const struct config_endpoint *ce =
		slot == RESOLVE_ENDPOINT ? &t->cfg.endpoint : &t->cfg.rendezvous[slot];
	struct resolve_name *n = &rs->names[rs->n++];

	memset(n, 0, sizeof(*n));
	n->slot = slot;
	snprintf(n->host, sizeof(n->host), "%s", ce->host);
	snprintf(n->service, sizeof(n->service), "%u", ce->port);
	n->hints.ai_socktype = SOCK_DGRAM;
	n->hints.ai_flags = AI_NUMERICSERV;
	/* An address carried over by a reload is current: refresh it later. */
	n->resolved_ms = ce->addr_len ? t->loop.now_ms : 0;
	n->next_ms = ce->addr_len ? t->loop.now_ms + jitter(RESOLVE_REFRESH_MS) : t->loop.now_ms;
}

void resolve_start(struct tunnel *t)
{
	struct resolver *rs = &t->resolver;
	char reason[CONTROL_REASON_MAX];

	rs->n = 0;
	rs->timer.expired = tick;
	if (t->cfg.has_endpoint && t->cfg.endpoint.host[0])
		add(t, RESOLVE_ENDPOINT);
	for (size_t i = 0; i < t->cfg.n_rendezvous; i++)
		if (t->cfg.rendezvous[i].host[0])
			add(t, i);
	if (rs->n == 0)
		return;
	if (rs->names[0].resolved_ms == 0) {
		snprintf(reason, sizeof(reason), "resolving %.80s", rs->names[0].host);
		peer_rendezvous_progress(&t->peer, reason);
	}
	tick(&rs->timer, t->loop.now_ms);
}

void resolve_stop(struct tunnel *t)
{
	struct resolver *rs = &t->resolver;

	loop_timer_cancel(&t->loop, &rs->timer);
	for (size_t i = 0; i < rs->n; i++) {
		struct resolve_name *n = &rs->names[i];

		if (!n->pending)
			continue;
		if (gai_cancel(&n->req) != EAI_CANCELED) {
			const struct gaicb *list[1] = { &n->req };

			/* Being answered now: it ends within the resolver's own
			 * timeout (resolv.conf), and must before we free it. */
			while (gai_error(&n->req) == EAI_INPROGRESS)
				gai_suspend(list, 1, NULL);
		}
		if (n->req.ar_result)
			freeaddrinfo(n->req.ar_result);
		n->req.ar_result = NULL;
		n->pending = false;
	}
	rs->n = 0;
}
