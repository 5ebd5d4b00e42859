/* SPDX-License-Identifier: MIT */
/*
 * bpf_run.h - run a classic BPF program (as libpcap compiles it) over a
 * recorded packet, with the packet metadata Linux gives a live filter.
 *
 * libpcap's own interpreter (pcap_offline_filter) answers every load of
 * Linux ancillary data (SKF_AD_*) with "no match", and libpcap compiles
 * "inbound", "outbound" and "ifindex" to such loads even offline. A record
 * keeps what the kernel knew (direction, ifindex, protocol, the stripped
 * VLAN tag), so this interpreter answers them as the kernel would have.
 */
#ifndef RAWCAP_BPF_RUN_H
#define RAWCAP_BPF_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* What the kernel knew about the packet, for SKF_AD_* loads. */
struct bpf_run_aux {
	uint16_t protocol; /* ethertype, host order (SKF_AD_PROTOCOL) */
	uint16_t pkttype;  /* PACKET_HOST, ... (SKF_AD_PKTTYPE) */
	uint32_t ifindex;  /* SKF_AD_IFINDEX */
	uint16_t hatype;   /* ARPHRD_*, 0xffff if unknown (SKF_AD_HATYPE) */
	bool vlan;	   /* a tag was stripped (SKF_AD_VLAN_TAG_PRESENT) */
	uint16_t vlan_tci, vlan_tpid;
};

/*
 * The bytes the program sees: data[0, len), or, when gap_at < len, the same
 * bytes without the gap_len bytes at gap_at (a frame seen without its tag).
 */
struct bpf_run_view {
	const uint8_t *data;
	uint32_t len;
	uint32_t gap_at, gap_len;
};

/* True if every instruction is one bpf_run() knows (checked once per program). */
bool bpf_run_supported(const struct bpf_insn *insns, unsigned n);
/* The program's return value: 0 is no match. wirelen is the packet's length on the wire. */
uint32_t bpf_run(const struct bpf_insn *insns, const struct bpf_run_view *v, uint32_t wirelen,
		 const struct bpf_run_aux *aux);

#endif /* RAWCAP_BPF_RUN_H */
