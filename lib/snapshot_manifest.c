// SPDX-License-Identifier: MIT
/*
 * snapshot_manifest.c - a snapshot's manifest.json: rendered by hand with
 * proper escaping, and read back with a small strict parser. The manifest
 * is read by verify/show/list and by exporters, and a snapshot may come
 * from another node, so the parser trusts nothing: bounded size, bounded
 * nesting, every string and number checked, anything unexpected is -EBADMSG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "safe_open.h"
#include "snapshot_int.h"

#define JSON_MAX_DEPTH 8
#define JSON_MAX_KEYS  48 /* per object; a manifest has 27 */

struct json {
	const char *p, *end;
	int depth;
};

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int json_expect(struct json *j, char c)
{
	json_ws(j);
	if (j->p >= j->end || *j->p != c)
		return -EBADMSG;
	j->p++;
	return 0;
}

static int json_peek(struct json *j)
{
	json_ws(j);
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append code point cp as UTF-8 (we only need to carry it through, not interpret it). */
static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	o[0] = (char)(0xE0 | cp >> 12);
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* Parse a string into out (cap bytes incl. NUL); out may be NULL to skip. */
static int json_string(struct json *j, char *out, size_t cap)
{
	size_t n = 0;

	if (json_expect(j, '"'))
		return -EBADMSG;
	while (j->p < j->end && *j->p != '"') {
		char tmp[4];
		size_t k = 1;
		unsigned char c = (unsigned char)*j->p++;

		if (c < 0x20)
			return -EBADMSG;
		tmp[0] = (char)c;
		if (c == '\\') {
			if (j->p >= j->end)
				return -EBADMSG;
			c = (unsigned char)*j->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				tmp[0] = (char)c;
				break;
			case 'b':
				tmp[0] = '\b';
				break;
			case 'f':
				tmp[0] = '\f';
				break;
			case 'n':
				tmp[0] = '\n';
				break;
			case 'r':
				tmp[0] = '\r';
				break;
			case 't':
				tmp[0] = '\t';
				break;
			case 'u': {
				uint32_t cp = 0;

				if (j->end - j->p < 4)
					return -EBADMSG;
				for (int i = 0; i < 4; i++) {
					int h = hexval(*j->p++);

					if (h < 0)
						return -EBADMSG;
					cp = cp << 4 | (uint32_t)h;
				}
				/* Surrogates and NUL have no place in our manifests. */
				if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
					return -EBADMSG;
				k = utf8_put(tmp, cp);
				break;
			}
			default:
				return -EBADMSG;
			}
		}
		if (out) {
			if (n + k >= cap)
				return -EBADMSG;
			memcpy(out + n, tmp, k);
		}
		n += k;
	}
	if (j->p >= j->end)
		return -EBADMSG;
	j->p++;
	if (out)
		out[n] = '\0';
	return 0;
}

static int json_u64(struct json *j, uint64_t *out)
{
	uint64_t v = 0;
	const char *s;

	json_ws(j);
	s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*j->p - '0'), &v))
			return -EBADMSG;
		j->p++;
	}
	if (j->p == s || (*s == '0' && j->p - s > 1))
		return -EBADMSG;
	*out = v;
	return 0;
}

static int json_word(struct json *j, const char *w)
{
	size_t n = strlen(w);

	json_ws(j);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return -EBADMSG;
	j->p += n;
	return 0;
}

static int json_bool(struct json *j, bool *out)
{
	if (json_word(j, "true") == 0)
		*out = true;
	else if (json_word(j, "false") == 0)
		*out = false;
	else
		return -EBADMSG;
	return 0;
}

static int json_skip(struct json *j);

/* Iterate an object: cb(key) parses each value. */
static int json_object(struct json *j, int (*cb)(struct json *, const char *key, void *), void *arg)
{
	char keys[JSON_MAX_KEYS][64], *key;
	unsigned nkeys = 0;
	int err;

	if (++j->depth > JSON_MAX_DEPTH || json_expect(j, '{'))
		return -EBADMSG;
	if (json_peek(j) == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (nkeys == JSON_MAX_KEYS)
			return -EBADMSG;
		key = keys[nkeys];
		if (json_string(j, key, sizeof(keys[0])) || json_expect(j, ':'))
			return -EBADMSG;
		/* A repeated key could make two readers see two different manifests. */
		for (unsigned i = 0; i < nkeys; i++)
			if (!strcmp(keys[i], key))
				return -EBADMSG;
		nkeys++;
		err = cb(j, key, arg);
		if (err)
			return err;
		if (json_peek(j) == ',') {
			j->p++;
			continue;
		}
		if (json_expect(j, '}'))
			return -EBADMSG;
		j->depth--;
		return 0;
	}
}

static int skip_member(struct json *j, const char *key, void *arg)
{
	(void)key, (void)arg;
	return json_skip(j);
}

