// SPDX-License-Identifier: MIT
/*
 * persist.c - the disk FIFO inside capd (--storage, one line in
 * registry.c): open the storage before the drop, persist what a crashed
 * predecessor left in its ring, then follow the ring as a source whose fd
 * signals I/O completions.
 *
 * The persister is lapped, never gating capture (storage/persister.h): its
 * published() hook pumps it right after every publish, so at the rates this machine can
 * capture it stays within one batch of the ring's head.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capd.h"
#include "persister.h"

/* The source's state is the persister; the ring it follows is capd's. */
static int persist_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	(void)events;
	persister_pump(state, &ctx->ring);
	return 0;
}

static void persist_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	(void)now_ns;
	persister_pump(state, &ctx->ring);
}

/* Right after each publish: the persister stays within one batch of the head. */
static void persist_published(void *state, struct capd_ctx *ctx)
{
	persister_pump(state, &ctx->ring);
}

static void persist_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct persister_stats st;

	(void)ctx;
	persister_get_stats(state, &st);
	capd_buf_printf(out,
			"# TYPE rawcap_disk_records_total counter\n"
			"rawcap_disk_records_total %llu\n"
			"# TYPE rawcap_disk_bytes_written_total counter\n"
			"rawcap_disk_bytes_written_total %llu\n"
			"# TYPE rawcap_disk_lost_records_total counter\n"
			"rawcap_disk_lost_records_total{cause=\"lapped\"} %llu\n"
			"rawcap_disk_lost_records_total{cause=\"disk_error\"} %llu\n"
			"# TYPE rawcap_disk_write_errors_total counter\n"
			"rawcap_disk_write_errors_total %llu\n"
			"# TYPE rawcap_disk_behind_bytes gauge\n"
			"rawcap_disk_behind_bytes %llu\n"
			"# TYPE rawcap_disk_segments gauge\n"
			"rawcap_disk_segments %u\n",
			(unsigned long long)st.records, (unsigned long long)st.bytes_written,
			(unsigned long long)st.lapped_records,
			(unsigned long long)st.disk_error_records,
			(unsigned long long)st.write_errors, (unsigned long long)st.behind_bytes,
			st.nsegs);
}

static int persist_health(void *state, struct capd_ctx *ctx, char *why, size_t len)
{
	struct persister_stats st;

	(void)ctx;
	persister_get_stats(state, &st);
	if (!st.error)
		return 0;
	snprintf(why, len, "disk FIFO: %s (capture continues into the ring)", strerror(-st.error));
	return -1;
}

static void persist_summary(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct persister_stats st;

	(void)ctx;
	persister_get_stats(state, &st);
	capd_buf_printf(out, " disk_records=%llu disk_lapped=%llu disk_errors=%llu",
			(unsigned long long)st.records, (unsigned long long)st.lapped_records,
			(unsigned long long)st.disk_error_records);
}

/* Runs after the loop's final publish: persist everything, fdatasync, close. */
static void persist_close(void *state, struct capd_ctx *ctx)
{
	struct persister_stats st;
	int err = persister_close(state, &ctx->ring, &st);

	if (err)
		capd_log("disk FIFO: final flush failed: %s", strerror(-err));
	ctx->persister = NULL;
}

static const struct capd_source_ops persist_ops = {
	.name = "disk",
	.ready = persist_ready,
	.tick = persist_tick,
	.metrics = persist_metrics,
	.health = persist_health,
	.summary = persist_summary,
	.close = persist_close,
	.published = persist_published,
};

static int capd_persist_open(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	char holder[128];
	struct persister_opts o = {
		.dir = cfg->storage_dir,
		.size = cfg->storage_size ? cfg->storage_size : CAPD_STORAGE_SIZE_DEFAULT,
		.direct_io = true,
		.sync_interval_ns = cfg->sync_interval_ns,
		.uid = (int)ctx->uid,
		.gid = (int)ctx->gid,
		.holder = holder,
		.log = capd_log,
	};
	int err;

	snprintf(holder, sizeof(holder), "ring %s", cfg->ring_name);
	err = persister_open(&o, &ctx->persister);
	if (err) {
		capd_log("cannot open the disk FIFO in %s: %s", cfg->storage_dir, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * While capd takes the ring (--storage's ring_prepare in registry.c): open
 * the disk FIFO and, before the previous ring is continued or retired, put
 * on disk what it holds and the disk does not; the sequence goes on from
 * whichever is further.
 */
int capd_persist_prepare(struct capd_ctx *ctx, const struct ring_prev *prev, uint64_t *base_seq)
{
	int err = capd_persist_open(ctx);

	if (err)
		return err;
	if (prev && prev->hdr) {
		err = persister_recover_prev(ctx->persister, prev);
		if (err)
			capd_log("disk FIFO: recovering the previous ring failed: %s (continuing)",
				 strerror(-err));
	}
	if (persister_next_seq(ctx->persister) > *base_seq)
		*base_seq = persister_next_seq(ctx->persister);
	return 0;
}

int capd_persist_attach(struct capd_ctx *ctx)
{
	int err;

	err = persister_attach(ctx->persister, &ctx->ring);
	if (!err)
		err = capd_add_source(ctx, persister_fd(ctx->persister), &persist_ops,
				      ctx->persister);
	if (err)
		capd_log("cannot start the disk FIFO persister: %s", strerror(-err));
	return err;
}
