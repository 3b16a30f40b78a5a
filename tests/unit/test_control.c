/* The control protocol: requests, a status round trip, and a table of
 * malformed responses, as both ends treat each other's bytes as untrusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tunnel/control.h"

static void test_requests(void **state)
{
	static const struct {
		const char *text;
		int result;
		enum control_request req;
	} cases[] = {
		{ "get=1\n\n", 0, CONTROL_GET },
		{ "down=1\n\n", 0, CONTROL_DOWN },
		{ "reload=1\n\n", 0, CONTROL_RELOAD },
		{ "reload=0\n\n", -EINVAL, 0 },
		{ "show=1\n\n", 0, CONTROL_SHOW },
		{ "ping=1\n\n", 0, CONTROL_PING },
		{ "ping=2\n\n", -EINVAL, 0 },
		{ "get=1\n", -EAGAIN, 0 },
		{ "", -EAGAIN, 0 },
		{ "get=2\n\n", -EINVAL, 0 },
		{ "set=1\n\n", -EINVAL, 0 },
		{ "get=1\ndown=1\n\n", -EINVAL, 0 },
		{ "\n\n", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum control_request req = 99;
		int r = control_parse_request(cases[i].text, strlen(cases[i].text), &req);

		if (r != cases[i].result || (r == 0 && req != cases[i].req))
			fail_msg("case %zu: got %d", i, r);
	}
}

static void test_request_too_long(void **state)
{
	char buf[CONTROL_REQUEST_MAX];
	enum control_request req;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(control_parse_request(buf, sizeof(buf), &req), -EINVAL);
}

static struct control_status sample(void)
{
	struct control_status st = {
		.name = "home",
		.public_key = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
		.peer_public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
		.state = "established",
		.path = "direct",
		.endpoint = "[2001:db8::7]:51820",
		.reflexive_endpoint = "198.51.100.2:40001",
		.reason = "",
		.last_handshake_age_s = 12,
		.rtt_ms = -1,
		.rx_bytes = UINT64_MAX,
		.tx_bytes = 1234,
		.keepalive_s = 25,
		.pid = 4242,
		.nat_mapping = "endpoint-dependent",
		.nat_port_preserved = "false",
		.nat_portmap = "pcp",
		.nat_public = "198.51.100.2:51820",
		.portmap_reason = "",
		.relay_channel = "asking",
	};

	st.dropped[DROP_REPLAYED] = 7;
	st.dropped[DROP_TUN_FULL] = 1;
	return st;
}

static void test_status_round_trip(void **state)
{
	struct control_status in = sample(), out;
	char buf[CONTROL_RESPONSE_MAX], again[CONTROL_RESPONSE_MAX];
	int len;

	(void)state;
	len = control_format_status(&in, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_status(buf, (size_t)len, &out), 0);
	/* compared field by field (struct padding is unspecified) */
	assert_string_equal(out.name, in.name);
	assert_string_equal(out.endpoint, in.endpoint);
	assert_string_equal(out.reason, "");
	assert_int_equal(out.rtt_ms, -1);
	assert_true(out.rx_bytes == UINT64_MAX);
	assert_int_equal(out.dropped[DROP_REPLAYED], 7);
	assert_string_equal(out.relay_channel, "asking");
	assert_non_null(strstr(buf, "\nrelay_channel=asking\n"));
	assert_int_equal(control_format_status(&out, again, sizeof(again)), len);
	assert_string_equal(again, buf);
	assert_non_null(strstr(buf, "dropped_replayed=7\n"));
	assert_int_equal(strcmp(buf + len - 9, "errno=0\n\n"), 0);

	/* every cut short of the end is incomplete, never an error or a crash */
	for (int cut = 0; cut < len - 1; cut++)
		assert_int_equal(control_parse_status(buf, (size_t)cut, &out), -EAGAIN);

	assert_int_equal(control_format_status(&in, buf, 100), -ENOSPC);
}

/* A reason with a newline must not let the daemon forge extra keys. */
static void test_status_framing(void **state)
{
	struct control_status in = sample(), out;
	char buf[CONTROL_RESPONSE_MAX];
	int len;

	(void)state;
	strcpy(in.reason, "bad\n\nerrno=0\n");
	len = control_format_status(&in, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_status(buf, (size_t)len, &out), 0);
	assert_string_equal(out.reason, "bad??errno=0?");
}

static void test_bad_status(void **state)
{
	static const struct {
		const char *text;
		int result;
	} cases[] = {
		{ "errno=0\n\n", -EINVAL },                 /* keys missing */
		{ "errno=2\n\n", -2 },                      /* the daemon's own error */
		{ "errno=-1\n\n", -EINVAL },
		{ "errno=99999\n\n", -EINVAL },
		{ "name=home\nbogus\nerrno=0\n\n", -EINVAL },
		{ "=x\nerrno=0\n\n", -EINVAL },
		{ "colour=blue\nerrno=0\n\n", -EINVAL },
		{ "rx_bytes=-5\nerrno=0\n\n", -EINVAL },
		{ "rx_bytes=99999999999999999999999\nerrno=0\n\n", -EINVAL },
		{ "rtt_ms=12abc\nerrno=0\n\n", -EINVAL },
		{ "name=waytoolongforalinkname\nerrno=0\n\n", -EINVAL },
		{ "name=home\n\n", -EINVAL },               /* no errno line */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct control_status st;
		int r = control_parse_status(cases[i].text, strlen(cases[i].text), &st);

		if (r != cases[i].result)
			fail_msg("case %zu: got %d, want %d", i, r, cases[i].result);
	}
}

