// SPDX-License-Identifier: MIT
/*
 * config.c - capd's settings from the command line, the environment and a
 * config file, so that a Helm ConfigMap can drive it as well as flags.
 *
 * Precedence, lowest first: built-in defaults, the config file (--config or
 * CAPD_CONFIG), environment variables (CAPD_<OPTION>, dashes as
 * underscores), the command line. Every value goes through one setter, so
 * all three are validated the same way. Any bad value is a usage error:
 * one line on stderr and exit 2, before anything is created.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "capd.h"
#include "frame.h"
#include "httpd.h"
#include "opt.h"
#include "ring_name.h"

/*
 * The dedicated identity capd drops to by default: uid and gid 64720, named
 * rawcap where scripts/run-capd.sh or the image created them. Not nobody:
 * other daemons share it, and whoever runs as capd's user owns the capture.
 */
#define CAPD_DEFAULT_ID "64720"

enum {
	OPT_RING_SIZE = 256,
	OPT_THREADS,
	OPT_FANOUT,
	OPT_BLOCK_SIZE,
	OPT_BLOCK_COUNT,
	OPT_DUP,
	OPT_STORAGE_SIZE,
	OPT_SYNC,
	OPT_STATS,
	OPT_STALL,
	OPT_BACKEND,
	OPT_K8S,
	OPT_PROC,
	OPT_SELFTEST,
	OPT_CAPTURE_SELF,
	OPT_SELF_UIDS,
};

/* Every option, for the command line, CAPD_<OPTION> and the config file alike. */
static const struct opt capd_opts[] = {
	{"config", 'c', 'c', "FILE",
	 "read settings from FILE: one 'option = value' (or\n"
	 "'option: value') per line, option names as below, # comments",
	 0},
	OPT_DEF_RING("ring name; the object is /dev/shm/rawcap-NAME (default:\ndefault)"),
	{"ring-size", 0, OPT_RING_SIZE, "SIZE",
	 "ring data size, a power of two from 1Mi to 1Ti, e.g.\n256Mi, 1Gi (default: 256Mi)", 0},
	{"interfaces", 'i', 'i', "LIST",
	 "comma-separated names or patterns: any, eth0, 'veth*'\n"
	 "(default: any). Patterns and any also pick up interfaces\n"
	 "created later; a pattern that matches nothing yet is warned of",
	 0},
	OPT_DEF_FILTER("pcap filter expression, locked onto every socket\n(default: none)"),
	OPT_DEF_SNAPLEN("bytes kept per packet, 64..262144 (default: 262144)"),
	{"threads", 0, OPT_THREADS, "N",
	 "AF_PACKET sockets in one PACKET_FANOUT group, 1..64\n"
	 "(default: 1); one writer thread drains them all",
	 0},
	{"fanout", 0, OPT_FANOUT, "MODE",
	 "fanout mode with --threads > 1: hash, cpu, lb\n(default: hash)", 0},
	{"block-size", 0, OPT_BLOCK_SIZE, "SIZE",
	 "TPACKET_V3 block size, a power of two from 64Ki to 1Gi\n(default: 1Mi)", 0},
	{"block-count", 0, OPT_BLOCK_COUNT, "N",
	 "TPACKET_V3 blocks per socket, 2..65536 (default: 64)", 0},
	{"duplicates", 0, OPT_DUP, "POLICY",
	 "keep: record a packet on every captured interface it crosses;\n"
	 "ingress: only where it is received (default: keep)",
	 0},
	{"storage", 0, OPT_ID_STORAGE, "DIR",
	 "disk FIFO directory: created, or owned by root or --user and\n"
	 "not a link; made 0750 and locked (one capd per directory);\n"
	 "recorded in the ring, so readers find it without --storage",
	 0},
	{"storage-size", 0, OPT_STORAGE_SIZE, "SIZE", "disk FIFO size, e.g. 10Gi (default: 1Gi)",
	 0},
	{"sync-interval", 0, OPT_SYNC, "DUR",
	 "fdatasync the disk FIFO this often, e.g. 1s, 200ms; a power\n"
	 "loss costs at most about twice this (default: 1s; 0s: only\n"
	 "at exit; at most 1h)",
	 0},
	{"user", 'u', 'u', "USER",
	 "user to drop to, name or uid (default: rawcap's own,\n" CAPD_DEFAULT_ID
	 "; see README, \"Identity\")",
	 0},
	{"group", 'g', 'g', "GROUP",
	 "group to drop to; owns the ring (mode 0640) and the FIFO\n"
	 "(default: the user's primary group; " CAPD_DEFAULT_ID "\n"
	 "for the default user). Readers must be in it.",
	 0},
	{"stats-listen", 0, OPT_STATS, "ADDR:PORT",
	 "serve Prometheus /metrics and /healthz (default: off)", 0},
	{"stall-seconds", 0, OPT_STALL, "N",
	 "report a socket stalled after N seconds of packets counted by\n"
	 "the kernel but none delivered, 1..3600 (default: 3)",
	 0},
	{"backend", 0, OPT_BACKEND, "NAME", "capture backend: afpacket, ebpf (default: afpacket)",
	 0},
	{"kubernetes", 0, OPT_K8S, "[=BOOL]",
	 "write Kubernetes metadata records (pods, services, ...); the\n"
	 "node is $NODE_NAME (the chart sets it from spec.nodeName),\n"
	 "else the host name",
	 0},
	{"process-context", 0, OPT_PROC, "[=BOOL]",
	 "write process/flow metadata from eBPF (pid, comm, cgroup,\n"
	 "container id per 5-tuple); works with either backend",
	 0},
	{"capture-self", 0, OPT_CAPTURE_SELF, "[=BOOL]",
	 "also capture rawcap's own connections; by default the\n"
	 "sockets of --user, of --self-uids and of capd are left out\n"
	 "(exact 5-tuples: other traffic on the same ports stays)",
	 0},
	{"self-uids", 0, OPT_SELF_UIDS, "LIST",
	 "more users (names or uids, comma-separated) whose sockets\n"
	 "are rawcap's own, e.g. the readers' (default: none)",
	 0},
	{"selftest-after-drop", 0, OPT_SELFTEST, "[=MODE]", NULL, 0},
	{"help", 'h', 'h', NULL, "show this help and exit", 0},
	{"version", 'V', 'V', NULL, "show the version and exit", 0},
	OPT_GONE(NULL, 'f', "was --filter; now -e, as in every tool (-f is --from)"),
	OPT_GONE(NULL, 's',
		 "was --snaplen; -s is --storage in every tool: give --snaplen "
		 "or --storage"),
	OPT_END,
};

