/* SPDX-License-Identifier: MIT */
/*
 * opt.h - the one set of command-line option definitions every rawcap tool
 * draws from, and the table that drives both parsing and --help (as
 * xdp-tools' params do). Internal to the tools: a static library, not part
 * of librawcap's API.
 *
 * A tool lists its options once, as a table of struct opt. The shared
 * options (OPT_DEF_*) fix the long name, the short letter and the argument
 * for every tool, so "-e" is the filter and "-f" the window start wherever
 * they are taken; the tool gives only the help text. tests/parse/flags.sh
 * reads every tool's --help and fails if a short or long name means two
 * things.
 */
#ifndef RAWCAP_OPT_H
#define RAWCAP_OPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rawcap/meta.h>

/* Old spelling, still accepted; --help lists it under "Changed". */
#define OPT_F_OLD 1u
/* Old spelling, no longer accepted (it now means something else); --help says so. */
#define OPT_F_GONE 2u

struct opt {
	const char *name; /* long name, or NULL for a short letter only */
	int key;	  /* short letter, or 0 */
	int id;		  /* what opt_next() returns for it */
	const char *arg;  /* argument name; NULL: none; "[=X]": optional */
	const char *help; /* lines for --help, '\n'-separated; for OLD/GONE: what it is now */
	unsigned flags;	  /* OPT_F_* */
};

/* The ids of the shared options (tool-local ids start at OPT_ID_LOCAL). */
enum {
	OPT_ID_RING = 0x1000,
	OPT_ID_STORAGE,
	OPT_ID_SNAPSHOT,
	OPT_ID_SNAPSHOT_DIR,
	OPT_ID_FROM,
	OPT_ID_TO,
	OPT_ID_LAST,
	OPT_ID_FOLLOW,
	OPT_ID_FILTER,
	OPT_ID_FORMAT,
	OPT_ID_OUTPUT,
	OPT_ID_SNAPLEN,
	OPT_ID_LISTEN,
	OPT_ID_NODE,
	OPT_ID_QUOTA,
	OPT_ID_QUIET,
	OPT_ID_PACE, /* checked inside opt_next(); opt_pace() gives its value */
	OPT_ID_HELP,
	OPT_ID_VERSION, /* printed and exit 0 inside opt_next() */
	OPT_ID_POD = RAWCAP_OPT_POD, /* handed to rawcap_meta_sel_option() as they are */
	OPT_ID_NAMESPACE = RAWCAP_OPT_NAMESPACE,
	OPT_ID_LABEL = RAWCAP_OPT_LABEL,
	OPT_ID_LOCAL = 0x1100,
};

/* The shared set: one name, letter and argument per meaning, in every tool. */
#define OPT_DEF_RING(h)                                                                            \
	{                                                                                          \
		"ring", 'r', OPT_ID_RING, "NAME", h, 0                                             \
	}
#define OPT_DEF_STORAGE(h)                                                                         \
	{                                                                                          \
		"storage", 's', OPT_ID_STORAGE, "DIR", h, 0                                        \
	}
#define OPT_DEF_SNAPSHOT(h)                                                                        \
	{                                                                                          \
		"snapshot", 'S', OPT_ID_SNAPSHOT, "NAME", h, 0                                     \
	}
#define OPT_DEF_SNAPSHOT_DIR(h)                                                                    \
	{                                                                                          \
		"snapshot-dir", 'd', OPT_ID_SNAPSHOT_DIR, "DIR", h, 0                              \
	}
#define OPT_DEF_FROM(h)                                                                            \
	{                                                                                          \
		"from", 'f', OPT_ID_FROM, "T", h, 0                                                \
	}
#define OPT_DEF_TO(h)                                                                              \
	{                                                                                          \
		"to", 't', OPT_ID_TO, "T", h, 0                                                    \
	}
#define OPT_DEF_LAST(h)                                                                            \
	{                                                                                          \
		"last", 0, OPT_ID_LAST, "DURATION", h, 0                                           \
	}
#define OPT_DEF_FOLLOW(h)                                                                          \
	{                                                                                          \
		"follow", 'F', OPT_ID_FOLLOW, NULL, h, 0                                           \
	}
#define OPT_DEF_FILTER(h)                                                                          \
	{                                                                                          \
		"filter", 'e', OPT_ID_FILTER, "EXPR", h, 0                                         \
	}
#define OPT_DEF_FORMAT(h)                                                                          \
	{                                                                                          \
		"format", 'm', OPT_ID_FORMAT, "FMT", h, 0                                          \
	}
