// SPDX-License-Identifier: MIT
/*
 * ebpf_tc.c - tc clsact attach/detach through libbpf's netlink helpers, with
 * recovery from a capd that died without cleaning up (SIGKILL, OOM).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ebpf_tc.h"

/* The marker names the netns too: ifindexes repeat across namespaces. */
static void marker_path(char *buf, size_t len, const char *dir, int ifindex)
{
	struct stat st = {0};

	(void)stat("/proc/self/ns/net", &st);
	snprintf(buf, len, "%s/tc-qdisc-%lu-%d", dir, (unsigned long)st.st_ino, ifindex);
}

static bool marker_exists(const char *dir, int ifindex)
{
	char p[512];

	marker_path(p, sizeof(p), dir, ifindex);
	return access(p, F_OK) == 0;
}

static void marker_set(const char *dir, int ifindex, bool on)
{
	char p[512];
	int fd;

	marker_path(p, sizeof(p), dir, ifindex);
	if (!on) {
		(void)unlink(p);
		return;
	}
	(void)mkdir(dir, 0750);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		fprintf(stderr,
			"ebpf: cannot record clsact ownership in %s: %s (a crash would leave the "
			"qdisc)\n",
			p, strerror(errno));
	else
		close(fd);
}

static bool prog_is_ours(__u32 prog_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours = false;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		ours = !strcmp(info.name, RAWCAP_TC_PROG_IN) ||
		       !strcmp(info.name, RAWCAP_TC_PROG_EG);
	close(fd);
	return ours;
}

/* Detach a filter with our handle and priority if it runs one of our programs. Returns 1 if
 * removed. */
static int remove_ours(struct bpf_tc_hook *hook, bool only_stale)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = RAWCAP_TC_HANDLE, .priority = RAWCAP_TC_PRIO);
	int err;

	if (bpf_tc_query(hook, &q))
		return 0;
	if (only_stale && !prog_is_ours(q.prog_id))
		return 0;
	q.prog_id = 0;
	q.prog_fd = 0;
	q.flags = 0;
	err = bpf_tc_detach(hook, &q);
	return err ? err : 1;
}

static int attach_one(struct bpf_tc_hook *hook, int fd, const char *ifname, const char *dir)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = RAWCAP_TC_HANDLE, .priority = RAWCAP_TC_PRIO,
		    .prog_fd = fd);
	int err = bpf_tc_attach(hook, &o);

	if (err)
		fprintf(stderr, "ebpf: attach tc %s on %s: %s\n", dir, ifname, strerror(-err));
	return err;
}

int ebpf_tc_attach(int ifindex, int in_fd, int eg_fd, const char *state_dir, bool *owned)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char name[IF_NAMESIZE] = "?";
	int stale = 0, err;

	if_indextoname((unsigned)ifindex, name);
	hook.attach_point = BPF_TC_INGRESS;
	stale += remove_ours(&hook, true) > 0;
	hook.attach_point = BPF_TC_EGRESS;
	stale += remove_ours(&hook, true) > 0;
	if (stale)
		fprintf(stderr, "ebpf: removed %d tc filter(s) a previous capd left on %s\n", stale,
			name);

	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_create(&hook);
	if (err == -EEXIST) {
		/* Ours only if a previous capd created it and died before removing it. */
		*owned = marker_exists(state_dir, ifindex);
	} else if (err) {
		fprintf(stderr, "ebpf: create clsact qdisc on %s: %s\n", name, strerror(-err));
		return err;
	} else {
		*owned = true;
		marker_set(state_dir, ifindex, true);
	}

	hook.attach_point = BPF_TC_INGRESS;
	err = attach_one(&hook, in_fd, name, "ingress");
	if (err)
		goto fail;
	hook.attach_point = BPF_TC_EGRESS;
	err = attach_one(&hook, eg_fd, name, "egress");
	if (err)
		goto fail;
	return 0;
fail:
	ebpf_tc_detach(ifindex, *owned, state_dir);
	return err;
}

int ebpf_tc_detach(int ifindex, bool owned, const char *state_dir)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	int err = 0, e;

	hook.attach_point = BPF_TC_INGRESS;
	e = remove_ours(&hook, false);
	if (e < 0 && e != -ENOENT && e != -ENODEV && e != -EINVAL)
		err = e;
	hook.attach_point = BPF_TC_EGRESS;
	e = remove_ours(&hook, false);
	if (e < 0 && e != -ENOENT && e != -ENODEV && e != -EINVAL)
		err = e;
	if (owned) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		e = bpf_tc_hook_destroy(&hook);
		if (e && e != -ENOENT && e != -ENODEV && e != -EINVAL)
			err = e;
		marker_set(state_dir, ifindex, false);
	}
	if (err)
		fprintf(stderr, "ebpf: detach tc from ifindex %d: %s\n", ifindex, strerror(-err));
	return err;
}
