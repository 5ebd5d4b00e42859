/* SPDX-License-Identifier: MIT */
/*
 * ebpf_exact.h - the eBPF backend's capture filter as libpcap compiles it.
 *
 * The tc program (capture.bpf.c) evaluates a superset of the expression:
 * what it cannot judge exactly (ARP for "host A", IPv6 behind a fragment
 * header) it lets through. capd then runs libpcap's own program for the
 * expression on each sample's bytes, so the backend keeps exactly what
 * tcpdump's filter keeps. Kept apart from ebpf_capture.c because libpcap's
 * struct bpf_insn (classic BPF) and linux/bpf.h's (eBPF) share a name.
 */
#ifndef RAWCAP_EBPF_EXACT_H
#define RAWCAP_EBPF_EXACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ebpf_exact;

/*
 * Compile filter for Ethernet frames and for raw IP packets (LINKTYPE_RAW).
 * NULL or "": *out = NULL and 0 (nothing to apply). Returns 0 or -EINVAL
 * (libpcap's message in why) or -ENOMEM.
 */
int ebpf_exact_compile(const char *filter, struct ebpf_exact **out, char *why, size_t whylen);

/* libpcap's verdict on caplen captured bytes of a wirelen-byte packet. */
bool ebpf_exact_keeps(const struct ebpf_exact *x, bool raw_ip, const uint8_t *pkt, uint32_t caplen,
		      uint32_t wirelen);

void ebpf_exact_free(struct ebpf_exact *x);

#endif
