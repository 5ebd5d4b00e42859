// SPDX-License-Identifier: MIT
/*
 * config_load.c - where capd's settings come from, so that a Helm
 * ConfigMap can drive it as well as flags. Precedence, lowest first:
 * built-in defaults, the config file (--config or CAPD_CONFIG), environment
 * variables (CAPD_<OPTION>, dashes as underscores), the command line. Each
 * value goes through config.c's setter.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "capd.h"
#include "config_int.h"
#include "opt.h"
#include "safe_open.h"

#define CONFIG_FILE_MAX (1u << 20) /* a longer config file is refused */

/* A setting of the table (not an old spelling, not --config/--help/--version). */
static bool config_settable(const struct opt *o)
{
	return o->name && !o->flags && o->id != 'c' && o->id != 'h' && o->id != 'V';
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
		err = capd_config_set(cfg, o->id, !o->arg && !*val ? NULL : val, origin);
	}
	return err;
}

/* Read whole first (safe_read_named): a FIFO or device under the name is refused. */
static int config_file_load(struct capd_config *cfg, const char *path)
{
	char *text, why[128];
	size_t len;
	FILE *f;
	int err = safe_read_named(path, CONFIG_FILE_MAX, &text, &len, why, sizeof(why));

	if (err) {
		capd_usage_error(NULL, "cannot read config file %s: %s", path, why);
		return -EINVAL;
	}
	f = len ? fmemopen(text, len, "r") : NULL;
	if (len && !f) {
		capd_usage_error(NULL, "cannot read config file %s: %s", path, strerror(errno));
		free(text);
		return -EINVAL;
	}
	err = f ? config_stream_load(cfg, f, path) : 0;
	if (f)
		fclose(f);
	explicit_bzero(text, len);
	free(text);
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

	capd_config_arena_reset();
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
		if (capd_config_set(cfg, o->id, v, origin))
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
		if (c != 'c' && capd_config_set(cfg, c, optarg, NULL))
			return 2;
	cfg->config_file = file;
	return capd_config_validate(cfg) ? 2 : 0;
}
