// SPDX-License-Identifier: MIT
/*
 * k8s_list.c - a LIST page cut into its items as the bytes arrive (see
 * k8s_list.h).
 *
 * This is a parser of untrusted bytes, but a small one: it only tracks
 * strings (with their escapes) and the nesting of {} and [], which is all
 * it takes to find where each element of the top-level "items" array begins
 * and ends. Everything it keeps, an element or the list's metadata, is
 * parsed and validated by cJSON afterwards; the scanner itself never
 * interprets a value, and keeps at most one element (max_line bytes) and
 * the metadata (K8S_LIST_META_MAX) in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_list.h"

enum {		 /* the page object's own keys and values (depth 1) */
       T_START,	 /* before the page object */
       T_KEY,	 /* expecting a key, or the end of the page object */
       T_KEYSTR, /* reading a key */
       T_COLON,	 /* after a key */
       T_VALUE,	 /* after the colon */
       T_STRVAL, /* in a string value */
       T_SCALAR, /* in a number, true, false or null */
       T_NESTED, /* in an object or array value (depth >= 2) */
       T_AFTER,	 /* after a value: a comma or the end */
       T_DONE,	 /* the page object is closed */
};

enum { V_OTHER, V_ITEMS, V_META };

void k8s_list_begin(struct k8s_list_scan *s, enum k8s_res res, const struct k8s_json_limits *lim,
		    void (*item)(void *ctx, struct k8s_obj *obj),
		    void (*skipped)(void *ctx, int why, size_t bytes), void *ctx)
{
	char *buf = s->buf, *meta = s->meta;
	size_t cap = s->cap;

	memset(s, 0, sizeof(*s));
	s->buf = buf; /* buffers are reused from page to page */
	s->cap = cap;
	s->meta = meta;
	s->res = res;
	s->lim = lim;
	s->item = item;
	s->skipped = skipped;
	s->ctx = ctx;
}

void k8s_list_free(struct k8s_list_scan *s)
{
	free(s->buf);
	free(s->meta);
	s->buf = s->meta = NULL;
	s->cap = s->len = s->meta_len = 0;
}

int k8s_buf_reserve(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t c = *cap ? *cap : 64 * 1024;
	char *nb;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > max)
		c = max;
	nb = realloc(*buf, c);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = c;
	return 0;
}

static int keep_meta(struct k8s_list_scan *s, const char *p, size_t n)
{
	if (n > K8S_LIST_META_MAX - s->meta_len)
		return -EBADMSG; /* no list's metadata is that large */
	if (!s->meta && !(s->meta = malloc(K8S_LIST_META_MAX)))
		return -ENOMEM;
	memcpy(s->meta + s->meta_len, p, n);
	s->meta_len += n;
	return 0;
}

