// SPDX-License-Identifier: MIT
/*
 * test_safe_open.c - storage/safe_open.h against every kind of object that
 * can sit at a name: regular files, FIFOs (never a blocking open), links
 * (never followed), sockets, devices, directories, other users' files,
 * oversize files; directories made, tightened or refused; and paths that
 * cross a link or directory another user planted.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../storage/safe_open.h"

#define NOBODY 65534

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/rc-safe-open-%d", (int)getpid());
	if (mkdir(dir, 0700))
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void make_file(const char *name, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
}

static int open_ro(const char *name, const struct safe_want *want, char *why, size_t len)
{
	return safe_openat(dfd, name, O_RDONLY, 0, want, NULL, why, len);
}

static void should_open_a_regular_file_blocking_again(void **state)
{
	struct safe_want want = safe_want_file(geteuid(), 0);
	struct stat st;
	int fd;

	(void)state;
	make_file("plain", 100);
	fd = safe_openat(dfd, "plain", O_RDONLY, 0, &want, &st, NULL, 0);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 100);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void should_refuse_a_fifo_without_blocking(void **state)
{
	struct safe_want want = safe_want_file(geteuid(), 0);
	static const int modes[] = {O_RDONLY, O_WRONLY, O_RDWR};
	char why[160];

	(void)state;
	assert_int_equal(mkfifoat(dfd, "fifo", 0640), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		why[0] = '\0';
		assert_int_equal(
			safe_openat(dfd, "fifo", modes[i], 0, &want, NULL, why, sizeof(why)),
			-EBADFD);
		assert_string_equal(why, "a FIFO, not a regular file");
	}
	want = safe_want_dir(SAFE_ANY_OWNER);
	assert_int_equal(open_ro("fifo", &want, why, sizeof(why)), -ENOTDIR);
	assert_string_equal(why, "a FIFO, not a directory");
}

static void should_never_follow_a_link(void **state)
{
	struct safe_want file = safe_want_file(geteuid(), 0);
	struct safe_want any_dir = safe_want_dir(SAFE_ANY_OWNER);
	struct stat st;
	char why[160];

	(void)state;
	make_file("target", 10);
	assert_int_equal(symlinkat("target", dfd, "link"), 0);
	assert_int_equal(open_ro("link", &file, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(symlinkat(".", dfd, "dirlink"), 0);
	assert_int_equal(open_ro("dirlink", &any_dir, why, sizeof(why)), -ELOOP);
	/* Creating through a dangling link must not create its target. */
	assert_int_equal(symlinkat("created", dfd, "dangling"), 0);
	assert_int_equal(safe_openat(dfd, "dangling", O_WRONLY | O_CREAT, 0640, &file, NULL, why,
				     sizeof(why)),
			 -ELOOP);
	assert_int_equal(faccessat(dfd, "created", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	/* A directory given through a link is not made or tightened. */
	assert_int_equal(mkdirat(dfd, "open", 0777), 0);
	assert_int_equal(fchmodat(dfd, "open", 0777, 0), 0);
	assert_int_equal(symlinkat("open", dfd, "openlink"), 0);
	assert_int_equal(safe_mkdir_open(dfd, "openlink", 0750, &any_dir, NULL, why, sizeof(why)),
			 -ELOOP);
	assert_int_equal(fstatat(dfd, "open", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
}

static void should_name_sockets_devices_and_directories(void **state)
{
	struct safe_want file = safe_want_file(geteuid(), 0);
	struct safe_want any_dir = safe_want_dir(SAFE_ANY_OWNER);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char why[160];
	int s;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(open_ro("sock", &file, why, sizeof(why)), -EBADFD);
	assert_string_equal(why, "a socket, not a regular file");
	close(s);
	assert_int_equal(mkdirat(dfd, "sub", 0750), 0);
	assert_int_equal(open_ro("sub", &file, why, sizeof(why)), -EISDIR);
	assert_string_equal(why, "a directory, not a regular file");
	assert_int_equal(
		safe_openat(dfd, "sub", O_WRONLY | O_CREAT, 0640, &file, NULL, why, sizeof(why)),
		-EISDIR);
	make_file("notdir", 1);
	assert_int_equal(open_ro("notdir", &any_dir, why, sizeof(why)), -ENOTDIR);
	assert_string_equal(why, "a regular file, not a directory");
	if (geteuid() != 0)
		return; /* devices need root */
	assert_int_equal(mknodat(dfd, "null", S_IFCHR | 0640, makedev(1, 3)), 0);
	assert_int_equal(open_ro("null", &file, why, sizeof(why)), -EBADFD);
	assert_string_equal(why, "a character device, not a regular file");
}

static void should_refuse_other_owners_and_oversize_files(void **state)
{
	struct safe_want want = safe_want_file(1234, 0);
	char why[160];
	int fd;

	(void)state;
	make_file("mine", 4096);
	fd = open_ro("mine", &(struct safe_want){.type = S_IFREG, .owner = {geteuid(), 1234}}, why,
		     sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	want.max_size = 4095;
	want.owner[0] = geteuid();
	assert_int_equal(open_ro("mine", &want, why, sizeof(why)), -EFBIG);
	assert_string_equal(why, "4096 bytes, more than the 4095 allowed");
	if (geteuid() != 0)
		skip(); /* chown needs root */
	assert_int_equal(fchownat(dfd, "mine", NOBODY, NOBODY, 0), 0);
	want = safe_want_file(1234, 0);
	assert_int_equal(open_ro("mine", &want, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "owned by uid 65534, not 0 or 1234");
	want.owner[0] = SAFE_ANY_OWNER;
	fd = open_ro("mine", &want, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
}

static void should_make_and_tighten_directories(void **state)
{
	struct safe_want any_dir = safe_want_dir(SAFE_ANY_OWNER);
	struct stat st;
	char why[160];
	int fd;

	(void)state;
	fd = safe_mkdir_open(dfd, "new", 0750, &any_dir, &st, why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	close(fd);
	assert_int_equal(mkdirat(dfd, "loose", 0777), 0);
	assert_int_equal(fchmodat(dfd, "loose", 02777, 0), 0);
	fd = safe_mkdir_open(dfd, "loose", 0750, &any_dir, &st, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fstatat(dfd, "loose", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 02770); /* only "other" lost, setgid kept */
	make_file("afile", 0);
	assert_int_equal(safe_mkdir_open(dfd, "afile", 0750, &any_dir, NULL, why, sizeof(why)),
			 -ENOTDIR);
}

/* In a child as nobody: a directory open to others that it may not chmod is refused. */
static void should_refuse_a_directory_it_cannot_tighten(void **state)
{
	struct safe_want any_dir = safe_want_dir(SAFE_ANY_OWNER);
	struct stat st;
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to become nobody */
	assert_int_equal(mkdirat(dfd, "roots", 0755), 0);
	assert_int_equal(fchmodat(dfd, "roots", 0755, 0), 0);
	assert_int_equal(fchmod(dfd, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[200] = "";
		int fd;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		fd = safe_mkdir_open(dfd, "roots", 0750, &any_dir, NULL, why, sizeof(why));
		_exit(fd == -EPERM && strstr(why, "chmod o-rwx") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(fstatat(dfd, "roots", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(fchmod(dfd, 0700), 0);
}

/* safe_mkdir_open(AT_FDCWD, DIR/sub/name): 0 if made and opened, else -errno (why). */
static int mkdir_path(const char *sub, char *why, size_t len)
{
	struct safe_want any_dir = safe_want_dir(SAFE_ANY_OWNER);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	fd = safe_mkdir_open(AT_FDCWD, path, 0750, &any_dir, NULL, why, len);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/*
 * A link on the way is followed only if root, this user or the directory's
 * owner owns it, a directory entered from one that others may write only
 * if root, this user or that directory's owner owns it: /tmp/x/dest where
 * another user planted /tmp/x. The last component was the only one checked.
 */
static void should_not_cross_what_others_planted_on_the_way(void **state)
{
	char why[300] = "", leaf[NAME_MAX + 1];
	int fd;
	(void)state;

	if (geteuid() != 0)
		skip(); /* needs root to make another user's links and directories */
	assert_int_equal(fchmod(dfd, 0755), 0);
	assert_int_equal(mkdirat(dfd, "real", 0700), 0);
	/* our own link, and root's symlinked directories (a symlinked /home): followed */
	assert_int_equal(symlinkat("real", dfd, "ours"), 0);
	assert_int_equal(mkdir_path("ours/dest", why, sizeof(why)), 0);
	assert_int_equal(fstatat(dfd, "real/dest", &(struct stat){0}, AT_SYMLINK_NOFOLLOW), 0);
	/* a link another user made, in a directory only its owner may write */
	assert_int_equal(mkdirat(dfd, "home", 0755), 0);
	assert_int_equal(symlinkat("../real", dfd, "home/theirs"), 0);
	assert_int_equal(fchownat(dfd, "home/theirs", NOBODY, NOBODY, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(mkdir_path("home/theirs/dest2", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "theirs: a symbolic link of uid 65534"));
	/* the same through a link of ours: its target is walked by the same rules */
	assert_int_equal(symlinkat("home/theirs", dfd, "ours2"), 0);
	assert_int_equal(mkdir_path("ours2/dest2", why, sizeof(why)), -EPERM);
	/* a directory another user made in one everyone may write (sticky or not) */
	assert_int_equal(mkdirat(dfd, "shared", 01777), 0);
	assert_int_equal(fchmodat(dfd, "shared", 01777, 0), 0);
	assert_int_equal(mkdirat(dfd, "shared/x", 0777), 0);
	assert_int_equal(fchownat(dfd, "shared/x", NOBODY, NOBODY, 0), 0);
	assert_int_equal(mkdir_path("shared/x/dest", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "x: a directory of uid 65534 in a directory others may write"));
	assert_int_equal(fstatat(dfd, "shared/x/dest", &(struct stat){0}, 0), -1);
	/*
	 * The directory's own owner's entries (systemd's CHASE_SAFE): root
	 * writes into alice's 0775 caps/run1 (a user-private group's umask 002),
	 * and follows her link there; a third user's directory there is refused.
	 */
	assert_int_equal(mkdirat(dfd, "caps", 0775), 0);
	assert_int_equal(fchmodat(dfd, "caps", 0775, 0), 0);
	assert_int_equal(mkdirat(dfd, "caps/run1", 0775), 0);
	assert_int_equal(symlinkat("run1", dfd, "caps/latest"), 0);
	assert_int_equal(mkdirat(dfd, "caps/bobs", 0775), 0);
	assert_int_equal(fchownat(dfd, "caps", NOBODY, NOBODY, 0), 0);
	assert_int_equal(fchownat(dfd, "caps/run1", NOBODY, NOBODY, 0), 0);
	assert_int_equal(fchownat(dfd, "caps/latest", NOBODY, NOBODY, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fchownat(dfd, "caps/bobs", 4242, 4242, 0), 0);
	assert_int_equal(mkdir_path("caps/run1/dest", why, sizeof(why)), 0);
	assert_int_equal(mkdir_path("caps/latest/dest3", why, sizeof(why)), 0);
	assert_int_equal(fstatat(dfd, "caps/run1/dest3", &(struct stat){0}, 0), 0);
	assert_int_equal(mkdir_path("caps/bobs/dest", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "bobs: a directory of uid 4242 in a directory others may write"));
	/* ours there: fine; the last component stays safe_openat's (a link refused) */
	assert_int_equal(mkdirat(dfd, "shared/mine", 0700), 0);
	assert_int_equal(mkdir_path("shared/mine/dest", why, sizeof(why)), 0);
	assert_int_equal(mkdir_path("ours", why, sizeof(why)), -ELOOP);
	/* "DIR/" names DIR; a relative path starts at the working directory */
	fd = safe_path_parent("a/b//", leaf, sizeof(leaf), why, sizeof(why));
	assert_int_equal(fd, -ENOENT);
	fd = safe_path_parent("/", leaf, sizeof(leaf), why, sizeof(why));
	assert_true(fd >= 0);
	assert_string_equal(leaf, ".");
	close(fd);
	assert_int_equal(fchmod(dfd, 0700), 0);
}

/* safe_dir_open(DIR/sub): 0 if opened, else -errno (why). */
static int open_path(const char *sub, char *why, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	fd = safe_dir_open(path, NULL, why, len);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/*
 * The last component is held to the rule of a directory on the way: a
 * directory another user made in a 1777 directory (/tmp) before us, as
 * --dest or --storage, is refused naming its owner, for writing into
 * (safe_mkdir_open) and for listing or deleting in (safe_dir_open); ours,
 * root's and the parent owner's are taken, and want's owner (capd's user),
 * and a colleague's in a team's setgid directory.
 */
static void should_not_take_a_last_directory_others_planted(void **state)
{
	struct safe_want capd_user = safe_want_dir(4242), any_dir = safe_want_dir(SAFE_ANY_OWNER);
	char why[300] = "", path[256];
	int fd;
	(void)state;

	if (geteuid() != 0)
		skip(); /* needs root to make another user's directories */
	assert_int_equal(fchmod(dfd, 0755), 0);
	assert_int_equal(mkdirat(dfd, "pub", 01777), 0);
	assert_int_equal(fchmodat(dfd, "pub", 01777, 0), 0);
	assert_int_equal(mkdirat(dfd, "pub/theirs", 0770), 0);
	assert_int_equal(fchownat(dfd, "pub/theirs", NOBODY, NOBODY, 0), 0);
	assert_int_equal(open_path("pub/theirs", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "theirs: a directory of uid 65534"));
	assert_non_null(strstr(why, "in a directory others may write"));
	why[0] = '\0';
	assert_int_equal(mkdir_path("pub/theirs", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "theirs: a directory of uid 65534"));
	/* ours (made now or before) and root's: taken */
	assert_int_equal(mkdir_path("pub/mine", why, sizeof(why)), 0);
	assert_int_equal(open_path("pub/mine", why, sizeof(why)), 0);
	/* want's owner: capd's user owns its storage */
	assert_int_equal(mkdirat(dfd, "pub/capd", 0750), 0);
	assert_int_equal(fchownat(dfd, "pub/capd", 4242, 4242, 0), 0);
	snprintf(path, sizeof(path), "%s/pub/capd", dir);
	fd = safe_mkdir_open(AT_FDCWD, path, 0750, &capd_user, NULL, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	fd = safe_mkdir_open(AT_FDCWD, path, 0750, &any_dir, NULL, why, sizeof(why));
	assert_int_equal(fd, -EPERM);
	/* the parent's owner: its own entries in its 0775 directory */
	assert_int_equal(mkdirat(dfd, "caps", 0775), 0);
	assert_int_equal(fchmodat(dfd, "caps", 0775, 0), 0);
	assert_int_equal(mkdirat(dfd, "caps/run1", 0750), 0);
	assert_int_equal(fchownat(dfd, "caps", NOBODY, NOBODY, 0), 0);
	assert_int_equal(fchownat(dfd, "caps/run1", NOBODY, NOBODY, 0), 0);
	assert_int_equal(open_path("caps/run1", why, sizeof(why)), 0);
	/* another user's directory where only its parent's owner writes: taken */
	assert_int_equal(mkdirat(dfd, "home", 0755), 0);
	assert_int_equal(mkdirat(dfd, "home/bob", 0750), 0);
	assert_int_equal(fchownat(dfd, "home/bob", 4242, 4242, 0), 0);
	assert_int_equal(open_path("home/bob", why, sizeof(why)), 0);
	/*
	 * A team's setgid directory (root:netops 2775): alice's incidents
	 * (group netops, as the setgid bit makes it) is bob's to use, and on
	 * the way too; one of another group there, or in a setgid one other
	 * users may write, is refused.
	 */
	assert_int_equal(mkdirat(dfd, "team", 0775), 0);
	assert_int_equal(fchownat(dfd, "team", 0, 4300, 0), 0);
	assert_int_equal(fchmodat(dfd, "team", 02775, 0), 0);
	assert_int_equal(mkdirat(dfd, "team/incidents", 0770), 0);
	assert_int_equal(fchownat(dfd, "team/incidents", 4242, 4300, 0), 0);
	assert_int_equal(fchmodat(dfd, "team/incidents", 02770, 0), 0);
	assert_int_equal(open_path("team/incidents", why, sizeof(why)), 0);
	assert_int_equal(mkdir_path("team/incidents", why, sizeof(why)), 0);
	assert_int_equal(mkdir_path("team/incidents/snaps", why, sizeof(why)), 0);
	assert_int_equal(mkdirat(dfd, "team/alices", 0770), 0);
	assert_int_equal(fchownat(dfd, "team/alices", 4242, 4242, 0), 0);
	assert_int_equal(open_path("team/alices", why, sizeof(why)), -EPERM);
	assert_int_equal(fchmodat(dfd, "team", 02777, 0), 0);
	assert_int_equal(open_path("team/incidents", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "incidents: a directory of uid 4242"));
	assert_int_equal(fchmod(dfd, 0700), 0);
}

/* A file a user names: links followed, FIFOs and devices refused at once, size bounded. */
static void should_read_a_named_file_whole_or_refuse_it(void **state)
{
	char path[128], link[128], why[160], *text = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/token", dir);
	fd = openat(dfd, "token", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	close(fd);
	assert_int_equal(symlinkat("token", dfd, "link"), 0);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(safe_read_named(link, 7, &text, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(text, "secret\n");
	free(text);
	assert_int_equal(safe_read_named(path, 6, &text, &len, why, sizeof(why)), -EFBIG);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(safe_read_named(path, 64, &text, &len, why, sizeof(why)), -EBADFD);
	assert_string_equal(why, "a FIFO, not a regular file");
	assert_int_equal(safe_read_named("/dev/zero", 64, &text, &len, why, sizeof(why)), -EBADFD);
	assert_string_equal(why, "a character device, not a regular file");
	assert_int_equal(safe_read_named(dir, 64, &text, &len, why, sizeof(why)), -EBADFD);
	assert_string_equal(why, "a directory, not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(should_open_a_regular_file_blocking_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_read_a_named_file_whole_or_refuse_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_refuse_a_fifo_without_blocking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_never_follow_a_link, setup, teardown),
		cmocka_unit_test_setup_teardown(should_name_sockets_devices_and_directories, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_refuse_other_owners_and_oversize_files,
						setup, teardown),
		cmocka_unit_test_setup_teardown(should_make_and_tighten_directories, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_refuse_a_directory_it_cannot_tighten, setup,
						teardown),
		cmocka_unit_test_setup_teardown(should_not_cross_what_others_planted_on_the_way,
						setup, teardown),
		cmocka_unit_test_setup_teardown(should_not_take_a_last_directory_others_planted,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
