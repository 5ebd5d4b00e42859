// SPDX-License-Identifier: MIT
/*
 * test_loss_names.c - the one table of loss-cause names (lib/loss.c) that
 * capd's metrics, rawcap-stat and the pcapng comments share: every cause of
 * the format has a distinct identifier and a phrase; unknown causes have none.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>
#include <rawcap/window.h>

static void should_name_every_cause_once(void **state)
{
	(void)state;
	for (uint32_t c = RAWCAP_LOSS_READER; c <= RAWCAP_LOSS_IFACE_UNKNOWN; c++) {
		const char *name = rawcap_loss_cause_name(c), *text = rawcap_loss_cause_text(c);

		assert_non_null(name);
		assert_non_null(text);
		assert_true(*name && *text);
		for (const char *p = name; *p; p++) /* a Prometheus label value and JSON key */
			assert_true(islower((unsigned char)*p) || *p == '_');
		for (uint32_t d = RAWCAP_LOSS_READER; d < c; d++)
			assert_string_not_equal(name, rawcap_loss_cause_name(d));
	}
}

static void should_keep_the_published_names(void **state)
{
	(void)state;
	/* metrics and rawcap-stat's JSON use these names: they must not drift */
	assert_string_equal(rawcap_loss_cause_name(RAWCAP_LOSS_KERNEL_DROP), "kernel_drop");
	assert_string_equal(rawcap_loss_cause_name(RAWCAP_LOSS_CORRUPT), "corrupt");
	assert_string_equal(rawcap_loss_cause_name(RAWCAP_LOSS_META_QUEUE), "meta_queue");
	assert_string_equal(rawcap_loss_cause_name(RAWCAP_LOSS_IFACE_UNKNOWN), "iface_unknown");
	assert_string_equal(rawcap_loss_cause_text(RAWCAP_LOSS_CORRUPT), "damaged block skipped");
}

static void should_not_name_unknown_causes(void **state)
{
	(void)state;
	assert_null(rawcap_loss_cause_name(RAWCAP_LOSS_IFACE_UNKNOWN + 1));
	assert_null(rawcap_loss_cause_text(15));
	assert_null(rawcap_loss_cause_name(UINT32_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_name_every_cause_once),
		cmocka_unit_test(should_keep_the_published_names),
		cmocka_unit_test(should_not_name_unknown_causes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
