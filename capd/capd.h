/* SPDX-License-Identifier: MIT */
/*
 * capd.h - capd's configuration, its context (what every source can reach)
 * and the small helpers the capd files share.
 */
#ifndef CAPD_CAPD_H
#define CAPD_CAPD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring_prev.h"
#include "ring_writer.h"
#include "source.h"

#define CAPD_MAX_IFACES	 64
#define CAPD_MAX_SOURCES 256
#define CAPD_MAX_SELF_UIDS 8
#define CAPD_MAX_CONNECT_PORTS 8

/* What to do with a packet that crosses several captured interfaces. */
enum capd_dup_policy {
	CAPD_DUP_KEEP = 0, /* record every crossing (readers can tell them apart by ifindex/dir) */
	CAPD_DUP_INGRESS = 1, /* only packets an interface received (PACKET_IGNORE_OUTGOING) */
};

#define CAPD_STORAGE_SIZE_DEFAULT (1ull << 30) /* --storage-size unset */

struct capd_config {
	const char *config_file;
	const char *ring_name;
	uint64_t ring_size;
	const char *ifaces[CAPD_MAX_IFACES]; /* "any", names, fnmatch patterns */
	unsigned n_ifaces;
	const char *filter; /* pcap expression, "" for none */
	uint32_t snaplen;
	unsigned threads; /* AF_PACKET sockets in one fanout group */
	uint64_t block_size, block_nr;
	const char *fanout; /* hash, cpu, lb */
	const char *storage_dir;
	uint64_t storage_size; /* 0: CAPD_STORAGE_SIZE_DEFAULT */
	const char *user, *group;
	const char *stats_listen; /* host:port, NULL = off */
	const char *backend;
	bool kubernetes;
	bool process_context; /* eBPF process/flow metadata (--process-context) */
	enum capd_dup_policy dup;
	bool selftest_after_drop; /* hidden: try a raw socket after the drop (must be killed) */
	const char *selftest_mode; /* socket, open (/etc/shadow) or exec (/bin/true) */
	uint32_t stall_secs;
	uint64_t sync_interval_ns; /* disk FIFO durability: fdatasync cadence (--sync-interval) */
	bool capture_self;	   /* also capture rawcap's own traffic (--capture-self) */
	uid_t self_uids[CAPD_MAX_SELF_UIDS]; /* more uids whose sockets are rawcap's (--self-uids)
					      */
	unsigned n_self_uids;
};

struct capd_source {
	int fd;
	const struct capd_source_ops *ops;
	void *state;
};

struct capd_iface;

struct capd_ctx {
	struct capd_config *cfg;
	struct ring_writer ring;
	int epfd;
	struct capd_source *src[CAPD_MAX_SOURCES];
	unsigned n_src;
	unsigned n_dead; /* removed sources whose slots are freed after the batch */
	bool stop;
	bool dirty; /* records written since the last publish */
	uint64_t start_ns;
	uid_t uid;
	gid_t gid;
	/* Interfaces (iface.c), fed by netlink.c, read per packet by afpacket.c. */
	struct capd_iface *ifaces;
	int (*iface_refresh)(struct capd_ctx *ctx); /* drain pending interface events */
	int nl_fd;
	struct persister *persister; /* disk FIFO, NULL without --storage */
	/* TCP ports capd may connect to after the drop (landlock.c); none: no connect at all. */
	uint16_t connect_ports[CAPD_MAX_CONNECT_PORTS];
	unsigned n_connect_ports;
};

