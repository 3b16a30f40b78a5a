/* tunnelctl netcheck's measurements (see netcheck.h). */
#include "tunnel/netcheck.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "rendezvous/stun.h"
#include "tunnel/config.h"

_Static_assert(STUN_TXID_LEN == 12, "netcheck.h spells the txid length out");

const char *netcheck_mapping_name(enum netcheck_mapping m)
{
	switch (m) {
	case NETCHECK_MAPPING_NONE:
		return "none";
	case NETCHECK_MAPPING_INDEPENDENT:
		return "endpoint-independent";
	case NETCHECK_MAPPING_DEPENDENT:
		return "endpoint-dependent";
	case NETCHECK_MAPPING_UNKNOWN:
		break;
	}
	return "unknown";
}

int netcheck_servers_from_config(const char *config_dir, const char *name,
				 struct rdv_endpoint *out, size_t max, size_t *n,
				 char err[static NETCHECK_ERR_LEN])
{
	struct config cfg;
	int r;

	_Static_assert((int)NETCHECK_ERR_LEN >= (int)CONFIG_ERR_LEN, "room for config errors");
	r = config_load(config_dir, name, &cfg, err);
	if (r)
		return r;
	*n = 0;
	for (size_t i = 0; i < cfg.n_rendezvous && *n < max; i++) {
		if (rdv_endpoint_from_sockaddr(&out[*n],
					       (const struct sockaddr *)&cfg.rendezvous[i].addr) == 0)
			(*n)++;
	}
	config_clear(&cfg);
	if (*n == 0) {
		snprintf(err, NETCHECK_ERR_LEN, "%s/%s.conf: no Rendezvous servers to ask", config_dir,
			 name);
		return -EINVAL;
	}
	return 0;
}

static int open_socket(int family, uint16_t *port)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int one = 1, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*port = family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				  : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void send_request(int fd, struct netcheck_target *t, struct netcheck *nc, size_t i_t,
			 uint64_t now)
{
	uint8_t req[STUN_HEADER_LEN];
	struct sockaddr_storage ss;
	socklen_t len;
	__typeof__(nc->pending[0]) *p = &nc->pending[i_t];
	size_t i = p->n < NETCHECK_ATTEMPTS_MAX ? p->n++ : NETCHECK_ATTEMPTS_MAX - 1;

	randombytes_buf(p->txid[i], STUN_TXID_LEN);
	p->sent_ms[i] = now;
	if (stun_build_binding_request(p->txid[i], req, sizeof(req)) < 0)
		return;
	rdv_endpoint_to_sockaddr(&t->addr, &ss, &len);
	/* A full buffer or an unreachable network: the resend tries again. */
	(void)!sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&ss, len);
}

static bool is_unspecified(const struct rdv_endpoint *e)
{
	static const uint8_t zero[16];

	return !memcmp(e->addr, zero, e->family == AF_INET ? 4 : 16);
}

/* A server's answer named its other port: ask there too. */
static void add_other(struct netcheck_report *r, size_t from, const struct sockaddr *other)
{
	struct netcheck_target *src = &r->targets[from], *t;
	struct rdv_endpoint o;

	if (src->is_other || r->n_targets == NETCHECK_MAX_TARGETS ||
	    rdv_endpoint_from_sockaddr(&o, other) != 0 || o.family != src->addr.family || o.port == 0)
		return;
	if (is_unspecified(&o))
		memcpy(o.addr, src->addr.addr, sizeof(o.addr)); /* "the address you sent to" */
	for (size_t i = 0; i < r->n_targets; i++)
		if (rdv_endpoint_equal(&r->targets[i].addr, &o))
			return;
	t = &r->targets[r->n_targets++];
	memset(t, 0, sizeof(*t));
	t->addr = o;
	t->server = src->server;
	t->is_other = true;
	t->rtt_ms = -1;
}

static void take_answer(struct netcheck *nc, const uint8_t *buf, size_t n,
			const struct sockaddr *from, uint64_t now)
{
	struct netcheck_report *r = &nc->report;
	struct rdv_endpoint src;
	struct stun_msg msg;

	if (rdv_endpoint_from_sockaddr(&src, from) != 0 || stun_parse(buf, n, &msg) != STUN_OK ||
	    msg.type != STUN_BINDING_SUCCESS || msg.legacy || !msg.has_mapped)
		return;
	for (size_t i = 0; i < r->n_targets; i++) {
		struct netcheck_target *t = &r->targets[i];

		if (t->answered || !rdv_endpoint_equal(&t->addr, &src))
			continue;
		for (size_t a = 0; a < nc->pending[i].n; a++) {
			if (sodium_memcmp(nc->pending[i].txid[a], msg.txid, STUN_TXID_LEN) != 0)
				continue;
			if (rdv_endpoint_from_sockaddr(&t->mapped, (struct sockaddr *)&msg.mapped))
				return;
			t->answered = true;
			t->rtt_ms = (int64_t)(now - nc->pending[i].sent_ms[a]);
			if (msg.has_other)
				add_other(r, i, (struct sockaddr *)&msg.other);
			return;
		}
	}
}

/* True when `addr` is one of this host's own addresses: no NAT between. */
static bool is_local_address(const struct rdv_endpoint *addr)
{
	struct ifaddrs *ifs, *ifa;
	bool found = false;

	if (getifaddrs(&ifs) != 0)
		return false;
	for (ifa = ifs; ifa && !found; ifa = ifa->ifa_next) {
		struct rdv_endpoint e;

		if (ifa->ifa_addr && rdv_endpoint_from_sockaddr(&e, ifa->ifa_addr) == 0 &&
		    e.family == addr->family)
			found = !memcmp(e.addr, addr->addr, e.family == AF_INET ? 4 : 16);
	}
	freeifaddrs(ifs);
	return found;
}

