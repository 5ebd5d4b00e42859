// SPDX-License-Identifier: MIT
/*
 * test_meta_index.c - librawcap's metadata API: which pod held an address at
 * a time (with deletion and address reuse), pod selection of packets,
 * packet comments, and msgpack-to-JSON on hostile input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include <rawcap/meta.h>

#define S 1000000000ull

static void pk_s(msgpack_packer *p, const char *s)
{
	msgpack_pack_str_with_body(p, s, strlen(s));
}

/* A pod record as capd writes it (docs/METADATA.md), built here with msgpack-c. */
static void feed_pod(struct rawcap_meta_index *ix, uint64_t t, const char *ev, const char *uid,
		     const char *name, const char *ip, const char *app, bool host)
{
	msgpack_sbuffer sb;
	msgpack_packer p;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, 10);
	pk_s(&p, "v");
	msgpack_pack_uint32(&p, 1);
	pk_s(&p, "kind");
	pk_s(&p, "pod");
	pk_s(&p, "event");
	pk_s(&p, ev);
	pk_s(&p, "uid");
	pk_s(&p, uid);
	pk_s(&p, "namespace");
	pk_s(&p, "rc-test");
	pk_s(&p, "name");
	pk_s(&p, name);
	pk_s(&p, "labels");
	msgpack_pack_map(&p, 1);
	pk_s(&p, "app");
	pk_s(&p, app);
	pk_s(&p, "phase");
	pk_s(&p, "Running");
	pk_s(&p, "host_network");
	host ? msgpack_pack_true(&p) : msgpack_pack_false(&p);
	pk_s(&p, "ips");
	msgpack_pack_array(&p, ip ? 1 : 0);
	if (ip)
		pk_s(&p, ip);
	assert_int_equal(rawcap_meta_index_add(ix, RAWCAP_META_POD, t, sb.data, sb.size), 0);
	msgpack_sbuffer_destroy(&sb);
}

static const char *owner(struct rawcap_meta_index *ix, const char *ip, uint64_t t)
{
	struct rawcap_meta_pod pod;
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	return rawcap_meta_pod_at(ix, fam, a, t, &pod) ? pod.name : NULL;
}

static struct rawcap_meta_index *scenario(void)
{
	struct rawcap_meta_index *ix;

	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	feed_pod(ix, 100 * S, "added", "uA", "web-a", "198.18.3.7", "web", false);
	feed_pod(ix, 200 * S, "added", "uB", "web-b", "198.18.3.8", "web", false);
	feed_pod(ix, 300 * S, "deleted", "uB", "web-b", "198.18.3.8", "web", false);
	feed_pod(ix, 400 * S, "added", "uD", "web-d", "198.18.3.8", "db", false);
	feed_pod(ix, 450 * S, "sync", "uA", "web-a", "198.18.3.7", "web", false);
	feed_pod(ix, 500 * S, "added", "uH", "agent", "198.18.0.1", "agent", true);
	feed_pod(ix, 600 * S, "added", "uE", "web-e", "2001:db8::5", "web", false);
	feed_pod(ix, 700 * S, "modified", "uE", "web-e", "2001:db8::5", "web2", false);
	return ix;
}

static void should_name_the_pod_that_held_an_address_at_each_time(void **state)
{
	struct rawcap_meta_index *ix = scenario();
	struct rawcap_meta_index_stats st;

	(void)state;
	assert_null(owner(ix, "198.18.3.7", 99 * S));
	assert_string_equal(owner(ix, "198.18.3.7", 100 * S), "web-a");
	assert_string_equal(owner(ix, "198.18.3.7", 900 * S), "web-a");
	assert_string_equal(owner(ix, "198.18.3.8", 250 * S), "web-b");
	assert_null(owner(ix, "198.18.3.8", 350 * S)); /* deleted, not yet reused */
	assert_string_equal(owner(ix, "198.18.3.8", 400 * S), "web-d");
	assert_null(owner(ix, "198.18.0.1", 550 * S)); /* host network: the node's address */
	assert_string_equal(owner(ix, "2001:db8::5", 650 * S), "web-e");
	rawcap_meta_index_stats(ix, &st);
	assert_int_equal(st.pod_records, 8);
	assert_int_equal(st.pods, 5); /* A, B, D, E and E's relabelled version; sync reuses A */
	rawcap_meta_index_free(ix);
}

