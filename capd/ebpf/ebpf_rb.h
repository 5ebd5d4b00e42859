/* SPDX-License-Identifier: MIT */
/*
 * ebpf_rb.h - a batch consumer for a BPF ring buffer map, for the capture
 * hot path.
 *
 * libbpf's ring_buffer__consume() publishes the consumer position after
 * every sample. The kernel's bpf_ringbuf_reserve() reads that position for
 * every packet, so on a busy capture the cache line bounces between the
 * consumer's CPU and every producing CPU once per packet. We publish it once
 * per batch instead. The fd to poll is the map fd itself (readable while data
 * is waiting).
 */
#ifndef RAWCAP_EBPF_RB_H
#define RAWCAP_EBPF_RB_H

#include <stddef.h>
#include <stdint.h>

struct ebpf_rb {
	unsigned long *consumer_pos; /* our page, read-write */
	unsigned long *producer_pos; /* kernel's page, then the data mapped twice */
	uint8_t *data;
	uint64_t mask;
	size_t page, data_len;
	int map_fd;
};

/* cb returns 0 to go on, < 0 to stop after this sample (it is consumed). */
typedef int (*ebpf_rb_cb)(void *ctx, const void *sample, uint32_t len);

int ebpf_rb_open(struct ebpf_rb *rb, int map_fd);
/* Process up to budget samples; returns how many were passed to cb. */
int ebpf_rb_consume(struct ebpf_rb *rb, ebpf_rb_cb cb, void *ctx, int budget);
void ebpf_rb_close(struct ebpf_rb *rb);

#endif
