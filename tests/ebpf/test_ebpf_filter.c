// SPDX-License-Identifier: MIT
/*
 * test_ebpf_filter.c - the eBPF capture filter subset: what is accepted is
 * encoded exactly, and everything else is refused with a message that names
 * the offending part.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "ebpf_capture.h"

static void should_capture_everything_when_empty(void **state)
{
	struct cap_filter f;
	char why[256] = "";

	(void)state;
	assert_int_equal(ebpf_filter_parse(NULL, &f, why, sizeof(why)), 0);
	assert_int_equal(f.flags, 0);
	assert_int_equal(ebpf_filter_parse("", &f, why, sizeof(why)), 0);
	assert_int_equal(f.flags, 0);
}

static void should_encode_proto_port_and_net(void **state)
{
	struct cap_filter f;
	char why[256] = "";

	(void)state;
	assert_int_equal(
		ebpf_filter_parse("tcp and port 443 and net 198.18.0.0/15", &f, why, sizeof(why)),
		0);
	assert_int_equal(f.flags, CAP_FILT_PROTO | CAP_FILT_PORT | CAP_FILT_NET4);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.port, 443);
	assert_int_equal(f.net, htonl(0xc6120000));
	assert_int_equal(f.mask, htonl(0xfffe0000));
	assert_int_equal(ebpf_filter_parse("host 198.18.0.7 && udp", &f, why, sizeof(why)), 0);
	assert_int_equal(f.flags, CAP_FILT_PROTO | CAP_FILT_NET4);
	assert_int_equal(f.proto, IPPROTO_UDP);
	assert_int_equal(f.mask, 0xffffffffu);
	assert_int_equal(f.net, htonl(0xc6120007));
}

static void should_refuse_unsupported_syntax_with_reason(void **state)
{
	static const char *const bad[] = {"tcp or udp",	       "not port 22",  "(tcp)",	 "icmp",
					  "port 1 and port 2", "host fe80::1", "vlan 10"};
	struct cap_filter f;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(ebpf_filter_parse(bad[i], &f, why, sizeof(why)), -EOPNOTSUPP);
		assert_non_null(strstr(why, "not supported"));
	}
}

static void should_reject_bad_arguments(void **state)
{
	static const char *const bad[] = {
		"port 0", "port 70000", "port", "net 198.18.0.0/33", "host 198.18.0.0/16",
		"tcp and"};
	struct cap_filter f;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ebpf_filter_parse(bad[i], &f, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_capture_everything_when_empty),
		cmocka_unit_test(should_encode_proto_port_and_net),
		cmocka_unit_test(should_refuse_unsupported_syntax_with_reason),
		cmocka_unit_test(should_reject_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
