// SPDX-License-Identifier: MIT
/*
 * ebpf_capture.c - the tc/eBPF capture backend's user-space half: load
 * capture.bpf.c, attach it per interface, and move samples from the BPF ring
 * buffer into the shm ring (one memcpy per packet, straight from the ring
 * buffer's mmap into the reserved record).
 *
 * Timestamps: the program stamps bpf_ktime_get_ns() (CLOCK_MONOTONIC, a
 * helper on every kernel with ring buffers). We add realtime - monotonic,
 * sampled at open and every tick, so a clock step (settimeofday) is followed
 * within a second; NTP slewing moves both clocks alike. bpf_ktime_get_tai_ns()
 * (5.19+) would need the TAI-UTC offset anyway and gains nothing here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <rawcap/format.h>

#include "capture.h" /* before the skeleton, which uses its types */
#include "capture.skel.h"
#include "ebpf_capture.h"
#include "ebpf_exact.h"
#include "ebpf_probe.h"
#include "ebpf_rb.h"
#include "ebpf_tc.h"
#include "frame.h"
#include "ring_writer.h"
#include "self_match.h"

/* Bounded work per drain call: the fd stays readable and the loop comes back. */
#define EBPF_DRAIN_BUDGET 4096

struct cap_iface {
	int ifindex;
	uint16_t linktype;
	bool owned_qdisc;
};

struct ebpf_capture {
	struct capture_bpf *skel;
	struct ebpf_exact *exact; /* NULL: no filter */
	struct ebpf_rb rb;
	struct ring_writer *w; /* during drain only */
	char state_dir[256];
	struct cap_iface *ifs;
	unsigned nifs, cap_ifs, last_if;
	int64_t mono_to_real;
	uint32_t snaplen;
	uint64_t drops_reported;
	uint64_t packets, bytes, truncated, filtered_user;
};

/* The link type AF_PACKET would record the interface with (frame.h); tc sees the same bytes. */
static uint16_t iface_linktype(int ifindex)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	unsigned type = ARPHRD_ETHER;
	uint16_t lt;
	FILE *f;

	if (!if_indextoname((unsigned)ifindex, name))
		return CAPD_LINKTYPE_ETHERNET;
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%u", &type) != 1)
			type = ARPHRD_ETHER;
		fclose(f);
	}
	lt = capd_linktype((uint16_t)type);
	return lt ? lt : CAPD_LINKTYPE_ETHERNET;
}

static struct cap_iface *cap_find_if(struct ebpf_capture *c, int ifindex)
{
	if (c->last_if < c->nifs && c->ifs[c->last_if].ifindex == ifindex)
		return &c->ifs[c->last_if];
	for (unsigned i = 0; i < c->nifs; i++) {
		if (c->ifs[i].ifindex == ifindex) {
			c->last_if = i;
			return &c->ifs[i];
		}
	}
	return NULL;
}

static int cap_on_sample(void *ctx, const void *data, uint32_t len)
{
	struct ebpf_capture *c = ctx;
	const struct cap_sample *s = data;
	struct rawcap_pkt *p;
	struct cap_iface *ifc;
	uint16_t linktype;
	uint32_t caplen;
	bool vlan;

	if (len < sizeof(*s) || s->cap_len > len - sizeof(*s))
		return 0;
	ifc = cap_find_if(c, (int)s->ifindex);
	linktype = ifc ? ifc->linktype : CAPD_LINKTYPE_ETHERNET;
	if (capd_self_skip((const uint8_t *)(s + 1), s->cap_len, s->orig_len, linktype,
			   self_dir_of(s->ifindex, s->dir == CAP_EGRESS)))
		return 0;
	if (c->exact && !ebpf_exact_keeps(c->exact, linktype == CAPD_LINKTYPE_RAW,
					  (const uint8_t *)(s + 1), s->cap_len, s->orig_len)) {
		c->filtered_user++;
		return 0;
	}
	/* The tag the stack moved into metadata goes back into the frame, as AF_PACKET's. */
	vlan = (s->flags & CAP_F_VLAN) && linktype == CAPD_LINKTYPE_ETHERNET;
	caplen = vlan ? capd_vlan_caplen(s->cap_len, c->snaplen) : s->cap_len;
	if (caplen > ring_max_payload(c->w) - sizeof(*p)) {
		caplen = ring_max_payload(c->w) - sizeof(*p);
		c->truncated++;
	}
	p = ring_reserve(c->w, RAWCAP_REC_PACKET, 0, s->ts_ns + (uint64_t)c->mono_to_real,
			 (uint32_t)sizeof(*p) + caplen);
	if (!p)
		return 0;
	memset(p, 0, sizeof(*p));
	p->ifindex = s->ifindex;
	p->orig_len =
		s->orig_len + (vlan && s->cap_len >= CAPD_ETH_TYPE_OFF ? CAPD_VLAN_TAG_LEN : 0);
	p->linktype = linktype;
	/* Ingress keeps the kernel's pkt_type (host, broadcast, ...), as AF_PACKET reports it. */
	p->dir = s->dir == CAP_EGRESS		       ? RAWCAP_DIR_OUTGOING
		 : s->pkt_type <= RAWCAP_DIR_OTHERHOST ? s->pkt_type
						       : RAWCAP_DIR_HOST;
	p->pkt_flags = RAWCAP_PKT_EBPF;
	p->protocol = s->protocol;
	if (s->flags & CAP_F_VLAN) {
		p->pkt_flags |= RAWCAP_PKT_VLAN;
		p->vlan_tci = s->vlan_tci;
		p->vlan_tpid = ntohs(s->vlan_proto); /* host order, as AF_PACKET's tp_vlan_tpid */
	}
	if (s->flags & CAP_F_COOKIE) {
		p->pkt_flags |= RAWCAP_PKT_COOKIE;
		p->sock_cookie = s->cookie;
	}
	if (s->flags & CAP_F_CGROUP) {
		p->pkt_flags |= RAWCAP_PKT_CGROUP;
		p->cgroup_id = s->cgroup_id;
	}
	if (vlan)
		capd_vlan_copy((uint8_t *)(p + 1), (const uint8_t *)(s + 1), s->cap_len, caplen,
			       ntohs(s->vlan_proto), s->vlan_tci);
	else
		memcpy(p + 1, s + 1, caplen);
	c->w->counters[RING_CNT_PACKETS]++;
	c->w->counters[RING_CNT_PKT_BYTES] += p->orig_len;
	c->packets++;
	c->bytes += p->orig_len;
	return 0;
}

