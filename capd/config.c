// SPDX-License-Identifier: MIT
/*
 * config.c - capd's options: one table for the command line, the
 * environment and the config file, --help from it, and the one setter all
 * three go through, so every value is validated the same way. Any bad value
 * is a usage error: one line on stderr and exit 2, before anything is
 * created. Where the values come from, and in which order, is
 * config_load.c's; whether the settings add up on this host (interfaces,
 * sizes) is config_check.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rawcap/rawcap.h>

#include "capd.h"
#include "config_int.h"
#include "httpd.h"
#include "opt.h"

const struct opt capd_opts[] = {
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
	 "recorded in the ring, so readers find it without --storage\n"
	 "(default: none: packets are kept in the ring only)",
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
	 "serve Prometheus /metrics, /healthz (503 with the reason when\n"
	 "degraded) and /livez (200 while capd runs, 503 once a socket\n"
	 "stalled for max(60, 20 x stall-seconds) s) (default: off)", 0},
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

void capd_usage(void)
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

void capd_usage_error(const char *origin, const char *fmt, ...)
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

void capd_config_arena_reset(void)
{
	config_arena_used = 0;
}

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
int capd_config_set(struct capd_config *cfg, int code, const char *val, const char *origin)
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
