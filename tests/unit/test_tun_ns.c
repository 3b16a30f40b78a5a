/* Root-only checks of tun/ inside a network namespace that
 * tests/unit/test_tun.sh created; never run it in the host's namespace.
 *
 *   test_tun_ns layout NAME CHECK...   set up the standard config, run
 *                                      "CHECK... up", tear down, run
 *                                      "CHECK... torn", close
 *   test_tun_ns packets NAME           ICMP echo through the TUN (v4, v6) and
 *                                      ping to routed AllowedIPs, answered here
 *   test_tun_ns errors NAME1 NAME2     provoke every error; the namespace must
 *                                      look the same after each (snapshots
 *                                      from $TUN_TEST_SNAPSHOT)
 *   test_tun_ns notun NAME             expect the "no /dev/net/tun" error
 *   test_tun_ns cycles NAME N          N open/setup/teardown/close cycles must
 *                                      leak no fds, heap or interfaces
 *
 * Exits 0 on success, 1 on the first failed check (printed on stderr). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/compiler.h"
#include "tun/device.h"
#include "tun/netlink.h"

#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which gcc does not install. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,  \
				__LINE__, #cond);                               \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			exit(1);                                                \
		}                                                               \
	} while (0)

static struct tun_prefix pfx(const char *text)
{
	struct tun_prefix p;
	int r = tun_prefix_parse(&p, text);

	CHECK(r == 0, "bad test prefix %s", text);
	return p;
}

static struct tun_prefix pfx_peer(const char *local, const char *peer)
{
	struct tun_prefix p = pfx(local), q = pfx(peer);

	p.has_peer = true;
	memcpy(p.peer, q.addr, sizeof(p.peer));
	p.len = q.len;
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- helpers shared by the modes ---- */

static char *run_capture(const char *cmd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	FILE *f = popen(cmd, "r");
	size_t n;

	CHECK(buf && f, "cannot run %s", cmd);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *bigger = realloc(buf, cap * 2);

			CHECK(bigger, "out of memory");
			buf = bigger;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	CHECK(pclose(f) == 0, "%s failed", cmd);
	return buf;
}

/* The namespace as `ip -j` shows it, canonicalized by test_tun.sh. */
static char *snapshot(void)
{
	const char *cmd = getenv("TUN_TEST_SNAPSHOT");

	CHECK(cmd && *cmd, "TUN_TEST_SNAPSHOT is not set");
	return run_capture(cmd);
}

static void expect_same(char *before, const char *what)
{
	char *after = snapshot();

	if (strcmp(before, after) != 0) {
		fprintf(stderr, "namespace changed by %s\nbefore: %s\nafter:  %s\n",
			what, before, after);
		exit(1);
	}
	free(before);
	free(after);
	printf("ok: namespace unchanged after: %s\n", what);
}

static void expect_error(int r, int want, const struct tun_error *err,
			 const char *want_msg)
{
	CHECK(r == want, "got %d (%s), want %d; message: %s", r, strerror(-r), want,
	      err->msg);
	CHECK(strcmp(err->msg, want_msg) == 0, "message \"%s\", want \"%s\"",
	      err->msg, want_msg);
	printf("ok: error %d: %s\n", r, err->msg);
}

static void open_dev(struct tun_device *dev, const char *name)
{
	struct tun_error err = { "" };
	int r = tun_device_open(dev, name, 0, &err);

	CHECK(r == 0, "open %s: %s", name, err.msg);
}

static void setup(struct tun_applied *ap, const char *name,
		  const struct tun_config *cfg)
{
	struct tun_error err = { "" };
	int r = tun_setup(ap, name, cfg, &err);

	CHECK(r == 0, "setup %s: %s", name, err.msg);
}

static void teardown(struct tun_applied *ap)
{
	struct tun_error err = { "" };
	int r = tun_teardown(ap, &err);

	CHECK(r == 0, "teardown: %s", err.msg);
}

/* ---- layout ---- */