/* Growable text buffer for metrics and messages. */
struct capd_buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void capd_buf_printf(struct capd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void capd_buf_free(struct capd_buf *b);

/* Messages go to stderr, one line each, prefixed "capd: ". */
void capd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* config.c */
int capd_config_load(struct capd_config *cfg, int argc, char **argv);
int capd_config_parse_text(struct capd_config *cfg, const char *text, size_t len);
/* A usage error on stderr, "capd: ORIGIN: ..." (origin: a file:line, a variable, or NULL). */
void capd_usage_error(const char *origin, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* config_check.c: do the settings add up on this host? 0, or -EINVAL (said). */
int capd_config_validate(struct capd_config *cfg);

/* loop.c */
int capd_ctx_init(struct capd_ctx *ctx, struct capd_config *cfg);
int capd_run(struct capd_ctx *ctx);
void capd_finish(struct capd_ctx *ctx);
/* metrics.c */
void capd_metrics_collect(struct capd_ctx *ctx, struct capd_buf *out);
int capd_health(struct capd_ctx *ctx, char *why, size_t len);
/* Liveness: 0, or -1 when a source asks for a restart (reason in why). */
int capd_live(struct capd_ctx *ctx, char *why, size_t len);

/* ring setup (main.c) */
int capd_ring_setup(struct capd_ctx *ctx);

/* iface.c: the interface table and the per-packet selection bitmap. */
struct capd_iface_info {
	uint32_t ifindex;
	uint16_t arphrd;
	uint32_t mtu, flags;
	uint8_t mac[8];
	uint16_t mac_len;
	char name[16];
};
int capd_iface_init(struct capd_ctx *ctx);
void capd_iface_free(struct capd_ctx *ctx);
/* An interface appeared or changed: update table, bitmap, IFACE record, ring table. */
void capd_iface_update(struct capd_ctx *ctx, const struct capd_iface_info *info);
/* An interface went away: its packets still in flight are recorded for a grace period. */
void capd_iface_remove(struct capd_ctx *ctx, uint32_t ifindex);
/* Once a second: forget interfaces gone past the grace whose records the ring overwrote. */
void capd_iface_tick(struct capd_ctx *ctx);
/* A full interface dump starts / ended: interfaces it did not list are gone. */
void capd_iface_dump_begin(struct capd_ctx *ctx);
void capd_iface_dump_end(struct capd_ctx *ctx);
/*
 * Per packet: LINKTYPE_* if ifindex is selected, 0 if not, CAPD_IFACE_UNKNOWN
 * if no description of it exists (after reading pending interface events).
 */
#define CAPD_IFACE_UNKNOWN 0xffffu
uint16_t capd_iface_select(struct capd_ctx *ctx, uint32_t ifindex);
void capd_iface_count(struct capd_ctx *ctx, uint32_t ifindex, uint32_t bytes);
bool capd_iface_pattern_match(const struct capd_config *cfg, const char *name);
bool capd_iface_is_pattern(const char *s);
/* The ARPHRD_* type of the interface named, or -errno. */
int capd_iface_arphrd(const char *name);
/* --interfaces names exactly one interface (no "any", no pattern): sockets bind to it. */
bool capd_bound_iface(const struct capd_config *cfg);
void capd_iface_metrics(struct capd_ctx *ctx, struct capd_buf *out);

/* netlink.c */
int capd_netlink_setup(struct capd_ctx *ctx);

/* afpacket.c */
int capd_afpacket_setup(struct capd_ctx *ctx);
/* kfilter.c: compile cfg->filter for every link type capd records; 0 or -EINVAL with the
 * reason in err. */
struct sock_fprog;
int capd_filter_compile(const struct capd_config *cfg, struct sock_fprog *out, char *err,
			size_t errlen);

/* metrics.c */
int capd_metrics_setup(struct capd_ctx *ctx);
/* signals.c */
int capd_signals_setup(struct capd_ctx *ctx);

/* persist.c: the disk FIFO (storage/persister.h) as a source. */
struct persister;
int capd_persist_prepare(struct capd_ctx *ctx, const struct ring_prev *prev, uint64_t *base_seq);
int capd_persist_attach(struct capd_ctx *ctx);

/* ebpf_source.c: the tc eBPF backend (falls back to AF_PACKET) and process context. */
int capd_ebpf_setup(struct capd_ctx *ctx);
int capd_ebpf_attach(struct capd_ctx *ctx);
int capd_proc_setup(struct capd_ctx *ctx);

/* sandbox.c: the privilege drop, after all setup. */
int capd_sandbox_resolve(struct capd_ctx *ctx); /* user/group names to ids (before setup) */
int capd_sandbox_enter(struct capd_ctx *ctx);

#endif /* CAPD_CAPD_H */
