// SPDX-License-Identifier: MIT
/*
 * self_exclude.c - rawcap does not capture its own traffic (unless
 * --capture-self): the forwarder's streams, the node API's answers, capd's
 * metrics and API-server connections. Captured, the forwarder's stream would
 * be forwarded again, and that again, growing without bound.
 *
 * rawcap's own sockets are those owned by capd's --user uid or a --self-uids
 * uid (the readers' identity), or held by capd itself (its metrics socket
 * was created as root, before the drop). A NETLINK_SOCK_DIAG dump of the
 * TCP and UDP sockets of capd's network namespace finds them with their
 * 5-tuples; self_match.c drops their packets in the capture path and counts
 * them as excluded, never as loss. Other traffic on the same ports stays:
 * only exact 5-tuples of rawcap's connections are matched.
 *
 * Cost: a dump walks every TCP and UDP socket of the namespace (about 3 us
 * each, measured by bench/run-self.sh), so it is paced by what the last one
 * cost: periodically every max(1 s, 100 x cost), at most 1% of a core, and,
 * when a packet shows a connection to one of rawcap's listeners (by address
 * and port) that the table does not know yet, at most every max(100 ms,
 * 20 x cost), 5%. Such a packet, and any TCP SYN the table does not know,
 * first asks the kernel about its one connection (self_lookup.c: a hash
 * lookup, a few microseconds, where a dump walks the whole TCP hash table,
 * milliseconds on a large node however few sockets it has): a SYN about its
 * end on this host, its sender's if it went out, its receiver's if it came
 * in, both on loopback (where the connection does not exist yet, the kernel
 * names the listener it reaches; one of rawcap's joins the table's
 * listeners). If the socket is rawcap's the connection joins the live table
 * at once and that very packet is excluded. So a forwarder's stream, an
 * upload, a download from the node API is excluded from its first packets,
 * however many start together and however busy capd's loop is: before,
 * eight downloads starting within 100 ms put their first megabytes each
 * into the ring, which lapped the persister, and a forwarder replaying
 * history put up to a second of its stream in. Lookups are budgeted apart
 * for SYNs and for listeners' connections, and for packets this host sent
 * and packets other hosts sent (self_budget_take()), so a SYN flood from
 * the network never starves the lookups of rawcap's own connections, and
 * an end is asked about only at one of the namespace's addresses
 * (self_addrs.c), so packets routed through the node cost none; a
 * connection found not to be rawcap's is not asked about again for
 * SELFX_MISS_NS. The
 * dump is read asynchronously, two netlink buffers (about 700 sockets) per
 * loop turn, so capture never waits long for it; the table holds at most
 * SELF_MAX_CONNS connections. The netlink sockets are opened before the
 * privilege drop; dumps and lookups need no privilege, and only
 * sendto/recvfrom/fstat, which the loop's seccomp allow-list has.
 *
 * Not matched: traffic NATed between rawcap's socket and the captured
 * interface (a --connect to a Service VIP is seen with the pod's address
 * on the wire), connections closed before capd reads their first packets
 * (refused attempts), and past the lookup budgets, new connections until
 * the next dump.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "capd.h"
#include "self_addrs.h"
#include "self_exclude.h"
#include "self_lookup.h"
#include "self_match.h"

#define SELFX_PERIOD_NS	 1000000000ull	    /* periodic dumps, at least this far apart */
#define SELFX_PERIOD_X	 100		    /* and 100 times what the last one cost */
#define SELFX_TRIGGER_NS (100 * 1000000ull) /* dumps asked for by a packet, at least this far */
#define SELFX_TRIGGER_X	 20		    /* and 20 times the last one's cost */
#define SELFX_STUCK_NS	 (30 * 1000000000ull)
#define SELFX_RECVS	 2   /* netlink buffers read per loop turn */
#define SELFX_FD_GAP	 256 /* closed descriptors in a row that end the scan of our own */
#define SELFX_MAX_INODES 1024
#define SELFX_MISS_SLOTS 64
#define SELFX_MISS_NS	 (20 * 1000000ull) /* a connection that was not ours, not asked again */