static void should_close_an_address_taken_over_without_a_delete(void **state)
{
	struct rawcap_meta_index *ix = scenario();

	(void)state;
	feed_pod(ix, 800 * S, "added", "uF", "web-f", "198.18.3.7", "web", false);
	assert_string_equal(owner(ix, "198.18.3.7", 799 * S), "web-a");
	assert_string_equal(owner(ix, "198.18.3.7", 800 * S), "web-f");
	/* A's later delete must not end F's tenure */
	feed_pod(ix, 900 * S, "deleted", "uA", "web-a", "198.18.3.7", "web", false);
	assert_string_equal(owner(ix, "198.18.3.7", 950 * S), "web-f");
	rawcap_meta_index_free(ix);
}

static void should_follow_label_changes_in_time(void **state)
{
	struct rawcap_meta_index *ix = scenario();
	struct rawcap_meta_pod pod;
	uint8_t a[16];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::5", a);
	assert_int_equal(rawcap_meta_pod_at(ix, AF_INET6, a, 650 * S, &pod), 1);
	assert_string_equal(rawcap_meta_pod_label(&pod, "app"), "web");
	assert_int_equal(pod.to_ns, 700 * S);
	assert_int_equal(rawcap_meta_pod_at(ix, AF_INET6, a, 750 * S, &pod), 1);
	assert_string_equal(rawcap_meta_pod_label(&pod, "app"), "web2");
	assert_null(rawcap_meta_pod_label(&pod, "nope"));
	rawcap_meta_index_free(ix);
}

/* An Ethernet + IPv4 packet record from src to dst at time t. */
static void make_pkt(struct rawcap_rec *rec, uint8_t *buf, const char *src, const char *dst,
		     uint64_t t)
{
	struct rawcap_pkt *p = (struct rawcap_pkt *)buf;
	uint8_t *d = buf + sizeof(*p);

	memset(buf, 0, sizeof(*p) + 34);
	p->linktype = 1;
	p->orig_len = 34;
	d[12] = 0x08;
	d[14] = 0x45;
	inet_pton(AF_INET, src, d + 14 + 12);
	inet_pton(AF_INET, dst, d + 14 + 16);
	memset(rec, 0, sizeof(*rec));
	rec->type = RAWCAP_REC_PACKET;
	rec->ts_ns = t;
	rec->len = sizeof(*p) + 34;
	rec->payload = buf;
}

static void should_select_packets_by_pod_namespace_and_label_at_their_time(void **state)
{
	struct rawcap_meta_index *ix = scenario();
	struct rawcap_meta_sel *pod, *lab, *ns;
	struct rawcap_rec rec;
	uint8_t buf[128];
	char c[128];

	(void)state;
	assert_int_equal(rawcap_meta_sel_new(&pod), 0);
	assert_int_equal(rawcap_meta_sel_new(&lab), 0);
	assert_int_equal(rawcap_meta_sel_new(&ns), 0);
	assert_true(rawcap_meta_sel_empty(pod));
	assert_int_equal(rawcap_meta_sel_add(pod, RAWCAP_SEL_POD, "rc-test/web-b"), 0);
	assert_int_equal(rawcap_meta_sel_add(lab, RAWCAP_SEL_LABEL, "app=db"), 0);
	assert_int_equal(rawcap_meta_sel_add(ns, RAWCAP_SEL_NAMESPACE, "other"), 0);
	assert_int_equal(rawcap_meta_sel_add(pod, RAWCAP_SEL_POD, ""), -EINVAL);
	assert_int_equal(rawcap_meta_sel_add(pod, RAWCAP_SEL_POD, "/x"), -EINVAL);
	assert_int_equal(rawcap_meta_sel_add(lab, RAWCAP_SEL_LABEL, "=x"), -EINVAL);

	/* the same address, before and after its reuse */
	make_pkt(&rec, buf, "198.18.3.7", "198.18.3.8", 250 * S);
	assert_int_equal(rawcap_meta_sel_match(pod, ix, &rec), 1);
	assert_int_equal(rawcap_meta_sel_match(lab, ix, &rec), 0);
	assert_int_equal(rawcap_meta_sel_match(ns, ix, &rec), 0);
	assert_int_equal(rawcap_meta_pkt_comment(ix, &rec, c, sizeof(c)) > 0, 1);
	assert_string_equal(c, "src pod rc-test/web-a; dst pod rc-test/web-b");
	make_pkt(&rec, buf, "198.18.3.8", "198.18.9.9", 450 * S);
	assert_int_equal(rawcap_meta_sel_match(pod, ix, &rec), 0);
	assert_int_equal(rawcap_meta_sel_match(lab, ix, &rec), 1);
	rawcap_meta_pkt_comment(ix, &rec, c, sizeof(c));
	assert_string_equal(c, "src pod rc-test/web-d");
	make_pkt(&rec, buf, "198.18.9.8", "198.18.9.9", 450 * S);
	assert_int_equal(rawcap_meta_pkt_comment(ix, &rec, c, sizeof(c)), 0);
	assert_string_equal(c, "");
	rawcap_meta_sel_free(pod);
	rawcap_meta_sel_free(lab);
	rawcap_meta_sel_free(ns);
	rawcap_meta_index_free(ix);
}