static int json_skip(struct json *j)
{
	uint64_t u;
	bool b;
	int c = json_peek(j);

	if (c == '"')
		return json_string(j, NULL, 0);
	if (c == '{')
		return json_object(j, skip_member, NULL);
	if (c == '[') {
		if (++j->depth > JSON_MAX_DEPTH)
			return -EBADMSG;
		j->p++;
		if (json_peek(j) == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		do {
			if (json_skip(j))
				return -EBADMSG;
		} while (json_peek(j) == ',' && j->p++);
		j->depth--;
		return json_expect(j, ']');
	}
	if (c == 'n')
		return json_word(j, "null");
	if (c == 't' || c == 'f')
		return json_bool(j, &b);
	return json_u64(j, &u);
}

static int file_member(struct json *j, const char *key, void *arg)
{
	struct snap_file *f = arg;

	if (!strcmp(key, "path"))
		return json_string(j, f->path, sizeof(f->path));
	if (!strcmp(key, "size"))
		return json_u64(j, &f->size);
	if (!strcmp(key, "sha256")) {
		if (json_string(j, f->sha256, sizeof(f->sha256)) || strlen(f->sha256) != 64)
			return -EBADMSG;
		for (int i = 0; i < 64; i++)
			if (hexval(f->sha256[i]) < 0)
				return -EBADMSG;
		return 0;
	}
	return json_skip(j);
}

static int json_files(struct json *j, struct snap_manifest *m)
{
	if (m->files || json_expect(j, '['))
		return -EBADMSG;
	if (json_peek(j) == ']') {
		j->p++;
		return 0;
	}
	m->files = calloc(SNAP_MAX_FILES, sizeof(*m->files));
	if (!m->files)
		return -ENOMEM;
	do {
		struct snap_file *f;

		if (m->nfiles == SNAP_MAX_FILES)
			return -EBADMSG;
		f = &m->files[m->nfiles++];
		if (json_object(j, file_member, f) || !f->path[0] || !f->sha256[0])
			return -EBADMSG;
	} while (json_peek(j) == ',' && j->p++);
	return json_expect(j, ']');
}

static int manifest_member(struct json *j, const char *key, void *arg)
{
	struct snap_manifest *m = arg;
	struct rawcap_snapshot_info *in = &m->info;
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {
#define N(f) {#f, offsetof(struct rawcap_snapshot_info, f)}
		N(created_ns),	  N(from_ns),	  N(to_ns),	    N(first_ts_ns),
		N(last_ts_ns),	  N(records),	  N(packets),	    N(packet_bytes),
		N(data_bytes),	  N(lost_reader), N(lost_upstream), N(missing_from_ns),
		N(missing_to_ns),
#undef N
	};
	char fmt[32];

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (!strcmp(key, nums[i].key))
			return json_u64(j, (uint64_t *)((char *)in + nums[i].off));
	if (!strcmp(key, "format"))
		return json_string(j, fmt, sizeof(fmt)) || strcmp(fmt, SNAP_FORMAT) ? -EBADMSG : 0;
	if (!strcmp(key, "name"))
		return json_string(j, in->name, sizeof(in->name));
	if (!strcmp(key, "node"))
		return json_string(j, in->node, sizeof(in->node));
	if (!strcmp(key, "tool_version"))
		return json_string(j, in->tool_version, sizeof(in->tool_version));
	if (!strcmp(key, "filter"))
		return json_string(j, in->filter, sizeof(in->filter));
	if (!strcmp(key, "partial"))
		return json_bool(j, &in->partial);
	if (!strcmp(key, "synthesised")) {
		in->exact_records = true;
		return json_u64(j, &in->synthesised);
	}
	if (!strcmp(key, "missing_reason")) {
		char why[32];

		if (json_string(j, why, sizeof(why)))
			return -EBADMSG;
		if (strcmp(why, RAWCAP_MISSING_RECYCLED) && strcmp(why, RAWCAP_MISSING_UNCAPTURED))
			return -EBADMSG;
		in->uncaptured = !strcmp(why, RAWCAP_MISSING_UNCAPTURED);
		return 0;
	}
	if (!strcmp(key, "files"))
		return json_files(j, m);
	return json_skip(j);
}

int snap_manifest_parse(const char *text, size_t len, struct snap_manifest *m)
{
	struct json j = {.p = text, .end = text + len};
	int err;

	memset(m, 0, sizeof(*m));
	err = json_object(&j, manifest_member, m);
	json_ws(&j);
	if (!err && (j.p != j.end || !rawcap_snapshot_name_ok(m->info.name)))
		err = -EBADMSG;
	m->info.files = m->nfiles;
	if (err)
		snap_manifest_free(m);
	return err;
}

int snap_manifest_load(const char *dir, struct snap_manifest *m)
{
	char leaf[NAME_MAX + 1];
	int pfd = safe_path_parent(dir, leaf, sizeof(leaf), NULL, 0); /* walked: section 4.9 */
	int err;

	if (pfd < 0)
		return pfd;
	err = snap_manifest_loadat(pfd, leaf, m);
	close(pfd);
	return err;
}

int snap_manifest_loadat(int atfd, const char *dir, struct snap_manifest *m)
{
	struct safe_want want = safe_want_dir(SAFE_ANY_OWNER);
	struct stat st;
	ssize_t n = 0;
	char *buf;
	int dfd, fd, err;

	memset(m, 0, sizeof(*m));
	dfd = safe_openat(atfd, dir, O_RDONLY, 0, &want, &st, NULL, 0);
	if (dfd < 0)
		return dfd;
	want = safe_want_file(st.st_uid, SNAP_MANIFEST_MAX);
	fd = safe_openat(dfd, SNAP_MANIFEST, O_RDONLY, 0, &want, &st, NULL, 0);
	close(dfd);
	if (fd < 0)
		return fd;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && n < st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)(st.st_size - n));

		if (r <= 0)
			break;
		n += r;
	}
	err = !buf ? -ENOMEM : n != st.st_size ? -EIO : 0;
	close(fd);
	if (!err)
		err = snap_manifest_parse(buf, (size_t)n, m);
	free(buf);
	return err;
}

