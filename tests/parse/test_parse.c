// SPDX-License-Identifier: MIT
/*
 * test_parse.c - the size, time and duration parsers every rawcap tool
 * uses (lib/parse.c) at their edges: the largest value that fits and the
 * first one that does not, calendar fields out of range, leap days and
 * seconds, offsets that cross the epoch, and the usage hint for each error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>

#define NOW 1764000000123456789ull

static void time_is(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int err = rawcap_parse_time(s, NOW, &v);

	if (err || v != want)
		fail_msg("'%s': err %d value %llu, want %llu", s, err, (unsigned long long)v,
			 (unsigned long long)want);
}

static void time_err(const char *s, int want)
{
	uint64_t v;
	int err = rawcap_parse_time(s, NOW, &v);

	if (err != want)
		fail_msg("'%s': err %d, want %d", s, err, want);
}

static void test_time_edges(void **state)
{
	(void)state;
	time_is("1970-01-01T00:00:00Z", 0);
	time_is("1970-01-01T00:00:00-00:01", 60ull * 1000000000ull);
	time_err("1970-01-01T00:00:00+00:01", -ERANGE);
	time_err("1969-12-31T23:59:59Z", -ERANGE);
	/* The last nanosecond a uint64_t holds, and the first one past it. */
	time_is("2554-07-21T23:34:33.709551615Z", UINT64_MAX);
	time_err("2554-07-21T23:34:33.709551616Z", -ERANGE);
	time_err("2554-07-21T23:34:34Z", -ERANGE);
	time_err("2600-01-01T00:00:00Z", -ERANGE); /* wrapped to 2015 before */
	time_err("9999-12-31T23:59:59.999999999Z", -ERANGE);
	time_is("2554-07-22T01:34:33.709551615+02:00", UINT64_MAX);
	time_is("18446744073.709551615", UINT64_MAX);
	time_err("18446744073.709551616", -ERANGE);
	time_err("18446744074", -ERANGE);
}

static void test_relative_edges(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_time("-1764000000123456789ns", NOW, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rawcap_parse_time("-1764000000123456790ns", NOW, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("+1ns", UINT64_MAX - 1, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(rawcap_parse_time("+1ns", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("-5x", NOW, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("+", NOW, &v), -EINVAL);
}

static void test_calendar(void **state)
{
	(void)state;
	time_is("2024-02-29T00:00:00Z", 1709164800ull * 1000000000ull);
	time_is("2000-02-29T00:00:00Z", 951782400ull * 1000000000ull);
	time_err("2023-02-29T00:00:00Z", -EINVAL);
	time_err("2100-02-29T00:00:00Z", -EINVAL);
	time_err("2026-04-31T00:00:00Z", -EINVAL);
	time_err("2026-02-30T00:00:00Z", -EINVAL);
	time_err("2026-00-10T00:00:00Z", -EINVAL);
	time_err("2026-01-00T00:00:00Z", -EINVAL);
	time_err("2026-01-10T24:00:00Z", -EINVAL);
	time_err("2026-01-10T10:60:00Z", -EINVAL);
	time_err("2026-01-10T10:00:61Z", -EINVAL);
	time_err("2026-01-10T10:00:60Z", -EINVAL); /* a leap second ends a minute 59 only */
	time_is("2016-12-31T23:59:60Z", 1483228800ull * 1000000000ull);
	time_err("2026-01-10T10:00:00+24:00", -EINVAL);
	time_err("2026-01-10T10:00:00+01:60", -EINVAL);
	time_is("2026-01-10T10:00:00+0100", 1768035600ull * 1000000000ull); /* as date -R prints */
	time_err("2026-1-10T10:00:00Z", -EINVAL);
	time_err("2026-01-10T10:00:00.Z", -EINVAL);
	time_is("2026-01-10T10:00:00.1234567891234Z", 1768039200123456789ull);
}

static void test_size_edges(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_size("18446744073709551615B", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(rawcap_parse_size("15Ei", &v), -EINVAL); /* no such unit */
	assert_int_equal(rawcap_parse_size("16777215Ti", &v), 0);
	assert_int_equal(v, 16777215ull << 40);
	assert_int_equal(rawcap_parse_size("16777216Ti", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("18446744073710T", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("1.5Gi", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("+1", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("0x10", &v), -EINVAL);
}

static void test_duration_edges(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_duration("5124095h34m33s709ms551us615ns", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(rawcap_parse_duration("5124095h34m33s709ms551us616ns", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("18446744073709551615ns", &v), 0);
	assert_int_equal(rawcap_parse_duration("18446744073709551616ns", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("0s", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rawcap_parse_duration("1.5s", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("1h30", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("1d", &v), -EINVAL);
}

static void test_hints(void **state)
{
	char buf[640];

	(void)state;
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_TIME, -EINVAL), "RFC 3339"));
	assert_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_TIME, -EINVAL), "out of range"));
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_TIME, -ERANGE), "2554-07-21"));
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_SIZE, -EINVAL), "256Mi"));
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_SIZE, -ERANGE), "out of range"));
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_DURATION, -EINVAL), "1h30m"));
	assert_string_equal(
		rawcap_parse_error(RAWCAP_PARSE_DURATION, -EINVAL, "--last", "5", buf, sizeof(buf)),
		"bad --last '5': durations are numbers with a unit (h, m, s, ms, us, "
		"ns), combined as 1h30m: 90s, 250ms");
	assert_non_null(strstr(
		rawcap_parse_error(RAWCAP_PARSE_SIZE, -ERANGE, NULL, "99Ei", buf, sizeof(buf)),
		"bad size '99Ei': out of range"));
}

