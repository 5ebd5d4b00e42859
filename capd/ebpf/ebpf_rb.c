// SPDX-License-Identifier: MIT
/*
 * ebpf_rb.c - BPF ring buffer consumer that releases the consumer position
 * once per batch (see ebpf_rb.h). The layout is the kernel's ABI: one
 * read-write page holding consumer_pos, then a read-only page holding
 * producer_pos followed by the data area mapped twice, so that a sample
 * wrapping the end reads contiguously. Each sample has an 8-byte header
 * whose length word carries BUSY (still being written) and DISCARD bits.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ebpf_rb.h"

int ebpf_rb_open(struct ebpf_rb *rb, int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *p;

	memset(rb, 0, sizeof(*rb));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	rb->data_len = info.max_entries;
	rb->mask = info.max_entries - 1;
	rb->map_fd = map_fd;
	p = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rb->consumer_pos = p;
	p = mmap(NULL, rb->page + 2 * rb->data_len, PROT_READ, MAP_SHARED, map_fd, (off_t)rb->page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(rb->consumer_pos, rb->page);
		rb->consumer_pos = NULL;
		return err;
	}
	rb->producer_pos = p;
	rb->data = (uint8_t *)p + rb->page;
	return 0;
}

int ebpf_rb_consume(struct ebpf_rb *rb, ebpf_rb_cb cb, void *ctx, int budget)
{
	/* Only we write consumer_pos: a plain read of our own value is enough. */
	unsigned long cons = *rb->consumer_pos, prod;
	int n = 0;

	/* Pairs with the kernel's release of producer_pos in reserve. */
	prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	while (cons < prod && n < budget) {
		const uint32_t *hdr = (const void *)(rb->data + (cons & rb->mask));
		/* Pairs with the kernel's release of the length in submit/discard. */
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t body = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		cons += (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		if (len & BPF_RINGBUF_DISCARD_BIT)
			continue;
		n++;
		if (cb(ctx, (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, body) < 0)
			break;
	}
	/* One release per batch: the kernel may now reuse everything before cons. */
	__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}

void ebpf_rb_close(struct ebpf_rb *rb)
{
	if (rb->consumer_pos)
		munmap(rb->consumer_pos, rb->page);
	if (rb->producer_pos)
		munmap(rb->producer_pos, rb->page + 2 * rb->data_len);
	memset(rb, 0, sizeof(*rb));
	rb->map_fd = -1;
}
