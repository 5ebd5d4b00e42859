// SPDX-License-Identifier: MIT
/*
 * test_dissection.c - the dissection switch file (lib/dissection.c) that
 * rawcap-server writes and rawcap-forward follows: what store writes load
 * reads back, with mode 0640 and no temporary left; load refuses a link, a
 * directory, an oversized file and any line it does not know.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/forward.h>

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rc-dissection.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, RAWCAP_DISSECTION_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static unsigned entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void should_read_back_what_it_stores(void **state)
{
	struct rawcap_dissection st;
	struct stat sb;

	(void)state;
	assert_int_equal(rawcap_dissection_load(dir, &st), -ENOENT);
	for (int i = 0; i < 4; i++) {
		struct rawcap_dissection w = {.enabled = i & 1, .resume = (i >> 1) & 1};

		assert_int_equal(rawcap_dissection_store(dir, &w), 0);
		assert_int_equal(rawcap_dissection_load(dir, &st), 0);
		assert_int_equal(st.enabled, w.enabled);
		assert_int_equal(st.resume, w.resume);
	}
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(entries(), 1); /* no temporary file left beside it */
}

static void should_refuse_what_is_not_a_switch_file(void **state)
{
	static const char *const bad[] = {
		"",
		"resume=live\n",
		"enabled=yes\n",
		"enabled=true\nresume=later\n",
		"enabled=true\nmore=1\n",
		"enabled=true \n",
	};
	static const char nul[] = "enabled=true\n\0resume=live\n";
	struct rawcap_dissection st;
	char big[300];
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(nul, 1, sizeof(nul) - 1, f); /* a NUL inside */
	fclose(f);
	assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	write_file("enabled=false\n"); /* resume defaults to live */
	assert_int_equal(rawcap_dissection_load(dir, &st), 0);
	assert_false(st.enabled);
	assert_int_equal(st.resume, RAWCAP_FWD_RESUME_LIVE);
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "enabled=true\n", 13);
	write_file(big);
	assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	rmdir(path);
	assert_int_equal(mkfifo(path, 0600), 0); /* refused without blocking on it */
	assert_int_equal(rawcap_dissection_load(dir, &st), -EINVAL);
	unlink(path);
}

/* A switch another user planted is not obeyed (root's or our own only). */
static void should_refuse_a_stranger_s_switch(void **state)
{
	struct rawcap_dissection st;

	(void)state;
	write_file("enabled=false\n");
	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(rawcap_dissection_load(dir, &st), -EPERM);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(rawcap_dissection_load(dir, &st), 0);
	assert_false(st.enabled);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(should_read_back_what_it_stores, setup, teardown),
		cmocka_unit_test_setup_teardown(should_refuse_a_stranger_s_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(should_refuse_what_is_not_a_switch_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