#define OPT_DEF_OUTPUT(h)                                                                          \
	{                                                                                          \
		"output", 'o', OPT_ID_OUTPUT, "FILE", h, 0                                         \
	}
/* tcpdump's habit: -w FILE writes the capture to FILE. */
#define OPT_DEF_OUTPUT_W                                                                           \
	{                                                                                          \
		NULL, 'w', OPT_ID_OUTPUT, "FILE", "the same as -o, --output (tcpdump's -w)", 0     \
	}
#define OPT_DEF_SNAPLEN(h)                                                                         \
	{                                                                                          \
		"snaplen", 0, OPT_ID_SNAPLEN, "N", h, 0                                            \
	}
#define OPT_DEF_LISTEN(h)                                                                          \
	{                                                                                          \
		"listen", 'l', OPT_ID_LISTEN, "ADDR:PORT", h, 0                                    \
	}
#define OPT_DEF_NODE(h)                                                                            \
	{                                                                                          \
		"node", 0, OPT_ID_NODE, "NAME", h, 0                                               \
	}
#define OPT_DEF_QUOTA(h)                                                                           \
	{                                                                                          \
		"quota", 'Q', OPT_ID_QUOTA, "SIZE", h, 0                                           \
	}
#define OPT_DEF_POD(h)                                                                             \
	{                                                                                          \
		"pod", 'P', OPT_ID_POD, "NAME", h, 0                                               \
	}
#define OPT_DEF_NAMESPACE(h)                                                                       \
	{                                                                                          \
		"namespace", 'N', OPT_ID_NAMESPACE, "NS", h, 0                                     \
	}
#define OPT_DEF_LABEL(h)                                                                           \
	{                                                                                          \
		"label", 'L', OPT_ID_LABEL, "K=V", h, 0                                            \
	}
/* -p, --pace of the tools that replay (rawcap-forward, kubectl-rawcap export/dissect). */
#define OPT_DEF_PACE                                                                               \
	{                                                                                          \
		"pace", 'p', OPT_ID_PACE, "P",                                                     \
		    "replay speed: \"realtime\" as captured, or \"Nx\", N times\n"                  \
		    "that (0 < N <= 1000000, e.g. 10x, 0.5x); default: as\n"                        \
		    "fast as the receiver takes it",                                               \
		    0                                                                              \
	}
/* -q, --quiet, one meaning in every tool: opt_next() sets opt_quiet, opt_note() obeys it. */
#define OPT_DEF_QUIET                                                                              \
	{                                                                                          \
		"quiet", 'q', OPT_ID_QUIET, NULL,                                                  \
		    "no progress or notes on stderr (errors, loss and gaps still printed)", 0     \
	}
/* -h, --help, and -V, --version as capd and kubectl-rawcap have it (opt_next prints it). */
#define OPT_DEF_HELP                                                                               \
	{"help", 'h', OPT_ID_HELP, NULL, "this text", 0},                                          \
	{                                                                                          \
		"version", 'V', OPT_ID_VERSION, NULL, "print the version and exit", 0              \
	}
/* --pod, --namespace, --label with the help text they share. */
#define OPT_DEF_PODS(what)                                                                         \
	OPT_DEF_POD("only packets to or from pod NAME (or NAMESPACE/NAME)"),                       \
		OPT_DEF_NAMESPACE("only packets to or from pods in namespace NS"),                 \
		OPT_DEF_LABEL("only packets to or from pods labelled K=V (or having K)\n"          \
			      "Pods are resolved by address from the Kubernetes\n"                 \
			      "metadata in the capture at each packet's time; repeated\n"          \
			      "--pod/--namespace are alternatives, --label all apply." what)
/* An old spelling: still accepted (OLD), or refused because it means something else (GONE). */
#define OPT_OLD(name, key, id, arg, now)                                                           \
	{                                                                                          \
		name, key, id, arg, now, OPT_F_OLD                                                 \
	}
#define OPT_GONE(name, key, now)                                                                   \
	{                                                                                          \
		name, key, 0, NULL, now, OPT_F_GONE                                                \
	}
#define OPT_END                                                                                    \
	{                                                                                          \
		NULL, 0, 0, NULL, NULL, 0                                                          \
	}

/* Accepted time forms, for every tool's --help. */
extern const char opt_times_help[];

#define OPT_MAX 64

struct opt_parser {
	const struct opt *opts;
	int argc;
	char **argv;
	struct option longs[OPT_MAX + 1];
	char shorts[3 * OPT_MAX + 2];
	bool reported; /* opt_next() said why it returned '?' */
};

