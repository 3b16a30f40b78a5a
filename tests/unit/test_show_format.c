/* tunnelctl show's and ping's words (tunnel/ctl/show_format.h), checked
 * against what wg(8) show prints: units, plurals and separators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tunnel/ctl/show_format.h"

static void test_durations(void **state)
{
	static const struct {
		uint64_t s;
		const char *ago, *every;
	} cases[] = {
		{ 0, "Now", "every " },
		{ 1, "1 second ago", "every 1 second" },
		{ 25, "25 seconds ago", "every 25 seconds" },
		{ 60, "1 minute ago", "every 1 minute" },
		{ 65, "1 minute, 5 seconds ago", "every 1 minute, 5 seconds" },
		{ 121, "2 minutes, 1 second ago", "every 2 minutes, 1 second" },
		{ 3600, "1 hour ago", "every 1 hour" },
		{ 3661, "1 hour, 1 minute, 1 second ago", "every 1 hour, 1 minute, 1 second" },
		{ 86400 + 7200, "1 day, 2 hours ago", "every 1 day, 2 hours" },
		{ 65535, "18 hours, 12 minutes, 15 seconds ago", "every 18 hours, 12 minutes, 15 seconds" },
		{ 365 * 86400ULL, "1 year ago", "every 1 year" },
		{ 2 * 365 * 86400ULL + 3 * 86400 + 4 * 3600 + 5 * 60 + 6,
		  "2 years, 3 days, 4 hours, 5 minutes, 6 seconds ago",
		  "every 2 years, 3 days, 4 hours, 5 minutes, 6 seconds" },
	};
	char buf[SHOW_FORMAT_MAX + 16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(show_format_ago(buf, sizeof(buf), cases[i].s), cases[i].ago);
		assert_string_equal(show_format_every(buf, sizeof(buf), cases[i].s), cases[i].every);
	}
	/* the longest there is fits SHOW_FORMAT_MAX */
	show_format_duration(buf, sizeof(buf), UINT64_MAX);
	assert_true(strlen(buf) < SHOW_FORMAT_MAX);
	assert_string_equal(show_format_duration(buf, sizeof(buf), 0), "");
	/* truncated, still terminated */
	assert_string_equal(show_format_duration(buf, 8, 3661), "1 hour,");
}

static void test_bytes(void **state)
{
	static const struct {
		uint64_t b;
		const char *text;
	} cases[] = {
		{ 0, "0 B" },
		{ 1, "1 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.00 KiB" },
		{ 1260, "1.23 KiB" },
		{ 4669, "4.56 KiB" },
		{ 1024 * 1024 - 1, "1024.00 KiB" },
		{ 1024 * 1024, "1.00 MiB" },
		{ 5 * 1024 * 1024 + 512 * 1024, "5.50 MiB" },
		{ 1024ULL * 1024 * 1024, "1.00 GiB" },
		{ 3ULL * 1024 * 1024 * 1024 * 1024, "3.00 TiB" },
		{ 2048ULL * 1024 * 1024 * 1024 * 1024, "2048.00 TiB" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(show_format_bytes(buf, sizeof(buf), cases[i].b), cases[i].text);
}

static void test_rtt(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 0), "0.00ms");
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 420), "0.42ms");
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 999), "1.00ms");
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 1200), "1.2ms");
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 40960), "41.0ms");
	assert_string_equal(show_format_rtt(buf, sizeof(buf), 1234500), "1234.5ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_rtt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
