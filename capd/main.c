// SPDX-License-Identifier: MIT
/*
 * main.c - capd: open, configure, create the ring, drop privileges, loop,
 * clean up.
 *
 * Everything that needs a privilege happens before capd_sandbox_enter():
 * the capture sockets with their locked filters, the metrics socket, the
 * rtnetlink socket, the ring and the disk FIFO. Every usage error is
 * found before anything is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomics.h"
#include "capd.h"
#include "ring_name.h"

#define CAPD_RING_RETRY_MS 10000 /* readers of a replaced ring get this long to let it go */

static struct capd_config capd_cfg;
static struct capd_ctx capd_ctx;

/* Anything under the ring's name that capd cannot use is removed, never read. */
static int capd_ring_clear(const struct ring_prev *prev)
{
	int err = ring_prev_remove(prev);

	if (err)
		capd_log("cannot remove %s: %s; remove it by hand or choose another --ring",
			 prev->path, strerror(-err));
	return err;
}

/*
 * A new ring, after the previous one (if any) was retired and removed. Its
 * memory stays allocated while readers still map it; they let go once they
 * notice, so a full /dev/shm is retried for a while before giving up.
 */
static int capd_ring_create(struct capd_ctx *ctx, const struct ring_writer_opts *o, bool replaced)
{
	int err;

	for (int waited = 0;; waited += 100) {
		err = ring_writer_create(&ctx->ring, o);
		if (err != -ENOSPC || !replaced || waited >= CAPD_RING_RETRY_MS)
			break;
		usleep(100 * 1000);
	}
	if (err)
		capd_log("cannot create ring '%s' (%llu bytes): %s%s", o->name,
			 (unsigned long long)o->data_size, strerror(-err),
			 err == -ENOSPC && replaced
				 ? " (readers still mapping the replaced ring hold its memory)"
				 : "");
	return err;
}

/* The enabled parts that follow the ring (the disk FIFO) prepare for it. */
static int capd_features_ring_prepare(struct capd_ctx *ctx, const struct ring_prev *prev,
				      uint64_t *base_seq)
{
	int err;

	for (const struct capd_feature *f = capd_features; f->flag; f++)
		if (f->ring_prepare && f->enabled(ctx->cfg) &&
		    (err = f->ring_prepare(ctx, prev, base_seq)))
			return err;
	return 0;
}

/* Set up the enabled parts that follow the ring (follow_ring) or the others. */
static int capd_features_setup(struct capd_ctx *ctx, bool follow_ring)
{
	int err;

	for (const struct capd_feature *f = capd_features; f->flag; f++)
		if (!!f->ring_prepare == follow_ring && f->enabled(ctx->cfg) &&
		    (err = f->setup(ctx)))
			return err;
	return 0;
}

/* --storage as an absolute path, for readers in other directories; NULL if none fits. */
static const char *capd_storage_abs(const char *dir)
{
	static char abs[RING_STORAGE_MAX];
	char cwd[RING_STORAGE_MAX];

	if (!dir || dir[0] == '/')
		return dir;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, dir) >= sizeof(abs))
		return NULL;
	return abs;
}

/*
 * Take the ring. A previous capd's ring of the size asked for is continued
 * in place (ring_writer_adopt): a restart inside a /dev/shm sized for one
 * ring needs no room for a second, and its readers read on. Another size is
 * retired, removed and replaced. Either way, what it holds and the disk FIFO
 * does not is persisted first, and the sequence continues.
 */
