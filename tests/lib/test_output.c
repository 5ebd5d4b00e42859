// SPDX-License-Identifier: MIT
/*
 * test_output.c - a reader's output (rawcap_output_create and the rest)
 * never loses the file it replaces nor leaves garbage: the temporaries of
 * exports killed outright are reaped by the next export to the name (only
 * ours, only dead ones, never through a link); the replacement keeps the
 * old file's ACL and gets none from the directory; a full disk, a name
 * replaced by a link or a directory during the export, devices, FIFOs and
 * /dev/stdout, a read-only directory. Root: it runs in its own mount
 * namespace on a small tmpfs (POSIX ACLs, a disk that fills).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/pcap.h>
#include <rawcap/rawcap.h>

#define NOBODY 65534
#define ACL    "system.posix_acl_access"

/* librawcap (linked in statically) calls this one: a file system without rename flags. */
static bool no_rename_flags;
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	if (no_rename_flags && flags) {
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

static char dir[64];

static const char *P(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int setup(void **state)
{
	(void)state;
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/rc-output-%d", (int)getpid());
	if (mkdir(dir, 0755))
		return -1;
	return mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0755") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	umount2(dir, MNT_DETACH);
	return rmdir(dir);
}

static void put(const char *name, const char *text, mode_t mode)
{
	int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void assert_text(const char *name, const char *text)
{
	char buf[256] = "";
	int fd = open(P(name), O_RDONLY);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, text);
}

/* Names in dir that start with prefix, into names (n at most); how many. */
static int names_like(const char *prefix, char names[][256], int n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int k = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)) && k < n)
			snprintf(names[k++], 256, "%.255s", de->d_name);
	closedir(d);
	return k;
}

static int create(const char *name)
{
	bool created;
	char why[200] = "";
	int fd = rawcap_output_create(P(name), &created, why, sizeof(why));

	if (fd < 0)
		print_message("create %s: %s\n", name, why);
	return fd;
}