void snap_manifest_free(struct snap_manifest *m)
{
	free(m->files);
	m->files = NULL;
	m->nfiles = 0;
}

/* Growable output for rendering. */
struct out {
	char *s;
	size_t len, cap;
	int err;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->cap + n + 1) * 2;
		char *ns = realloc(o->s, cap);

		if (!ns) {
			o->err = -ENOMEM;
			return;
		}
		o->s = ns;
		o->cap = cap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_put(o, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			out_fmt(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			out_fmt(o, "\\u%04x", c);
		else
			out_put(o, s, 1);
	}
	out_put(o, "\"", 1);
}

static void out_key_str(struct out *o, const char *key, const char *val)
{
	out_fmt(o, "  \"%s\": ", key);
	out_str(o, val);
	out_put(o, ",\n", 2);
}

static void out_key_u64(struct out *o, const char *key, uint64_t v)
{
	out_fmt(o, "  \"%s\": %llu,\n", key, (unsigned long long)v);
}

static void out_key_time(struct out *o, const char *key, uint64_t ns)
{
	char buf[64];

	if (ns && ns != UINT64_MAX)
		out_key_str(o, key, rawcap_format_time(ns, buf, sizeof(buf)));
}

int snap_manifest_render(const struct snap_manifest *m, char **res, size_t *len)
{
	const struct rawcap_snapshot_info *in = &m->info;
	struct out o = {0};

	out_put(&o, "{\n", 2);
	out_key_str(&o, "format", SNAP_FORMAT);
	out_key_str(&o, "name", in->name);
	out_key_str(&o, "node", in->node);
	out_key_str(&o, "tool_version", in->tool_version);
	out_key_time(&o, "created", in->created_ns);
	out_key_u64(&o, "created_ns", in->created_ns);
	out_key_time(&o, "from", in->from_ns);
	out_key_time(&o, "to", in->to_ns);
	out_key_u64(&o, "from_ns", in->from_ns);
	out_key_u64(&o, "to_ns", in->to_ns);
	out_key_str(&o, "filter", in->filter);
	out_key_u64(&o, "first_ts_ns", in->first_ts_ns);
	out_key_u64(&o, "last_ts_ns", in->last_ts_ns);
	out_key_u64(&o, "records", in->records);
	if (in->exact_records)
		out_key_u64(&o, "synthesised", in->synthesised);
	out_key_u64(&o, "packets", in->packets);
	out_key_u64(&o, "packet_bytes", in->packet_bytes);
	out_key_u64(&o, "data_bytes", in->data_bytes);
	out_key_u64(&o, "lost_reader", in->lost_reader);
	out_key_u64(&o, "lost_upstream", in->lost_upstream);
	out_fmt(&o, "  \"partial\": %s,\n", in->partial ? "true" : "false");
	if (in->partial || in->uncaptured)
		out_key_str(&o, "missing_reason",
			    in->uncaptured ? RAWCAP_MISSING_UNCAPTURED : RAWCAP_MISSING_RECYCLED);
	out_key_time(&o, "missing_from", in->missing_from_ns);
	out_key_time(&o, "missing_to", in->missing_to_ns);
	out_key_u64(&o, "missing_from_ns", in->missing_from_ns);
	out_key_u64(&o, "missing_to_ns", in->missing_to_ns);
	out_put(&o, "  \"files\": [", 12);
	for (size_t i = 0; i < m->nfiles; i++) {
		out_put(&o, i ? ",\n    { \"path\": " : "\n    { \"path\": ", i ? 16 : 15);
		out_str(&o, m->files[i].path);
		out_fmt(&o, ", \"size\": %llu, \"sha256\": \"%s\" }",
			(unsigned long long)m->files[i].size, m->files[i].sha256);
	}
	out_put(&o, m->nfiles ? "\n  ]\n}\n" : "]\n}\n", m->nfiles ? 7 : 4);
	if (o.err) {
		free(o.s);
		return o.err;
	}
	*res = o.s;
	*len = o.len;
	return 0;
}
