// SPDX-License-Identifier: MIT
/*
 * opt.c - getopt_long's tables and the --help text, both built from a
 * tool's one table of struct opt (opt.h).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "opt.h"
#include "ring_name.h"

const char opt_times_help[] =
	"Times: RFC 3339 (2026-11-30T07:45:00Z, 2026-11-30T07:45:00.123+01:00), a date\n"
	"and time as logs and Wireshark print it, UTC unless a zone follows\n"
	"(2026-11-30 07:45:00, 2026-11-30 07:45, 2026-11-30 07:45:00.5 UTC), a time of\n"
	"today in UTC (07:45, 07:45:30), unix seconds (1796024700.5), \"now\", or\n"
	"relative to now (-5m, -90s, -1h30m). Durations (--last): 5m, 90s, 1h30m.\n";

static int has_arg(const struct opt *o)
{
	if (!o->arg)
		return no_argument;
	return o->arg[0] == '[' ? optional_argument : required_argument;
}

static const struct opt *by_key(const struct opt *opts, int key)
{
	for (const struct opt *o = opts; o->name || o->key; o++)
		if (o->key == key)
			return o;
	return NULL;
}

int opt_init(struct opt_parser *p, const struct opt *opts, int argc, char **argv)
{
	size_t nl = 0, ns = 0;

	memset(p, 0, sizeof(*p));
	p->opts = opts;
	p->argc = argc;
	p->argv = argv;
	for (const struct opt *o = opts; o->name || o->key; o++) {
		if (nl == OPT_MAX)
			return -E2BIG;
		if (o->flags & OPT_F_GONE && by_key(opts, o->key) != o)
			continue; /* the letter means something else now: only --help says so */
		if (o->name)
			p->longs[nl++] = (struct option){o->name, has_arg(o), NULL,
							 OPT_LONG_BASE + (int)(o - opts)};
		if (!o->key)
			continue;
		p->shorts[ns++] = (char)o->key;
		if (has_arg(o) != no_argument)
			p->shorts[ns++] = ':';
		if (has_arg(o) == optional_argument)
			p->shorts[ns++] = ':';
	}
	return 0;
}

bool opt_quiet;

void opt_note(const char *prog, const char *fmt, ...)
{
	va_list ap;

	if (opt_quiet)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int opt_pace(const char *arg, double *speed)
{
	char *end;
	double v;

	if (!strcmp(arg, "realtime")) {
		*speed = 1;
		return 0;
	}
	if (!isdigit((unsigned char)arg[0]) && arg[0] != '.')
		return -EINVAL; /* no sign, space, inf or nan */
	v = strtod(arg, &end);
	if (end == arg || strcmp(end, "x") || !(v > 0 && v <= 1e6))
		return -EINVAL;
	*speed = v;
	return 0;
}

int opt_seconds(const char *arg, uint64_t max_ns, uint64_t *ns)
{
	size_t n = strspn(arg, "0123456789.");
	int err;

	if (n && !arg[n] && strchr(arg, '.') == strrchr(arg, '.') && strcmp(arg, ".")) {
		double v = strtod(arg, NULL);

		if (v * 1e9 > (double)max_ns)
			return -ERANGE;
		*ns = (uint64_t)(v * 1e9);
		return 0;
	}
	err = rawcap_parse_duration(arg, ns);
	return !err && *ns > max_ns ? -ERANGE : err;
}

/*
 * What getopt refused, said once in every tool's words: getopt's own message
 * named the binary's path and pointed nowhere.
 */
static void opt_refused(struct opt_parser *p, const char *prog)
{
	const char *word = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "?";

	p->reported = true;
	if (opt_known(p, optopt) && strchr(word, '='))
		fprintf(stderr, "%s: option '%s' takes no value (see --help)\n", prog, word);
	else if (opt_known(p, optopt))
		fprintf(stderr, "%s: option '%s' needs a value (see --help)\n", prog, word);
	else if (optopt)
		fprintf(stderr, "%s: unknown option '-%c' (see --help)\n", prog, optopt);
	else
		fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, word);
}

