/* SPDX-License-Identifier: MIT */
/*
 * atomics.h - the handful of orderings the ring protocol uses.
 *
 * Thin names over <stdatomic.h> so that every use reads as the pairing it
 * is part of. All shared words are naturally aligned 32- or 64-bit atomics,
 * which are plain loads on x86-64 and arm64: safe on a PROT_READ mapping.
 */
#ifndef RAWCAP_ATOMICS_H
#define RAWCAP_ATOMICS_H

#include <stdatomic.h>

#define load_acquire(p)	    atomic_load_explicit((p), memory_order_acquire)
#define load_relaxed(p)	    atomic_load_explicit((p), memory_order_relaxed)
#define store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

/* Orders earlier loads before later loads and stores (smp_rmb and more). */
#define fence_acquire() atomic_thread_fence(memory_order_acquire)
/* Orders earlier loads and stores before later stores (smp_wmb and more). */
#define fence_release() atomic_thread_fence(memory_order_release)

#endif /* RAWCAP_ATOMICS_H */
