/* Encoding and parsing of the control protocol (see control.h), and where
 * both sides find a link's socket. Both sides treat the other's bytes as
 * untrusted: every line is bounded and checked. */
#include "tunnel/control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/number.h"

const char *const control_drop_names[DROP_KIND_COUNT] = {
	[DROP_MALFORMED] = "malformed",
	[DROP_UNAUTHENTICATED] = "unauthenticated",
	[DROP_REPLAYED] = "replayed",
	[DROP_NO_SESSION] = "no_session",
	[DROP_NOT_ALLOWED] = "not_allowed",
	[DROP_RATE_LIMITED] = "rate_limited",
	[DROP_TUN_FULL] = "tun_full",
	[DROP_NO_ROUTE] = "no_route",
	[DROP_TOO_BIG] = "too_big",
	[DROP_LOOPED] = "looped",
};

enum field_type { FIELD_STRING, FIELD_INT, FIELD_UINT };

struct field {
	const char *key;
	enum field_type type;
	size_t offset;
	size_t size; /* for strings: the buffer size */
};

#define STRING_FIELD(name) \
	{ #name, FIELD_STRING, offsetof(struct control_status, name), \
	  sizeof(((struct control_status *)0)->name) }
#define INT_FIELD(name) { #name, FIELD_INT, offsetof(struct control_status, name), 0 }
#define UINT_FIELD(name) { #name, FIELD_UINT, offsetof(struct control_status, name), 0 }

/* The "get" response's keys, in the order they are written. */
static const struct field fields[] = {
	STRING_FIELD(name),
	STRING_FIELD(public_key),
	STRING_FIELD(peer_public_key),
	STRING_FIELD(state),
	STRING_FIELD(path),
	STRING_FIELD(endpoint),
	STRING_FIELD(reflexive_endpoint),
	STRING_FIELD(reason),
	INT_FIELD(last_handshake_age_s),
	INT_FIELD(rtt_ms),
	UINT_FIELD(rx_bytes),
	UINT_FIELD(tx_bytes),
	UINT_FIELD(keepalive_s),
	UINT_FIELD(path_mtu),
	UINT_FIELD(path_changes),
	UINT_FIELD(probes_sent),
	STRING_FIELD(mode),
	UINT_FIELD(frames_rx),
	UINT_FIELD(frames_tx),
	UINT_FIELD(remote_macs),
	UINT_FIELD(pid),
	STRING_FIELD(nat_mapping),
	STRING_FIELD(nat_port_preserved),
	STRING_FIELD(nat_portmap),
	STRING_FIELD(nat_public),
	STRING_FIELD(portmap_reason),
	STRING_FIELD(path_origin),
	STRING_FIELD(path_origin_reason),
	STRING_FIELD(relay_channel),
};

int control_parse_request(const char *buf, size_t len, enum control_request *req)
{
	const char *end = memmem(buf, len, "\n\n", 2);
	size_t req_len;

	if (!end)
		return len >= CONTROL_REQUEST_MAX ? -EINVAL : -EAGAIN;
	req_len = (size_t)(end - buf) + 2;
	if (req_len == sizeof("get=1\n\n") - 1 && !memcmp(buf, "get=1\n\n", req_len)) {
		*req = CONTROL_GET;
		return 0;
	}
	if (req_len == sizeof("down=1\n\n") - 1 && !memcmp(buf, "down=1\n\n", req_len)) {
		*req = CONTROL_DOWN;
		return 0;
	}
	if (req_len == sizeof("reload=1\n\n") - 1 && !memcmp(buf, "reload=1\n\n", req_len)) {
		*req = CONTROL_RELOAD;
		return 0;
	}
	if (req_len == sizeof("show=1\n\n") - 1 && !memcmp(buf, "show=1\n\n", req_len)) {
		*req = CONTROL_SHOW;
		return 0;
	}
	if (req_len == sizeof("ping=1\n\n") - 1 && !memcmp(buf, "ping=1\n\n", req_len)) {
		*req = CONTROL_PING;
		return 0;
	}
	return -EINVAL;
}

