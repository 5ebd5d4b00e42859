// SPDX-License-Identifier: MIT
/*
 * test_k8s_json.c - capd's Kubernetes JSON conversion, object cache and
 * metadata queue: shapes, bounds and the hand-off into a real ring.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/meta.h>

#include "k8s_cache.h"
#include "k8s_json.h"
#include "k8s_queue.h"

static const struct k8s_json_limits lim = { .max_line = 4096, .max_record = 2048 };

static const char pod_line[] =
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-a\","
	"\"namespace\":\"rc-test\",\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"labels\":"
	"{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"app\","
	"\"image\":\"img:1\"}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"198.18.3.7\","
	"\"containerStatuses\":[{\"name\":\"app\",\"containerID\":\"containerd://abc\"}]}}}";

static char *to_json(const struct k8s_obj *obj, enum k8s_ev ev)
{
	static char json[8192];
	uint8_t *rec;
	size_t len;

	assert_int_equal(k8s_record_build(obj, ev, 4096, &rec, &len), 0);
	assert_true(rawcap_meta_to_json(rec, len, json, sizeof(json)) > 0);
	free(rec);
	return json;
}

static void should_convert_a_pod_event_to_the_documented_record(void **state)
{
	struct k8s_obj obj;

	(void)state;
	assert_int_equal(k8s_json_event(K8S_RES_POD, pod_line, strlen(pod_line), &lim, &obj), 0);
	assert_int_equal(obj.ev, K8S_EV_ADDED);
	assert_string_equal(obj.uid, "u-1");
	assert_string_equal(obj.rv, "7");
	assert_string_equal(
		to_json(&obj, K8S_EV_ADDED),
		"{\"v\":1,\"kind\":\"pod\",\"event\":\"added\",\"uid\":\"u-1\",\"rv\":\"7\","
		"\"namespace\":\"rc-test\",\"name\":\"web-a\",\"labels\":{\"app\":\"web\"},"
		"\"node\":\"n1\",\"phase\":\"Running\",\"host_network\":false,\"ips\":"
		"[\"198.18.3.7\"],\"containers\":[{\"name\":\"app\",\"id\":\"containerd://abc\","
		"\"image\":\"img:1\"}]}");
	k8s_obj_free(&obj);
}

static void should_read_bookmarks_and_gone_errors(void **state)
{
	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
			 "{\"resourceVersion\":\"12345\"}}}";
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}";
	struct k8s_obj obj;

	(void)state;
	assert_int_equal(k8s_json_event(K8S_RES_POD, bm, strlen(bm), &lim, &obj), 0);
	assert_int_equal(obj.ev, K8S_EV_BOOKMARK);
	assert_string_equal(obj.rv, "12345");
	assert_null(obj.body);
	assert_int_equal(k8s_json_event(K8S_RES_POD, gone, strlen(gone), &lim, &obj), 0);
	assert_int_equal(obj.ev, K8S_EV_ERROR);
	assert_int_equal(obj.err_code, 410);
}

static void should_reject_malformed_and_oversized_input(void **state)
{
	const char *bad[] = { "", "{", "[]", "{\"type\":\"ADDED\"}",
			      "{\"type\":\"NOPE\",\"object\":{}}",
			      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}" };
	struct k8s_obj obj;
	char *line = malloc(4096);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(k8s_json_event(K8S_RES_POD, bad[i], strlen(bad[i]), &lim, &obj),
				 -EBADMSG);
	assert_int_equal(k8s_json_event(K8S_RES_POD, pod_line, lim.max_line + 1, &lim, &obj),
			 -E2BIG);
	/* fits the line bound, but the record would exceed max_record: rejected, not cut */
	assert_non_null(line);
	snprintf(line, 4096,
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"u\",\"labels\":"
		 "{\"a\":\"%01500d\",\"b\":\"%01500d\"}}}}",
		 0, 0);
	assert_int_equal(k8s_json_event(K8S_RES_POD, line, strlen(line), &lim, &obj), -E2BIG);
	free(line);
}

static int items_seen;

static void count_item(void *ctx, struct k8s_obj *obj)
{
	(void)ctx;
	assert_non_null(obj->body);
	items_seen++;
}

