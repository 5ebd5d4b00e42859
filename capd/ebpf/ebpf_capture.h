/* SPDX-License-Identifier: MIT */
/*
 * ebpf_capture.h - the tc/eBPF capture backend: tc clsact programs on the
 * ingress and egress of chosen interfaces copy packets into a BPF ring
 * buffer; capd drains it into the shm ring with one copy per packet.
 *
 * Lifecycle, libbpf-tools style:
 *	ebpf_capture_open()            probe, open, configure, load (no attach yet)
 *	ebpf_capture_attach_ifindex()  per interface, as capd's netlink watcher finds it
 *	ebpf_capture_fd()              epoll this; on EPOLLIN call ebpf_capture_drain()
 *	ebpf_capture_tick()            once a second: loss records, clock offset
 *	ebpf_capture_close()           detach everything, remove what we added
 */
#ifndef RAWCAP_EBPF_CAPTURE_H
#define RAWCAP_EBPF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring_writer;
struct ebpf_capture;
struct cap_filter;

struct ebpf_capture_opts {
	uint32_t snaplen;	/* bytes kept per packet; 0 or > 65535: 65535 */
	const char *filter;	/* see ebpf_filter_parse(); NULL or "" captures everything */
	uint32_t ringbuf_bytes; /* BPF ring buffer, power of two >= page; 0: 32 MiB (see ARCHITECTURE.md) */
	const char *state_dir;	/* tc qdisc ownership markers; NULL: /run/rawcap */
	bool force_fail;	/* behave as if tc programs did not load (fallback tests) */
};

struct ebpf_capture_stats {
	uint64_t packets, bytes; /* moved into the shm ring; bytes = original lengths */
	uint64_t drops;		 /* BPF ring buffer full (reported as loss records) */
	uint64_t truncated;	 /* samples larger than the shm ring's largest record */
	uint64_t filtered;	 /* rejected by the filter (the kernel's superset, then libpcap's program) */
	uint32_t interfaces;	 /* currently attached */
};

/*
 * Open and load the programs. On failure returns -errno and writes a one-line
 * reason into why (what failed and why): capd logs it and falls back to
 * AF_PACKET. RAWCAP_EBPF_FORCE_FAIL=1 or =capture forces this path.
 */
int ebpf_capture_open(const struct ebpf_capture_opts *o, struct ebpf_capture **out, char *why,
		      size_t whylen);

/*
 * Attach to ifindex (ingress and egress), creating a clsact qdisc if there is
 * none, after removing filters a killed capd left on it. Idempotent. Returns
 * 0 or -errno (reported on stderr with the interface named).
 */
int ebpf_capture_attach_ifindex(struct ebpf_capture *c, int ifindex);
/* Detach from ifindex (the interface may already be gone). */
int ebpf_capture_detach_ifindex(struct ebpf_capture *c, int ifindex);

/* The BPF ring buffer's epoll fd (readable when samples are ready). */
int ebpf_capture_fd(const struct ebpf_capture *c);

/* Move all ready samples into w as RAWCAP_REC_PACKET records, publish, notify. Returns count or
 * -errno. */
int ebpf_capture_drain(struct ebpf_capture *c, struct ring_writer *w);

/* Once a second: write a RAWCAP_REC_LOSS record for new ring buffer drops; refresh the clock
 * offset. */
void ebpf_capture_tick(struct ebpf_capture *c, struct ring_writer *w, uint64_t now_ns);

void ebpf_capture_get_stats(struct ebpf_capture *c, struct ebpf_capture_stats *s);

/* Replace the filter at run time (no reload). 0, or -EOPNOTSUPP/-EINVAL with why filled. */
int ebpf_capture_set_filter(struct ebpf_capture *c, const char *filter, char *why, size_t whylen);

void ebpf_capture_close(struct ebpf_capture *c);
/* Close without touching tc (no CAP_NET_ADMIN left): filters stay until the next start. */
void ebpf_capture_close_unprivileged(struct ebpf_capture *c);

/*
 * The filter subset the eBPF path supports, pcap syntax: up to one each of
 * "tcp"/"udp", "port N", "host A.B.C.D"/"net A.B.C.D/N", joined by "and".
 * Anything else (or, not, ip6 nets, parentheses...) gives -EOPNOTSUPP and a
 * message naming the unsupported part.
 */
int ebpf_filter_parse(const char *s, struct cap_filter *f, char *why, size_t whylen);

#endif
