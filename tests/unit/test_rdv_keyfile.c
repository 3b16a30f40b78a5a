/* Key files (mode and content checks) and endpoint text, as tunnel-rendezvous
 * and rdv-probe read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compiler.h"
#include "common/keyfile.h"
#include "crypto/keys.h"
#include "rendezvous/endpoint.h"
#include "rendezvous/keyfile.h"

static char dir[64];

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_keyfile(void **state)
{
	uint8_t key[RDV_KEY_LEN], want[RDV_KEY_LEN];
	char b64[KEY_BASE64_SIZE], text[256];

	(void)state;
	randombytes_buf(want, sizeof(want));
	keys_to_base64(b64, want);
	snprintf(text, sizeof(text), "%s\n", b64);
	assert_int_equal(keyfile_read(write_file("good", text, 0600), key), 0);
	assert_memory_equal(key, want, RDV_KEY_LEN);
	assert_int_equal(keyfile_read(write_file("good4", text, 0400), key), 0);
	assert_int_equal(keyfile_read(write_file("group", text, 0640), key), -EPERM);
	assert_int_equal(keyfile_read(write_file("world", text, 0604), key), -EPERM);
	assert_int_equal(keyfile_read(write_file("short", "AAAA\n", 0600), key), -EINVAL);
	assert_int_equal(keyfile_read(write_file("empty", "", 0600), key), -EINVAL);
	snprintf(text, sizeof(text), "%s %s\n", b64, b64);
	assert_int_equal(keyfile_read(write_file("two", text, 0600), key), -EINVAL);
	memset(text, 'A', 200);
	text[200] = '\0';
	assert_int_equal(keyfile_read(write_file("long", text, 0600), key), -EINVAL);
	snprintf(text, sizeof(text), "%s", b64);
	text[10] = '*';
	assert_int_equal(keyfile_read(write_file("bad", text, 0600), key), -EINVAL);
	assert_int_equal(keyfile_read("/nonexistent/key", key), -ENOENT);
}

/* common/keyfile.h's reader itself, under both callers' mappings: a
 * directory or a symlink is not a key file, and a file as long as the text
 * buffer is refused before any decoding. */
static void test_keyfile_text(void **state)
{
	char text[KEYFILE_TEXT_MAX + 1], body[KEYFILE_TEXT_MAX + 2], sub[] = "/tmp/tnl-rdv-kf.XXXXXX";
	char link[64];
	uint8_t key[RDV_KEY_LEN];
	const char *good;

	(void)state;
	assert_int_equal(keyfile_read_text(write_file("plain", "abc \n", 0600), text), 0);
	assert_string_equal(text, "abc \n");
	memset(body, 'A', KEYFILE_TEXT_MAX - 1);
	body[KEYFILE_TEXT_MAX - 1] = '\0';
	assert_int_equal(keyfile_read_text(write_file("justfits", body, 0600), text), 0);
	assert_int_equal(strlen(text), KEYFILE_TEXT_MAX - 1);
	memset(body, 'A', KEYFILE_TEXT_MAX);
	body[KEYFILE_TEXT_MAX] = '\0';
	assert_int_equal(keyfile_read_text(write_file("toolong", body, 0600), text), -EFBIG);
	assert_int_equal(text[0], '\0');	/* wiped */
	assert_int_equal(keyfile_read(write_file("toolong", body, 0600), key), -EINVAL);
	assert_int_equal(keyfile_read_text(write_file("other", "x", 0601), text), -EPERM);

	assert_non_null(mkdtemp(sub));
	assert_int_equal(keyfile_read_text(sub, text), -EINVAL);
	assert_int_equal(keyfile_read(sub, key), -EINVAL);
	good = write_file("plain", "abc\n", 0600);
	snprintf(link, sizeof(link), "%s/link", sub);
	assert_int_equal(symlink(good, link), 0);
	assert_int_equal(keyfile_read_text(link, text), -ELOOP);
	unlink(link);
	rmdir(sub);
}

static void test_endpoint_parse(void **state)
{
	static const struct {
		const char *in;
		bool port0;
		int ret;
		const char *out;
	} cases[] = {
		{ "192.0.2.1:3478", false, 0, "192.0.2.1:3478" },
		{ "[2001:db8::1]:3478", false, 0, "[2001:db8::1]:3478" },
		{ "0.0.0.0:0", true, 0, "0.0.0.0:0" },
		{ "0.0.0.0:0", false, -EINVAL, NULL },
		{ "192.0.2.1:65536", false, -EINVAL, NULL },
		{ "192.0.2.1", false, -EINVAL, NULL },
		{ "2001:db8::1:3478", false, -EINVAL, NULL },
		{ "[192.0.2.1]:1", false, -EINVAL, NULL },
		{ "host.example:1", false, -EINVAL, NULL },
		{ ":1", false, -EINVAL, NULL },
		{ "192.0.2.1:-1", false, -EINVAL, NULL },
		{ "192.0.2.1:12x", false, -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rdv_endpoint ep, back;
		struct sockaddr_storage ss;
		socklen_t sl;
		char s[RDV_ENDPOINT_STR];
		int r = rdv_endpoint_parse(&ep, cases[i].in, cases[i].port0);

		if (r != cases[i].ret)
			fail_msg("case %zu (%s): got %d", i, cases[i].in, r);
		if (r < 0)
			continue;
		assert_string_equal(rdv_endpoint_str(&ep, s, sizeof(s)), cases[i].out);
		rdv_endpoint_to_sockaddr(&ep, &ss, &sl);
		assert_int_equal(rdv_endpoint_from_sockaddr(&back, (struct sockaddr *)&ss), 0);
		assert_true(rdv_endpoint_equal(&ep, &back));
	}
}

/* A v4-mapped IPv6 source is the IPv4 endpoint it stands for. */
static void test_v4_mapped(void **state)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct rdv_endpoint ep;
	char s[RDV_ENDPOINT_STR];

	(void)state;
	sin6.sin6_addr.s6_addr[10] = sin6.sin6_addr.s6_addr[11] = 0xff;
	sin6.sin6_addr.s6_addr[12] = 192;
	sin6.sin6_addr.s6_addr[15] = 1;
	assert_int_equal(rdv_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin6), 0);
	assert_string_equal(rdv_endpoint_str(&ep, s, sizeof(s)), "192.0.0.1:9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyfile),
		cmocka_unit_test(test_keyfile_text),
		cmocka_unit_test(test_endpoint_parse),
		cmocka_unit_test(test_v4_mapped),
	};
	static const char *names[] = { "good", "good4", "group", "world", "short",
				       "empty", "two", "long", "bad", "plain", "justfits",
				       "toolong", "other" };
	int r;

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/tnl-rdv-key.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return r;
}