static int run_child(char **argv, const char *extra)
{
	char *args[16];
	int n = 0, status;
	pid_t pid;

	for (; argv[n] && n < 14; n++)
		args[n] = argv[n];
	args[n++] = (char *)extra;
	args[n] = NULL;
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(args[0], args);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int mode_layout(const char *name, char **check)
{
	const struct tun_prefix addrs[] = {
		pfx("10.77.0.2/24"),
		pfx("fd77::2/64"),
		pfx_peer("10.88.0.2", "10.88.0.1/32"),
		pfx_peer("fd88::2", "fd88::1/128"),
		pfx("10.66.0.0/31"),
	};
	const struct tun_prefix routes[] = {
		pfx("10.77.0.1/32"),	/* covered by 10.77.0.0/24 */
		pfx("10.77.0.0/24"),	/* the connected route itself */
		pfx("10.88.0.1/32"),	/* covered by the p2p peer route */
		pfx("fd77::1/128"),	/* covered by fd77::/64 */
		pfx("10.2.0.0/24"),
		pfx("10.3.0.7/16"),	/* host bits: route 10.3.0.0/16 */
		pfx("fd77:2::/48"),
		pfx("10.2.0.0/24"),	/* listed twice */
	};
	const struct tun_config cfg = {
		.mtu = 1380,
		.addrs = addrs, .addrs_len = ARRAY_SIZE(addrs),
		.routes = routes, .routes_len = ARRAY_SIZE(routes),
	};
	struct tun_device dev;
	struct tun_applied ap;
	int rc;

	open_dev(&dev, name);
	setup(&ap, name, &cfg);
	printf("routes added %zu, covered %zu\n", ap.routes_len, ap.routes_covered);
	CHECK(ap.routes_len == 3 && ap.routes_covered == 4, "added %zu covered %zu",
	      ap.routes_len, ap.routes_covered);
	rc = run_child(check, "up");
	CHECK(rc == 0, "check of the configured interface failed (%d)", rc);
	teardown(&ap);
	rc = run_child(check, "torn");
	CHECK(rc == 0, "check of the torn-down interface failed (%d)", rc);
	tun_device_close(&dev);
	return 0;
}

/* ---- packets ---- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t icmp6_sum(const uint8_t *ip6, const uint8_t *icmp, size_t len)
{
	uint8_t pseudo[40] = { 0 };

	memcpy(pseudo, ip6 + 8, 32);	/* source and destination */
	pseudo[34] = (uint8_t)(len >> 8);
	pseudo[35] = (uint8_t)len;
	pseudo[39] = 58;
	return fold(sum16(icmp, len, sum16(pseudo, sizeof(pseudo), 0)));
}

enum { ECHO_PAYLOAD = 48 };

/* An echo request or reply (type) from src to dst; returns its length. */
static size_t build_echo(uint8_t *pkt, int family, const uint8_t *src,
			 const uint8_t *dst, uint8_t type, uint16_t id, uint16_t seq,
			 const uint8_t *payload, size_t plen)
{
	size_t hl = family == AF_INET ? 20 : 40, il = 8 + plen;
	uint8_t *icmp = pkt + hl;

	memset(pkt, 0, hl + il);
	if (family == AF_INET) {
		pkt[0] = 0x45;
		store_be16(pkt + 2, (uint16_t)(hl + il));
		store_be16(pkt + 4, seq);
		pkt[6] = 0x40;	/* DF */
		pkt[8] = 64;
		pkt[9] = 1;
		memcpy(pkt + 12, src, 4);
		memcpy(pkt + 16, dst, 4);
		store_be16(pkt + 10, fold(sum16(pkt, hl, 0)));
	} else {
		pkt[0] = 0x60;
		store_be16(pkt + 4, (uint16_t)il);
		pkt[6] = 58;
		pkt[7] = 64;
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
	}
	icmp[0] = type;
	store_be16(icmp + 4, id);
	store_be16(icmp + 6, seq);
	memcpy(icmp + 8, payload, plen);
	store_be16(icmp + 2, family == AF_INET ? fold(sum16(icmp, il, 0))
					  : icmp6_sum(pkt, icmp, il));
	return hl + il;
}

/* Parses an ICMP/ICMPv6 packet read from the TUN, verifying every checksum.
 * Returns the ICMP part (and its length) or NULL if it is something else. */
