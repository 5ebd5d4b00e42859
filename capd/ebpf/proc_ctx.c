// SPDX-License-Identifier: MIT
/*
 * proc_ctx.c - load proc_ctx.bpf.c, attach what this kernel allows (cgroup
 * programs on the root of the cgroup v2 hierarchy, syscall tracepoints), and
 * turn its events into process metadata records in the shm ring.
 *
 * Every attachment is a BPF link owned by this process, so the kernel removes
 * them when capd exits however it exits: nothing to clean up at the next start.
 * Attach points that fail are reported once and skipped: context from the
 * others is still worth having.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <rawcap/format.h>

#include "clock.h"
#include "cgroup_id.h"
#include "ebpf_probe.h"
#include "proc_ctx.h"
#include "proc_event.h" /* before the skeleton, which uses its types */
#include "proc_ctx.skel.h"
#include "proc_meta.h"
#include "ring_writer.h"

#define PC_MAX_LINKS	16
#define PC_DRAIN_BUDGET 1024 /* events per proc_ctx_drain() call */

struct proc_ctx {
	struct proc_ctx_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[PC_MAX_LINKS];
	int nlinks;
	int cg_fd;
	char cgroup_root[256];
	const char *proc_root;
	struct cgroup_cache *cc;
	msgpack_sbuffer sb;
	struct ring_writer *w; /* during drain and scan only */
	int64_t mono_to_real;
	uint64_t drops_reported;
	struct proc_ctx_stats st;
	int budget;
};

enum pc_need { NEED_CGROUP_SOCK, NEED_CGROUP_ADDR, NEED_SOCK_OPS, NEED_TRACEFS };

static bool pc_available(const struct ebpf_probe *p, enum pc_need n)
{
	switch (n) {
	case NEED_CGROUP_SOCK:
		return p->cgroup2 && p->cgroup_sock;
	case NEED_CGROUP_ADDR:
		return p->cgroup2 && p->cgroup_addr;
	case NEED_SOCK_OPS:
		return p->cgroup2 && p->sock_ops;
	case NEED_TRACEFS:
		return p->tracefs;
	}
	return false;
}

static void pc_write(struct proc_ctx *pc, const struct pc_event *e, uint64_t ts_ns)
{
	const struct cgroup_info *cg = pc->cc ? cgroup_cache_lookup(pc->cc, e->cgroup_id) : NULL;

	if (e->cgroup_id && !cg)
		pc->st.unresolved_cgroups++;
	if (!proc_meta_write(pc->w, &pc->sb, e, ts_ns, cg))
		pc->st.events++;
}

static int pc_on_event(void *ctx, void *data, size_t len)
{
	struct proc_ctx *pc = ctx;
	const struct pc_event *e = data;

	if (len < sizeof(*e))
		return 0;
	pc_write(pc, e, e->ts_ns + (uint64_t)pc->mono_to_real);
	/* Bounded work per call: the fd stays readable and the loop comes back. */
	return --pc->budget > 0 ? 0 : -ECANCELED;
}

static void pc_attach(struct proc_ctx *pc, struct bpf_program *prog, bool cgroup, char *why,
		      size_t whylen)
{
	struct bpf_link *l;
	size_t n;

	if (!bpf_program__autoload(prog) || pc->nlinks == PC_MAX_LINKS)
		return;
	l = cgroup ? bpf_program__attach_cgroup(prog, pc->cg_fd) : bpf_program__attach(prog);
	if (l) {
		pc->links[pc->nlinks++] = l;
		return;
	}
	n = strlen(why);
	snprintf(why + n, whylen - n, "%sattach %s: %s", n ? "; " : "", bpf_program__name(prog),
		 strerror(errno));
}