/* reload's reply: success, a refusal with its error line (control
 * characters flattened), and malformed replies. */
static void test_reply(void **state)
{
	static const struct {
		const char *text;
		int result;
		const char *error;
	} parse[] = {
		{ "errno=0\n\n", 0, "" },
		{ "error=/etc/tunnel/home.conf:7: bad\nerrno=22\n\n", -EINVAL,
		  "/etc/tunnel/home.conf:7: bad" },
		{ "errno=5\n\n", -EIO, "" },
		{ "errno=0\n", -EAGAIN, "" },
		{ "errno=x\n\n", -EINVAL, "" },
		{ "errno=4096\n\n", -EINVAL, "" },
		{ "status=1\nerrno=0\n\n", -EINVAL, "" },
		{ "error=x\n\n", -EINVAL, "x" },
	};
	char buf[CONTROL_RESPONSE_MAX], error[CONTROL_ERROR_MAX], big[CONTROL_ERROR_MAX + 100];
	int len;

	(void)state;
	for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		int r = control_parse_reply(parse[i].text, strlen(parse[i].text), error);

		if (r != parse[i].result || (r != -EAGAIN && strcmp(error, parse[i].error)))
			fail_msg("case %zu: got %d '%s'", i, r, error);
	}
	len = control_format_reply(0, "", buf, sizeof(buf));
	assert_int_equal(len, (int)strlen("errno=0\n\n"));
	assert_string_equal(buf, "errno=0\n\n");
	len = control_format_reply(-EINVAL, "f.conf:3: a\nb\tc", buf, sizeof(buf));
	assert_true(len > 0);
	assert_string_equal(buf, "error=f.conf:3: a b c\nerrno=22\n\n");
	assert_int_equal(control_parse_reply(buf, (size_t)len, error), -EINVAL);
	assert_string_equal(error, "f.conf:3: a b c");
	/* an over-long error is cut to fit, and still parses */
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	len = control_format_reply(-EINVAL, big, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_reply(buf, (size_t)len, error), -EINVAL);
	assert_int_equal(strlen(error), CONTROL_ERROR_MAX - 1);
	assert_int_equal(control_format_reply(0, "x", buf, 8), -ENOSPC);
}

/* "show": every allowed ip of the largest config survives the round trip
 * inside CONTROL_SHOW_MAX; bad answers are refused. */
static void test_show(void **state)
{
	static struct control_show sh, back;
	static char buf[CONTROL_SHOW_MAX];
	int len;

	(void)state;
	sh.listen_port = 51820;
	sh.has_preshared_key = true;
	sh.n_allowed_ips = CONTROL_ALLOWED_IPS_MAX;
	for (size_t i = 0; i < sh.n_allowed_ips; i++)
		snprintf(sh.allowed_ips[i], sizeof(sh.allowed_ips[i]),
			 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:%04x/128", (unsigned)(i & 0xffff));
	len = control_format_show(&sh, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_show(buf, (size_t)len, &back), 0);
	assert_int_equal(back.listen_port, 51820);
	assert_true(back.has_preshared_key);
	assert_int_equal(back.n_allowed_ips, CONTROL_ALLOWED_IPS_MAX);
	assert_string_equal(back.allowed_ips[255], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:00ff/128");
	assert_int_equal(control_parse_show(buf, (size_t)len - 1, &back), -EAGAIN);

	static const char *const bad[] = {
		"preshared_key=false\nerrno=0\n\n",                 /* no port */
		"listen_port=70000\npreshared_key=false\nerrno=0\n\n",
		"listen_port=1\npreshared_key=maybe\nerrno=0\n\n",
		"listen_port=1\npreshared_key=true\nallowed_ip=\nerrno=0\n\n",
		"listen_port=1\npreshared_key=true\n",              /* incomplete */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = control_parse_show(bad[i], strlen(bad[i]), &back);

		if (r != (i == 4 ? -EAGAIN : -EINVAL))
			fail_msg("bad show %zu: got %d", i, r);
	}
	assert_int_equal(control_parse_show("errno=13\n\n", 11, &back), -EACCES);
}

static void test_pong(void **state)
{
	struct control_pong p = { .path = "relay", .endpoint = "203.0.113.10:3478",
				  .rtt_us = 1234 }, back;
	char buf[CONTROL_RESPONSE_MAX], error[CONTROL_ERROR_MAX];
	int len;

	(void)state;
	len = control_format_pong(&p, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_pong(buf, (size_t)len, &back, error), 0);
	assert_string_equal(back.path, "relay");
	assert_string_equal(back.endpoint, "203.0.113.10:3478");
	assert_int_equal(back.rtt_us, 1234);
	/* a timeout and its words */
	len = control_format_reply(-ETIMEDOUT, "no pong within 1500 ms", buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(control_parse_pong(buf, (size_t)len, &back, error), -ETIMEDOUT);
	assert_string_equal(error, "no pong within 1500 ms");
	/* missing or bad keys */
	static const char *const bad[] = {
		"path=direct\nrtt_us=1\nerrno=0\n\n",
		"path=icmp\nendpoint=x\nrtt_us=1\nerrno=0\n\n",
		"path=direct\nendpoint=x\nrtt_us=-1\nerrno=0\n\n",
		"path=direct\nendpoint=x\nrtt_us=1\nerrno=5000\n\n",
		"path=direct\nendpoint=x\nrtt_us=1\n\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = control_parse_pong(bad[i], strlen(bad[i]), &back, error);

		if (r != -EINVAL)
			fail_msg("bad pong %zu: got %d", i, r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_status_framing),
		cmocka_unit_test(test_bad_status),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_pong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
