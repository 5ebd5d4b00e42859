// SPDX-License-Identifier: MIT
/*
 * main.c - capd: open, configure, create the ring, drop privileges, loop,
 * clean up.
 *
 * Everything that needs a privilege happens before capd_sandbox_enter():
 * the capture sockets with their locked filters, the metrics socket, the
 * rtnetlink socket, the ring (and later the disk FIFO). Every usage error is
 * found before anything is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomics.h"
#include "capd.h"

#define CAPD_LIVE_HEARTBEAT_NS (3ull * 1000000000ull)

static struct capd_config capd_cfg;
static struct capd_ctx capd_ctx;

/* Continue the sequence of the ring a previous capd left, then replace it. */
int capd_ring_setup(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct ring_writer_opts o = {
		.name = cfg->ring_name, .data_size = cfg->ring_size, .mode = 0640, .gid = ctx->gid};
	struct ring_prev prev;
	int err = ring_prev_open(cfg->ring_name, &prev);

	if (!err) {
		uint64_t hb = load_relaxed(&prev.hdr->heartbeat_ns);
		pid_t pid = (pid_t)prev.hdr->writer_pid;

		if (load_relaxed(&prev.hdr->state) == RING_STATE_LIVE && pid != getpid() &&
		    capd_now_ns() - hb < CAPD_LIVE_HEARTBEAT_NS && kill(pid, 0) == 0) {
			capd_log("ring '%s' is in use by a running capd (pid %d)", cfg->ring_name,
				 (int)pid);
			ring_prev_close(&prev);
			return -EBUSY;
		}
		o.base_seq = load_relaxed(&prev.hdr->next_seq);
		o.prev_generation = prev.hdr->generation;
	} else if (err != -ENOENT) {
		capd_log("previous ring '%s' is unusable (%s); sequence numbers restart at 0",
			 cfg->ring_name, strerror(-err));
	}
	/* A crash loses nothing that reached the ring: persist its tail before replacing it. */
	capd_persist_recover(ctx, prev.hdr ? &prev : NULL, &o.base_seq);
	err = ring_writer_create(&ctx->ring, &o);
	if (err) {
		capd_log("cannot create ring '%s' (%llu bytes): %s", cfg->ring_name,
			 (unsigned long long)cfg->ring_size, strerror(-err));
		ring_prev_close(&prev);
		return err;
	}
	if (prev.hdr) {
		capd_log("continuing after generation %llu at sequence %llu",
			 (unsigned long long)o.prev_generation, (unsigned long long)o.base_seq);
		ring_prev_retire(&prev);
	}
	return 0;
}

/*
 * Hidden --selftest-after-drop[=socket|open|exec]: prove the sandbox by trying
 * what it forbids. socket and exec must be killed by seccomp (SIGSYS); open
 * (/etc/shadow) is refused by Landlock (EACCES) when --storage allows openat,
 * otherwise seccomp kills it. Exit 3 means the sandbox refused with an error.
 */
static void capd_selftest_after_drop(const char *mode)
{
	int fd;

	if (!strcmp(mode, "open")) {
		/* /etc/passwd is world-readable: refusing it shows Landlock, not file modes. */
		static const char *const paths[] = {"/etc/shadow", "/etc/passwd"};

		capd_log("selftest: opening /etc/shadow and /etc/passwd after the drop "
			 "(Landlock or seccomp must refuse)");
		for (size_t i = 0; i < 2; i++) {
			fd = open(paths[i], O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				capd_log("selftest FAILED: %s opened", paths[i]);
				exit(1);
			}
			capd_log("selftest: open(%s) refused: %s", paths[i], strerror(errno));
		}
		exit(3);
	}
	if (!strcmp(mode, "exec")) {
		char *const argv[] = {"/bin/true", NULL};

		capd_log("selftest: executing /bin/true after the drop (seccomp must kill capd)");
		execve("/bin/true", argv, NULL);
		capd_log("selftest: execve refused: %s", strerror(errno));
		exit(3);
	}
	capd_log("selftest: opening an AF_PACKET socket after the drop (seccomp must kill capd)");
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	capd_log("selftest FAILED: socket() returned %d (%s)", fd,
		 fd < 0 ? strerror(errno) : "open");
	exit(1);
}

static int capd_setup(struct capd_ctx *ctx, const struct capd_backend *be)
{
	int err;

	err = capd_signals_setup(ctx);
	if (err)
		return err;
	err = capd_metrics_setup(ctx);
	if (err)
		return err;
	err = be->setup(ctx);
	if (err)
		return err;
	err = capd_persist_open(ctx);
	if (err)
		return err;
	err = capd_ring_setup(ctx);
	if (err)
		return err;
	err = capd_persist_attach(ctx);
	if (err)
		return err;
	err = capd_netlink_setup(ctx);
	if (err) {
		capd_log("cannot watch interfaces (rtnetlink): %s", strerror(-err));
		return err;
	}
	if (be->attach && (err = be->attach(ctx)))
		return err;
	for (const struct capd_feature *f = capd_features; f->flag; f++)
		if (f->enabled(ctx->cfg) && (err = f->setup(ctx)))
			return err;
	return capd_sandbox_enter(ctx);
}

int main(int argc, char **argv)
{
	struct capd_config *cfg = &capd_cfg;
	struct capd_ctx *ctx = &capd_ctx;
	const struct capd_backend *be;
	struct sock_fprog prog;
	char msg[512];
	int rc, err;

	rc = capd_config_load(cfg, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
	be = capd_backend_find(cfg->backend);
	if (!be) {
		fprintf(stderr, "capd: unknown backend '%s' (afpacket or ebpf)\n", cfg->backend);
		return 2;
	}
	if (be->missing) {
		fprintf(stderr, "capd: --backend %s: %s\n", be->name, be->missing);
		return 2;
	}
	for (const struct capd_feature *f = capd_features; f->flag; f++) {
		if (f->enabled(cfg) && f->missing) {
			fprintf(stderr, "capd: --%s: %s\n", f->flag, f->missing);
			return 2;
		}
	}
	err = capd_filter_compile(cfg, &prog, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "capd: bad filter '%s': %s\n", cfg->filter, msg);
		return 2;
	}
	free(prog.filter);
	err = capd_ctx_init(ctx, cfg);
	if (err) {
		capd_log("cannot initialise: %s", strerror(-err));
		return 1;
	}
	if (capd_sandbox_resolve(ctx))
		return 2;

	err = capd_setup(ctx, be);
	if (err)
		return err == -EINVAL ? 2 : 1;
	if (cfg->selftest_after_drop)
		capd_selftest_after_drop(cfg->selftest_mode);
	capd_log("capturing into ring '%s' (%llu bytes, generation %llu, first sequence %llu)",
		 cfg->ring_name, (unsigned long long)cfg->ring_size,
		 (unsigned long long)ctx->ring.hdr->generation,
		 (unsigned long long)ctx->ring.hdr->base_seq);
	ring_publish(&ctx->ring);
	ring_notify(&ctx->ring);

	err = capd_run(ctx);
	capd_finish(ctx);
	return err ? 1 : 0;
}