int capd_ring_setup(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct ring_writer_opts o = {.name = cfg->ring_name,
				     .data_size = cfg->ring_size,
				     .mode = 0640,
				     .gid = ctx->gid,
				     .storage_dir = capd_storage_abs(cfg->storage_dir),
				     .storage_uid = ctx->uid};
	struct ring_prev prev;
	uint64_t dropped;
	int err = ring_prev_open(cfg->ring_name, &prev), perr;

	if (prev.hdr) { /* set only when it opened */
		o.base_seq = load_relaxed(&prev.hdr->next_seq);
		o.prev_generation = prev.hdr->generation;
	}
	/*
	 * A crash loses nothing that reached the ring: the parts that follow it
	 * (the disk FIFO) persist its tail first. They run before the ring's
	 * state is judged, so that a storage directory in use is what a second
	 * capd is told about first.
	 */
	perr = capd_features_ring_prepare(ctx, prev.hdr ? &prev : NULL, &o.base_seq);
	if (perr) {
		ring_prev_close(&prev);
		return perr;
	}
	if (err == -EBUSY) {
		capd_log("ring '%s' (%s): %s", cfg->ring_name, prev.path, prev.why);
		return err;
	}
	if (err && err != -ENOENT) {
		capd_log("%s: %s; replacing it", prev.path, prev.why);
		if (capd_ring_clear(&prev))
			return -EPERM;
	}
	if (prev.hdr && ring_writer_adopt(&ctx->ring, &o, &prev, &dropped) == 0) {
		ring_prev_close(&prev);
		capd_log("continuing after generation %llu at sequence %llu, in place",
			 (unsigned long long)o.prev_generation,
			 (unsigned long long)ctx->ring.hdr->base_seq);
		if (dropped)
			capd_log("the previous ring's records were damaged: %llu bytes dropped",
				 (unsigned long long)dropped);
		return 0;
	}
	if (prev.hdr) {
		if (prev.hdr->data_size != cfg->ring_size)
			capd_log("previous ring has %llu bytes of data, %llu asked for: replacing "
				 "it",
				 (unsigned long long)prev.hdr->data_size,
				 (unsigned long long)cfg->ring_size);
		else
			capd_log("previous ring cannot be continued in place: replacing it");
		ring_prev_retire(&prev);
		if (capd_ring_clear(&prev))
			return -EPERM;
	}
	err = capd_ring_create(ctx, &o, o.prev_generation != 0);
	if (!err && o.prev_generation)
		capd_log("continuing after generation %llu at sequence %llu",
			 (unsigned long long)o.prev_generation, (unsigned long long)o.base_seq);
	return err;
}

/* A TCP connect to port on loopback: 0 or -errno. */
static int capd_selftest_tcp(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Landlock's network rules (with --kubernetes, where seccomp lets TCP sockets
 * through): the API server's port is reachable, another port is refused with
 * EACCES. (bind is not on the seccomp allow-list at all.)
 */
static void capd_selftest_connect(const struct capd_ctx *ctx)
{
	unsigned api = ctx->n_connect_ports ? ctx->connect_ports[0] : 0;
	unsigned other = api == 65535 ? 1 : api + 1;
	int r;

	r = capd_selftest_tcp(api);
	capd_log("selftest: connect to the API server's port %u: %s", api,
		 r ? strerror(-r) : "connected");
	r = capd_selftest_tcp(other);
	capd_log("selftest: connect to port %u: %s", other, r ? strerror(-r) : "connected");
	if (r != -EACCES) {
		capd_log("selftest FAILED: connect to port %u was not refused by Landlock", other);
		exit(1);
	}
	exit(3);
}

/*
 * Hidden --selftest-after-drop[=socket|open|exec|connect]: prove the sandbox
 * by trying what it forbids. socket and exec must be killed by seccomp
 * (SIGSYS); open (/etc/shadow) is refused by Landlock (EACCES) when --storage
 * allows openat, otherwise seccomp kills it; connect (with --kubernetes) is
 * refused by Landlock's network rules except to the API server. Exit 3 means
 * the sandbox refused with an error.
 */
static void capd_selftest_after_drop(const struct capd_ctx *ctx, const char *mode)
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
	if (!strcmp(mode, "connect"))
		capd_selftest_connect(ctx);
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
	err = capd_ring_setup(ctx);
	if (err)
		return err;
	err = capd_features_setup(ctx, true);
	if (err)
		return err;
	err = capd_netlink_setup(ctx);
	if (err) {
		capd_log("cannot watch interfaces (rtnetlink): %s", strerror(-err));
		return err;
	}
	if (be->attach && (err = be->attach(ctx)))
		return err;
	err = capd_features_setup(ctx, false);
	if (err)
		return err;
	return capd_sandbox_enter(ctx);
}

/*
 * capd writes only to stderr. It lets go of the stdin and stdout it was
 * started with, so that a long-running capd never holds open the terminal or
 * pipe of whatever started it (`script.sh | tail -1` ends when the script does).
 */
static void capd_release_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* The ring's name and where it is, so that whoever started capd knows what readers open. */
static void log_capturing(const struct capd_config *cfg, const struct capd_ctx *ctx)
{
	char path[RING_PATH_MAX];

	if (ring_name_path(cfg->ring_name, path, sizeof(path)))
		snprintf(path, sizeof(path), "?");
	capd_log("capturing into ring '%s' (%s, %llu bytes, generation %llu, first sequence %llu)",
		 cfg->ring_name, path, (unsigned long long)cfg->ring_size,
		 (unsigned long long)ctx->ring.hdr->generation,
		 (unsigned long long)ctx->ring.hdr->base_seq);
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
	capd_release_stdio();
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
		capd_selftest_after_drop(ctx, cfg->selftest_mode);
	log_capturing(cfg, ctx);
	ring_publish(&ctx->ring);
	ring_notify(&ctx->ring);

	err = capd_run(ctx);
	capd_finish(ctx);
	return err ? 1 : 0;
}
