/* common/: the one number parser and the one HOST:PORT splitter that the
 * config file, the control protocol, tunnel-rendezvous and the test tools
 * share (link names: test_tun_prefix and test_config). Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/compiler.h"
#include "common/hostport.h"
#include "common/log.h"
#include "common/number.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_number(void **state)
{
	static const struct {
		const char *in;
		uint64_t max;
		int ret;
		uint64_t out;
	} cases[] = {
		{ "0", 10, 0, 0 },
		{ "7", 10, 0, 7 },
		{ "10", 10, 0, 10 },
		{ "11", 10, -ERANGE, 0 },
		{ "007", 10, 0, 7 },
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -ERANGE, 0 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999x", UINT64_MAX, -EINVAL, 0 },
		{ "", 10, -EINVAL, 0 },
		{ "+5", 10, -EINVAL, 0 },
		{ "-1", 10, -EINVAL, 0 },
		{ " 5", 10, -EINVAL, 0 },
		{ "5 ", 10, -EINVAL, 0 },
		{ "5s", 10, -EINVAL, 0 },
		{ "0x5", 10, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int r = number_parse_uint(cases[i].in, cases[i].max, &v);

		if (r != cases[i].ret)
			fail_msg("case %zu \"%s\": got %d, want %d", i, cases[i].in, r, cases[i].ret);
		/* On error the output is left alone. */
		if (v != (r ? 12345 : cases[i].out))
			fail_msg("case %zu \"%s\": value %llu", i, cases[i].in, (unsigned long long)v);
	}
}

static void test_hostport(void **state)
{
	static const char V6[] = "expected [IPv6]:port", HP[] = "expected host:port (IPv6 in brackets)",
			  HOST[] = "bad host", PORT[] = "bad port";
	static const struct {
		const char *in;
		bool port0;
		const char *why; /* NULL: accepted */
		const char *host;
		uint16_t port;
		bool bracketed;
	} cases[] = {
		{ "192.0.2.1:51820", false, NULL, "192.0.2.1", 51820, false },
		{ "peer.example:1", false, NULL, "peer.example", 1, false },
		{ "[2001:db8::1]:3478", false, NULL, "2001:db8::1", 3478, true },
		{ "[::]:0", true, NULL, "::", 0, true },
		{ "0.0.0.0:0", true, NULL, "0.0.0.0", 0, false },
		{ "h:65535", false, NULL, "h", 65535, false },
		{ "h:00080", false, NULL, "h", 80, false },
		{ "0.0.0.0:0", false, PORT, NULL, 0, false },
		{ "h:65536", false, PORT, NULL, 0, false },
		{ "h:000080", false, PORT, NULL, 0, false },
		{ "h:", false, PORT, NULL, 0, false },
		{ "h:+80", false, PORT, NULL, 0, false },
		{ "h: 80", false, PORT, NULL, 0, false },
		{ "h:-1", false, PORT, NULL, 0, false },
		{ "h:12x", false, PORT, NULL, 0, false },
		{ "192.0.2.1", false, HP, NULL, 0, false },
		{ "2001:db8::1:3478", false, HP, NULL, 0, false },
		{ "[::1:1", false, V6, NULL, 0, false },
		{ "[::1]", false, V6, NULL, 0, false },
		{ "[::1]x:1", false, V6, NULL, 0, false },
		{ ":1", false, HOST, NULL, 0, false },
		{ "[]:1", false, HOST, NULL, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hostport hp;
		const char *why = NULL;
		int r = hostport_split(&hp, cases[i].in, cases[i].port0, &why);

		if (cases[i].why) {
			if (r != -EINVAL || !why || strcmp(why, cases[i].why))
				fail_msg("case %zu \"%s\": got %d (%s), want \"%s\"", i, cases[i].in,
					 r, why ? why : "-", cases[i].why);
			continue;
		}
		if (r != 0 || strcmp(hp.host, cases[i].host) || hp.port != cases[i].port ||
		    hp.bracketed != cases[i].bracketed)
			fail_msg("case %zu \"%s\": got %d host \"%s\" port %u bracketed %d", i,
				 cases[i].in, r, hp.host, hp.port, hp.bracketed);
	}
}

/* The longest host that fits, one more, and a NULL why. */
static void test_hostport_host_len(void **state)
{
	char in[HOSTPORT_HOST_MAX + 16];
	struct hostport hp;

	(void)state;
	memset(in, 'a', HOSTPORT_HOST_MAX);
	strcpy(in + HOSTPORT_HOST_MAX, ":9");
	assert_int_equal(hostport_split(&hp, in, false, NULL), 0);
	assert_int_equal(strlen(hp.host), HOSTPORT_HOST_MAX);
	memset(in, 'a', HOSTPORT_HOST_MAX + 1);
	strcpy(in + HOSTPORT_HOST_MAX + 1, ":9");
	assert_int_equal(hostport_split(&hp, in, false, NULL), -EINVAL);
}

/* Runs log lines of each level with stderr pointed at a fresh file and
 * JOURNAL_STREAM set to `stream` (NULL: unset, "FILE": the file's own
 * device:inode, as systemd sets it); returns what the file got. */
static char *log_through(const char *stream)
{
	char path[] = "/tmp/test_common_log.XXXXXX", env[64];
	static char out[1024];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (stream && !strcmp(stream, "FILE")) {
		snprintf(env, sizeof(env), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
		setenv("JOURNAL_STREAM", env, 1);
	} else if (stream) {
		setenv("JOURNAL_STREAM", stream, 1);
	} else {
		unsetenv("JOURNAL_STREAM");
	}
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_open("t", false, LOG_LEVEL_DEBUG);
	log_error("e %d", 1);
	log_warn("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
	return out;
}

/* journald reads a "<N>" syslog priority prefix on its stream; elsewhere
 * lines stay "IDENT: LEVEL: text". */
static void test_log_priorities(void **state)
{
	(void)state;
	assert_string_equal(log_through("FILE"), "<3>e 1\n<4>w\n<5>n\n<6>i\n<7>d\n");
	assert_string_equal(log_through(NULL),
			    "t: error: e 1\nt: warning: w\nt: notice: n\nt: info: i\nt: debug: d\n");
	/* another stream's (stderr redirected by a child), or garbage */
	assert_string_equal(log_through("1:2"),
			    "t: error: e 1\nt: warning: w\nt: notice: n\nt: info: i\nt: debug: d\n");
	assert_string_equal(log_through("x"),
			    "t: error: e 1\nt: warning: w\nt: notice: n\nt: info: i\nt: debug: d\n");
	log_open("test_common", false, LOG_LEVEL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_host_len),
		cmocka_unit_test(test_log_priorities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
