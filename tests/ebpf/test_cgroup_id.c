// SPDX-License-Identifier: MIT
/*
 * test_cgroup_id.c - cgroup id to path to container id: the container id
 * patterns of containerd, CRI-O and Docker, and a real cgroup created for the
 * test found by the id the kernel gives it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup_id.h"
#include "ebpf_probe.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void should_find_container_ids_of_each_runtime(void **state)
{
	char id[CGROUP_CID_LEN + 1];

	(void)state;
	assert_string_equal(
		cgroup_container_id("/kubepods.slice/kubepods-burstable.slice/"
				    "kubepods-burstable-pod1.slice/cri-containerd-" HEX64 ".scope",
				    id),
		"containerd");
	assert_string_equal(id, HEX64);
	assert_string_equal(cgroup_container_id("/kubepods.slice/crio-" HEX64 ".scope", id),
			    "cri-o");
	assert_string_equal(id, HEX64);
	assert_string_equal(cgroup_container_id("/system.slice/docker-" HEX64 ".scope", id),
			    "docker");
	assert_string_equal(cgroup_container_id("/docker/" HEX64, id), "docker");
	assert_string_equal(id, HEX64);
}

static void should_not_invent_container_ids(void **state)
{
	char id[CGROUP_CID_LEN + 1];

	(void)state;
	assert_null(cgroup_container_id("/", id));
	assert_string_equal(id, "");
	assert_null(cgroup_container_id("/user.slice/user-0.slice/session-1.scope", id));
	assert_null(cgroup_container_id("/kubepods/crio-" HEX64 "x.scope", id));
	assert_null(cgroup_container_id("/kubepods/crio-0123.scope", id));
	assert_null(cgroup_container_id("/docker/ABCDEF", id));
	assert_string_equal(id, "");
}

static void should_resolve_a_new_cgroup_by_its_kernel_id(void **state)
{
	char root[256], dir[512], rel[128];
	const struct cgroup_info *ci;
	struct cgroup_cache *cc;
	uint64_t id = 0;

	(void)state;
	if (ebpf_cgroup2_root(root, sizeof(root)))
		skip();
	snprintf(rel, sizeof(rel), "/rawcap-test-%d/docker-" HEX64 ".scope", getpid());
	snprintf(dir, sizeof(dir), "%s/rawcap-test-%d", root, getpid());
	if (mkdir(dir, 0755) && errno == EACCES)
		skip();
	snprintf(dir, sizeof(dir), "%s%s", root, rel);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(cgroup_cache_open(root, &cc), 0);
	assert_int_equal(cgroup_id_of(AT_FDCWD, dir, &id), 0);
	assert_true(id != 0);
	ci = cgroup_cache_lookup(cc, id);
	assert_non_null(ci);
	assert_string_equal(ci->path, rel);
	assert_string_equal(ci->container_id, HEX64);
	assert_string_equal(ci->runtime, "docker");
	cgroup_cache_close(cc);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/rawcap-test-%d", root, getpid());
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_find_container_ids_of_each_runtime),
		cmocka_unit_test(should_not_invent_container_ids),
		cmocka_unit_test(should_resolve_a_new_cgroup_by_its_kernel_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