static void capd_usage(void)
{
	fputs("Usage: capd [OPTION]...\n"
	      "Capture packets into a rawcap shared-memory ring (the only privileged rawcap "
	      "process).\n"
	      "\n"
	      "Run as root: capd opens its sockets, creates the ring and storage, then drops to "
	      "an\n"
	      "unprivileged user with no capabilities, no_new_privs and a seccomp allow-list.\n"
	      "With no options it captures every interface into the ring 'default' of 256Mi.\n"
	      "\n",
	      stdout);
	opt_help(stdout, capd_opts);
	fputs("\n"
	      "Every option can also be set as CAPD_<OPTION> in the environment, e.g. "
	      "CAPD_RING_SIZE=1Gi,\n"
	      "CAPD_INTERFACES=eth0,veth*, CAPD_KUBERNETES=true. The command line wins over the\n"
	      "environment, which wins over the config file.\n"
	      "\n"
	      "Sizes: 4096, 64K (x1000), 256M, 1G, or 64Ki, 256Mi, 1Gi (x1024).\n"
	      "Durations: a number and a unit (h, m, s, ms, us, ns), combined as 1h30m.\n"
	      "SIGTERM or SIGINT: drain the sockets, write final loss records, print final stats, "
	      "exit 0.\n"
	      "Exit status: 0 success, 1 runtime failure, 2 usage error.\n",
	      stdout);
}

