/* SPDX-License-Identifier: MIT */
/*
 * capture.h - types shared by capture.bpf.c (tc clsact capture) and
 * ebpf_capture.c: the ring buffer sample, the filter map value and the
 * per-CPU counter slots.
 */
#ifndef RAWCAP_BPF_CAPTURE_H
#define RAWCAP_BPF_CAPTURE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Largest snaplen (RAWCAP_SNAPLEN_MAX): GSO skbs are kept whole up to it. */
#define CAP_SNAP_MAX 262144u

enum cap_dir_code {
	CAP_INGRESS = 0,
	CAP_EGRESS = 1,
};

enum cap_sample_flags {
	CAP_F_COOKIE = 1 << 0,
	CAP_F_CGROUP = 1 << 1,
	CAP_F_VLAN = 1 << 2,
};

/* One packet in the BPF ring buffer; cap_len bytes of data follow. */
struct cap_sample {
	__u64 ts_ns;	 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cookie;	 /* bpf_get_socket_cookie(), when CAP_F_COOKIE */
	__u64 cgroup_id; /* bpf_skb_cgroup_id(), egress only, when CAP_F_CGROUP */
	__u32 ifindex;
	__u32 orig_len; /* skb->len: the (possibly GSO) packet as AF_PACKET would see it */
	__u32 cap_len;
	__u16 protocol; /* skb->protocol, network order */
	__u16 vlan_tci;
	__u16 vlan_proto;
	__u8 dir;      /* enum cap_dir_code */
	__u8 pkt_type; /* skb->pkt_type (PACKET_HOST, ...) */
	__u8 flags;    /* enum cap_sample_flags */
	__u8 pad[7];
};

/* The supported filter subset: [tcp|udp] and [port N] and [host A|net A/len], IPv4 nets. */
enum cap_filter_flags {
	CAP_FILT_PROTO = 1 << 0,
	CAP_FILT_PORT = 1 << 1,
	CAP_FILT_NET4 = 1 << 2,
};

struct cap_filter {
	__u32 flags; /* enum cap_filter_flags; 0 = capture everything */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__u16 port; /* host order; matches source or destination */
	__u32 net;  /* network order */
	__u32 mask; /* network order */
};

enum cap_counter {
	CAP_CNT_SAMPLES = 0, /* samples committed to the ring buffer */
	CAP_CNT_DROPS = 1,   /* bpf_ringbuf_reserve() failed: packet lost */
	CAP_CNT_FILTERED = 2,
	CAP_CNT_NR = 4,
};

#define CAP_MAX_CPUS 512 /* power of two; more CPUs share slots (atomic adds) */

/* One cache line per CPU, so that counting never bounces lines between CPUs. */
struct cap_counters {
	__u64 v[CAP_CNT_NR];
	__u64 pad[8 - CAP_CNT_NR];
};

#endif
