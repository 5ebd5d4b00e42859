// SPDX-License-Identifier: MIT
/*
 * test_k8s_list.c - the streaming LIST page scanner (capd/k8s/k8s_list.c): the
 * same items whatever the chunking, an oversized item skipped while its
 * neighbours are kept, memory bounded by max_line, and pages that are not
 * pages refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s_list.h"

static const struct k8s_json_limits lim = {.max_line = 4096, .max_record = 2048};

struct seen {
	char uids[64][K8S_UID_MAX];
	unsigned n, big, bad;
	size_t big_bytes;
};

static void on_item(void *ctx, struct k8s_obj *obj)
{
	struct seen *s = ctx;

	assert_non_null(obj->body);
	assert_true(s->n < 64);
	strcpy(s->uids[s->n++], obj->uid);
}

static void on_skipped(void *ctx, int why, size_t bytes)
{
	struct seen *s = ctx;

	if (why == -E2BIG) {
		s->big++;
		s->big_bytes = bytes;
	} else {
		s->bad++;
	}
}

/* Scan page in chunks of chunk bytes (0: all at once). */
static int scan(const char *page, size_t chunk, struct seen *seen, char *cont, size_t cont_len,
		struct k8s_list_scan *sc)
{
	char rv[K8S_RV_MAX];
	size_t len = strlen(page);
	int err = 0;

	memset(seen, 0, sizeof(*seen));
	k8s_list_begin(sc, K8S_RES_SERVICE, &lim, on_item, on_skipped, seen);
	for (size_t off = 0; off < len && !err; off += chunk ? chunk : len)
		err = k8s_list_feed(sc, page + off, chunk && len - off > chunk ? chunk : len - off);
	return err ? err : k8s_list_end(sc, rv, sizeof(rv), cont, cont_len);
}

static const char page[] =
	"{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"items\":[ {\"metadata\":{\"uid\":\"s1\","
	"\"name\":\"a\\\"}]{[\",\"annotations\":{\"x\":\"}}]]\\\\\"}},\"spec\":{}},\n"
	"{\"metadata\":{\"uid\":\"s2\",\"name\":\"b\"}}, {\"metadata\":{}} ],\n"
	"\"metadata\":{\"resourceVersion\":\"42\",\"continue\":\"tok-1\"}}";

static void should_find_the_same_items_whatever_the_chunking(void **state)
{
	struct k8s_list_scan sc = {0};
	struct seen seen;
	char cont[64];

	(void)state;
	for (size_t chunk = 0; chunk <= 40; chunk++) {
		assert_int_equal(scan(page, chunk, &seen, cont, sizeof(cont), &sc), 0);
		assert_int_equal(seen.n, 2); /* the third item has no uid: malformed */
		assert_string_equal(seen.uids[0], "s1");
		assert_string_equal(seen.uids[1], "s2");
		assert_int_equal(seen.bad, 1);
		assert_string_equal(cont, "tok-1"); /* metadata after the items */
	}
	k8s_list_free(&sc);
}

static void should_skip_an_oversized_item_and_keep_its_neighbours(void **state)
{
	size_t blob = 100000, len = blob + 512;
	char *big = malloc(len), cont[64];
	struct k8s_list_scan sc = {0};
	struct seen seen;
	int n;

	(void)state;
	assert_non_null(big);
	n = snprintf(big, len,
		     "{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[{\"metadata\":{\"uid\":"
		     "\"before\"}},{\"metadata\":{\"uid\":\"huge\",\"annotations\":{\"b\":\"");
	memset(big + n, 'x', blob);
	snprintf(big + n + blob, len - n - blob, "\"}}},{\"metadata\":{\"uid\":\"after\"}}]}");
	for (size_t chunk = 0; chunk <= 4096; chunk += 1021) {
		assert_int_equal(scan(big, chunk, &seen, cont, sizeof(cont), &sc), 0);
		assert_int_equal(seen.n, 2);
		assert_string_equal(seen.uids[0], "before");
		assert_string_equal(seen.uids[1], "after");
		assert_int_equal(seen.big, 1);
		assert_true(seen.big_bytes > blob);
		assert_true(sc.cap <= lim.max_line); /* never held more than one bounded item */
		assert_string_equal(cont, "");
	}
	k8s_list_free(&sc);
	free(big);
}

static void should_refuse_what_is_not_a_list_page(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"metadata\":{}}",		     /* no items */
		"{\"items\":[]}",		     /* no metadata */
		"{\"metadata\":{},\"items\":\"x\"}", /* items not an array */
		"{\"metadata\":[],\"items\":[]}",    /* metadata not an object */
		"{\"metadata\":{},\"items\":[{\"metadata\":{\"uid\":\"a\"}}]", /* truncated */
		"{\"metadata\":{},\"items\":[]}{}",			       /* two pages */
		"{\"metadata\":{},\"items\":[]} x",			       /* trailing bytes */
		"{\"metadata\":{},\"items\":[] \"k\":1}",		       /* no comma */
		"{\"metadata\":{},\"items\":[]]}",			       /* unbalanced */
		"{\"metadata\":{\"continue\":\""
		"0123456789abcdef0123456789abcdef"
		"\"},"
		"\"items\":[]}", /* a continue token longer than the caller takes */
	};
	struct k8s_list_scan sc = {0};
	struct seen seen;
	char cont[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = scan(bad[i], 0, &seen, cont, sizeof(cont), &sc);

		if (err != -EBADMSG)
			fail_msg("accepted as a list page: %s", bad[i]);
	}
	assert_int_equal(scan("{ \"metadata\" : { } , \"items\" : null , \"n\": 1.5e3 }", 0, &seen,
			      cont, sizeof(cont), &sc),
			 0);
	assert_int_equal(seen.n, 0);
	k8s_list_free(&sc);
}

static void should_parse_a_whole_page_with_k8s_json_list(void **state)
{
	char rv[K8S_RV_MAX], cont[64];
	uint64_t rejected = 0;
	struct seen seen = {0};

	(void)state;
	assert_int_equal(k8s_json_list(K8S_RES_SERVICE, page, strlen(page), &lim, on_item, &seen,
				       rv, sizeof(rv), cont, sizeof(cont), &rejected),
			 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(rejected, 1);
	assert_string_equal(rv, "42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_find_the_same_items_whatever_the_chunking),
		cmocka_unit_test(should_skip_an_oversized_item_and_keep_its_neighbours),
		cmocka_unit_test(should_refuse_what_is_not_a_list_page),
		cmocka_unit_test(should_parse_a_whole_page_with_k8s_json_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