/* A setting of the table (not an old spelling, not --config/--help/--version). */
static bool config_settable(const struct opt *o)
{
	return o->name && !o->flags && o->id != 'c' && o->id != 'h' && o->id != 'V';
}

static void capd_usage_error(const char *origin, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void capd_usage_error(const char *origin, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "capd: %s%s", origin ? origin : "", origin ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Option text lives in one static arena: values are small and set a few
 * times at startup, overriding values need no bookkeeping, and nothing is
 * left to free on any exit path.
 */
static char config_arena[64 * 1024];
static size_t config_arena_used;

static char *config_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > sizeof(config_arena) - config_arena_used)
		return NULL;
	p = config_arena + config_arena_used;
	memcpy(p, s, n);
	config_arena_used += n;
	return p;
}

/* A whole number in [min, max]; a usage error naming the range otherwise. */
static int config_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *origin)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoull(s, &end, 10) : 0;
	if (!isdigit((unsigned char)*s) || errno || *end || v < min || v > max) {
		capd_usage_error(origin,
				 "bad number '%s': expected a whole number from %llu to %llu", s,
				 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int config_bad_word(const char *origin, const char *v, const char *accepted)
{
	capd_usage_error(origin, "bad value '%s': expected %s", v ? v : "", accepted);
	return -EINVAL;
}

#define CONFIG_BOOL_FORMS "true, false, yes, no, 1 or 0"

static int parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int config_add_ifaces(struct capd_config *cfg, const char *list, const char *origin)
{
	char *dup = config_strdup(list), *save = NULL, *tok;

	if (!dup) {
		capd_usage_error(origin, "configuration too large");
		return -EINVAL;
	}
	cfg->n_ifaces = 0; /* a later source replaces the whole list */
	for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (cfg->n_ifaces == CAPD_MAX_IFACES) {
			capd_usage_error(origin, "too many interfaces (at most %d)",
					 CAPD_MAX_IFACES);
			return -EINVAL;
		}
		if (strlen(tok) >= IFNAMSIZ) {
			capd_usage_error(origin, "interface name too long: %s", tok);
			return -EINVAL;
		}
		cfg->ifaces[cfg->n_ifaces++] = tok;
	}
	if (!cfg->n_ifaces) {
		capd_usage_error(origin, "empty interface list");
		return -EINVAL;
	}
	return 0; /* dup stays referenced by cfg->ifaces */
}

/* --self-uids: user names or uids, never root (whose sockets are everyone's). */
static int config_self_uids(struct capd_config *cfg, const char *list, const char *origin)
{
	char buf[256], *save = NULL, *tok;
	uint64_t id;

	if (strlen(list) >= sizeof(buf)) {
		capd_usage_error(origin, "user list too long");
		return -EINVAL;
	}
	strcpy(buf, list);
	cfg->n_self_uids = 0; /* a later source replaces the whole list */
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		struct passwd *pw = getpwnam(tok);

		if (pw)
			id = pw->pw_uid;
		else if (!isdigit((unsigned char)*tok)) {
			capd_usage_error(origin, "unknown user '%s'", tok);
			return -EINVAL;
		} else if (config_uint(tok, 0, UINT32_MAX - 1, &id, origin)) {
			return -EINVAL;
		}
		if (!id) {
			capd_usage_error(origin, "'%s' is root: its sockets are not rawcap's own",
					 tok);
			return -EINVAL;
		}
		if (cfg->n_self_uids == CAPD_MAX_SELF_UIDS) {
			capd_usage_error(origin, "at most %d users", CAPD_MAX_SELF_UIDS);
			return -EINVAL;
		}
		cfg->self_uids[cfg->n_self_uids++] = (uid_t)id;
	}
	return 0;
}

static int config_size(const char *val, uint64_t *out, const char *what, const char *origin)
{
	int err = rawcap_parse_size(val, out);
	char msg[512];

	if (err) {
		capd_usage_error(
			origin, "%s",
			rawcap_parse_error(RAWCAP_PARSE_SIZE, err, what, val, msg, sizeof(msg)));
		return -EINVAL;
	}
	return 0;
}