static const uint8_t *parse_icmp(const uint8_t *pkt, size_t n, int family,
				 size_t *ilen)
{
	if (family == AF_INET) {
		size_t hl;

		if (n < 20 || pkt[0] >> 4 != 4 || pkt[9] != 1)
			return NULL;
		hl = (size_t)(pkt[0] & 0xf) * 4;
		CHECK(hl >= 20 && hl <= n, "bad IHL");
		CHECK(((size_t)pkt[2] << 8 | pkt[3]) == n, "IPv4 total length %u vs read %zu",
		      (unsigned)(pkt[2] << 8 | pkt[3]), n);
		CHECK(fold(sum16(pkt, hl, 0)) == 0, "IPv4 header checksum wrong");
		*ilen = n - hl;
		CHECK(*ilen >= 8 && fold(sum16(pkt + hl, *ilen, 0)) == 0,
		      "ICMP checksum wrong");
		return pkt + hl;
	}
	if (n < 40 || pkt[0] >> 4 != 6 || pkt[6] != 58)
		return NULL;
	CHECK(((size_t)pkt[4] << 8 | pkt[5]) + 40 == n, "IPv6 payload length");
	*ilen = n - 40;
	CHECK(*ilen >= 8 && icmp6_sum(pkt, pkt + 40, *ilen) == 0, "ICMPv6 checksum wrong");
	return pkt + 40;
}

static uint8_t pkt_buf[TUN_PACKET_MAX];	/* the read buffer; no allocation */

static ssize_t read_wait(struct tun_device *dev, uint64_t deadline)
{
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = tun_device_fd(dev, 0), .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			CHECK(0, "poll: %s", strerror(errno));
		n = tun_device_read(dev, 0, pkt_buf, sizeof(pkt_buf));
		if (n == -EAGAIN)
			continue;
		CHECK(n > 0, "read: %s", strerror((int)-n));
		return n;
	}
	return 0;
}

/* Echo request into the TUN to our own address; the kernel's reply must come
 * back out of the TUN, byte for byte what we sent, checksums valid. */
static void echo_self(struct tun_device *dev, int family, const char *peer,
		      const char *self)
{
	uint8_t src[16], dst[16], payload[ECHO_PAYLOAD], pkt[128];
	uint8_t type_req = family == AF_INET ? 8 : 128;
	uint8_t type_rep = family == AF_INET ? 0 : 129;
	size_t alen = family == AF_INET ? 4 : 16, len;
	uint64_t deadline = now_ms() + 5000;
	uint16_t id = (uint16_t)(getpid() | 0x8000);
	int skipped = 0, r;

	CHECK(inet_pton(family, peer, src) == 1 && inet_pton(family, self, dst) == 1,
	      "addresses");
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	len = build_echo(pkt, family, src, dst, type_req, id, 1, payload, sizeof(payload));
	r = tun_device_write(dev, 0, pkt, len);
	CHECK(r == 0, "write: %s", strerror(-r));
	for (;;) {
		ssize_t n = read_wait(dev, deadline);
		const uint8_t *icmp;
		size_t ilen;

		CHECK(n > 0, "no echo reply from %s within 5 s", self);
		icmp = parse_icmp(pkt_buf, (size_t)n, family, &ilen);
		if (!icmp || icmp[0] != type_rep ||
		    (uint16_t)(icmp[4] << 8 | icmp[5]) != id) {
			skipped++;	/* MLD, router solicitations, older replies */
			continue;
		}
		CHECK(!memcmp(pkt_buf + (family == AF_INET ? 12 : 8), dst, alen) &&
		      !memcmp(pkt_buf + (family == AF_INET ? 16 : 24), src, alen),
		      "reply addresses are not swapped");
		CHECK(((uint16_t)(icmp[4] << 8 | icmp[5])) == id && icmp[6] == 0 &&
		      icmp[7] == 1, "reply id/seq");
		CHECK(ilen == 8 + sizeof(payload) && !memcmp(icmp + 8, payload, sizeof(payload)),
		      "reply payload differs");
		printf("ok: echo %s -> %s through the TUN answered (%zd bytes, checksums valid, %d other packets skipped)\n",
		       peer, self, n, skipped);
		return;
	}
}

/* A packet that does not fit the caller's buffer is reported, not handed
 * over cut short, and the next packet reads normally. */
