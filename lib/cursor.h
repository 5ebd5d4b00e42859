/* SPDX-License-Identifier: MIT */
/*
 * cursor.h - the state behind struct rawcap_cursor, shared by the files of
 * librawcap that implement its sources (ring today; disk history and
 * snapshots plug in beside it).
 */
#ifndef RAWCAP_LIB_CURSOR_H
#define RAWCAP_LIB_CURSOR_H

#include <rawcap/rawcap.h>

#include "history.h"
#include "ring_check.h"
#include "ring_name.h"
#include "ring_reader.h"

struct rawcap_cursor {
	char ring_name[RING_NAME_MAX + 1];
	bool has_ring;
	bool detached; /* let go of a replaced ring; waiting for the new one (rawcap_wait) */
	struct ring_reader ring;
	struct history *hist; /* disk FIFO or snapshot, NULL if none */
	bool in_history;      /* delivering from hist, not from the ring */
	uint32_t hist_source; /* RAWCAP_SOURCE_DISK or RAWCAP_SOURCE_SNAPSHOT */
	uint64_t pos;	     /* next ring position to read */
	uint64_t expect_seq; /* sequence number the next record should carry */
	bool has_expect;
	struct rawcap_stats st;
	int news_state;		 /* capd's state as rawcap_writer_news() last told it */
	int64_t news_checked_ms; /* CLOCK_MONOTONIC of its last look */
};

/* Account a delivered record's sequence number: gaps are loss. */
void cursor_account_seq(struct rawcap_cursor *c, uint64_t seq);

#endif
