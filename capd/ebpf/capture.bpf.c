// SPDX-License-Identifier: GPL-2.0
/*
 * capture.bpf.c - tc clsact capture: copy up to snaplen bytes of every packet
 * seen on ingress and egress of the attached interfaces into a BPF ring
 * buffer, with the socket identity the skb carries. Never changes a packet's
 * fate: always TC_ACT_UNSPEC, so other tc programs and the stack go on as if
 * we were not there.
 *
 * The sample size passed to bpf_ringbuf_reserve() must be a constant, so the
 * capture length is rounded up to one of a few size classes: small packets
 * (ACKs, DNS) do not pay for a full snaplen of ring buffer space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "capture.h"

#define TC_ACT_UNSPEC (-1)
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_ARP     0x0806
#define ETH_P_RARP    0x8035
#define NEXTHDR_FRAGMENT 44 /* not in vmlinux.h: a uapi #define */

const volatile __u32 snaplen = 262144;
/*
 * Wakeups: the ring buffer's default wakes the reader whenever it has caught
 * up, which under load means an irq_work and a context switch per packet. We
 * wake it only when wakeup_bytes are waiting or wakeup_ns passed since the
 * last wakeup; user space also drains on its 1 s tick, so the tail of a burst
 * waits at most that long.
 */
const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile __u64 wakeup_ns = 10 * 1000 * 1000;
__u64 last_wakeup_ns;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20); /* resized by user space before load */
} samples SEC(".maps");

/* Per-CPU slots in .bss: user space reads them through the skeleton's mmap, no syscall. */
struct cap_counters cap_cnt[CAP_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_filter);
} filter SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u32 cpu = bpf_get_smp_processor_id() & (CAP_MAX_CPUS - 1);

	if (slot < CAP_CNT_NR)
		__sync_fetch_and_add(&cap_cnt[cpu].v[slot], 1);
}

struct l4_view {
	__u32 saddr, daddr; /* IPv4 only; 0 for IPv6 */
	__u16 sport, dport;
	__u8 proto;
	__u8 v4;
	__u8 unsure; /* IPv6 behind a fragment header: user space decides */
};

/*
 * Parse just enough of the packet to apply the filter. Returns 0 or -1 (not
 * IP). Loads are relative to the network header and the protocol is the
 * skb's, so the same code serves Ethernet devices (whose first VLAN tag the
 * stack has moved into metadata before tc, as tcpdump's filter sees it) and
 * devices without a link header (tun, wireguard, ipip).
 */
static __always_inline int parse_l4(struct __sk_buff *skb, struct l4_view *v)
{
	__u16 proto = (__u16)skb->protocol;
	__u32 off = 0;
	__u8 b[40];

	if (proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes_relative(skb, off, b, 20, BPF_HDR_START_NET))
			return -1;
		v->v4 = 1;
		v->proto = b[9];
		__builtin_memcpy(&v->saddr, &b[12], 4);
		__builtin_memcpy(&v->daddr, &b[16], 4);
		/* Later fragments carry no ports. */
		if (((b[6] & 0x1f) | b[7]) != 0)
			return 0;
		off += (b[0] & 0x0f) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes_relative(skb, off, b, 40, BPF_HDR_START_NET))
			return -1;
		v->proto = b[6]; /* extension headers are not followed */
		/* libpcap's "tcp"/"udp" also look behind one fragment header. */
		v->unsure = v->proto == NEXTHDR_FRAGMENT;
		off += 40;
	} else {
		return -1;
	}
	if (v->proto == IPPROTO_TCP || v->proto == IPPROTO_UDP || v->proto == IPPROTO_SCTP) {
		if (bpf_skb_load_bytes_relative(skb, off, b, 4, BPF_HDR_START_NET))
			return 0;
		v->sport = ((__u16)b[0] << 8) | b[1];
		v->dport = ((__u16)b[2] << 8) | b[3];
	}
	return 0;
}