static void short_read(struct tun_device *dev)
{
	uint8_t src[4], dst[4], payload[ECHO_PAYLOAD] = { 0 }, pkt[128], small[16];
	size_t len;
	ssize_t n = 0;
	uint64_t deadline = now_ms() + 5000;

	CHECK(inet_pton(AF_INET, "10.77.0.1", src) == 1 &&
	      inet_pton(AF_INET, "10.77.0.2", dst) == 1, "addresses");
	len = build_echo(pkt, AF_INET, src, dst, 8, 7, 7, payload, sizeof(payload));
	CHECK(tun_device_write(dev, 0, pkt, len) == 0, "write");
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = tun_device_fd(dev, 0), .events = POLLIN };

		CHECK(poll(&pfd, 1, 100) >= 0 || errno == EINTR, "poll");
		n = tun_device_read(dev, 0, small, sizeof(small));
		if (n != -EAGAIN)
			break;
	}
	printf("short read of a %zu-byte reply into %zu bytes: %zd\n", len, sizeof(small), n);
	CHECK(n == -EMSGSIZE, "short read returned %zd", n);
	/* The queue goes on: the next echo comes back whole. */
	echo_self(dev, AF_INET, "10.77.0.1", "10.77.0.2");
}

/* Runs ping(8) at `target` (an address behind a route through the TUN) and
 * answers every echo request read from the TUN. */
static void ping_routed(struct tun_device *dev, int family, const char *self,
			const char *target)
{
	uint8_t want_src[16], want_dst[16], reply[TUN_PACKET_MAX];
	size_t alen = family == AF_INET ? 4 : 16;
	size_t so = family == AF_INET ? 12 : 8, dof = family == AF_INET ? 16 : 24;
	uint64_t deadline = now_ms() + 20000;
	int seen = 0, status = -1;
	pid_t pid;

	CHECK(inet_pton(family, self, want_src) == 1 &&
	      inet_pton(family, target, want_dst) == 1, "addresses");
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execlp("ping", "ping", family == AF_INET ? "-4" : "-6", "-n", "-c", "3",
		       "-i", "0.2", "-w", "10", target, (char *)NULL);
		_exit(127);
	}
	while (now_ms() < deadline) {
		ssize_t n = read_wait(dev, now_ms() + 100);
		const uint8_t *icmp;
		size_t ilen, len;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (n <= 0)
			continue;
		icmp = parse_icmp(pkt_buf, (size_t)n, family, &ilen);
		if (!icmp || icmp[0] != (family == AF_INET ? 8 : 128))
			continue;
		CHECK(!memcmp(pkt_buf + so, want_src, alen) &&
		      !memcmp(pkt_buf + dof, want_dst, alen),
		      "echo request read from the TUN has unexpected addresses");
		seen++;
		len = build_echo(reply, family, want_dst, want_src,
				 family == AF_INET ? 0 : 129,
				 (uint16_t)(icmp[4] << 8 | icmp[5]),
				 (uint16_t)(icmp[6] << 8 | icmp[7]), icmp + 8, ilen - 8);
		CHECK(tun_device_write(dev, 0, reply, len) == 0, "write reply");
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(0, "ping did not finish within 20 s");
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ping failed (status %d)",
	      status);
	CHECK(seen == 3, "read %d echo requests for %s from the TUN, want 3", seen, target);
	printf("ok: ping %s from the namespace: %d echo requests read from the TUN and answered\n",
	       target, seen);
}