int opt_next(struct opt_parser *p, const char *prog)
{
	const struct opt *o;
	int idx = -1, c;

	opterr = 0; /* opt_refused() says it */
	c = getopt_long(p->argc, p->argv, p->shorts, p->longs, &idx);

	if (c == -1)
		return -1;
	if (c == '?' || c == ':') {
		opt_refused(p, prog);
		return '?';
	}
	o = c >= OPT_LONG_BASE ? &p->opts[c - OPT_LONG_BASE] : by_key(p->opts, c);
	(void)idx;
	if (!o)
		return '?';
	if (o->flags & OPT_F_GONE) {
		p->reported = true;
		fprintf(stderr, "%s: %s%s%s: %s\n", prog, o->name ? "--" : "-",
			o->name ? o->name : (char[]){(char)o->key, 0},
			o->name ? "" : " (old spelling)", o->help);
		return '?';
	}
	if (o->id == OPT_ID_QUIET) {
		opt_quiet = true;
		return opt_next(p, prog);
	}
	if (o->id == OPT_ID_VERSION) {
		const char *base = strrchr(prog, '/');

		printf("%s %s\n", base ? base + 1 : prog, RAWCAP_VERSION_STRING);
		exit(fflush(stdout) ? 1 : 0);
	}
	if (o->id == OPT_ID_RING && !ring_name_valid(optarg)) {
		/* A usage error (exit 2), said while parsing as every bad value is,
		 * not a runtime failure found when the ring is opened. */
		p->reported = true;
		fprintf(stderr,
			"%s: bad --ring '%s': ring names are 1-64 of A-Z a-z 0-9 . _ -, not "
			"starting with '.' (see --help)\n",
			prog, optarg);
		return '?';
	}
	if (o->id == OPT_ID_PACE && opt_pace(optarg, &(double){0})) {
		p->reported = true;
		fprintf(stderr,
			"%s: bad --pace '%s': realtime, or Nx for N times that (0 < N <= "
			"1000000, e.g. 10x, 0.5x) (see --help)\n",
			prog, optarg);
		return '?';
	}
	return o->id;
}

