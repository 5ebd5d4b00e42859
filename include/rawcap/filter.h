/* SPDX-License-Identifier: MIT */
/*
 * rawcap/filter.h - pcap filter expressions (the tcpdump language) applied
 * to packet records, meaning what tcpdump means on the interface the packet
 * was captured on. One expression is compiled once per link type it meets,
 * lazily, since a capture can mix interfaces of different types; a link
 * type it cannot be compiled for is an error, not a silent non-match.
 * "inbound", "outbound" and "ifindex N" read the record's direction and
 * interface; a frame whose VLAN tag the kernel had stripped is filtered
 * without the tag unless the expression says "vlan" (docs/ARCHITECTURE.md,
 * "Fidelity").
 */
#ifndef RAWCAP_FILTER_H
#define RAWCAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rawcap_filter;

/*
 * Compile expr (checked now against Ethernet, so a syntax error is reported
 * at once). On failure returns -EINVAL and, if why is given, libpcap's
 * message in it.
 */
RAWCAP_API int rawcap_filter_new(const char *expr, struct rawcap_filter **out, char *why,
				 size_t whylen);
/*
 * 1 if the packet matches, 0 if not, -EINVAL if the expression cannot be
 * applied to the packet's link type, -E2BIG past the link types one filter
 * holds; on failure one line in why (NULL allowed) says which.
 */
RAWCAP_API int rawcap_filter_match(struct rawcap_filter *f, const struct rawcap_pkt *pkt,
				   const uint8_t *data, uint32_t caplen, char *why, size_t whylen);
RAWCAP_API const char *rawcap_filter_expr(const struct rawcap_filter *f);
RAWCAP_API void rawcap_filter_free(struct rawcap_filter *f);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_FILTER_H */