static int mode_packets(const char *name)
{
	const struct tun_prefix addrs[] = { pfx("10.77.0.2/24"), pfx("fd77::2/64") };
	const struct tun_prefix routes[] = { pfx("10.2.0.0/24"), pfx("fd77:2::/48") };
	const struct tun_config cfg = {
		.mtu = 1420,
		.addrs = addrs, .addrs_len = ARRAY_SIZE(addrs),
		.routes = routes, .routes_len = ARRAY_SIZE(routes),
	};
	struct tun_device dev;
	struct tun_applied ap;
	uint8_t junk[4] = { 0x10, 0, 0, 0 };

	open_dev(&dev, name);
	CHECK(tun_device_read(&dev, 0, pkt_buf, sizeof(pkt_buf)) == -EAGAIN,
	      "a fresh device has nothing to read and must not block");
	CHECK(tun_device_write(&dev, 0, junk, sizeof(junk)) == -EINVAL,
	      "a non-IP packet must be refused");
	CHECK(tun_device_write(&dev, 0, junk, 0) == -EINVAL, "an empty packet must be refused");
	CHECK(tun_device_read(&dev, 1, pkt_buf, sizeof(pkt_buf)) == -EBADF,
	      "there is no queue 1");
	setup(&ap, name, &cfg);
	echo_self(&dev, AF_INET, "10.77.0.1", "10.77.0.2");
	echo_self(&dev, AF_INET6, "fd77::1", "fd77::2");
	short_read(&dev);
	ping_routed(&dev, AF_INET, "10.77.0.2", "10.2.0.9");
	ping_routed(&dev, AF_INET6, "fd77::2", "fd77:2::9");
	teardown(&ap);
	tun_device_close(&dev);
	return 0;
}

/* ---- errors ---- */

static void set_net_admin(bool on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	CHECK(syscall(SYS_capget, &hdr, data) == 0, "capget: %s", strerror(errno));
	if (on)
		data[0].effective |= 1u << CAP_NET_ADMIN;
	else
		data[0].effective &= ~(1u << CAP_NET_ADMIN);
	CHECK(syscall(SYS_capset, &hdr, data) == 0, "capset: %s", strerror(errno));
}