struct selfx {
	struct self_match m; /* first: the matcher's callback gets a pointer to it */
	int fd;
	uint32_t seq;
	int step; /* dump in progress: index into selfx_steps, -1 when idle */
	uint64_t started_ns;
	uint64_t work_ns, cost_ns; /* CPU time of the dump in progress, of the last one */
	uid_t uids[CAPD_MAX_SELF_UIDS + 1];
	unsigned nuids;
	uint64_t inodes[SELFX_MAX_INODES]; /* capd's own sockets */
	unsigned ninodes;
	uint64_t refreshes, triggered, errors, full;
	int lookup_fd; /* NETLINK_SOCK_DIAG, for exact lookups only */
	uint32_t lookup_seq;
	struct self_budget budget;
	uint64_t lookups, lookups_ours;
	struct {
		uint32_t hash;
		uint64_t until_ns;
	} miss[SELFX_MISS_SLOTS];
	uint8_t buf[32768];
};

static const struct {
	uint8_t family, proto;
} selfx_steps[] = {
	{AF_INET, IPPROTO_TCP},
	{AF_INET6, IPPROTO_TCP},
	{AF_INET, IPPROTO_UDP},
	{AF_INET6, IPPROTO_UDP},
};
#define SELFX_STEPS (int)(sizeof(selfx_steps) / sizeof(selfx_steps[0]))

/* The sockets capd itself holds, by inode: every descriptor that is a socket. */
static void selfx_own_inodes(struct selfx *x)
{
	struct stat st;
	int gap = 0;

	x->ninodes = 0;
	for (int fd = 0; gap < SELFX_FD_GAP && x->ninodes < SELFX_MAX_INODES; fd++) {
		if (fstat(fd, &st)) {
			gap++;
			continue;
		}
		gap = 0;
		if (S_ISSOCK(st.st_mode))
			x->inodes[x->ninodes++] = st.st_ino;
	}
}

static int selfx_request(struct selfx *x)
{
	const struct inet_diag_req_v2 r = {
		.sdiag_family = selfx_steps[x->step].family,
		.sdiag_protocol = selfx_steps[x->step].proto,
		.idiag_states = ~(1u << SELF_TCP_TIME_WAIT | 1u << SELF_TCP_NEW_SYN_RECV),
	};

	return self_diag_request(x->fd, ++x->seq, NLM_F_DUMP, &r);
}

/* CPU time of capd's loop thread: what a dump costs, whatever else runs on the node. */
static uint64_t selfx_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A new dump, if none is running and the last one started at least min_ns ago. */
static void selfx_start(struct selfx *x, uint64_t now, uint64_t min_ns)
{
	uint64_t cpu0;

	if (x->step >= 0 || (x->started_ns && now - x->started_ns < min_ns))
		return;
	cpu0 = selfx_cpu_ns();
	selfx_own_inodes(x);
	self_table_clear(self_next(&x->m));
	x->step = 0;
	x->started_ns = now;
	if (selfx_request(x)) {
		x->errors++;
		x->step = -1;
	}
	x->work_ns = selfx_cpu_ns() - cpu0; /* the descriptor scan and the table clear count too */
}

static bool selfx_owned(const struct selfx *x, uint32_t uid, uint64_t inode)
{
	for (unsigned i = 0; i < x->nuids; i++)
		if (x->uids[i] == uid)
			return true;
	for (unsigned i = 0; i < x->ninodes; i++)
		if (x->inodes[i] == inode)
			return true;
	return false;
}

/* Within this second's budget of its kind, and not a connection lately found not to be ours? */
static bool selfx_may_look_up(struct selfx *x, uint32_t hash, bool listener, bool here,
			      uint64_t now)
{
	const unsigned slot = hash % SELFX_MISS_SLOTS;

	if (x->miss[slot].hash == hash && now < x->miss[slot].until_ns) {
		x->m.answered = true; /* not ours, asked lately */
		return false;
	}
	x->m.answered = self_budget_take(&x->budget, listener, here, now);
	return x->m.answered;
}