/* getopt_long's value for the long option at index i of the table. */
#define OPT_LONG_BASE 0x10000

/*
 * Build getopt_long's tables from opts (OPT_END-terminated). Returns 0, or
 * -E2BIG past OPT_MAX options.
 */
int opt_init(struct opt_parser *p, const struct opt *opts, int argc, char **argv);
/*
 * The next option's id (optarg holds its argument), -1 at the end, '?' for
 * an unknown option or a missing argument (getopt_long printed why unless
 * opterr is 0), or for an old spelling that is gone (said here, what to
 * use now, and p->reported set). -q/--quiet sets opt_quiet and is not
 * returned. --version is answered here: the tool's
 * name (prog's last part) and version on stdout, then exit 0.
 */
int opt_next(struct opt_parser *p, const char *prog);
/*
 * --pace P: "realtime" (1) or "Nx" (N, 0 < N <= 1e6): *speed set, 0; -EINVAL
 * otherwise. opt_next() refuses a bad one (one message), so a tool's
 * OPT_ID_PACE case only takes the value.
 */
int opt_pace(const char *arg, double *speed);
/*
 * Seconds ("30", "0.5") or a duration ("500ms", "2m"), as kubectl's
 * --request-timeout takes them: *ns set, 0; -ERANGE past max_ns; -EINVAL.
 */
int opt_seconds(const char *arg, uint64_t max_ns, uint64_t *ns);
/* Set by opt_next() on -q/--quiet (which it does not return): no progress, no notes. */
extern bool opt_quiet;
/* A note (not an error) on stderr, "PROG: ...\n", unless -q/--quiet was given. */
void opt_note(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * SIGINT, SIGTERM and SIGHUP (a closed terminal, as tcpdump) call fn, with
 * flags (SA_RESTART or 0). SIGHUP stays ignored where it was (nohup): read
 * first, so it is never caught meanwhile.
 */
void opt_stop_signals(void (*fn)(int), int flags);
/* After '?' with opterr 0: was optopt an option of the table (so its value was missing)? */
bool opt_known(const struct opt_parser *p, int code);
/*
 * Before --help on stdout: buffer all of it, so it leaves in one write and
 * a reader that stops early (--help | grep -q) costs no SIGPIPE.
 */
void opt_help_buffer(void);
/*
 * One table from the sections a --help prints apart (all holds max entries,
 * OPT_END included). 0, or -E2BIG if they do not fit.
 */
int opt_join(struct opt *all, size_t max, const struct opt *const *parts, size_t n);
/* The option lines of --help, then the changed spellings, if any. */
void opt_help(FILE *f, const struct opt *opts);

/* --from, --to, --last, and "now" for every relative time of one command. */
struct opt_window {
	uint64_t now_ns;
	uint64_t from_ns, to_ns; /* 0: not given */
	uint64_t last_ns;	 /* --last, 0: not given */
};

void opt_window_init(struct opt_window *w);
/*
 * Take --from, --to or --last: 1 if id was one of them, 0 if not, -1 if its
 * argument is bad (said on stderr with the accepted forms).
 */
int opt_window_arg(struct opt_window *w, int id, const char *arg, const char *prog);
/*
 * --last D becomes now - D .. now (open_end: no end, as for --follow); it
 * excludes --from and --to. Also refuses --to before --from, and, unless
 * open_end, a --from not before now without --to. 0 or -1 (said).
 */
int opt_window_finish(struct opt_window *w, bool open_end, const char *prog);

/*
 * --snapshot NAME: a name is looked up in the snapshot directory (dir, or
 * $RAWCAP_SNAPSHOT_DIR, or OPT_SNAPSHOT_DIR_DEFAULT); anything with a '/'
 * is a path, as before. Returns buf, or arg itself when it is a path.
 */
#define OPT_SNAPSHOT_DIR_DEFAULT "/var/lib/rawcap/snapshots"
const char *opt_snapshot_dir(const char *dir);
const char *opt_snapshot_path(const char *arg, const char *dir, char *buf, size_t len);

/*
 * A snapshot argument of show/verify/delete read as --snapshot reads it: a
 * path (anything with a '/') is split into its directory (*dir) and its last
 * part (*name, trailing slashes dropped), using buf for the copy; a name is
 * left as it is. 0, or -ENAMETOOLONG when arg does not fit buf.
 */
int opt_snapshot_split(const char *arg, char *buf, size_t len, const char **dir,
		       const char **name);

#endif
