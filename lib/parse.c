// SPDX-License-Identifier: MIT
/*
 * parse.c - sizes, times and durations as every rawcap tool reads them.
 *
 * These parse untrusted command-line and config text: they reject anything
 * they do not fully consume and check every multiplication for overflow.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rawcap/rawcap.h>

#include "clock.h"

#define NS_PER_SEC 1000000000ull

uint64_t rawcap_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	uint64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return 0;
	*out = r;
	return 1;
}

/* Parse leading decimal digits; at least one is required. */
static int parse_u64(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		if (!mul_ok(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -ERANGE;
		s++;
	}
	*sp = s;
	*out = v;
	return 0;
}

int rawcap_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "Ki", 1ull << 10 }, { "Mi", 1ull << 20 }, { "Gi", 1ull << 30 },
		{ "Ti", 1ull << 40 }, { "k", 1000ull },	    { "K", 1000ull },
		{ "M", 1000000ull },  { "G", 1000000000ull }, { "T", 1000000000000ull },
		{ "", 1 },
	};
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_u64(&s, &v);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].suffix);

		if (strncmp(s, units[i].suffix, n))
			continue;
		if (strcmp(s + n, "") && strcmp(s + n, "B"))
			continue;
		return mul_ok(v, units[i].mult, out) ? 0 : -ERANGE;
	}
	return -EINVAL;
}

int rawcap_parse_duration(const char *s, uint64_t *out_ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{ "ms", 1000000ull }, { "us", 1000ull }, { "ns", 1 },
		{ "h", 3600 * NS_PER_SEC }, { "m", 60 * NS_PER_SEC }, { "s", NS_PER_SEC },
	};
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t v, part;
		size_t i;
		int err = parse_u64(&s, &v);

		if (err)
			return err;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strncmp(s, units[i].unit, strlen(units[i].unit)))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		s += strlen(units[i].unit);
		if (!mul_ok(v, units[i].ns, &part) || __builtin_add_overflow(total, part, &total))
			return -ERANGE;
	}
	*out_ns = total;
	return 0;
}

/* Digits after a decimal point, as nanoseconds (extra digits are truncated). */
static int parse_fraction_ns(const char **sp, uint64_t *ns)
{
	const char *s = *sp;
	uint64_t scale = NS_PER_SEC / 10;

	*ns = 0;
	if (*s != '.')
		return 0;
	s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++, scale /= 10)
		*ns += (uint64_t)(*s - '0') * scale;
	*sp = s;
	return 0;
}

static int parse_fixed(const char **sp, int digits, int *out)
{
	int v = 0;

	for (int i = 0; i < digits; i++, (*sp)++) {
		if (!isdigit((unsigned char)**sp))
			return -EINVAL;
		v = v * 10 + (**sp - '0');
	}
	*out = v;
	return 0;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int mo)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return mo == 2 && leap_year(y) ? 29 : days[mo - 1];
}

/*
 * The zone after a date-time: Z, UTC or GMT, +hh:mm, +hhmm or +hh (one
 * space may precede it, as pasted from logs), or nothing: UTC. Sets the
 * offset east of UTC in seconds.
 */