static void selfx_miss(struct selfx *x, uint32_t hash, uint64_t now)
{
	x->miss[hash % SELFX_MISS_SLOTS].hash = hash;
	x->miss[hash % SELFX_MISS_SLOTS].until_ns = now + SELFX_MISS_NS;
}

static int selfx_add_to(struct self_table *t, bool listen, const uint8_t *la, uint16_t lp,
			const uint8_t *ra, uint16_t rp)
{
	if (!listen)
		return self_table_add(t, IPPROTO_TCP, la, lp, ra, rp);
	self_table_listen(t, la, lp);
	return 0;
}

/* A connection or listener found by a lookup joins the live table and a running dump's. */
static int selfx_add(struct selfx *x, bool listen, const uint8_t *la, uint16_t lp,
		     const uint8_t *ra, uint16_t rp)
{
	int err = selfx_add_to(&x->m.tab[x->m.cur], listen, la, lp, ra, rp);

	if (!err && x->step >= 0) /* it may have read the TCP sockets before this one */
		(void)selfx_add_to(self_next(&x->m), listen, la, lp, ra, rp);
	return err;
}

/*
 * Ask the kernel about one end of a connection (local). True if that end is
 * one of rawcap's sockets: the connection is now in the table. Where no
 * connection has the 5-tuple yet, a SYN's lookup finds the listener it asks
 * for: one of rawcap's joins the table's listeners, so the connection's next
 * packet is looked up again (the listener path) and found.
 */
static bool selfx_look_up(struct selfx *x, const struct self_key *k, int local, bool listener,
			  uint32_t hash, uint64_t now)
{
	const uint8_t *la = local ? k->b : k->a, *ra = local ? k->a : k->b;
	uint16_t lp = local ? k->pb : k->pa, rp = local ? k->pa : k->pb;
	struct self_sock s;
	bool ours;
	int err;

	x->lookups++;
	err = self_lookup_tcp(x->lookup_fd, ++x->lookup_seq, la, lp, ra, rp, &s);
	if (err && err != -ENOENT)
		return false; /* the next packet asks again */
	if (!err && s.state == SELF_TCP_NEW_SYN_RECV)
		return false; /* mid-handshake, not a socket yet: likewise */
	ours = !err && selfx_owned(x, s.uid, s.inode);
	if (ours && s.state == SELF_TCP_LISTEN && !listener) {
		selfx_add(x, true, s.local, lp, NULL, 0); /* as a dump would: its own address */
		return false;
	}
	if (!ours || s.state == SELF_TCP_LISTEN) {
		selfx_miss(x, hash, now); /* not ours, or no such connection (routed through) */
		return false;
	}
	if (selfx_add(x, false, la, lp, ra, rp))
		return false; /* full: the dump that finds it so says so */
	x->lookups_ours++;
	return true;
}

/*
 * A SYN (local: the end on this host), or a later packet of a connection to
 * one of our listeners (local: the listening end), that the table does not
 * know. Within the budget and not lately a miss: look end local of k up.
 */
static bool selfx_unknown_conn(struct self_match *m, const struct self_key *k, int local,
			       bool listener, bool here)
{
	struct selfx *x = (struct selfx *)m;
	uint64_t now = clock_mono_ns(), min = SELFX_TRIGGER_X * x->cost_ns;
	/* which end is asked about is part of the question */
	uint32_t hash = self_key_hash(k) ^ (local ? 0x9e3779b9u : 0);

	if (x->lookup_fd >= 0 && selfx_may_look_up(x, hash, listener, here, now) &&
	    selfx_look_up(x, k, local, listener, hash, now))
		return true;
	if (!listener)
		return false; /* most SYNs are not ours: the periodic dump, not one each */
	if (x->step < 0) {    /* not found, not ours, or no budget: a dump settles it */
		selfx_start(x, now, min > SELFX_TRIGGER_NS ? min : SELFX_TRIGGER_NS);
		x->triggered += x->step >= 0;
	}
	return false;
}