static int config_duration(const char *val, uint64_t max_ns, uint64_t *out, const char *what,
			   const char *origin)
{
	int err = rawcap_parse_duration(val, out);

	if (!err && *out > max_ns)
		err = -ERANGE;
	if (err) {
		capd_usage_error(origin, "bad %s '%s': %s%s", what, val,
				 err == -ERANGE ? "at most 1h; " : "",
				 rawcap_parse_hint(RAWCAP_PARSE_DURATION, -EINVAL));
		return -EINVAL;
	}
	return 0;
}

/* Set one option (by getopt code) from any origin. */
static int config_set(struct capd_config *cfg, int code, const char *val, const char *origin)
{
	const char *v = val;
	struct sockaddr_storage sa;
	socklen_t salen;
	char optname[64];
	uint64_t n;

	/* Options that keep their text get a copy (env and file buffers are reused). */
	switch (code) {
	case 'c':
	case OPT_ID_RING:
	case OPT_ID_FILTER:
	case OPT_FANOUT:
	case OPT_ID_STORAGE:
	case 'u':
	case 'g':
	case OPT_STATS:
	case OPT_BACKEND:
		v = config_strdup(val);
		if (!v) {
			capd_usage_error(origin, "configuration too large");
			return -EINVAL;
		}
	}
	if (!origin) {
		for (const struct opt *o = capd_opts; o->name || o->key; o++)
			if (o->id == code && o->name && !o->flags)
				snprintf(optname, sizeof(optname), "--%s", o->name);
		origin = optname;
	}
	switch (code) {
	case 'c':
		cfg->config_file = v;
		return 0;
	case OPT_ID_RING:
		cfg->ring_name = v;
		return 0;
	case OPT_RING_SIZE:
		if (config_size(v, &cfg->ring_size, "ring size", origin))
			return -EINVAL;
		if (!ring_layout_valid_data_size(cfg->ring_size) || cfg->ring_size < (1u << 20)) {
			capd_usage_error(
				origin,
				"bad ring size '%s': must be a power of two from 1Mi to 1Ti", v);
			return -EINVAL;
		}
		return 0;
	case 'i':
		return config_add_ifaces(cfg, v, origin);
	case OPT_ID_FILTER:
		cfg->filter = v;
		return 0;
	case OPT_ID_SNAPLEN:
		if (config_uint(v, 64, 262144, &n, origin))
			return -EINVAL;
		cfg->snaplen = (uint32_t)n;
		return 0;
	case OPT_THREADS:
		if (config_uint(v, 1, 64, &n, origin))
			return -EINVAL;
		cfg->threads = (unsigned)n;
		return 0;
	case OPT_FANOUT:
		cfg->fanout = v;
		return 0;
	case OPT_BLOCK_SIZE:
		return config_size(v, &cfg->block_size, "block size", origin);
	case OPT_BLOCK_COUNT:
		if (config_uint(v, 2, 65536, &n, origin))
			return -EINVAL;
		cfg->block_nr = n;
		return 0;
	case OPT_DUP:
		if (!strcmp(v, "keep"))
			cfg->dup = CAPD_DUP_KEEP;
		else if (!strcmp(v, "ingress"))
			cfg->dup = CAPD_DUP_INGRESS;
		else
			return config_bad_word(origin, v, "keep or ingress");
		return 0;
	case OPT_ID_STORAGE:
		cfg->storage_dir = v;
		return 0;
	case OPT_STORAGE_SIZE:
		return config_size(v, &cfg->storage_size, "storage size", origin);
	case OPT_SYNC:
		return config_duration(v, 3600 * 1000000000ull, &cfg->sync_interval_ns,
				       "sync interval", origin);
	case 'u':
		cfg->user = v;
		return 0;
	case 'g':
		cfg->group = v;
		return 0;
	case OPT_STATS:
		if (*v && httpd_parse_listen(v, &sa, &salen)) {
			capd_usage_error(
				origin,
				"bad listen address '%s' (expected IPV4:PORT or [IPV6]:PORT, "
				"numeric, port 1-65535, e.g. 0.0.0.0:9469 or [::1]:9469)",
				v);
			return -EINVAL;
		}
		cfg->stats_listen = *v ? v : NULL;
		return 0;
	case OPT_STALL:
		if (config_uint(v, 1, 3600, &n, origin))
			return -EINVAL;
		cfg->stall_secs = (uint32_t)n;
		return 0;
	case OPT_BACKEND:
		cfg->backend = v;
		return 0;
	case OPT_K8S:
		if (parse_bool(v, &cfg->kubernetes))
			return config_bad_word(origin, v, CONFIG_BOOL_FORMS);
		return 0;
	case OPT_PROC:
		if (parse_bool(v, &cfg->process_context))
			return config_bad_word(origin, v, CONFIG_BOOL_FORMS);
		return 0;
	case OPT_CAPTURE_SELF:
		if (parse_bool(v, &cfg->capture_self))
			return config_bad_word(origin, v, CONFIG_BOOL_FORMS);
		return 0;
	case OPT_SELF_UIDS:
		return config_self_uids(cfg, v, origin);
	case OPT_SELFTEST:
		/* socket (default), open (/etc/shadow) or exec (/bin/true) */
		if (v && strcmp(v, "socket") && strcmp(v, "open") && strcmp(v, "exec") &&
		    strcmp(v, "connect"))
			return config_bad_word(origin, v, "socket, open, exec or connect");
		cfg->selftest_after_drop = true;
		cfg->selftest_mode = v && *v ? v : "socket";
		return 0;
	}
	return -EINVAL;
}