/* Appends to buf; returns false once it no longer fits. */
static bool append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *pos)
		return false;
	*pos += (size_t)n;
	return true;
}

/* Strings go out verbatim, minus anything that would break the framing. */
static void clean_copy(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}

int control_format_status(const struct control_status *st, char *buf, size_t size)
{
	const char *base = (const char *)st;
	size_t pos = 0;
	bool ok = true;

	for (size_t i = 0; i < ARRAY_SIZE(fields) && ok; i++) {
		const struct field *f = &fields[i];
		char clean[CONTROL_REASON_MAX];

		switch (f->type) {
		case FIELD_STRING:
			clean_copy(clean, base + f->offset, MIN(f->size, sizeof(clean)));
			ok = append(buf, size, &pos, "%s=%s\n", f->key, clean);
			break;
		case FIELD_INT:
			ok = append(buf, size, &pos, "%s=%" PRId64 "\n", f->key,
				    *(const int64_t *)(const void *)(base + f->offset));
			break;
		case FIELD_UINT:
			ok = append(buf, size, &pos, "%s=%" PRIu64 "\n", f->key,
				    *(const uint64_t *)(const void *)(base + f->offset));
			break;
		}
	}
	for (size_t i = 0; i < DROP_KIND_COUNT && ok; i++)
		ok = append(buf, size, &pos, "dropped_%s=%" PRIu64 "\n", control_drop_names[i],
			    st->dropped[i]);
	if (ok)
		ok = append(buf, size, &pos, "errno=0\n\n");
	return ok ? (int)pos : -ENOSPC;
}

static bool parse_int64(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0';
}

/* Stores one key=value line; false if the key is unknown or the value bad. */
static bool store(struct control_status *st, const char *key, const char *value,
		  uint64_t *seen)
{
	char *base = (char *)st;

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];

		if (strcmp(key, f->key))
			continue;
		*seen |= UINT64_C(1) << i;
		switch (f->type) {
		case FIELD_STRING:
			if (strlen(value) >= f->size)
				return false;
			strcpy(base + f->offset, value);
			return true;
		case FIELD_INT:
			return parse_int64(value, (int64_t *)(void *)(base + f->offset));
		case FIELD_UINT:
			return number_parse_uint(value, UINT64_MAX,
						 (uint64_t *)(void *)(base + f->offset)) == 0;
		}
	}
	if (!strncmp(key, "dropped_", 8)) {
		for (size_t i = 0; i < DROP_KIND_COUNT; i++) {
			if (!strcmp(key + 8, control_drop_names[i]))
				return number_parse_uint(value, UINT64_MAX, &st->dropped[i]) == 0;
		}
		return true; /* a newer daemon's counter: ignore, stay compatible */
	}
	return false;
}

int control_parse_status(const char *buf, size_t len, struct control_status *st)
{
	const char *end = memmem(buf, len, "\n\n", 2);
	const char *line = buf;
	uint64_t seen = 0;

	if (!end)
		return len >= CONTROL_RESPONSE_MAX ? -EINVAL : -EAGAIN;
	memset(st, 0, sizeof(*st));
	while (line <= end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line) + 1);
		char text[CONTROL_REASON_MAX + 64];
		size_t n = (size_t)(nl - line);
		char *eq;

		if (n >= sizeof(text))
			return -EINVAL;
		memcpy(text, line, n);
		text[n] = '\0';
		if (memchr(text, '\0', n))
			return -EINVAL;
		line = nl + 1;
		eq = strchr(text, '=');
		if (!eq || eq == text)
			return -EINVAL;
		*eq = '\0';
		if (!strcmp(text, "errno")) {
			int64_t e;

			if (!parse_int64(eq + 1, &e) || e < 0 || e > 4095)
				return -EINVAL;
			if (e)
				return (int)-e;
			return seen == (UINT64_C(1) << ARRAY_SIZE(fields)) - 1 ? 0 : -EINVAL;
		}
		if (!store(st, text, eq + 1, &seen))
			return -EINVAL;
	}
	return -EINVAL; /* no errno line */
}