static void write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fputs(value, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static int mode_errors(const char *n1, const char *n2)
{
	const struct tun_prefix a1[] = { pfx("10.77.0.2/24"), pfx("fd77::2/64") };
	const struct tun_prefix r1[] = { pfx("10.2.0.0/24"), pfx("fd77:2::/48") };
	const struct tun_config c1 = { .mtu = 1420, .addrs = a1, .addrs_len = 2,
				       .routes = r1, .routes_len = 2 };
	struct tun_device d1, d2, d3;
	struct tun_applied ap1, ap2;
	struct tun_error err;
	char want[TUN_ERROR_LEN];
	char *before;
	int r;

	/* Something that is ours and in the way: n1 fully configured. */
	open_dev(&d1, n1);
	setup(&ap1, n1, &c1);

	/* Name already taken. */
	before = snapshot();
	r = tun_device_open(&d3, n1, 0, &err);
	snprintf(want, sizeof(want), "interface %s already exists", n1);
	expect_error(r, -EBUSY, &err, want);
	expect_same(before, "opening an existing name");

	/* Any kind of interface: IFF_TUN_EXCL keeps us off loopback too. */
	before = snapshot();
	r = tun_device_open(&d3, "lo", 0, &err);
	expect_error(r, -EBUSY, &err, "interface lo already exists");
	expect_same(before, "opening the name of a non-TUN interface");

	/* Bad name: refused before the kernel sees it. */
	before = snapshot();
	r = tun_device_open(&d3, "a/b", 0, &err);
	CHECK(r == -EINVAL && strstr(err.msg, "invalid interface name \"a/b\""), "%s", err.msg);
	expect_same(before, "an invalid name");

	/* Without CAP_NET_ADMIN: creating, and configuring. */
	open_dev(&d2, n2);
	before = snapshot();
	set_net_admin(false);
	r = tun_device_open(&d3, "tnlnocap", 0, &err);
	snprintf(want, sizeof(want), "creating interface tnlnocap needs root or CAP_NET_ADMIN");
	expect_error(r, -EPERM, &err, want);
	{
		const struct tun_prefix a[] = { pfx("10.55.0.2/24") };
		const struct tun_config c = { .mtu = 1400, .addrs = a, .addrs_len = 1 };

		r = tun_setup(&ap2, n2, &c, &err);
		snprintf(want, sizeof(want), "setting the MTU on %s needs root or CAP_NET_ADMIN", n2);
		expect_error(r, -EPERM, &err, want);
	}
	set_net_admin(true);
	expect_same(before, "missing CAP_NET_ADMIN");

	/* An address on another interface: IPv4, then IPv6 after an IPv4
	 * address was already added (which must be rolled back). */
	{
		const struct tun_prefix a[] = { pfx("10.77.0.2/24") };
		const struct tun_config c = { .addrs = a, .addrs_len = 1 };

		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		snprintf(want, sizeof(want), "address 10.77.0.2 is already on interface %s", n1);
		expect_error(r, -EADDRINUSE, &err, want);
		expect_same(before, "an IPv4 address in use");
	}
	{
		const struct tun_prefix a[] = { pfx("10.55.0.2/24"), pfx("fd77::2/64") };
		const struct tun_config c = { .mtu = 1300, .addrs = a, .addrs_len = 2 };

		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		snprintf(want, sizeof(want), "address fd77::2 is already on interface %s", n1);
		expect_error(r, -EADDRINUSE, &err, want);
		expect_same(before, "an IPv6 address in use (after MTU and an IPv4 address)");
	}

	/* Routes someone else already has, after addresses, link-up and one
	 * route of ours were done. */
	{
		const struct tun_prefix a[] = { pfx("10.55.0.2/24"), pfx("fd55::2/64") };
		const struct tun_prefix rt4[] = { pfx("10.56.0.0/16"), pfx("10.2.0.0/24") };
		const struct tun_prefix rt6[] = { pfx("fd56::/64"), pfx("fd77:2::/48") };
		const struct tun_prefix rtb[] = { pfx("10.56.0.0/16"), pfx("10.9.9.0/24") };
		struct tun_config c = { .mtu = 1400, .addrs = a, .addrs_len = 2,
					.routes = rt4, .routes_len = 2 };

		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		snprintf(want, sizeof(want),
			 "route 10.2.0.0/24 conflicts with an existing route via %s", n1);
		expect_error(r, -EEXIST, &err, want);
		expect_same(before, "an IPv4 route conflict");

		c.routes = rt6;
		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		snprintf(want, sizeof(want),
			 "route fd77:2::/48 conflicts with an existing route via %s", n1);
		expect_error(r, -EEXIST, &err, want);
		expect_same(before, "an IPv6 route conflict");

		free(run_capture("ip route add blackhole 10.9.9.0/24"));
		c.routes = rtb;
		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		expect_error(r, -EEXIST, &err,
			     "route 10.9.9.0/24 conflicts with an existing route of type blackhole");
		expect_same(before, "a blackhole route in the way");
		free(run_capture("ip route del blackhole 10.9.9.0/24"));
	}

	/* IPv6 disabled on our interface: for an address (after an IPv4 one)
	 * and for a route. */
	{
		const struct tun_prefix a[] = { pfx("10.55.0.2/24"), pfx("fd55::2/64") };
		const struct tun_prefix a4[] = { pfx("10.55.0.2/24") };
		const struct tun_prefix rt[] = { pfx("10.56.0.0/16"), pfx("fd56::/64") };
		const struct tun_config c = { .mtu = 1400, .addrs = a, .addrs_len = 2 };
		const struct tun_config cr = { .addrs = a4, .addrs_len = 1,
					       .routes = rt, .routes_len = 2 };
		char path[128];

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", n2);
		write_file(path, "1");
		snprintf(want, sizeof(want),
			 "IPv6 is disabled on %s (net.ipv6.conf.%s.disable_ipv6=1)", n2, n2);
		before = snapshot();
		r = tun_setup(&ap2, n2, &c, &err);
		CHECK(r < 0, "setup with IPv6 disabled succeeded");
		expect_error(r, r, &err, want);
		expect_same(before, "an IPv6 address with IPv6 disabled");

		before = snapshot();
		r = tun_setup(&ap2, n2, &cr, &err);
		CHECK(r < 0, "setup with IPv6 disabled succeeded");
		expect_error(r, r, &err, want);
		expect_same(before, "an IPv6 route with IPv6 disabled");
		write_file(path, "0");
	}

	/* Config errors: nothing is touched. */
	{
		const struct tun_prefix a6[] = { pfx("fd55::2/64") };
		const struct tun_prefix mc[] = { pfx("224.0.0.1/32") };
		const struct tun_prefix dup[] = { pfx("10.55.0.2/24"), pfx("10.55.0.2/16") };
		struct tun_prefix peer_route = pfx_peer("10.9.0.0", "10.9.0.1/32");
		const struct {
			struct tun_config cfg;
			const char *msg;
		} bad[] = {
			{ { .mtu = 20 }, "MTU 20 is out of range (68-65535)" },
			{ { .mtu = 70000 }, "MTU 70000 is out of range (68-65535)" },
			{ { .mtu = 1200, .addrs = a6, .addrs_len = 1 },
			  "MTU 1200 is below 1280, the minimum for IPv6" },
			{ { .addrs = mc, .addrs_len = 1 },
			  "address 224.0.0.1 cannot be an interface address" },
			{ { .addrs = dup, .addrs_len = 2 }, "address 10.55.0.2 is listed twice" },
			{ { .routes = &peer_route, .routes_len = 1 },
			  "route 10.9.0.0/32 cannot have a peer address" },
			{ { .addrs_len = 1 }, "interface config has no arrays" },
		};

		before = snapshot();
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			r = tun_setup(&ap2, n2, &bad[i].cfg, &err);
			expect_error(r, -EINVAL, &err, bad[i].msg);
		}
		r = tun_setup(&ap2, "tnlmissing", &c1, &err);
		expect_error(r, -ENODEV, &err, "no interface tnlmissing");
		expect_same(before, "config errors");
	}

	/* After all that, n2 still takes a good config and gives it back. */
	{
		const struct tun_prefix a[] = { pfx("10.55.0.2/24"), pfx("fd55::2/64") };
		const struct tun_prefix rt[] = { pfx("10.56.0.0/16"), pfx("fd56::/64") };
		const struct tun_config c = { .mtu = 1400, .addrs = a, .addrs_len = 2,
					      .routes = rt, .routes_len = 2 };

		before = snapshot();
		setup(&ap2, n2, &c);
		CHECK(ap2.routes_len == 2, "routes %zu", ap2.routes_len);
		teardown(&ap2);
		expect_same(before, "a full setup and teardown of the second interface");

		/* Someone removed a route and an address of ours meanwhile:
		 * teardown removes the rest and does not complain. */
		before = snapshot();
		setup(&ap2, n2, &c);
		{
			char cmd[160];

			snprintf(cmd, sizeof(cmd),
				 "ip route del 10.56.0.0/16 dev %s && ip addr del fd55::2/64 dev %s",
				 n2, n2);
			free(run_capture(cmd));
		}
		teardown(&ap2);
		expect_same(strdup(before), "teardown after a route and an address vanished");
		teardown(&ap2);	/* a second teardown is a no-op */
		expect_same(strdup(before), "a second teardown");

		/* The interface itself went first (daemon closed it): fine too. */
		open_dev(&d3, "tnlgone");
		setup(&ap2, "tnlgone", &c);
		tun_device_close(&d3);
		teardown(&ap2);
		CHECK(if_nametoindex("tnlgone") == 0, "tnlgone still exists");
		expect_same(before, "teardown after the interface was closed");
	}
	tun_device_close(&d2);
	teardown(&ap1);
	tun_device_close(&d1);
	return 0;
}