static const struct opt *config_find(const char *key)
{
	char name[64];
	size_t i;

	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = key[i] == '_' ? '-' : (char)tolower((unsigned char)key[i]);
	name[i] = 0;
	for (const struct opt *o = capd_opts; o->name || o->key; o++)
		if (config_settable(o) && !strcmp(o->name, name))
			return o;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) {
		e[-1] = 0;
		s++;
	}
	return s;
}

/* `key = value` lines from f; name is the origin used in messages. */
static int config_stream_load(struct capd_config *cfg, FILE *f, const char *name)
{
	char line[1024], origin[300];
	unsigned lineno = 0;
	int err = 0;

	while (!err && fgets(line, sizeof(line), f)) {
		char *sep, *key, *val;
		const struct opt *o;

		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", name, lineno);
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		sep = strpbrk(key, "=:");
		if (!sep) {
			capd_usage_error(origin, "expected 'option = value'");
			err = -EINVAL;
			break;
		}
		*sep = 0;
		key = trim(key);
		val = trim(sep + 1);
		o = config_find(key);
		if (!o) {
			capd_usage_error(origin, "unknown option '%s'", key);
			err = -EINVAL;
			break;
		}
		err = config_set(cfg, o->id, !o->arg && !*val ? NULL : val, origin);
	}
	return err;
}

