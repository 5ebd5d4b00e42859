/* SPDX-License-Identifier: MIT */
/*
 * k8s_queue.h - the bounded hand-off from the Kubernetes watcher thread to
 * capd's ring writer thread.
 *
 * The watcher pushes finished records; capd's event loop sees the eventfd
 * become readable and drains a batch into the ring. The queue is bounded in
 * records and bytes: when full, a push drops the record and counts it, so a
 * burst of API events can never grow memory or make the watcher wait on
 * capture (the count reaches the ring as RAWCAP_LOSS_META_QUEUE).
 */
#ifndef RAWCAP_K8S_QUEUE_H
#define RAWCAP_K8S_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct k8s_qitem {
	struct k8s_qitem *next;
	uint64_t ts_ns;
	uint16_t kind; /* enum rawcap_meta_kind */
	uint32_t len;
	uint8_t data[];
};

struct k8s_queue {
	pthread_mutex_t lock;
	struct k8s_qitem *head, *tail;
	size_t items, bytes;
	size_t max_items, max_bytes;
	uint64_t dropped; /* not yet reported to the ring; under lock */
	uint64_t dropped_total;
	int efd;
};

int k8s_queue_init(struct k8s_queue *q, size_t max_items, size_t max_bytes);
void k8s_queue_destroy(struct k8s_queue *q);

/* Copy a record in. 0, or -ENOBUFS when full (dropped and counted), -ENOMEM. */
int k8s_queue_push(struct k8s_queue *q, uint16_t kind, uint64_t ts_ns, const void *data,
		   size_t len);

/*
 * Take up to max items (oldest first) as a list the caller frees, and the
 * drop count since the last pop. Resets the eventfd; re-arms it if items remain.
 */
struct k8s_qitem *k8s_queue_pop(struct k8s_queue *q, size_t max, uint64_t *dropped);

#endif