static void selfx_socket(struct selfx *x, const struct inet_diag_msg *r)
{
	struct self_table *t = self_next(&x->m);
	uint8_t proto = selfx_steps[x->step].proto, local[16], remote[16];

	if (!selfx_owned(x, r->idiag_uid, r->idiag_inode))
		return;
	self_diag_addr(local, r->idiag_family, r->id.idiag_src);
	if (proto == IPPROTO_TCP && r->idiag_state == SELF_TCP_LISTEN) {
		self_table_listen(t, local, ntohs(r->id.idiag_sport));
		return;
	}
	if (!r->id.idiag_dport)
		return; /* not connected: no 5-tuple of its own */
	self_diag_addr(remote, r->idiag_family, r->id.idiag_dst);
	if (self_table_add(t, proto, local, ntohs(r->id.idiag_sport), remote,
			   ntohs(r->id.idiag_dport)) == -ENOSPC &&
	    !x->full++)
		capd_log("self-exclusion: more than %d connections of rawcap's own; the rest is "
			 "captured",
			 SELF_MAX_CONNS);
}

/* One buffer of the dump: 1 when the current step is done, 0 for more, -errno. */
static int selfx_parse(struct selfx *x, size_t len)
{
	for (struct nlmsghdr *h = (struct nlmsghdr *)x->buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != x->seq)
			continue; /* an abandoned dump's tail */
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR)
			return -EPROTO;
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			selfx_socket(x, NLMSG_DATA(h));
	}
	return 0;
}

/* The current step finished: the next one, or publish the new table. */
static void selfx_step_done(struct selfx *x)
{
	if (++x->step < SELFX_STEPS) {
		if (!selfx_request(x))
			return;
		x->errors++;
		x->step = -1; /* the live table stays */
		return;
	}
	self_table_carry(self_next(&x->m), &x->m.tab[x->m.cur]);
	self_publish(&x->m);
	x->refreshes++;
	x->step = -1;
	x->cost_ns = x->work_ns;
}

static int selfx_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct selfx *x = state;
	uint64_t t0 = selfx_cpu_ns();

	(void)ctx;
	(void)events;
	for (int i = 0; i < SELFX_RECVS && x->step >= 0; i++) {
		ssize_t n = recv(x->fd, x->buf, sizeof(x->buf), MSG_DONTWAIT);
		int r;

		if (n < 0)
			break;
		r = selfx_parse(x, (size_t)n);
		if (r < 0) {
			x->errors++;
			x->step = -1;
		} else if (r) {
			x->work_ns += selfx_cpu_ns() - t0;
			t0 = selfx_cpu_ns();
			selfx_step_done(x);
		}
	}
	if (x->step >= 0)
		x->work_ns += selfx_cpu_ns() - t0;
	else /* no dump: drain whatever an abandoned one left */
		while (recv(x->fd, x->buf, sizeof(x->buf), MSG_DONTWAIT) > 0)
			;
	return 0;
}

static void selfx_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	struct selfx *x = state;
	uint64_t now = clock_mono_ns(), min = SELFX_PERIOD_X * x->cost_ns;

	(void)ctx;
	(void)now_ns;
	if (x->step >= 0 && now - x->started_ns > SELFX_STUCK_NS) {
		x->errors++; /* a dump that never ended: start over */
		x->step = -1;
	}
	selfx_start(x, now, min > SELFX_PERIOD_NS ? min : SELFX_PERIOD_NS);
}

