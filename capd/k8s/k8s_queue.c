// SPDX-License-Identifier: MIT
/*
 * k8s_queue.c - bounded multi-record queue with an eventfd doorbell
 * (see k8s_queue.h). The lock is held only to link or unlink items, never
 * across an allocation or a syscall other than the eventfd write.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "k8s_queue.h"

int k8s_queue_init(struct k8s_queue *q, size_t max_items, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_items = max_items;
	q->max_bytes = max_bytes;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

static void free_list(struct k8s_qitem *it)
{
	while (it) {
		struct k8s_qitem *next = it->next;

		free(it);
		it = next;
	}
}

void k8s_queue_destroy(struct k8s_queue *q)
{
	if (q->efd < 0)
		return;
	free_list(q->head);
	q->head = q->tail = NULL;
	close(q->efd);
	q->efd = -1;
	pthread_mutex_destroy(&q->lock);
}

static void ring_bell(struct k8s_queue *q)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already huge: the reader will wake anyway */
	if (write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

int k8s_queue_push(struct k8s_queue *q, uint16_t kind, uint64_t ts_ns, const void *data,
		   size_t len)
{
	struct k8s_qitem *it = malloc(sizeof(*it) + len);
	bool full;

	if (!it) {
		pthread_mutex_lock(&q->lock);
		q->dropped++;
		q->dropped_total++;
		pthread_mutex_unlock(&q->lock);
		return -ENOMEM;
	}
	it->next = NULL;
	it->ts_ns = ts_ns;
	it->kind = kind;
	it->len = (uint32_t)len;
	memcpy(it->data, data, len);
	pthread_mutex_lock(&q->lock);
	full = q->items >= q->max_items || q->bytes + len > q->max_bytes;
	if (full) {
		q->dropped++;
		q->dropped_total++;
	} else {
		if (q->tail)
			q->tail->next = it;
		else
			q->head = it;
		q->tail = it;
		q->items++;
		q->bytes += len;
	}
	pthread_mutex_unlock(&q->lock);
	if (full) {
		free(it);
		ring_bell(q); /* the drop count still has to reach the ring */
		return -ENOBUFS;
	}
	ring_bell(q);
	return 0;
}

struct k8s_qitem *k8s_queue_pop(struct k8s_queue *q, size_t max, uint64_t *dropped)
{
	struct k8s_qitem *first, *last = NULL, *it;
	uint64_t cnt;
	size_t n = 0;
	bool more;

	if (read(q->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		cnt = 0;
	pthread_mutex_lock(&q->lock);
	first = q->head;
	for (it = first; it && n < max; it = it->next) {
		last = it;
		q->bytes -= it->len;
		n++;
	}
	if (last) {
		q->head = last->next;
		if (!q->head)
			q->tail = NULL;
		last->next = NULL;
	} else {
		first = NULL;
	}
	q->items -= n;
	*dropped = q->dropped;
	q->dropped = 0;
	more = q->head != NULL;
	pthread_mutex_unlock(&q->lock);
	if (more)
		ring_bell(q);
	return first;
}