static void should_reap_only_what_dead_exports_of_ours_left(void **state)
{
	char names[16][256], killed[256];
	struct stat st;
	pid_t pid;
	int a, b, status;

	(void)state;
	put("out.pcap", "old", 0664);
	assert_int_equal(chown(P("out.pcap"), 0, NOBODY), 0);
	pid = fork();
	if (!pid) { /* an export killed outright (SIGKILL, OOM) */
		int fd = create("out.pcap");

		if (fd < 0 || write(fd, "partial", 7) != 7)
			_exit(1);
		raise(SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(names_like(".out.pcap-", names, 8), 1);
	snprintf(killed, sizeof(killed), "%s", names[0]);

	/* Named like a temporary, but not one of ours, or not one at all. */
	put("target", "target", 0600);
	assert_int_equal(symlink(P("target"), P(".out.pcap-111111")), 0);
	assert_int_equal(mkdir(P(".out.pcap-222222"), 0700), 0);
	put(".out.pcap-333333", "nobody's", 0600);
	assert_int_equal(chown(P(".out.pcap-333333"), NOBODY, NOBODY), 0);
	put(".out.pcap-444444", "linked", 0600);
	assert_int_equal(link(P(".out.pcap-444444"), P("hardlink")), 0);
	put(".out.pcap-555555", "other may read", 0604);
	put(".out.pcap-12345", "short", 0600);
	put(".out.pcap-ABCDEF", "upper", 0600);
	put(".other.pcap-abc123", "another name's", 0600);

	/* A live export (this very process: a PID would not tell them apart). */
	a = create("out.pcap");
	assert_true(a >= 0);
	assert_int_equal(access(P(killed), F_OK), -1); /* the killed export's: reaped */
	assert_int_equal(fstat(a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660); /* the old file's mode less "other" */
	assert_int_equal(st.st_gid, NOBODY);	    /* and its group */
	assert_int_equal(write(a, "new", 3), 3);
	b = create("out.pcap"); /* a second export to the same name: A's is alive */
	assert_true(b >= 0);
	assert_int_equal(names_like(".out.pcap-", names, 16), 2 + 7); /* A's lives on */
	assert_int_equal(lstat(P(".out.pcap-111111"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_text("target", "target");
	assert_text(".out.pcap-333333", "nobody's");
	assert_text(".out.pcap-444444", "linked");
	assert_text(".out.pcap-555555", "other may read");
	assert_int_equal(access(P(".other.pcap-abc123"), F_OK), 0);
	rawcap_output_failed(stderr, "test", P("out.pcap"), b, false, 0);
	close(b);
	assert_int_equal(stat(P("out.pcap"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0664); /* a failed run: as it was, mode too */
	assert_int_equal(rawcap_output_finish(stderr, "test", P("out.pcap"), a), 0);
	close(a);
	assert_text("out.pcap", "new");
	assert_int_equal(stat(P("out.pcap"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(names_like(".out.pcap-", names, 16), 7); /* the planted ones */
}

static ssize_t acl_of(const char *name, char *buf, size_t len)
{
	return getxattr(P(name), ACL, buf, len);
}

static void should_keep_the_old_files_acl_and_not_the_directorys(void **state)
{
	char want[512], got[512], cmd[512];
	ssize_t n;
	int fd;

	(void)state;
	put("acl.pcap", "old", 0640);
	snprintf(cmd, sizeof(cmd), "setfacl -m u:%d:r,g:%d:- %s", NOBODY, NOBODY, P("acl.pcap"));
	if (system(cmd)) {
		skip(); /* no setfacl (package acl) */
	}
	n = acl_of("acl.pcap", want, sizeof(want));
	assert_true(n > 0);
	fd = create("acl.pcap");
	assert_true(fd >= 0);
	assert_int_equal(fgetxattr(fd, ACL, got, sizeof(got)), n); /* while it is written too */
	assert_memory_equal(got, want, (size_t)n);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("acl.pcap"), fd), 0);
	close(fd);
	assert_text("acl.pcap", "new");
	assert_int_equal(acl_of("acl.pcap", got, sizeof(got)), n);
	assert_memory_equal(got, want, (size_t)n);

	/* An ACL whose "other" entry reads: the replacement keeps the rest, not that. */
	put("acl-o.pcap", "old", 0644);
	snprintf(cmd, sizeof(cmd), "setfacl -m u:%d:r %s", NOBODY, P("acl-o.pcap"));
	assert_int_equal(system(cmd), 0);
	fd = create("acl-o.pcap");
	assert_true(fd >= 0);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("acl-o.pcap"), fd), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "getfacl -cn %s | grep -qx 'user:%d:r--' && getfacl -c %s | "
		 "grep -qx 'other::---'",
		 P("acl-o.pcap"), NOBODY, P("acl-o.pcap"));
	assert_int_equal(system(cmd), 0);

	/* A directory whose default ACL grants nobody: the old file there had no ACL. */
	assert_int_equal(mkdir(P("d"), 0750), 0);
	snprintf(cmd, sizeof(cmd), "setfacl -d -m u:%d:rw %s", NOBODY, P("d"));
	assert_int_equal(system(cmd), 0);
	put("d/plain.pcap", "old", 0640);
	snprintf(cmd, sizeof(cmd), "setfacl -b %s", P("d/plain.pcap"));
	assert_int_equal(system(cmd), 0);
	assert_int_equal(acl_of("d/plain.pcap", got, sizeof(got)), -1);
	fd = create("d/plain.pcap");
	assert_true(fd >= 0);
	assert_int_equal(fgetxattr(fd, ACL, got, sizeof(got)), -1);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("d/plain.pcap"), fd), 0);
	close(fd);
	assert_int_equal(acl_of("d/plain.pcap", got, sizeof(got)), -1);
	assert_int_equal(errno, ENODATA);
}

static void should_leave_the_old_file_when_the_disk_fills(void **state)
{
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_pcap *w = NULL;
	char names[4][256], block[4096] = {0};
	int fd, fill;

	(void)state;
	put("full.pcap", "old", 0640);
	fill = open(P("filler"), O_WRONLY | O_CREAT, 0600);
	assert_true(fill >= 0);
	while (write(fill, block, sizeof(block)) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	close(fill);
	fd = create("full.pcap");
	assert_true(fd >= 0);
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_close(w), -ENOSPC); /* the writer marks the output */
	rawcap_output_failed(stderr, "test", P("full.pcap"), fd, false, 1);
	close(fd);
	assert_text("full.pcap", "old");
	assert_int_equal(names_like(".full.pcap-", names, 4), 0);
	assert_int_equal(names_like("full.pcap-", names, 4), 0);

	/* A caller's own write failing, then the commit: the old file stays too. */
	fd = create("full.pcap");
	assert_true(fd >= 0);
	rawcap_output_broken(fd, -ENOSPC);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("full.pcap"), fd), -ENOSPC);
	close(fd);
	assert_text("full.pcap", "old");
	assert_int_equal(names_like(".full.pcap-", names, 4), 0);
	unlink(P("filler"));
}

static void should_not_replace_what_replaced_the_name_meanwhile(void **state)
{
	char names[4][256];
	struct stat st;
	int fd;

	(void)state;
	put("target", "target", 0600);
	put("ln.pcap", "old", 0600);
	fd = create("ln.pcap");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(symlink(P("target"), P("link")), 0);
	assert_int_equal(rename(P("link"), P("ln.pcap")), 0);
	assert_true(rawcap_output_finish(stderr, "test", P("ln.pcap"), fd) < 0);
	close(fd);
	assert_int_equal(lstat(P("ln.pcap"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_text("target", "target");
	assert_int_equal(names_like("ln.pcap-", names, 4), 1); /* kept, under a visible name */
	assert_text(names[0], "new");
	assert_int_equal(names_like(".ln.pcap-", names, 4), 0);

	put("dir.pcap", "old", 0600);
	fd = create("dir.pcap");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(unlink(P("dir.pcap")), 0);
	assert_int_equal(mkdir(P("dir.pcap"), 0700), 0);
	rawcap_output_failed(stderr, "test", P("dir.pcap"), fd, false, 1);
	close(fd);
	assert_int_equal(lstat(P("dir.pcap"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(names_like("dir.pcap-", names, 4), 1);
	assert_text(names[0], "new");

	put("gone.pcap", "old", 0600); /* removed meanwhile: made again */
	fd = create("gone.pcap");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(unlink(P("gone.pcap")), 0);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("gone.pcap"), fd), 0);
	close(fd);
	assert_text("gone.pcap", "new");
}

/* name.pcap replaced by a link during the export: where the export is kept, then. */
static int kept_beside(const char *name, char names[][256])
{
	char link[300], pfx[300];
	int fd;

	put(name, "old", 0600);
	fd = create(name);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "new", 3), 3);
	snprintf(link, sizeof(link), "%s.ln", name);
	assert_int_equal(symlink(P("target"), P(link)), 0);
	assert_int_equal(rename(P(link), P(name)), 0);
	assert_true(rawcap_output_finish(stderr, "test", P(name), fd) < 0);
	close(fd);
	snprintf(pfx, sizeof(pfx), ".%s-", name);
	assert_int_equal(names_like(pfx, names, 4), 0); /* nothing a later export would reap */
	return names_like(pfx + 1, names, 4);
}

static void
should_keep_the_export_visible_where_its_name_is_taken_or_rename_has_no_flags(void **state)
{
	char names[4][256], tmp[4][256], other[256];
	int fd;

	(void)state;
	put("target", "target", 0600);
	no_rename_flags = true; /* renameat2 says EINVAL: link, then unlink */
	assert_int_equal(kept_beside("noflags.pcap", names), 1);
	no_rename_flags = false;
	assert_text(names[0], "new");

	put("taken.pcap", "old", 0600); /* NAME-xxxxxx of its own temporary already there */
	fd = create("taken.pcap");
	assert_true(fd >= 0);
	assert_int_equal(names_like(".taken.pcap-", tmp, 4), 1);
	put(tmp[0] + 1, "someone's", 0600);
	snprintf(other, sizeof(other), "%.254s", tmp[0] + 1);
	assert_int_equal(write(fd, "new", 3), 3);
	assert_int_equal(symlink(P("target"), P("taken.ln")), 0);
	assert_int_equal(rename(P("taken.ln"), P("taken.pcap")), 0);
	assert_true(rawcap_output_finish(stderr, "test", P("taken.pcap"), fd) < 0);
	close(fd);
	assert_int_equal(names_like(".taken.pcap-", tmp, 4), 0);
	assert_int_equal(names_like("taken.pcap-", names, 4), 2); /* another suffix */
	assert_text(other, "someone's");
	assert_text(strcmp(names[0], other) ? names[0] : names[1], "new");
}

static void should_write_devices_and_stdout_in_place_or_refuse_them(void **state)
{
	struct stat st;
	char why[200];
	bool created;
	int fd;

	(void)state;
	assert_int_equal(rawcap_output_create("/dev/stdout", &created, why, sizeof(why)), 1);
	assert_int_equal(rawcap_output_create("/dev/fd/1", &created, why, sizeof(why)), 1);
	if (mknod(P("null"), S_IFCHR | 0666, makedev(1, 3))) {
		skip(); /* no CAP_MKNOD (a container) */
	}
	fd = create("null");
	assert_true(fd > 1);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(rawcap_output_finish(stderr, "test", P("null"), fd), 0);
	rawcap_output_failed(stderr, "test", P("null"), fd, false, 1);
	close(fd);
	assert_int_equal(lstat(P("null"), &st), 0);
	assert_true(S_ISCHR(st.st_mode)); /* never replaced by a file */
	assert_int_equal(mknod(P("zero"), S_IFCHR | 0666, makedev(1, 5)), 0);
	assert_int_equal(create("zero"), -EBADFD);
	assert_int_equal(mkfifo(P("fifo"), 0600), 0);
	assert_int_equal(create("fifo"), -EBADFD);
	assert_int_equal(lstat(P("zero"), &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(lstat(P("fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void should_write_in_place_in_a_directory_it_cannot_add_to(void **state)
{
	char names[4][256];
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(mkdir(P("ro"), 0755), 0);
	put("ro/f.pcap", "old", 0600);
	assert_int_equal(chown(P("ro/f.pcap"), NOBODY, NOBODY), 0);
	assert_int_equal(chown(P("ro"), NOBODY, NOBODY), 0);
	assert_int_equal(chmod(P("ro"), 0555), 0);
	pid = fork();
	if (!pid) {
		int fd;

		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		fd = create("ro/f.pcap");
		if (fd < 0 || write(fd, "new", 3) != 3 ||
		    rawcap_output_finish(stderr, "test", P("ro/f.pcap"), fd))
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_text("ro/f.pcap", "new");
	assert_int_equal(names_like(".f.pcap-", names, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(should_reap_only_what_dead_exports_of_ours_left,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			should_keep_the_old_files_acl_and_not_the_directorys, setup, teardown),
		cmocka_unit_test_setup_teardown(should_leave_the_old_file_when_the_disk_fills,
						setup, teardown),
		cmocka_unit_test_setup_teardown(should_not_replace_what_replaced_the_name_meanwhile,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			should_keep_the_export_visible_where_its_name_is_taken_or_rename_has_no_flags,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			should_write_devices_and_stdout_in_place_or_refuse_them, setup, teardown),
		cmocka_unit_test_setup_teardown(
			should_write_in_place_in_a_directory_it_cannot_add_to, setup, teardown),
	};

	if (geteuid()) {
		printf("SKIP: needs root (a tmpfs in its own mount namespace)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		perror("mount namespace");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