int ebpf_capture_set_filter(struct ebpf_capture *c, const char *filter, char *why, size_t whylen)
{
	struct ebpf_exact *exact;
	struct cap_filter f;
	__u32 zero = 0;
	int err = ebpf_filter_parse(filter, &f, why, whylen);

	if (err)
		return err;
	err = ebpf_exact_compile(filter, &exact, why, whylen);
	if (err)
		return err;
	/* Both halves change together, or neither: a failed change keeps the old filter whole. */
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.filter), &zero, &f, BPF_ANY)) {
		err = -errno;
		snprintf(why, whylen, "eBPF capture: set filter map: %s", strerror(-err));
		ebpf_exact_free(exact);
		return err;
	}
	ebpf_exact_free(c->exact);
	c->exact = exact;
	return 0;
}

static int cap_load(struct ebpf_capture *c, const struct ebpf_capture_opts *o, char *why,
		    size_t whylen)
{
	uint32_t snap = o->snaplen && o->snaplen <= CAP_SNAP_MAX ? o->snaplen : CAP_SNAP_MAX;
	uint32_t rbsz = o->ringbuf_bytes ? o->ringbuf_bytes : 32u << 20;
	struct cap_filter f;
	int err;

	/* Parse before loading so a bad filter fails fast with its own message. */
	err = ebpf_filter_parse(o->filter, &f, why, whylen);
	if (err)
		return err;
	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = -errno;
		snprintf(why, whylen, "eBPF capture: open BPF object: %s", strerror(-err));
		return err;
	}
	c->skel->rodata->snaplen = snap;
	c->snaplen = snap;
	c->skel->rodata->wakeup_bytes = rbsz / 8;
	err = bpf_map__set_max_entries(c->skel->maps.samples, rbsz);
	if (!err)
		err = capture_bpf__load(c->skel);
	if (err) {
		snprintf(why, whylen, "eBPF capture: load tc programs: %s", strerror(-err));
		return err;
	}
	err = ebpf_capture_set_filter(c, o->filter, why, whylen);
	if (err)
		return err;
	err = ebpf_rb_open(&c->rb, bpf_map__fd(c->skel->maps.samples));
	if (err)
		snprintf(why, whylen, "eBPF capture: map BPF ring buffer: %s", strerror(-err));
	return err;
}