static void selfx_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct selfx *x = state;

	(void)ctx;
	capd_buf_printf(
		out,
		"# HELP capd_self_excluded_packets_total Packets of rawcap's own connections, not "
		"captured (--capture-self keeps them).\n"
		"# TYPE capd_self_excluded_packets_total counter\n"
		"capd_self_excluded_packets_total %llu\n"
		"# HELP capd_self_excluded_bytes_total Bytes on the wire of those packets.\n"
		"# TYPE capd_self_excluded_bytes_total counter\n"
		"capd_self_excluded_bytes_total %llu\n"
		"# HELP capd_self_connections rawcap's own connections known at the last socket "
		"dump.\n"
		"# TYPE capd_self_connections gauge\n"
		"capd_self_connections %u\n"
		"# HELP capd_self_dumps_total Socket dumps (NETLINK_SOCK_DIAG) that found them.\n"
		"# TYPE capd_self_dumps_total counter\n"
		"capd_self_dumps_total %llu\n"
		"# HELP capd_self_dump_seconds What the last socket dump cost capd's loop.\n"
		"# TYPE capd_self_dump_seconds gauge\n"
		"capd_self_dump_seconds %.6f\n"
		"# HELP capd_self_dump_errors_total Socket dumps that failed (the last table "
		"stays).\n"
		"# TYPE capd_self_dump_errors_total counter\n"
		"capd_self_dump_errors_total %llu\n"
		"# HELP capd_self_lookups_total Exact socket lookups of new connections (SYNs, "
		"connections to rawcap's listeners).\n"
		"# TYPE capd_self_lookups_total counter\n"
		"capd_self_lookups_total %llu\n"
		"# HELP capd_self_lookups_ours_total Those that found one of rawcap's sockets.\n"
		"# TYPE capd_self_lookups_ours_total counter\n"
		"capd_self_lookups_ours_total %llu\n",
		(unsigned long long)x->m.excluded, (unsigned long long)x->m.excluded_bytes,
		x->m.tab[x->m.cur].n, (unsigned long long)x->refreshes, (double)x->cost_ns / 1e9,
		(unsigned long long)x->errors, (unsigned long long)x->lookups,
		(unsigned long long)x->lookups_ours);
}

static void selfx_summary(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct selfx *x = state;

	(void)ctx;
	capd_buf_printf(out,
			" self_excluded=%llu self_dumps=%llu self_dump_us=%llu self_lookups=%llu",
			(unsigned long long)x->m.excluded, (unsigned long long)x->refreshes,
			(unsigned long long)(x->cost_ns / 1000), (unsigned long long)x->lookups);
}

static void selfx_close(void *state, struct capd_ctx *ctx)
{
	struct selfx *x = state;

	(void)ctx;
	if (capd_self == &x->m)
		capd_self = NULL;
	close(x->fd);
	if (x->lookup_fd >= 0)
		close(x->lookup_fd);
	free(x);
}

static const struct capd_source_ops selfx_ops = {
	.name = "self-exclusion",
	.ready = selfx_ready,
	.tick = selfx_tick,
	.metrics = selfx_metrics,
	.summary = selfx_summary,
	.close = selfx_close,
};

bool capd_self_exclude_enabled(const struct capd_config *cfg)
{
	return !cfg->capture_self;
}

int capd_self_exclude_setup(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct selfx *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	x->step = -1;
	x->m.unknown_conn = selfx_unknown_conn;
	x->uids[x->nuids++] = ctx->uid;
	for (unsigned i = 0; i < cfg->n_self_uids; i++)
		x->uids[x->nuids++] = cfg->self_uids[i];
	x->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (x->fd < 0) {
		err = -errno;
		capd_log("self-exclusion: cannot open a NETLINK_SOCK_DIAG socket: %s (use "
			 "--capture-self to run without it)",
			 strerror(-err));
		free(x);
		return err;
	}
	/* Without it, new connections wait for a dump, as before: no reason to fail. */
	x->lookup_fd =
		socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	err = capd_add_source(ctx, x->fd, &selfx_ops, x);
	if (err) {
		close(x->fd);
		if (x->lookup_fd >= 0)
			close(x->lookup_fd);
		free(x);
		return err;
	}
	capd_self = &x->m;
	err = capd_self_addrs_setup(ctx, &x->m);
	if (err) /* without it, routed packets are asked about too, as before */
		capd_log("self-exclusion: cannot watch the namespace's addresses (rtnetlink): %s; "
			 "any address may be one of ours",
			 strerror(-err));
	selfx_start(x, clock_mono_ns(), 0);
	capd_log("not capturing rawcap's own traffic (sockets of uid %u%s and of capd; "
		 "--capture-self keeps it)",
		 (unsigned)ctx->uid, cfg->n_self_uids ? " and --self-uids" : "");
	return 0;
}