/* The same parsers at everyday values (moved from the ring tests). */
static void should_parse_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(rawcap_parse_size("64k", &v), 0);
	assert_int_equal(v, 64000);
	assert_int_equal(rawcap_parse_size("64K", &v), 0);
	assert_int_equal(v, 64000);
	assert_int_equal(rawcap_parse_size("64Ki", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(rawcap_parse_size("256Mi", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(rawcap_parse_size("1G", &v), 0);
	assert_int_equal(v, 1000000000ull);
	assert_int_equal(rawcap_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(rawcap_parse_size("1Ti", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(rawcap_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rawcap_parse_size("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(rawcap_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("16777216Ti", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("k", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("-1", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("12x", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1 G", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1GiBB", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1Gi ", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size(NULL, &v), -EINVAL);
}

static void should_parse_durations(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_duration("5m", &v), 0);
	assert_int_equal(v, 300ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("90s", &v), 0);
	assert_int_equal(v, 90ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(rawcap_parse_duration("3us", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(rawcap_parse_duration("7ns", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rawcap_parse_duration("6000000000h", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("5124095h5124095h", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("99999999999999999999s", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("m", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5x", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5m ", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("-5m", &v), -EINVAL);
}

static void should_parse_times(void **state)
{
	const uint64_t now = 1790000000ull * 1000000000ull;
	char buf[64];
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_time("now", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(rawcap_parse_time("-5m", now, &v), 0);
	assert_int_equal(v, now - 300ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("+10s", now, &v), 0);
	assert_int_equal(v, now + 10ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("1790000000.5", now, &v), 0);
	assert_int_equal(v, now + 500000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02:00Z", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26T12:02:00.25+02:00", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull + 250000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26 10:02:00.000000001z", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull + 1);
	assert_string_equal(rawcap_format_time(1795687320ull * 1000000000ull + 1, buf, sizeof(buf)),
			    "2026-11-26T10:02:00.000000001Z");

	assert_int_equal(rawcap_parse_time("-100y", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("-1000000000h", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("+5124095h", UINT64_MAX - 5, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("99999999999999999999", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("18446744074", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("2026-13-01T00:00:00Z", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02", now, &v), 0); /* no zone: UTC */
	assert_int_equal(v, 1795687320ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:2:00Z", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02:00Zjunk", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T25:02:00Z", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("1969-12-31T23:59:59Z", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("12.", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("12.5s", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("yesterday", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("", now, &v), -EINVAL);
}

/* What people paste from Wireshark, logs and date(1): UTC unless a zone follows. */
static void should_parse_pasted_times(void **state)
{
	const uint64_t t0745 = 1796024700ull * 1000000000ull; /* 2026-11-30T07:45:00Z */
	const uint64_t now = t0745 + 3600ull * 1000000000ull;  /* 08:45 that day */
	uint64_t v;

	(void)state;
	time_is("2026-11-30 07:45:00", t0745);
	time_is("2026-11-30T07:45:00", t0745);
	time_is("2026-11-30 07:45", t0745);
	time_is("2026-11-30T07:45:00.123Z", t0745 + 123000000ull);
	time_is("2026-11-30 07:45:00.123456789", t0745 + 123456789ull);
	time_is("2026-11-30 07:45:00 UTC", t0745);
	time_is("2026-11-30 07:45:00.5 GMT", t0745 + 500000000ull);
	time_is("2026-11-30 09:45:00 +02:00", t0745);
	time_is("2026-11-30 09:45:00+0200", t0745);
	time_is("2026-11-30 02:45:00-05", t0745);
	/* a bare time of day is that time of now's day, in UTC */
	assert_int_equal(rawcap_parse_time("07:45", now, &v), 0);
	assert_int_equal(v, t0745);
	assert_int_equal(rawcap_parse_time("07:45:30", now, &v), 0);
	assert_int_equal(v, t0745 + 30ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("07:45:30.25Z", now, &v), 0);
	assert_int_equal(v, t0745 + 30250000000ull);
	assert_int_equal(rawcap_parse_time("09:45 +02:00", now, &v), 0);
	assert_int_equal(v, t0745);
	assert_int_equal(rawcap_parse_time("00:00", now, &v), 0);
	assert_int_equal(v, t0745 - (7 * 3600ull + 45 * 60) * 1000000000ull);
	/* still refused, with the forms listed by the hint */
	time_err("2026-11-30 07:45:00 CET", -EINVAL);
	time_err("2026-11-30  07:45:00", -EINVAL);
	time_err("2026-11-30 07:45:", -EINVAL);
	time_err("2026-11-30 07:45:00 +2", -EINVAL);
	time_err("2026-11-30 07:45:00+24:00", -EINVAL);
	time_err("7:45", -EINVAL);
	time_err("24:00", -EINVAL);
	time_err("07:60", -EINVAL);
	time_err("07:45:00junk", -EINVAL);
	time_err("07:45 ", -EINVAL);
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_TIME, -EINVAL), "2026-11-26 10:02:00"));
	assert_non_null(strstr(rawcap_parse_hint(RAWCAP_PARSE_TIME, -EINVAL), "today in UTC"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_edges),     cmocka_unit_test(test_relative_edges),
		cmocka_unit_test(test_calendar),       cmocka_unit_test(test_size_edges),
		cmocka_unit_test(test_duration_edges), cmocka_unit_test(test_hints),
		cmocka_unit_test(should_parse_sizes),  cmocka_unit_test(should_parse_durations),
		cmocka_unit_test(should_parse_times),  cmocka_unit_test(should_parse_pasted_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
