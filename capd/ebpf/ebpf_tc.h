/* SPDX-License-Identifier: MIT */
/*
 * ebpf_tc.h - attach and remove rawcap's tc filters, and find the ones a
 * killed capd left behind.
 *
 * Our filters are tagged with RAWCAP_TC_HANDLE at priority RAWCAP_TC_PRIO and
 * run programs named rawcap_tc_in / rawcap_tc_eg: a filter with that handle,
 * priority and program name is ours. We remove the clsact qdisc only if we
 * created it, recorded by a marker file in the state directory (so a qdisc
 * that Cilium or another tool owns is never removed).
 */
#ifndef RAWCAP_EBPF_TC_H
#define RAWCAP_EBPF_TC_H

#include <stdbool.h>

#define RAWCAP_TC_HANDLE  0x72637031u /* "rcp1" */
#define RAWCAP_TC_PRIO	  1	      /* first, so packets others redirect or drop are seen */
#define RAWCAP_TC_PROG_IN "rawcap_tc_in"
#define RAWCAP_TC_PROG_EG "rawcap_tc_eg"

/* Remove stale filters, ensure clsact, attach both programs. *owned: we (or a dead capd) made the
 * qdisc. */
int ebpf_tc_attach(int ifindex, int in_fd, int eg_fd, const char *state_dir, bool *owned);
/* Remove our filters, and the qdisc when owned. Quiet if the interface is gone. */
int ebpf_tc_detach(int ifindex, bool owned, const char *state_dir);

#endif