static int pc_load(struct proc_ctx *pc, const struct proc_ctx_opts *o, const struct ebpf_probe *pr,
		   char *why, size_t whylen)
{
	__typeof__(pc->skel->progs) *p;
	int err;

	pc->skel = proc_ctx_bpf__open();
	if (!pc->skel) {
		err = -errno;
		snprintf(why, whylen, "process context: open BPF object: %s", strerror(-err));
		return err;
	}
	p = &pc->skel->progs;
	bpf_program__set_autoload(p->rawcap_sock_create,
				  pc_available(pr, NEED_CGROUP_SOCK) && !o->no_create_events);
	bpf_program__set_autoload(p->rawcap_sendmsg4, pc_available(pr, NEED_CGROUP_ADDR));
	bpf_program__set_autoload(p->rawcap_sendmsg6, pc_available(pr, NEED_CGROUP_ADDR));
	bpf_program__set_autoload(p->rawcap_recvmsg4, pc_available(pr, NEED_CGROUP_ADDR));
	bpf_program__set_autoload(p->rawcap_recvmsg6, pc_available(pr, NEED_CGROUP_ADDR));
	bpf_program__set_autoload(p->rawcap_sockops, pc_available(pr, NEED_SOCK_OPS));
	bpf_program__set_autoload(p->rawcap_connect_enter, pc_available(pr, NEED_TRACEFS));
	bpf_program__set_autoload(p->rawcap_connect_exit, pc_available(pr, NEED_TRACEFS));
	bpf_program__set_autoload(p->rawcap_accept_exit, pc_available(pr, NEED_TRACEFS));
	bpf_program__set_autoload(p->rawcap_accept4_exit, pc_available(pr, NEED_TRACEFS));
	err = proc_ctx_bpf__load(pc->skel);
	if (err) {
		snprintf(why, whylen, "process context: load BPF programs: %s", strerror(-err));
		return err;
	}
	pc->rb = ring_buffer__new(bpf_map__fd(pc->skel->maps.events), pc_on_event, pc, NULL);
	if (!pc->rb) {
		err = -errno;
		snprintf(why, whylen, "process context: BPF ring buffer: %s", strerror(-err));
	}
	return err;
}

static void pc_attach_all(struct proc_ctx *pc, char *why, size_t whylen)
{
	__typeof__(pc->skel->progs) *p = &pc->skel->progs;

	pc_attach(pc, p->rawcap_sock_create, true, why, whylen);
	pc_attach(pc, p->rawcap_sendmsg4, true, why, whylen);
	pc_attach(pc, p->rawcap_sendmsg6, true, why, whylen);
	pc_attach(pc, p->rawcap_recvmsg4, true, why, whylen);
	pc_attach(pc, p->rawcap_recvmsg6, true, why, whylen);
	pc_attach(pc, p->rawcap_sockops, true, why, whylen);
	pc_attach(pc, p->rawcap_connect_enter, false, why, whylen);
	pc_attach(pc, p->rawcap_connect_exit, false, why, whylen);
	pc_attach(pc, p->rawcap_accept_exit, false, why, whylen);
	pc_attach(pc, p->rawcap_accept4_exit, false, why, whylen);
}