int control_format_reply(int r, const char *error, char *buf, size_t size)
{
	size_t pos = 0;
	bool ok = true;

	if (error && *error) {
		char line[CONTROL_ERROR_MAX];

		snprintf(line, sizeof(line), "%s", error);
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		ok = append(buf, size, &pos, "error=%s\n", line);
	}
	ok = ok && append(buf, size, &pos, "errno=%d\n\n", r < 0 ? -r : r);
	return ok ? (int)pos : -ENOSPC;
}

int control_parse_reply(const char *buf, size_t len, char error[static CONTROL_ERROR_MAX])
{
	const char *end = memmem(buf, len, "\n\n", 2);
	const char *line = buf;

	error[0] = '\0';
	if (!end)
		return len >= CONTROL_RESPONSE_MAX ? -EINVAL : -EAGAIN;
	while (line <= end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line) + 1);
		size_t n = (size_t)(nl - line);
		int64_t e;
		char num[24];

		if (n > 6 && !memcmp(line, "error=", 6)) {
			n -= 6;
			if (n >= CONTROL_ERROR_MAX || memchr(line + 6, '\0', n))
				return -EINVAL;
			memcpy(error, line + 6, n);
			error[n] = '\0';
		} else if (n > 6 && !memcmp(line, "errno=", 6)) {
			if (n - 6 >= sizeof(num))
				return -EINVAL;
			memcpy(num, line + 6, n - 6);
			num[n - 6] = '\0';
			if (!parse_int64(num, &e) || e < 0 || e > 4095)
				return -EINVAL;
			return (int)-e;
		} else {
			return -EINVAL;
		}
		line = nl + 1;
	}
	return -EINVAL; /* no errno line */
}

/* One "KEY=VALUE" line of a response ending at `end` (its blank line):
 * copies both out, moves *line on. False when malformed or too long. */
static bool next_pair(const char **line, const char *end, char *key, size_t key_size,
		      char *value, size_t value_size)
{
	const char *nl = memchr(*line, '\n', (size_t)(end - *line) + 1);
	const char *eq = memchr(*line, '=', (size_t)(nl - *line));
	size_t klen, vlen;

	if (!eq || eq == *line)
		return false;
	klen = (size_t)(eq - *line);
	vlen = (size_t)(nl - eq - 1);
	if (klen >= key_size || vlen >= value_size || memchr(*line, '\0', (size_t)(nl - *line)))
		return false;
	memcpy(key, *line, klen);
	key[klen] = '\0';
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
	*line = nl + 1;
	return true;
}

/* The errno line's value: 0 or a negated errno; -EINVAL when bad. */
static int errno_value(const char *value)
{
	int64_t e;

	if (!parse_int64(value, &e) || e < 0 || e > 4095)
		return -EINVAL;
	return (int)-e;
}

int control_format_show(const struct control_show *sh, char *buf, size_t size)
{
	size_t pos = 0;
	bool ok = append(buf, size, &pos, "listen_port=%" PRIu64 "\npreshared_key=%s\n",
			 sh->listen_port, sh->has_preshared_key ? "true" : "false");

	for (size_t i = 0; i < sh->n_allowed_ips && i < CONTROL_ALLOWED_IPS_MAX && ok; i++) {
		char clean[CONTROL_PREFIX_MAX];

		clean_copy(clean, sh->allowed_ips[i], sizeof(clean));
		ok = append(buf, size, &pos, "allowed_ip=%s\n", clean);
	}
	ok = ok && append(buf, size, &pos, "errno=0\n\n");
	return ok ? (int)pos : -ENOSPC;
}