static void should_print_hostile_msgpack_as_valid_json_or_refuse_it(void **state)
{
	const uint8_t huge_array[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	const uint8_t two_values[] = { 0x01, 0x02 };
	const uint8_t bad_utf8[] = { 0x81, 0xa1, 'k', 0xa3, 'a', 0xff, '"' };
	const uint8_t bin[] = { 0x81, 0xa1, 'b', 0xc4, 0x02, 0x00, 0xff };
	char out[64];

	(void)state;
	assert_int_equal(rawcap_meta_to_json(huge_array, sizeof(huge_array), out, sizeof(out)),
			 -EBADMSG);
	assert_int_equal(rawcap_meta_to_json(two_values, sizeof(two_values), out, sizeof(out)),
			 -EBADMSG);
	assert_int_equal(rawcap_meta_to_json("\xc1", 1, out, sizeof(out)), -EBADMSG);
	assert_true(rawcap_meta_to_json(bad_utf8, sizeof(bad_utf8), out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"k\":\"a\\ufffd\\\"\"}");
	assert_true(rawcap_meta_to_json(bin, sizeof(bin), out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"b\":\"AP8=\"}");
	assert_int_equal(rawcap_meta_to_json(bad_utf8, sizeof(bad_utf8), out, 4), -ENOSPC);
}

static void should_parse_kind_lists(void **state)
{
	uint32_t m;

	(void)state;
	assert_int_equal(rawcap_meta_kind_mask("pod,service", &m), 0);
	assert_int_equal(m, (1u << RAWCAP_META_POD) | (1u << RAWCAP_META_SERVICE));
	assert_int_equal(rawcap_meta_kind_mask("pod,bogus", &m), -EINVAL);
	assert_int_equal(rawcap_meta_kind_mask(",", &m), -EINVAL);
	assert_string_equal(rawcap_meta_kind_name(RAWCAP_META_ENDPOINTS), "endpoints");
	assert_null(rawcap_meta_kind_name(99));
}

/* Kinds the format reserves but capd never writes are refused, not matched never. */
static void should_refuse_kinds_capd_never_writes(void **state)
{
	uint32_t m;

	(void)state;
	assert_int_equal(rawcap_meta_kind_mask("interface", &m), -ENOTSUP);
	assert_int_equal(rawcap_meta_kind_mask("pod,stats", &m), -ENOTSUP);
	assert_int_equal(rawcap_meta_kind_mask("node", &m), -ENOTSUP);
	assert_null(rawcap_meta_kind_name(RAWCAP_META_IFACE));
	assert_null(rawcap_meta_kind_name(RAWCAP_META_NODE));
	assert_int_equal(rawcap_meta_kind_mask("process,namespace,endpointslice", &m), 0);
	assert_int_equal(m, (1u << RAWCAP_META_PROCESS) | (1u << RAWCAP_META_NAMESPACE) |
				    (1u << RAWCAP_META_ENDPOINTS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_name_the_pod_that_held_an_address_at_each_time),
		cmocka_unit_test(should_close_an_address_taken_over_without_a_delete),
		cmocka_unit_test(should_follow_label_changes_in_time),
		cmocka_unit_test(should_select_packets_by_pod_namespace_and_label_at_their_time),
		cmocka_unit_test(should_print_hostile_msgpack_as_valid_json_or_refuse_it),
		cmocka_unit_test(should_parse_kind_lists),
		cmocka_unit_test(should_refuse_kinds_capd_never_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