static int parse_zone(const char **sp, long *east)
{
	const char *s = *sp;
	int oh = 0, om = 0, sign;

	*east = 0;
	if (!*s)
		return 0;
	if (*s == ' ' && !*++s)
		return -EINVAL;
	if (*s == 'Z' || *s == 'z') {
		*sp = s + 1;
		return 0;
	}
	if (!strncmp(s, "UTC", 3) || !strncmp(s, "GMT", 3)) {
		*sp = s + 3;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -EINVAL;
	sign = *s++ == '-' ? -1 : 1;
	if (parse_fixed(&s, 2, &oh))
		return -EINVAL;
	if (*s == ':')
		s++;
	if (isdigit((unsigned char)*s) && parse_fixed(&s, 2, &om))
		return -EINVAL;
	if (oh > 23 || om > 59)
		return -EINVAL;
	*east = sign * (oh * 3600L + om * 60L);
	*sp = s;
	return 0;
}

/* hh:mm[:ss[.frac]]: a second of 60 is a leap second and only follows minute 59. */
static int parse_clock(const char **sp, struct tm *tm, uint64_t *frac)
{
	*frac = 0;
	if (parse_fixed(sp, 2, &tm->tm_hour) || *(*sp)++ != ':' || parse_fixed(sp, 2, &tm->tm_min))
		return -EINVAL;
	if (**sp == ':') {
		(*sp)++;
		if (parse_fixed(sp, 2, &tm->tm_sec) || parse_fraction_ns(sp, frac))
			return -EINVAL;
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60 ||
	    (tm->tm_sec == 60 && tm->tm_min != 59))
		return -EINVAL;
	return 0;
}

/* tm (UTC fields), less the zone's offset, plus frac, as ns since the epoch. */
static int tm_to_ns(struct tm *tm, long east, uint64_t frac, uint64_t *out_ns)
{
	time_t t = timegm(tm) - (time_t)east;
	uint64_t secs;

	if (t < 0)
		return -ERANGE;
	secs = (uint64_t)t;
	if (!mul_ok(secs, NS_PER_SEC, &secs) || __builtin_add_overflow(secs, frac, out_ns))
		return -ERANGE;
	return 0;
}

/*
 * A date and time as RFC 3339 has it or as logs and Wireshark print it:
 * YYYY-MM-DD[T ]hh:mm[:ss[.frac]][zone] (see parse_zone; no zone is UTC).
 * Fields out of their range (2026-02-30, 25:00) are -EINVAL. Times before
 * the epoch or after 2554-07-21T23:34:33.709551615Z (UINT64_MAX ns) are
 * -ERANGE.
 */
static int parse_date_time(const char *s, uint64_t *out_ns)
{
	struct tm tm = { 0 };
	int y, mo, d;
	uint64_t frac;
	long east;

	if (parse_fixed(&s, 4, &y) || *s++ != '-' || parse_fixed(&s, 2, &mo) || *s++ != '-' ||
	    parse_fixed(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
		return -EINVAL;
	s++;
	if (parse_clock(&s, &tm, &frac) || parse_zone(&s, &east) || *s)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	return tm_to_ns(&tm, east, frac, out_ns);
}

/* A bare hh:mm[:ss[.frac]][zone]: that time of now's day in UTC. */
static int parse_time_of_day(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
	time_t now = (time_t)(now_ns / NS_PER_SEC);
	struct tm tm = { 0 }, today;
	uint64_t frac;
	long east;

	if (!gmtime_r(&now, &today))
		return -ERANGE;
	if (parse_clock(&s, &tm, &frac) || parse_zone(&s, &east) || *s)
		return -EINVAL;
	tm.tm_year = today.tm_year;
	tm.tm_mon = today.tm_mon;
	tm.tm_mday = today.tm_mday;
	return tm_to_ns(&tm, east, frac, out_ns);
}

int rawcap_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
	uint64_t v, frac, d;
	const char *p = s;
	int err;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "now")) {
		*out_ns = now_ns;
		return 0;
	}
	if (*s == '-' || *s == '+') {
		err = rawcap_parse_duration(s + 1, &d);
		if (err)
			return err;
		if (*s == '-')
			return d > now_ns ? -ERANGE : (*out_ns = now_ns - d, 0);
		return __builtin_add_overflow(now_ns, d, out_ns) ? -ERANGE : 0;
	}
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_date_time(s, out_ns);
	if (strlen(s) >= 5 && s[2] == ':')
		return parse_time_of_day(s, now_ns, out_ns);
	err = parse_u64(&p, &v);
	if (err)
		return err;
	if (parse_fraction_ns(&p, &frac) || *p)
		return -EINVAL;
	if (!mul_ok(v, NS_PER_SEC, &v) || __builtin_add_overflow(v, frac, out_ns))
		return -ERANGE;
	return 0;
}

#define SIZE_FORMS                                                                                 \
	"sizes are bytes (4096) or a number with K, M, G, T (x1000) or Ki, Mi, Gi, Ti (x1024), "   \
	"optionally followed by B: 64Ki, 256Mi, 1G"
#define TIME_FORMS                                                                                 \
	"times are RFC 3339 (2026-11-26T10:02:00Z, 2026-11-26T10:02:00.123+02:00), a date and "   \
	"time as logs and Wireshark print it, UTC unless a zone follows (2026-11-26 10:02:00, "     \
	"2026-11-26 10:02, 2026-11-26 10:02:00.5 UTC), a time of today in UTC (10:02, "           \
	"10:02:30), unix seconds (1790000000.5), now, or relative to now (-5m, +1h30m)"
#define DURATION_FORMS                                                                             \
	"durations are numbers with a unit (h, m, s, ms, us, ns), combined as 1h30m: 90s, "        \
	"250ms"

const char *rawcap_parse_hint(enum rawcap_parse_kind kind, int err)
{
	bool range = err == -ERANGE;

	switch (kind) {
	case RAWCAP_PARSE_SIZE:
		if (err == -EDOM)
			return "a size above 0 is needed; " SIZE_FORMS;
		return range ? "out of range: at most 18446744073709551615 bytes (2^64 - "
			       "1); " SIZE_FORMS
			     : SIZE_FORMS;
	case RAWCAP_PARSE_TIME:
		if (err == -EDOM)
			return "a time after 1970-01-01T00:00:00Z is needed; " TIME_FORMS;
		return range ? "out of range: between 1970-01-01T00:00:00Z and "
			       "2554-07-21T23:34:33Z; " TIME_FORMS
			     : TIME_FORMS;
	case RAWCAP_PARSE_DURATION:
		if (err == -EDOM)
			return "a duration longer than 0 is needed; " DURATION_FORMS;
		return range ? "out of range: below 584 years (2^64 ns); " DURATION_FORMS
			     : DURATION_FORMS;
	}
	return "";
}

const char *rawcap_parse_error(enum rawcap_parse_kind kind, int err, const char *what,
			       const char *value, char *buf, size_t len)
{
	static const char *const kinds[] = {"size", "time", "duration"};

	snprintf(buf, len, "bad %s '%s': %s",
		 what ? what : (unsigned)kind <= RAWCAP_PARSE_DURATION ? kinds[kind] : "value",
		 value ? value : "", rawcap_parse_hint(kind, err));
	return buf;
}

const char *rawcap_format_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / NS_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !len) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(ts_ns % NS_PER_SEC));
	return buf;
}
