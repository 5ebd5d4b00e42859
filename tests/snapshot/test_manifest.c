// SPDX-License-Identifier: MIT
/*
 * test_manifest.c - snapshot manifests and names: a rendered manifest
 * parses back to the same values; malformed or hostile text is refused;
 * names that could escape the snapshot directory are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "snapshot_int.h"

static void should_parse_back_what_it_renders(void **state)
{
	struct snap_file files[2] = {
		{"data/seg-0000000000000001.rcs", 1234, ""},
		{"data/seg-0000000000000002.rcs", 99, ""},
	};
	struct snap_manifest m = {.files = files, .nfiles = 2}, back;
	char *text;
	size_t len;

	(void)state;
	memset(files[0].sha256, 'a', 64);
	memset(files[1].sha256, '0', 64);
	strcpy(m.info.name, "incident-42");
	strcpy(m.info.node, "node \"quoted\"\\\n\x01");
	strcpy(m.info.filter, "tcp port 80 and host 198.18.0.1");
	m.info.from_ns = 1790000000000000000ull;
	m.info.to_ns = 1790000060000000000ull;
	m.info.packets = 42;
	m.info.partial = true;
	m.info.uncaptured = true;
	m.info.exact_records = true;
	m.info.synthesised = 3;
	m.info.missing_from_ns = m.info.from_ns;
	m.info.missing_to_ns = m.info.from_ns + 5;
	m.info.data_bytes = 1333;
	assert_int_equal(snap_manifest_render(&m, &text, &len), 0);
	assert_int_equal(snap_manifest_parse(text, len, &back), 0);
	assert_string_equal(back.info.name, "incident-42");
	assert_string_equal(back.info.node, m.info.node);
	assert_string_equal(back.info.filter, m.info.filter);
	assert_true(back.info.partial);
	assert_true(back.info.uncaptured);
	assert_true(strstr(text, "\"missing_reason\": \"before capture\""));
	assert_true(back.info.exact_records);
	assert_int_equal(back.info.synthesised, 3);
	assert_int_equal(back.info.to_ns, m.info.to_ns);
	assert_int_equal(back.info.missing_to_ns, m.info.missing_to_ns);
	assert_int_equal(back.nfiles, 2);
	assert_string_equal(back.files[1].path, files[1].path);
	assert_int_equal(back.files[0].size, 1234);
	snap_manifest_free(&back);
	free(text);
}

static void should_refuse_malformed_manifests(void **state)
{
	static const char *bad[] = {
		"",
		"{",
		"{}", /* no name */
		"{\"name\": \"a\"} x",
		"{\"name\": \"../etc\"}",
		"{\"name\": \"a\", \"packets\": -1}",
		"{\"name\": \"a\", \"packets\": 18446744073709551616}",
		"{\"name\": \"a\", \"packets\": 01}",
		"{\"name\": \"a\\u0000b\"}",
		"{\"name\": \"a\", \"format\": \"other/1\"}",
		"{\"name\": \"a\", \"files\": [{\"path\": \"data/x\", \"sha256\": \"zz\"}]}",
		"{\"name\": \"a\", \"x\": [[[[[[[[[[[[1]]]]]]]]]]]]}",
		"{\"name\": \"a\", \"partial\": tru}",
		"{\"name\": \"a\",}",
		"{\"name\": \"a\", \"name\": \"b\"}",
		"{\"name\": \"a\", \"missing_reason\": \"lost in space\"}",
		"{\"name\": \"a\", \"synthesised\": -1}",
	};
	struct snap_manifest m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = snap_manifest_parse(bad[i], strlen(bad[i]), &m);

		if (err != -EBADMSG)
			fail_msg("accepted or wrong error for: %s", bad[i]);
	}
	assert_int_equal(snap_manifest_parse(
				 "{\"name\": \"ok\", \"extra\": {\"a\": [1, true, null]}}", 47, &m),
			 0);
	snap_manifest_free(&m);
}

static void should_refuse_names_that_escape(void **state)
{
	(void)state;
	assert_true(rawcap_snapshot_name_ok("incident-2026.11.26_a"));
	assert_false(rawcap_snapshot_name_ok(""));
	assert_false(rawcap_snapshot_name_ok("."));
	assert_false(rawcap_snapshot_name_ok(".."));
	assert_false(rawcap_snapshot_name_ok("../x"));
	assert_false(rawcap_snapshot_name_ok("a/b"));
	assert_false(rawcap_snapshot_name_ok("-rf"));
	assert_false(rawcap_snapshot_name_ok(".hidden"));
	assert_false(rawcap_snapshot_name_ok("a b"));
	assert_false(rawcap_snapshot_name_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_parse_back_what_it_renders),
		cmocka_unit_test(should_refuse_malformed_manifests),
		cmocka_unit_test(should_refuse_names_that_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