static int config_file_load(struct capd_config *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		capd_usage_error(NULL, "cannot read config file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	err = config_stream_load(cfg, f, path);
	fclose(f);
	return err;
}

static void config_defaults(struct capd_config *cfg);

/*
 * Config file text from memory onto the defaults (the fuzz target's entry):
 * it resets the option arena, so only for a fresh cfg, never after a load.
 */
int capd_config_parse_text(struct capd_config *cfg, const char *text, size_t len)
{
	FILE *f;
	int err;

	config_arena_used = 0;
	config_defaults(cfg);
	if (!len)
		return 0;
	f = fmemopen((void *)text, len, "r");
	if (!f)
		return -errno;
	err = config_stream_load(cfg, f, "<text>");
	fclose(f);
	return err;
}

static int config_env_load(struct capd_config *cfg)
{
	char env[64], origin[80];

	for (const struct opt *o = capd_opts; o->name || o->key; o++) {
		const char *v;
		size_t i;

		if (!config_settable(o) || o->id == OPT_SELFTEST)
			continue;
		snprintf(env, sizeof(env), "CAPD_%s", o->name);
		for (i = 5; env[i]; i++)
			env[i] = env[i] == '-' ? '_' : (char)toupper((unsigned char)env[i]);
		v = getenv(env);
		if (!v)
			continue;
		snprintf(origin, sizeof(origin), "%s", env);
		if (config_set(cfg, o->id, v, origin))
			return -EINVAL;
	}
	return 0;
}

static void config_defaults(struct capd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ring_name = "default";
	cfg->ring_size = 256ull << 20;
	cfg->ifaces[0] = "any";
	cfg->n_ifaces = 1;
	cfg->filter = "";
	cfg->snaplen = 262144;
	cfg->threads = 1;
	cfg->fanout = "hash";
	cfg->block_size = 1u << 20;
	cfg->block_nr = 64;
	cfg->user = CAPD_DEFAULT_ID;
	cfg->backend = "afpacket";
	cfg->stall_secs = 3;
	cfg->sync_interval_ns = 1000000000ull;
}

/* Bytes of a capture block the kernel keeps for its own headers (tpacket3, sockaddr_ll). */
#define CONFIG_BLOCK_OVERHEAD 256u

/*
 * The snap length is what every packet keeps, and what the interface
 * descriptions announce: cut it to what the ring's largest record and the
 * capture blocks can hold, and say so, rather than cut packets silently.
 */
static void config_snaplen_fit(struct capd_config *cfg)
{
	uint64_t rec = cfg->ring_size / 4 < RAWCAP_REC_MAX ? cfg->ring_size / 4 : RAWCAP_REC_MAX;
	uint64_t fit = rec - RAWCAP_PKT_HDRS;

	if (cfg->block_size - CONFIG_BLOCK_OVERHEAD < fit)
		fit = cfg->block_size - CONFIG_BLOCK_OVERHEAD;
	if (cfg->snaplen <= fit)
		return;
	fprintf(stderr, "capd: snap length %u does not fit %s: keeping %llu bytes of each packet\n",
		cfg->snaplen,
		fit == rec - RAWCAP_PKT_HDRS ? "the ring's largest record (ring size / 4)"
					     : "a capture block (--block-size)",
		(unsigned long long)fit);
	cfg->snaplen = (uint32_t)fit;
}

/* The interface type of a named interface, or -errno. */
int capd_iface_arphrd(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

/* An interface pattern that no interface matches now (capd waits for one). */
static bool config_pattern_idle(const char *pattern)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	bool idle = true;

	for (i = ifs; i && i->if_index; i++)
		idle &= fnmatch(pattern, i->if_name, 0) != 0;
	if_freenameindex(ifs);
	return idle && ifs;
}

/* Settings that do nothing as given, or that depend on the environment: said, not refused. */
static void config_warn(const struct capd_config *cfg)
{
	const char *node = getenv("NODE_NAME");

	if (cfg->storage_size && !cfg->storage_dir)
		fprintf(stderr, "capd: warning: --storage-size without --storage does nothing: "
				"packets are kept in the ring only\n");
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		if (capd_iface_is_pattern(cfg->ifaces[i]) && config_pattern_idle(cfg->ifaces[i]))
			fprintf(stderr,
				"capd: warning: no interface matches '%s' yet: capd captures "
				"matching interfaces as they appear\n",
				cfg->ifaces[i]);
	if (cfg->kubernetes && node && *node)
		fprintf(stderr, "capd: --kubernetes: this node is '%s' ($NODE_NAME)\n", node);
	else if (cfg->kubernetes)
		fprintf(stderr,
			"capd: warning: --kubernetes: $NODE_NAME is not set, so capd cannot tell "
			"which node it runs on; set it from the downward API (spec.nodeName), as "
			"the chart does\n");
}

/*
 * The kernel pins --threads x --block-count x --block-size bytes of packet
 * ring for AF_PACKET (the eBPF backend's fallback too), outside any memory
 * cgroup: more than half of the
 * machine's memory would end in the OOM killer taking other processes.
 */
static int config_ring_mem_ok(const struct capd_config *cfg)
{
	uint64_t want = (uint64_t)cfg->threads * cfg->block_size * cfg->block_nr;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t half = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 2 : UINT64_MAX;

	if (want <= half)
		return 0;
	capd_usage_error(NULL,
			 "--threads %u x --block-count %llu x --block-size %llu is %llu bytes of "
			 "kernel ring memory, more than half of this machine's %llu bytes",
			 cfg->threads, (unsigned long long)cfg->block_nr,
			 (unsigned long long)cfg->block_size, (unsigned long long)want,
			 (unsigned long long)(half * 2));
	return -EINVAL;
}

static int config_validate(struct capd_config *cfg)
{
	char path[RING_PATH_MAX];
	bool any = false;
	int hw;

	config_warn(cfg);
	if (ring_name_path(cfg->ring_name, path, sizeof(path))) {
		capd_usage_error(NULL, "bad ring name '%s' (1-64 of A-Z a-z 0-9 . _ -)",
				 cfg->ring_name);
		return -EINVAL;
	}
	if (cfg->block_size < 65536 || cfg->block_size > (1u << 30) ||
	    (cfg->block_size & (cfg->block_size - 1))) {
		capd_usage_error(NULL,
				 "bad block size %llu: must be a power of two from 64Ki to 1Gi",
				 (unsigned long long)cfg->block_size);
		return -EINVAL;
	}
	if (config_ring_mem_ok(cfg))
		return -EINVAL;
	if (strcmp(cfg->fanout, "hash") && strcmp(cfg->fanout, "cpu") &&
	    strcmp(cfg->fanout, "lb")) {
		capd_usage_error(NULL, "bad fanout mode '%s' (hash, cpu or lb)", cfg->fanout);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		const char *n = cfg->ifaces[i];

		if (!strcmp(n, "any"))
			any = true;
		else if (!capd_iface_is_pattern(n) && !if_nametoindex(n)) {
			capd_usage_error(NULL, "unknown interface '%s'", n);
			return -EINVAL;
		} else if (!capd_iface_is_pattern(n) && (hw = capd_iface_arphrd(n)) >= 0 &&
			   !capd_linktype((uint16_t)hw)) {
			capd_usage_error(NULL,
					 "interface '%s' is of type %d (ARPHRD_*), which capd does "
					 "not record: only Ethernet, loopback and IP (tunnels)",
					 n, hw);
			return -EINVAL;
		}
	}
	if (any && cfg->n_ifaces > 1) {
		capd_usage_error(NULL, "interface 'any' cannot be combined with other names");
		return -EINVAL;
	}
	config_snaplen_fit(cfg);
	return 0;
}

int capd_config_load(struct capd_config *cfg, int argc, char **argv)
{
	const char *file = getenv("CAPD_CONFIG");
	struct opt_parser p;
	int c;

	config_defaults(cfg);
	if (opt_init(&p, capd_opts, argc, argv))
		return 2;
	/* Pass 1: only --config, --help and --version, and reject unknown options early. */
	opterr = 0;
	while ((c = opt_next(&p, "capd")) != -1) {
		if (c == 'h') {
			opt_help_buffer();
			capd_usage();
			return 1;
		}
		if (c == 'V') {
			printf("capd %s\n", rawcap_version());
			return 1;
		}
		if (c == 'c')
			file = optarg;
		if (c == '?' && p.reported)
			return 2;
		if (c == '?') {
			if (opt_known(&p, optopt))
				capd_usage_error(NULL, "option '%s' needs a value",
						 argv[optind - 1]);
			else if (optopt)
				capd_usage_error(NULL, "unknown option '-%c' (see capd --help)",
						 optopt);
			else
				capd_usage_error(NULL, "unknown option '%s' (see capd --help)",
						 argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		capd_usage_error(NULL, "unexpected argument '%s' (see capd --help)", argv[optind]);
		return 2;
	}
	if (file && config_file_load(cfg, file))
		return 2;
	if (config_env_load(cfg))
		return 2;
	optind = 1;
	opt_init(&p, capd_opts, argc, argv);
	while ((c = opt_next(&p, "capd")) != -1)
		if (c != 'c' && config_set(cfg, c, optarg, NULL))
			return 2;
	cfg->config_file = file;
	return config_validate(cfg) ? 2 : 0;
}