static void should_page_lists_and_count_rejected_items(void **state)
{
	const char *page = "{\"kind\":\"ServiceList\",\"metadata\":{\"resourceVersion\":\"9\","
			   "\"continue\":\"abc\"},\"items\":[{\"metadata\":{\"uid\":\"s1\","
			   "\"name\":\"web\"},\"spec\":{\"clusterIP\":\"None\"}},{\"metadata\":{}}]}";
	char rv[K8S_RV_MAX], cont[64];
	uint64_t rejected = 0;

	(void)state;
	items_seen = 0;
	assert_int_equal(k8s_json_list(K8S_RES_SERVICE, page, strlen(page), &lim, count_item, NULL,
				       rv, sizeof(rv), cont, sizeof(cont), &rejected),
			 0);
	assert_int_equal(items_seen, 1);
	assert_int_equal(rejected, 1);
	assert_string_equal(rv, "9");
	assert_string_equal(cont, "abc");
	assert_int_equal(k8s_json_list(K8S_RES_SERVICE, "{}", 2, &lim, count_item, NULL, rv,
				       sizeof(rv), cont, sizeof(cont), &rejected),
			 -EBADMSG);
}

static int swept;

static void count_swept(void *ctx, struct k8s_centry *e)
{
	(void)ctx;
	assert_string_equal(e->obj.uid, "b");
	swept++;
}

static void should_bound_the_cache_and_sweep_what_a_relist_missed(void **state)
{
	struct k8s_obj a = { .uid = "a", .rv = "1", .body = (uint8_t *)"\x80", .body_len = 1 };
	struct k8s_obj b = { .uid = "b", .rv = "1", .body = (uint8_t *)"\x80", .body_len = 1 };
	struct k8s_cache c;

	(void)state;
	k8s_cache_init(&c, 2 * (sizeof(struct k8s_centry) + 1));
	assert_int_equal(k8s_cache_put(&c, &a, 1), 0);
	assert_int_equal(k8s_cache_put(&c, &b, 1), 0);
	b.uid[0] = 'x';
	assert_int_equal(k8s_cache_put(&c, &b, 1), -ENOSPC);
	assert_int_equal(c.full, 1);
	k8s_cache_get(&c, "a")->gen = 2;
	swept = 0;
	k8s_cache_sweep(&c, 2, count_swept, NULL);
	assert_int_equal(swept, 1);
	assert_non_null(k8s_cache_get(&c, "a"));
	assert_null(k8s_cache_get(&c, "b"));
	assert_int_equal(c.count, 1);
	k8s_cache_clear(&c);
	assert_int_equal(c.bytes, 0);
}

static void should_drop_and_count_when_the_queue_is_full(void **state)
{
	struct k8s_queue q;
	struct k8s_qitem *it;
	uint64_t dropped, n = 0;

	(void)state;
	assert_int_equal(k8s_queue_init(&q, 3, 1 << 20), 0);
	for (int i = 0; i < 5; i++)
		k8s_queue_push(&q, RAWCAP_META_POD, (uint64_t)i, "x", 1);
	it = k8s_queue_pop(&q, 2, &dropped);
	assert_int_equal(dropped, 2);
	for (struct k8s_qitem *p = it, *next; p; p = next, n++) {
		next = p->next;
		assert_int_equal(p->ts_ns, n);
		free(p);
	}
	assert_int_equal(n, 2);
	/* one left: the eventfd stays readable so capd comes back for it */
	{
		uint64_t v;

		assert_true(read(q.efd, &v, sizeof(v)) == sizeof(v));
	}
	it = k8s_queue_pop(&q, 10, &dropped);
	assert_non_null(it);
	assert_null(it->next);
	assert_int_equal(dropped, 0);
	free(it);
	k8s_queue_destroy(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_convert_a_pod_event_to_the_documented_record),
		cmocka_unit_test(should_read_bookmarks_and_gone_errors),
		cmocka_unit_test(should_reject_malformed_and_oversized_input),
		cmocka_unit_test(should_page_lists_and_count_rejected_items),
		cmocka_unit_test(should_bound_the_cache_and_sweep_what_a_relist_missed),
		cmocka_unit_test(should_drop_and_count_when_the_queue_is_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