static __always_inline bool wanted(struct __sk_buff *skb)
{
	struct l4_view v = {};
	struct cap_filter *f;
	__u32 zero = 0;

	f = bpf_map_lookup_elem(&filter, &zero);
	if (!f || !f->flags)
		return true;
	/*
	 * A superset of what the filter means to libpcap: capd applies libpcap's
	 * own program to what passes here (ebpf_capture.c), so a packet this
	 * cannot judge exactly goes up rather than being lost. Not IP: only
	 * "host"/"net" alone can match, on ARP and RARP (pcap's "host A" is
	 * "ip host A or arp host A or rarp host A").
	 */
	if (parse_l4(skb, &v))
		return f->flags == CAP_FILT_NET4 && (skb->protocol == bpf_htons(ETH_P_ARP) ||
						     skb->protocol == bpf_htons(ETH_P_RARP));
	if ((f->flags & CAP_FILT_NET4) && !v.v4)
		return false;
	if (v.unsure)
		return true;
	if ((f->flags & CAP_FILT_PROTO) && v.proto != f->proto)
		return false;
	if ((f->flags & CAP_FILT_PORT) && v.sport != f->port && v.dport != f->port)
		return false;
	if ((f->flags & CAP_FILT_NET4) &&
	    (v.saddr & f->mask) != f->net && (v.daddr & f->mask) != f->net)
		return false;
	return true;
}

static __always_inline int emit(struct __sk_buff *skb, __u32 cap, const __u32 size_class, __u8 dir)
{
	struct cap_sample *s;
	__u64 n;

	s = bpf_ringbuf_reserve(&samples, sizeof(*s) + size_class, 0);
	if (!s) {
		count(CAP_CNT_DROPS);
		return TC_ACT_UNSPEC;
	}
	/* n = cap - 1, hidden from the compiler so the verifier sees 1 <= n + 1 <= size_class. */
	n = (__u64)cap - 1;
	asm volatile("" : "+r"(n));
	if (n >= size_class) {
		bpf_ringbuf_discard(s, BPF_RB_NO_WAKEUP);
		return TC_ACT_UNSPEC;
	}
	if (bpf_skb_load_bytes(skb, 0, s + 1, n + 1)) {
		bpf_ringbuf_discard(s, BPF_RB_NO_WAKEUP);
		return TC_ACT_UNSPEC;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->ifindex = skb->ifindex;
	s->orig_len = skb->len;
	s->cap_len = (__u32)n + 1;
	s->protocol = (__u16)skb->protocol;
	s->dir = dir;
	s->pkt_type = (__u8)skb->pkt_type;
	s->flags = 0;
	s->vlan_tci = 0;
	s->vlan_proto = 0;
	if (skb->vlan_present) {
		s->flags |= CAP_F_VLAN;
		s->vlan_tci = (__u16)skb->vlan_tci;
		s->vlan_proto = (__u16)skb->vlan_proto;
	}
	/* Ingress skbs rarely have a socket yet; the cookie is then 0 and left out. */
	s->cookie = bpf_get_socket_cookie(skb);
	if (s->cookie)
		s->flags |= CAP_F_COOKIE;
	s->cgroup_id = 0;
	if (dir == CAP_EGRESS) {
		s->cgroup_id = bpf_skb_cgroup_id(skb);
		if (s->cgroup_id)
			s->flags |= CAP_F_CGROUP;
	}
	if (s->ts_ns - last_wakeup_ns >= wakeup_ns ||
	    bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes) {
		last_wakeup_ns = s->ts_ns;
		bpf_ringbuf_submit(s, BPF_RB_FORCE_WAKEUP);
	} else {
		bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
	}
	count(CAP_CNT_SAMPLES);
	return TC_ACT_UNSPEC;
}

static __always_inline int capture(struct __sk_buff *skb, __u8 dir)
{
	__u32 cap = skb->len;

	if (!wanted(skb)) {
		count(CAP_CNT_FILTERED);
		return TC_ACT_UNSPEC;
	}
	if (cap > snaplen)
		cap = snaplen;
	if (cap <= 128)
		return emit(skb, cap, 128, dir);
	if (cap <= 512)
		return emit(skb, cap, 512, dir);
	if (cap <= 1536)
		return emit(skb, cap, 1536, dir);
	if (cap <= 9216)
		return emit(skb, cap, 9216, dir);
	if (cap <= 65536)
		return emit(skb, cap, 65536, dir);
	return emit(skb, cap, CAP_SNAP_MAX, dir);
}

SEC("tc")
int rawcap_tc_in(struct __sk_buff *skb)
{
	return capture(skb, CAP_INGRESS);
}

#define LOOPBACK_IFINDEX 1 /* in every network namespace */

SEC("tc")
int rawcap_tc_eg(struct __sk_buff *skb)
{
	/*
	 * Loopback's egress and ingress see every packet, byte for byte the
	 * same: keep the received copy only, as libpcap and the AF_PACKET
	 * backend do.
	 */
	if (skb->ifindex == LOOPBACK_IFINDEX)
		return TC_ACT_UNSPEC;
	return capture(skb, CAP_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
