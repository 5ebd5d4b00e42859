// SPDX-License-Identifier: MIT
/*
 * proc_scan.c - recover the process context of flows that existed before
 * capd started (long-lived connections would otherwise have none until they
 * reconnect). Sockets come from /proc/<pid>/net/{tcp,tcp6,udp,udp6}, read
 * once per network namespace (pods each have their own), and are matched to
 * processes through the socket:[inode] links in /proc/<pid>/fd. Socket
 * cookies are not visible here, so these records carry none.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_id.h"
#include "proc_event.h"
#include "proc_meta.h"

#define TCP_ESTABLISHED 1

struct scan_sock {
	uint64_t inode;
	uint32_t last_pid;
	struct pc_event e; /* tuple only */
};

struct scan {
	const char *proc;
	struct scan_sock *socks;
	size_t n, cap;
	uint64_t *netns;
	size_t nnetns, capnetns;
};

static int push(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *p = realloc(*arr, c * elem);

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = c;
	}
	return 0;
}

static void hex_addr(const char *hex, uint8_t *out, int words)
{
	for (int i = 0; i < words; i++) {
		char w[9];
		uint32_t v;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, NULL, 16);
		/* The kernel prints each address word as a native-endian integer. */
		memcpy(out + i * 4, &v, 4);
	}
}

static void parse_table(struct scan *s, const char *path, int family, int proto)
{
	char line[512], la[40], ra[40];
	unsigned lport, rport, st;
	unsigned long long ino;
	int words = family == 10 ? 4 : 1;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) /* header */
		goto out;
	while (fgets(line, sizeof(line), f)) {
		struct scan_sock *k;

		if (sscanf(line,
			   " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %llu",
			   la, &lport, ra, &rport, &st, &ino) != 6 ||
		    !ino)
			continue;
		if (strlen(la) != (size_t)words * 8 || strlen(ra) != (size_t)words * 8)
			continue;
		if (proto == IPPROTO_TCP ? st != TCP_ESTABLISHED : lport == 0)
			continue;
		if (push((void **)&s->socks, &s->n, &s->cap, sizeof(*s->socks)))
			break;
		k = &s->socks[s->n++];
		memset(k, 0, sizeof(*k));
		k->inode = ino;
		k->e.kind = PC_EV_EXISTING;
		k->e.family = (uint8_t)family;
		k->e.proto = (uint8_t)proto;
		k->e.sport = (uint16_t)lport;
		k->e.dport = (uint16_t)rport;
		hex_addr(la, k->e.saddr, words);
		hex_addr(ra, k->e.daddr, words);
	}
out:
	fclose(f);
}

static void scan_netns(struct scan *s, const char *pid)
{
	static const struct {
		const char *name;
		int family, proto;
	} tables[] = {
		{"tcp", 2, IPPROTO_TCP},
		{"tcp6", 10, IPPROTO_TCP},
		{"udp", 2, IPPROTO_UDP},
		{"udp6", 10, IPPROTO_UDP},
	};
	char path[640];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/ns/net", s->proc, pid);
	if (stat(path, &st))
		return;
	for (size_t i = 0; i < s->nnetns; i++)
		if (s->netns[i] == st.st_ino)
			return;
	if (push((void **)&s->netns, &s->nnetns, &s->capnetns, sizeof(*s->netns)))
		return;
	s->netns[s->nnetns++] = st.st_ino;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/net/%s", s->proc, pid, tables[i].name);
		parse_table(s, path, tables[i].family, tables[i].proto);
	}
}

static int cmp_inode(const void *a, const void *b)
{
	const struct scan_sock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static void read_comm(const char *proc, const char *pid, char *comm, size_t len)
{
	char path[640];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/comm", proc, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, comm, len) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		n = 0;
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	if ((size_t)n < len)
		memset(comm + n, 0, len - (size_t)n);
}

/* The process's cgroup v2 id: the "0::<path>" line of /proc/<pid>/cgroup under cgroup_root. */
static uint64_t pid_cgroup_id(const char *proc, const char *pid, const char *cgroup_root)
{
	char path[4352], line[4096];
	uint64_t id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/cgroup", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s%s", cgroup_root, line + 3);
		if (cgroup_id_of(AT_FDCWD, path, &id))
			id = 0;
		break;
	}
	fclose(f);
	return id;
}

static void scan_fds(struct scan *s, const char *pid, const char *cgroup_root, proc_scan_cb cb,
		     void *ctx)
{
	char path[640], link[64], comm[16];
	uint64_t cgid = 0;
	bool have_meta = false;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/fd", s->proc, pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct scan_sock key, *k;
		unsigned long long ino;
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s/fd/%s", s->proc, pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		key.inode = ino;
		k = bsearch(&key, s->socks, s->n, sizeof(*s->socks), cmp_inode);
		if (!k || k->last_pid == (uint32_t)atoi(pid))
			continue;
		if (!have_meta) {
			read_comm(s->proc, pid, comm, sizeof(comm));
			cgid = pid_cgroup_id(s->proc, pid, cgroup_root);
			have_meta = true;
		}
		k->last_pid = (uint32_t)atoi(pid);
		k->e.pid = k->last_pid;
		k->e.cgroup_id = cgid;
		memcpy(k->e.comm, comm, sizeof(comm));
		cb(ctx, &k->e);
	}
	closedir(d);
}

static int for_each_pid(struct scan *s, void (*fn)(struct scan *, const char *, void *), void *arg)
{
	DIR *d = opendir(s->proc);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			fn(s, de->d_name, arg);
	closedir(d);
	return 0;
}

static void netns_fn(struct scan *s, const char *pid, void *arg)
{
	(void)arg;
	scan_netns(s, pid);
}

struct fds_arg {
	const char *cgroup_root;
	proc_scan_cb cb;
	void *ctx;
};

static void fds_fn(struct scan *s, const char *pid, void *arg)
{
	struct fds_arg *a = arg;

	scan_fds(s, pid, a->cgroup_root, a->cb, a->ctx);
}

int proc_scan(const char *proc_root, const char *cgroup_root, proc_scan_cb cb, void *ctx)
{
	struct scan s = {.proc = proc_root ? proc_root : "/proc"};
	struct fds_arg a = {cgroup_root ? cgroup_root : "", cb, ctx};
	int err;

	err = for_each_pid(&s, netns_fn, NULL);
	/* No sockets yet (a fresh namespace): nothing to match, and s.socks is NULL. */
	if (!err && s.n) {
		qsort(s.socks, s.n, sizeof(*s.socks), cmp_inode);
		err = for_each_pid(&s, fds_fn, &a);
	}
	free(s.socks);
	free(s.netns);
	return err ? err : (int)s.n;
}