void opt_help_buffer(void)
{
	static char buf[1 << 16]; /* glibc ignores the size of a buffer it allocates */

	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

int opt_join(struct opt *all, size_t max, const struct opt *const *parts, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (const struct opt *o = parts[i]; o->name || o->key; o++) {
			if (k + 1 >= max)
				return -E2BIG;
			all[k++] = *o;
		}
	all[k] = (struct opt)OPT_END;
	return 0;
}

bool opt_known(const struct opt_parser *p, int code)
{
	return code >= OPT_LONG_BASE || (code > 0 && by_key(p->opts, code));
}

/* "  -r, --ring NAME" into buf. */
static void opt_label(const struct opt *o, char *buf, size_t len)
{
	const char *arg = o->arg ? o->arg : "";
	const char *sep = !o->arg ? "" : o->arg[0] == '[' ? "" : " ";

	if (o->key && o->name)
		snprintf(buf, len, "  -%c, --%s%s%s", o->key, o->name, sep, arg);
	else if (o->name)
		snprintf(buf, len, "      --%s%s%s", o->name, sep, arg);
	else
		snprintf(buf, len, "  -%c%s%s", o->key, sep, arg);
}

#define OPT_HELP_COLUMN 25

static void opt_line(FILE *f, const char *label, const char *help)
{
	int n = fprintf(f, "%s", label);

	while (help && *help) {
		const char *nl = strchr(help, '\n');
		int len = nl ? (int)(nl - help) : (int)strlen(help);

		if (n >= OPT_HELP_COLUMN - 1) {
			fputc('\n', f);
			n = 0;
		}
		fprintf(f, "%*s%.*s\n", OPT_HELP_COLUMN - n, "", len, help);
		n = 0;
		help = nl ? nl + 1 : "";
	}
	if (n)
		fputc('\n', f);
}

void opt_help(FILE *f, const struct opt *opts)
{
	bool changed = false;
	char label[96];

	for (const struct opt *o = opts; o->name || o->key; o++) {
		if (o->flags & (OPT_F_OLD | OPT_F_GONE) || !o->help)
			continue;
		opt_label(o, label, sizeof(label));
		opt_line(f, label, o->help);
	}
	for (const struct opt *o = opts; o->name || o->key; o++) {
		if (!(o->flags & (OPT_F_OLD | OPT_F_GONE)))
			continue;
		if (!changed)
			fputs("\nChanged spellings (the same flag means the same thing in every "
			      "rawcap "
			      "tool):\n",
			      f);
		changed = true;
		snprintf(label, sizeof(label), "  %s%s", o->name ? "--" : "-",
			 o->name ? o->name : (char[]){(char)o->key, 0});
		fprintf(f, "%-*s%s: %s\n", OPT_HELP_COLUMN, label,
			o->flags & OPT_F_OLD ? "still accepted" : "gone", o->help);
	}
}

void opt_window_init(struct opt_window *w)
{
	memset(w, 0, sizeof(*w));
	w->now_ns = rawcap_now_ns();
}

int opt_window_arg(struct opt_window *w, int id, const char *arg, const char *prog)
{
	bool last = id == OPT_ID_LAST;
	const char *what = last ? "--last" : id == OPT_ID_FROM ? "--from" : "--to";
	uint64_t *out = last ? &w->last_ns : id == OPT_ID_FROM ? &w->from_ns : &w->to_ns;
	char msg[768];
	int err;

	if (id != OPT_ID_FROM && id != OPT_ID_TO && !last)
		return 0;
	err = last ? rawcap_parse_duration(arg, out) : rawcap_parse_time(arg, w->now_ns, out);
	if (!err && !*out)
		err = -EDOM; /* zero means "not given" in struct opt_window */
	if (!err)
		return 1;
	fprintf(stderr, "%s: %s (see --help)\n", prog,
		rawcap_parse_error(last ? RAWCAP_PARSE_DURATION : RAWCAP_PARSE_TIME, err, what, arg,
				   msg, sizeof(msg)));
	return -1;
}

int opt_window_finish(struct opt_window *w, bool open_end, const char *prog)
{
	if (w->last_ns) {
		if (w->from_ns || w->to_ns) {
			fprintf(stderr, "%s: --last excludes --from and --to (see --help)\n", prog);
			return -1;
		}
		if (w->last_ns > w->now_ns) {
			fprintf(stderr, "%s: --last reaches before 1970 (see --help)\n", prog);
			return -1;
		}
		w->from_ns = w->now_ns - w->last_ns;
		w->to_ns = open_end ? 0 : w->now_ns;
	}
	if (w->from_ns && w->to_ns && w->to_ns <= w->from_ns) {
		fprintf(stderr, "%s: --to must be after --from (see --help)\n", prog);
		return -1;
	}
	/* Without --to a closed window ends now: a later --from would run it backwards. */
	if (!open_end && w->from_ns && !w->to_ns && w->from_ns >= w->now_ns) {
		fprintf(stderr,
			"%s: --from is not before now, where the window ends without --to "
			"(see --help)\n",
			prog);
		return -1;
	}
	return 0;
}

const char *opt_snapshot_dir(const char *dir)
{
	if (dir)
		return dir;
	dir = getenv("RAWCAP_SNAPSHOT_DIR");
	return dir && *dir ? dir : OPT_SNAPSHOT_DIR_DEFAULT;
}

int opt_snapshot_split(const char *arg, char *buf, size_t len, const char **dir,
		       const char **name)
{
	size_t n = strlen(arg);
	char *slash;

	*name = arg;
	if (!strchr(arg, '/'))
		return 0;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, arg, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	slash = strrchr(buf, '/');
	*name = slash + 1;
	*dir = slash == buf ? "/" : buf;
	*slash = '\0';
	return 0;
}

const char *opt_snapshot_path(const char *arg, const char *dir, char *buf, size_t len)
{
	if (strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, ".."))
		return arg;
	if ((size_t)snprintf(buf, len, "%s/%s", opt_snapshot_dir(dir), arg) >= len)
		return arg;
	return buf;
}

void opt_stop_signals(void (*fn)(int), int flags)
{
	struct sigaction sa = {.sa_handler = fn, .sa_flags = flags}, old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!sigaction(SIGHUP, NULL, &old) && old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}