static int keep_item(struct k8s_list_scan *s, const char *p, size_t n)
{
	s->bytes += n;
	if (s->too_big)
		return 0;
	if (s->len + n > s->lim->max_line) {
		s->too_big = true; /* counted to its end, never kept */
		return 0;
	}
	if (k8s_buf_reserve(&s->buf, &s->cap, s->len + n, s->lim->max_line))
		return -ENOMEM;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static int keep(struct k8s_list_scan *s, const char *p, size_t n)
{
	return s->value == V_META ? keep_meta(s, p, n) : keep_item(s, p, n);
}

/* An element of "items" is complete: convert it, or say why it was left out. */
static void item_done(struct k8s_list_scan *s)
{
	struct k8s_obj obj;
	int err = s->too_big ? -E2BIG : k8s_json_item(s->res, s->buf, s->len, s->lim, &obj);

	if (err) {
		s->skipped_items++;
		if (s->skipped)
			s->skipped(s->ctx, err == -E2BIG ? -E2BIG : -EBADMSG, s->bytes);
	} else {
		s->items++;
		s->item(s->ctx, &obj);
		k8s_obj_free(&obj);
	}
	s->len = s->bytes = 0;
	s->too_big = false;
}

/* A top-level key was read: what will its value be kept as? */
static uint8_t value_kind(const struct k8s_list_scan *s, char open)
{
	if (s->key_len == 5 && !memcmp(s->key, "items", 5) && open == '[')
		return V_ITEMS;
	if (s->key_len == 8 && !memcmp(s->key, "metadata", 8) && open == '{')
		return V_META;
	return V_OTHER;
}

static bool key_is(const struct k8s_list_scan *s, const char *k)
{
	return s->key_len == strlen(k) && !memcmp(s->key, k, s->key_len);
}

/* An opening brace or bracket: 1 if it starts something to keep, 0, or -EBADMSG. */
static int open_nested(struct k8s_list_scan *s, char ch)
{
	switch (s->depth++) {
	case 0:
		if (ch != '{' || s->top != T_START)
			return -EBADMSG;
		s->top = T_KEY;
		return 0;
	case 1:
		if (s->top != T_VALUE)
			return -EBADMSG;
		s->top = T_NESTED;
		s->value = value_kind(s, ch);
		if ((key_is(s, "items") && s->value != V_ITEMS) ||
		    (key_is(s, "metadata") && s->value != V_META))
			return -EBADMSG;
		s->seen_items |= s->value == V_ITEMS;
		s->seen_meta |= s->value == V_META;
		return s->value == V_META;
	case 2:
		return s->value == V_ITEMS &&
		       ch == '{'; /* elements that are not objects are no items */
	default:
		return 0;
	}
}

/* A closing brace or bracket: 1 if it ends what was being kept, 0, or -EBADMSG. */
static int close_nested(struct k8s_list_scan *s, char ch)
{
	if (!s->depth)
		return -EBADMSG;
	switch (--s->depth) {
	case 0:
		if (ch != '}' || (s->top != T_KEY && s->top != T_AFTER && s->top != T_SCALAR))
			return -EBADMSG;
		s->top = T_DONE;
		return 0;
	case 1:
		s->top = T_AFTER;
		return s->value == V_META;
	case 2:
		return s->value == V_ITEMS && s->keeping;
	default:
		return 0;
	}
}

/* Outside strings, at the page object's own level: keys, colons, commas, scalars. */
static int top_level(struct k8s_list_scan *s, char ch)
{
	switch (ch) {
	case ':':
		if (s->top != T_COLON)
			return -EBADMSG;
		s->top = T_VALUE;
		return 0;
	case ',':
		if (s->top != T_AFTER && s->top != T_SCALAR)
			return -EBADMSG;
		s->top = T_KEY;
		return 0;
	default:
		if (s->top == T_VALUE) {
			/* "items": null is an empty list; any other scalar is not a page */
			if (key_is(s, "metadata") || (key_is(s, "items") && ch != 'n'))
				return -EBADMSG;
			s->seen_items |= key_is(s, "items");
			s->top = T_SCALAR;
			return 0;
		}
		return s->top == T_SCALAR ? 0 : -EBADMSG;
	}
}

/* One byte outside a string. Returns 1 (start keeping), 2 (stop, kept), 0, or -EBADMSG. */
static int structural(struct k8s_list_scan *s, char ch)
{
	int r;

	switch (ch) {
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		if (s->top == T_SCALAR && s->depth == 1)
			s->top = T_AFTER;
		return 0;
	}
	if (!s->depth && (ch != '{' || s->top != T_START))
		return -EBADMSG; /* only the page object, once */
	switch (ch) {
	case '"':
		s->in_str = true;
		if (s->depth != 1)
			return 0;
		if (s->top == T_KEY) {
			s->top = T_KEYSTR;
			s->key_len = 0;
			return 0;
		}
		if (s->top != T_VALUE || key_is(s, "items") || key_is(s, "metadata"))
			return -EBADMSG;
		s->top = T_STRVAL;
		return 0;
	case '{':
	case '[':
		r = open_nested(s, ch);
		return r < 0 ? r : r ? 1 : 0;
	case '}':
	case ']':
		r = close_nested(s, ch);
		return r < 0 ? r : r ? 2 : 0;
	default:
		return s->depth == 1 ? top_level(s, ch) : 0;
	}
}

/* One byte inside a string. */
static void in_string(struct k8s_list_scan *s, char ch)
{
	if (s->esc) {
		s->esc = false;
	} else if (ch == '\\') {
		s->esc = true;
	} else if (ch == '"') {
		s->in_str = false;
		if (s->depth == 1)
			s->top = s->top == T_KEYSTR ? T_COLON : T_AFTER;
		return;
	}
	if (s->depth == 1 && s->top == T_KEYSTR && s->key_len < sizeof(s->key))
		s->key[s->key_len++] = ch; /* raw bytes: the keys we want have no escapes */
	else if (s->depth == 1 && s->top == T_KEYSTR)
		s->key_len = sizeof(s->key) + 1; /* longer than any key we want */
}

int k8s_list_feed(struct k8s_list_scan *s, const char *p, size_t n)
{
	size_t from = 0; /* start of the bytes to keep in this chunk */
	int r;

	if (s->err)
		return s->err;
	for (size_t i = 0; i < n; i++) {
		if (s->in_str) {
			in_string(s, p[i]);
			continue;
		}
		r = structural(s, p[i]);
		if (r == 1) {
			s->keeping = true;
			from = i;
		} else if (r == 2) {
			r = keep(s, p + from, i + 1 - from);
			s->keeping = false;
			if (!r && s->value == V_ITEMS)
				item_done(s);
		}
		if (r < 0)
			return s->err = r == -ENOMEM ? r : -EBADMSG;
	}
	if (s->keeping && (r = keep(s, p + from, n - from)))
		return s->err = r;
	return 0;
}

int k8s_list_end(struct k8s_list_scan *s, char *rv, size_t rv_len, char *cont, size_t cont_len)
{
	if (s->err)
		return s->err;
	if (s->top != T_DONE || !s->seen_items || !s->seen_meta)
		return -EBADMSG;
	return k8s_json_list_meta(s->meta, s->meta_len, rv, rv_len, cont, cont_len);
}

int k8s_json_list(enum k8s_res res, const char *body, size_t len, const struct k8s_json_limits *lim,
		  void (*item)(void *ctx, struct k8s_obj *obj), void *ctx, char *rv, size_t rv_len,
		  char *cont, size_t cont_len, uint64_t *rejected)
{
	struct k8s_list_scan s = {0};
	int err;

	k8s_list_begin(&s, res, lim, item, NULL, ctx);
	err = k8s_list_feed(&s, body, len);
	if (!err)
		err = k8s_list_end(&s, rv, rv_len, cont, cont_len);
	*rejected += s.skipped_items;
	k8s_list_free(&s);
	return err;
}