static int mode_notun(const char *name)
{
	struct tun_device dev;
	struct tun_error err;
	int r = tun_device_open(&dev, name, 0, &err);

	expect_error(r, -ENOENT, &err, "no /dev/net/tun (load the tun module)");
	CHECK(tun_device_fd(&dev, 0) == -1, "a failed open leaves no descriptor");
	return 0;
}

/* ---- cycles ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d, "opendir /proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int count_links(void)
{
	struct if_nameindex *list = if_nameindex(), *i;
	int n = 0;

	CHECK(list, "if_nameindex");
	for (i = list; i->if_index; i++)
		n++;
	if_freenameindex(list);
	return n;
}

/* What the heap check counts. mallinfo2() is not a sound measure: its
 * "in use" includes chunks freed into glibc's per-thread cache (tcache),
 * which holds up to 7 chunks of each size, so it moves by hundreds of
 * bytes with the sizes the last cycle happened to free (RelWithDebInfo
 * runs saw +0, +272, +592, +1200 bytes, not growing with the number of
 * cycles). Instead this program counts its own allocations: malloc and
 * friends are replaced (glibc supports that, and libnl's and glibc's own
 * calls come here too) by wrappers around glibc's allocator that count
 * the blocks live. A block leaked per cycle shows as one per cycle. Under
 * ASan, whose allocator replaces malloc itself, its own count of bytes
 * allocated and not freed (no cache in it) is the measure. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_UNIT "bytes"
static long heap_in_use(void)
{
	return (long)__sanitizer_get_current_allocated_bytes();
}
#else
#define HEAP_UNIT "blocks"
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void __libc_free(void *p);

/* Single-threaded program: a plain counter. */
static long heap_blocks;