static void summarize(struct netcheck_report *r, struct netcheck_family *f, int family)
{
	const struct netcheck_target *first = NULL;
	size_t destinations = 0;
	bool differ = false;

	f->mapping = NETCHECK_MAPPING_UNKNOWN;
	f->port_preserved = -1;
	for (size_t i = 0; i < r->n_targets; i++) {
		const struct netcheck_target *t = &r->targets[i];

		if (t->addr.family != family || !t->answered)
			continue;
		if (!first)
			first = t;
		else if (!rdv_endpoint_equal(&first->mapped, &t->mapped))
			differ = true;
		destinations++;
	}
	if (!first)
		return;
	f->answered = true;
	r->udp = true;
	f->public_ep = first->mapped;
	f->port_preserved = first->mapped.port == f->local_port;
	if (is_local_address(&first->mapped) && first->mapped.port == f->local_port && !differ)
		f->mapping = NETCHECK_MAPPING_NONE;
	else if (differ)
		f->mapping = NETCHECK_MAPPING_DEPENDENT;
	else if (destinations >= 2)
		f->mapping = NETCHECK_MAPPING_INDEPENDENT;
}

int netcheck_start(struct netcheck *nc, const struct rdv_endpoint *servers, size_t n,
		   uint64_t now_ms, unsigned timeout_ms)
{
	struct netcheck_report *r = &nc->report;

	memset(nc, 0, sizeof(*nc));
	nc->fd4 = nc->fd6 = -1;
	for (size_t i = 0; i < n && i < NETCHECK_MAX_SERVERS; i++) {
		struct netcheck_target *t = &r->targets[r->n_targets++];

		t->addr = servers[i];
		t->server = i;
		t->rtt_ms = -1;
		if (servers[i].family == AF_INET)
			r->v4.asked = true;
		else
			r->v6.asked = true;
	}
	r->n_servers = r->n_targets;
	if (r->v4.asked)
		nc->fd4 = open_socket(AF_INET, &r->v4.local_port);
	if (r->v6.asked)
		nc->fd6 = open_socket(AF_INET6, &r->v6.local_port);
	if (nc->fd4 < 0 && nc->fd6 < 0 && r->n_targets > 0)
		return nc->fd4 < -1 ? nc->fd4 : nc->fd6 < -1 ? nc->fd6 : -EAFNOSUPPORT;
	nc->next_send_ms = now_ms;
	nc->deadline_ms = now_ms + timeout_ms;
	return 0;
}

uint64_t netcheck_poll(struct netcheck *nc, uint64_t now_ms)
{
	struct netcheck_report *r = &nc->report;
	bool all = true, resend = now_ms >= nc->next_send_ms;

	for (size_t i = 0; i < r->n_targets; i++) {
		struct netcheck_target *t = &r->targets[i];
		int fd = t->addr.family == AF_INET ? nc->fd4 : nc->fd6;

		if (t->answered || fd < 0)
			continue;
		all = false;
		/* A target added by an answer is asked at once. */
		if (resend || nc->pending[i].n == 0)
			send_request(fd, t, nc, i, now_ms);
	}
	if (resend)
		nc->next_send_ms = now_ms + NETCHECK_RESEND_MS;
	if (all || now_ms >= nc->deadline_ms)
		return 0;
	return MIN(nc->deadline_ms, nc->next_send_ms);
}

void netcheck_receive(struct netcheck *nc, int fd, uint64_t now_ms)
{
	uint8_t buf[STUN_MAX_MESSAGE];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t got;

	/* Bounded: a flood cannot keep us here (the loop comes back). */
	for (int i = 0; i < 64; i++) {
		got = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (got <= 0)
			return;
		take_answer(nc, buf, (size_t)got, (struct sockaddr *)&from, now_ms);
		fl = sizeof(from);
	}
}

void netcheck_finish(struct netcheck *nc)
{
	struct netcheck_report *r = &nc->report;

	if (nc->fd4 >= 0)
		close(nc->fd4);
	if (nc->fd6 >= 0)
		close(nc->fd6);
	nc->fd4 = nc->fd6 = -1;
	summarize(r, &r->v4, AF_INET);
	summarize(r, &r->v6, AF_INET6);
}

void netcheck_run(struct netcheck_report *r, const struct rdv_endpoint *servers, size_t n,
		  unsigned timeout_ms, bool portmap)
{
	struct netcheck nc;
	struct portmap_probe probe;
	uint64_t next;

	memset(&probe, 0, sizeof(probe));
	if (portmap)
		portmap_probe(&probe, PORTMAP_PROBE_MS);
	if (netcheck_start(&nc, servers, n, clock_now_ms(), timeout_ms) == 0) {
		while ((next = netcheck_poll(&nc, clock_now_ms())) != 0) {
			struct pollfd p[2] = { { .fd = nc.fd4, .events = POLLIN },
					       { .fd = nc.fd6, .events = POLLIN } };
			uint64_t now = clock_now_ms();

			if (poll(p, 2, next > now ? (int)(next - now) : 0) <= 0)
				continue;
			for (int k = 0; k < 2; k++)
				if (p[k].fd >= 0 && (p[k].revents & POLLIN))
					netcheck_receive(&nc, p[k].fd, clock_now_ms());
		}
	}
	netcheck_finish(&nc);
	*r = nc.report;
	r->portmap = probe;
}