int control_parse_show(const char *buf, size_t len, struct control_show *sh)
{
	const char *end = memmem(buf, len, "\n\n", 2);
	const char *line = buf;
	bool port = false, psk = false;

	if (!end)
		return len >= CONTROL_SHOW_MAX ? -EINVAL : -EAGAIN;
	memset(sh, 0, sizeof(*sh));
	while (line <= end) {
		char key[16], value[CONTROL_PREFIX_MAX];

		if (!next_pair(&line, end, key, sizeof(key), value, sizeof(value)))
			return -EINVAL;
		if (!strcmp(key, "errno")) {
			int r = errno_value(value);

			return r ? r : port && psk ? 0 : -EINVAL;
		} else if (!strcmp(key, "listen_port")) {
			if (number_parse_uint(value, UINT16_MAX, &sh->listen_port) != 0)
				return -EINVAL;
			port = true;
		} else if (!strcmp(key, "preshared_key")) {
			if (strcmp(value, "true") && strcmp(value, "false"))
				return -EINVAL;
			sh->has_preshared_key = !strcmp(value, "true");
			psk = true;
		} else if (!strcmp(key, "allowed_ip")) {
			if (sh->n_allowed_ips >= CONTROL_ALLOWED_IPS_MAX || !value[0])
				return -EINVAL;
			strcpy(sh->allowed_ips[sh->n_allowed_ips++], value);
		}
		/* other keys: a newer daemon's, ignored */
	}
	return -EINVAL; /* no errno line */
}

int control_format_pong(const struct control_pong *p, char *buf, size_t size)
{
	char path[sizeof(p->path)], endpoint[sizeof(p->endpoint)];
	size_t pos = 0;

	clean_copy(path, p->path, sizeof(path));
	clean_copy(endpoint, p->endpoint, sizeof(endpoint));
	if (!append(buf, size, &pos, "path=%s\nendpoint=%s\nrtt_us=%" PRIu64 "\nerrno=0\n\n",
		    path, endpoint, p->rtt_us))
		return -ENOSPC;
	return (int)pos;
}

int control_parse_pong(const char *buf, size_t len, struct control_pong *p,
		       char error[static CONTROL_ERROR_MAX])
{
	const char *end = memmem(buf, len, "\n\n", 2);
	const char *line = buf;
	unsigned seen = 0;

	error[0] = '\0';
	if (!end)
		return len >= CONTROL_RESPONSE_MAX ? -EINVAL : -EAGAIN;
	memset(p, 0, sizeof(*p));
	while (line <= end) {
		char key[16], value[CONTROL_ERROR_MAX];

		if (!next_pair(&line, end, key, sizeof(key), value, sizeof(value)))
			return -EINVAL;
		if (!strcmp(key, "errno")) {
			int r = errno_value(value);

			return r ? r : seen == 7 ? 0 : -EINVAL;
		} else if (!strcmp(key, "error")) {
			strcpy(error, value);
		} else if (!strcmp(key, "path")) {
			if (strcmp(value, "direct") && strcmp(value, "relay"))
				return -EINVAL;
			strcpy(p->path, value);
			seen |= 1;
		} else if (!strcmp(key, "endpoint")) {
			if (strlen(value) >= sizeof(p->endpoint))
				return -EINVAL;
			strcpy(p->endpoint, value);
			seen |= 2;
		} else if (!strcmp(key, "rtt_us")) {
			if (number_parse_uint(value, UINT64_MAX, &p->rtt_us) != 0)
				return -EINVAL;
			seen |= 4;
		}
	}
	return -EINVAL; /* no errno line */
}

int control_connect(const char *run_dir, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", run_dir, name) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void remove_stale(const char *run_dir, const char *name)
{
	char path[CONTROL_PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/%s.sock", run_dir, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.pid", run_dir, name);
	unlink(path);
}

bool control_daemon_alive(const char *run_dir, const char *name)
{
	int fd = control_connect(run_dir, name);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* A socket file nobody listens on: its daemon died without cleaning up. */
	if (fd == -ECONNREFUSED)
		remove_stale(run_dir, name);
	return false;
}