int proc_ctx_open(const struct proc_ctx_opts *o, struct proc_ctx **out, char *why, size_t whylen)
{
	struct proc_ctx *pc;
	struct ebpf_probe pr;
	char missing[512];
	int err;

	*out = NULL;
	why[0] = '\0';
	if (o->force_fail || ebpf_probe_forced_fail("proc")) {
		snprintf(why, whylen,
			 "process context: disabled by %s (forced failure for testing)",
			 o->force_fail ? "option" : "RAWCAP_EBPF_FORCE_FAIL");
		return -ENOTSUP;
	}
	ebpf_probe_run(&pr);
	if (o->cgroup_root) {
		snprintf(pr.cgroup2_root, sizeof(pr.cgroup2_root), "%s", o->cgroup_root);
		pr.cgroup2 = true;
	}
	ebpf_probe_describe(&pr, "proc", missing, sizeof(missing));
	if (!pr.ringbuf ||
	    (!pc_available(&pr, NEED_TRACEFS) && !pc_available(&pr, NEED_CGROUP_ADDR))) {
		snprintf(why, whylen, "process context unavailable: %s", missing);
		return -ENOTSUP;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->cg_fd = -1;
	pc->proc_root = o->proc_root ? o->proc_root : "/proc";
	snprintf(pc->cgroup_root, sizeof(pc->cgroup_root), "%s", pr.cgroup2_root);
	msgpack_sbuffer_init(&pc->sb);
	pc->mono_to_real = ebpf_mono_to_real();
	if (pr.cgroup2) {
		pc->cg_fd = open(pc->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pc->cg_fd < 0) {
			err = -errno;
			snprintf(why, whylen, "process context: open cgroup root %s: %s",
				 pc->cgroup_root, strerror(-err));
			goto cleanup;
		}
		err = cgroup_cache_open(pc->cgroup_root, &pc->cc);
		if (err) {
			snprintf(why, whylen, "process context: cgroup cache: %s", strerror(-err));
			goto cleanup;
		}
	}
	err = pc_load(pc, o, &pr, why, whylen);
	if (err)
		goto cleanup;
	snprintf(why, whylen, "%s", missing);
	pc_attach_all(pc, why, whylen);
	if (!pc->nlinks) {
		err = -ENOTSUP;
		goto cleanup;
	}
	*out = pc;
	return 0;
cleanup:
	proc_ctx_close(pc);
	return err;
}

int proc_ctx_fd(const struct proc_ctx *pc)
{
	return ring_buffer__epoll_fd(pc->rb);
}

int proc_ctx_drain(struct proc_ctx *pc, struct ring_writer *w)
{
	uint64_t before = pc->st.events;
	int err;

	pc->w = w;
	pc->budget = PC_DRAIN_BUDGET;
	err = ring_buffer__consume(pc->rb);
	if (err < 0 && err != -ECANCELED)
		return err;
	return (int)(pc->st.events - before);
}

static void pc_existing(void *ctx, struct pc_event *e)
{
	struct proc_ctx *pc = ctx;

	pc_write(pc, e, clock_real_ns());
	pc->st.existing++;
}

int proc_ctx_scan_existing(struct proc_ctx *pc, struct ring_writer *w)
{
	uint64_t before = pc->st.existing;
	int err;

	pc->w = w;
	err = proc_scan(pc->proc_root, pc->cgroup_root, pc_existing, pc);
	return err < 0 ? err : (int)(pc->st.existing - before);
}

static uint64_t pc_drops(const struct proc_ctx *pc)
{
	volatile const struct pc_counters *cnt = pc->skel->bss->pc_cnt;
	uint64_t sum = 0;

	for (int i = 0; i < PC_MAX_CPUS; i++)
		sum += cnt[i].drops;
	return sum;
}

void proc_ctx_tick(struct proc_ctx *pc, struct ring_writer *w, uint64_t now_ns)
{
	uint64_t drops = pc_drops(pc), n = drops - pc->drops_reported;

	pc->mono_to_real = ebpf_mono_to_real();
	if (!n)
		return;
	pc->drops_reported = drops;
	pc->st.drops = drops;
	ring_write_loss(w, now_ns, RAWCAP_LOSS_META_QUEUE, n, 0, 0);
}

void proc_ctx_get_stats(const struct proc_ctx *pc, struct proc_ctx_stats *s)
{
	*s = pc->st;
	s->drops = pc_drops(pc);
}

void proc_ctx_close(struct proc_ctx *pc)
{
	if (!pc)
		return;
	for (int i = 0; i < pc->nlinks; i++) {
		/*
		 * Closing a link's fd detaches it. Disconnect first so libbpf
		 * does not also issue the detach ioctl, which capd's seccomp
		 * filter forbids after the privilege drop.
		 */
		bpf_link__disconnect(pc->links[i]);
		bpf_link__destroy(pc->links[i]);
	}
	ring_buffer__free(pc->rb);
	proc_ctx_bpf__destroy(pc->skel);
	cgroup_cache_close(pc->cc);
	if (pc->cg_fd >= 0)
		close(pc->cg_fd);
	msgpack_sbuffer_destroy(&pc->sb);
	free(pc);
}