int ebpf_capture_open(const struct ebpf_capture_opts *o, struct ebpf_capture **out, char *why,
		      size_t whylen)
{
	struct ebpf_capture *c;
	struct ebpf_probe pr;
	char missing[256];
	int err;

	*out = NULL;
	why[0] = '\0';
	if (o->force_fail || ebpf_probe_forced_fail("capture")) {
		snprintf(why, whylen, "eBPF capture: disabled by %s (forced failure for testing)",
			 o->force_fail ? "option" : "RAWCAP_EBPF_FORCE_FAIL");
		return -ENOTSUP;
	}
	ebpf_probe_run(&pr);
	ebpf_probe_describe(&pr, "capture", missing, sizeof(missing));
	if (missing[0]) {
		snprintf(why, whylen, "eBPF capture unavailable: %s", missing);
		return -ENOTSUP;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, whylen, "eBPF capture: out of memory");
		return -ENOMEM;
	}
	snprintf(c->state_dir, sizeof(c->state_dir), "%s",
		 o->state_dir ? o->state_dir : "/run/rawcap");
	c->mono_to_real = ebpf_mono_to_real();
	err = cap_load(c, o, why, whylen);
	if (err)
		goto cleanup;
	*out = c;
	return 0;
cleanup:
	ebpf_capture_close(c);
	return err;
}

int ebpf_capture_attach_ifindex(struct ebpf_capture *c, int ifindex)
{
	struct cap_iface *ifc;
	bool owned = false;
	int err;

	if (cap_find_if(c, ifindex))
		return 0;
	if (c->nifs == c->cap_ifs) {
		unsigned n = c->cap_ifs ? c->cap_ifs * 2 : 8;
		struct cap_iface *ifs = realloc(c->ifs, n * sizeof(*ifs));

		if (!ifs)
			return -ENOMEM;
		c->ifs = ifs;
		c->cap_ifs = n;
	}
	err = ebpf_tc_attach(ifindex, bpf_program__fd(c->skel->progs.rawcap_tc_in),
			     bpf_program__fd(c->skel->progs.rawcap_tc_eg), c->state_dir, &owned);
	if (err)
		return err;
	ifc = &c->ifs[c->nifs++];
	ifc->ifindex = ifindex;
	ifc->owned_qdisc = owned;
	ifc->linktype = iface_linktype(ifindex);
	return 0;
}

int ebpf_capture_detach_ifindex(struct ebpf_capture *c, int ifindex)
{
	struct cap_iface *ifc = cap_find_if(c, ifindex);
	int err;

	if (!ifc)
		return -ENOENT;
	err = ebpf_tc_detach(ifindex, ifc->owned_qdisc, c->state_dir);
	*ifc = c->ifs[--c->nifs];
	c->last_if = 0;
	return err;
}

int ebpf_capture_fd(const struct ebpf_capture *c)
{
	return c->rb.map_fd;
}

int ebpf_capture_drain(struct ebpf_capture *c, struct ring_writer *w)
{
	c->w = w;
	return ebpf_rb_consume(&c->rb, cap_on_sample, c, EBPF_DRAIN_BUDGET);
}

static uint64_t cap_counter(struct ebpf_capture *c, unsigned slot)
{
	volatile const struct cap_counters *cnt = c->skel->bss->cap_cnt;
	uint64_t sum = 0;

	for (int i = 0; i < CAP_MAX_CPUS; i++)
		sum += cnt[i].v[slot];
	return sum;
}

void ebpf_capture_tick(struct ebpf_capture *c, struct ring_writer *w, uint64_t now_ns)
{
	uint64_t drops = cap_counter(c, CAP_CNT_DROPS), n = drops - c->drops_reported;

	c->mono_to_real = ebpf_mono_to_real();
	/* Samples submitted without a wakeup (the end of a burst) wait at most until here. */
	while (ebpf_capture_drain(c, w) > 0)
		;
	if (!n)
		return;
	c->drops_reported = drops;
	ring_write_loss(w, now_ns, RAWCAP_LOSS_EBPF_RINGBUF, n, 0, 0);
}

void ebpf_capture_get_stats(struct ebpf_capture *c, struct ebpf_capture_stats *s)
{
	s->packets = c->packets;
	s->bytes = c->bytes;
	s->truncated = c->truncated;
	s->drops = cap_counter(c, CAP_CNT_DROPS);
	s->filtered = cap_counter(c, CAP_CNT_FILTERED) + c->filtered_user;
	s->interfaces = c->nifs;
}

void ebpf_capture_close_unprivileged(struct ebpf_capture *c)
{
	/*
	 * Without CAP_NET_ADMIN (capd after its drop) tc filters cannot be
	 * removed, and capd's seccomp filter forbids the netlink socket that
	 * would try: leave them; the next start removes them as leftovers.
	 */
	if (c)
		c->nifs = 0;
	ebpf_capture_close(c);
}

void ebpf_capture_close(struct ebpf_capture *c)
{
	if (!c)
		return;
	while (c->nifs)
		ebpf_capture_detach_ifindex(c, c->ifs[c->nifs - 1].ifindex);
	ebpf_rb_close(&c->rb);
	capture_bpf__destroy(c->skel);
	ebpf_exact_free(c->exact);
	free(c->ifs);
	free(c);
}