static void *counted(void *p)
{
	if (p)
		heap_blocks++;
	return p;
}

void *malloc(size_t size)
{
	return counted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
	return counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t size)
{
	void *q = __libc_realloc(p, size);

	if (!p)
		return counted(q);
	if (size == 0 && !q) /* glibc frees p */
		heap_blocks--;
	return q;
}

void free(void *p)
{
	if (p)
		heap_blocks--;
	__libc_free(p);
}

void *memalign(size_t align, size_t size)
{
	return counted(__libc_memalign(align, size));
}

void *aligned_alloc(size_t align, size_t size)
{
	return counted(__libc_memalign(align, size));
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = counted(__libc_memalign(align, size));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *valloc(size_t size)
{
	return counted(__libc_memalign((size_t)sysconf(_SC_PAGESIZE), size));
}

void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return counted(__libc_memalign(page, (size + page - 1) / page * page));
}

static long heap_in_use(void)
{
	return heap_blocks;
}
#endif

static int mode_cycles(const char *name, long cycles)
{
	const struct tun_prefix addrs[] = { pfx("10.77.0.2/24"), pfx("fd77::2/64"),
					    pfx_peer("10.88.0.2", "10.88.0.1/32") };
	const struct tun_prefix routes[] = { pfx("10.77.0.1/32"), pfx("10.2.0.0/24"),
					     pfx("fd77:2::/48"), pfx("10.3.0.0/16") };
	const struct tun_config cfg = {
		.mtu = 1420,
		.addrs = addrs, .addrs_len = ARRAY_SIZE(addrs),
		.routes = routes, .routes_len = ARRAY_SIZE(routes),
	};
	enum { WARMUP = 20 };
	int fds0 = count_fds(), links0 = count_links(), fds1, links1;
	long heap0 = 0, heap1;
	uint64_t t0 = now_ms();

	CHECK(cycles > WARMUP, "need more than %d cycles", WARMUP);
	for (long i = 0; i < cycles; i++) {
		struct tun_device dev;
		struct tun_applied ap;

		/* libnl and glibc set up lazily on first use; measure after. */
		if (i == WARMUP)
			heap0 = heap_in_use();
		open_dev(&dev, name);
		setup(&ap, name, &cfg);
		CHECK(ap.routes_len == 3 && ap.routes_covered == 1, "cycle %ld", i);
		teardown(&ap);
		tun_device_close(&dev);
		CHECK(if_nametoindex(name) == 0, "cycle %ld: %s still exists", i, name);
	}
	heap1 = heap_in_use();
	fds1 = count_fds();
	links1 = count_links();
	printf("cycles %ld in %llu ms: fds %d -> %d, interfaces %d -> %d, heap %s in use after warm-up %ld -> %ld\n",
	       cycles, (unsigned long long)(now_ms() - t0), fds0, fds1, links0, links1,
	       HEAP_UNIT, heap0, heap1);
	CHECK(fds0 == fds1, "file descriptors leaked");
	CHECK(links0 == links1, "interfaces leaked");
	CHECK(heap1 <= heap0, "heap grew by %ld %s", heap1 - heap0, HEAP_UNIT);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "layout"))
		return mode_layout(argv[2], argv + 3);
	if (argc == 3 && !strcmp(argv[1], "packets"))
		return mode_packets(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "errors"))
		return mode_errors(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "notun"))
		return mode_notun(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "cycles"))
		return mode_cycles(argv[2], strtol(argv[3], NULL, 10));
	fprintf(stderr, "usage: see the comment at the top of test_tun_ns.c\n");
	return 2;
}
