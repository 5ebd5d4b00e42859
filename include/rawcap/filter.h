/* SPDX-License-Identifier: MIT */
/*
 * rawcap/filter.h - pcap filter expressions (the tcpdump language) applied
 * to packet records offline. One expression is compiled once per link type
 * it meets, lazily, since a capture can mix interfaces of different types.
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
 * at once). On failure returns -EINVAL and, if errbuf is given, libpcap's
 * message in it.
 */
RAWCAP_API int rawcap_filter_new(const char *expr, struct rawcap_filter **out, char *errbuf,
				 size_t errlen);
/* 1 if the packet matches, 0 if not; a link type the expression cannot apply to never matches. */
RAWCAP_API int rawcap_filter_match(struct rawcap_filter *f, const struct rawcap_pkt *pkt,
				   const uint8_t *data, uint32_t caplen);
RAWCAP_API const char *rawcap_filter_expr(const struct rawcap_filter *f);
RAWCAP_API void rawcap_filter_free(struct rawcap_filter *f);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_FILTER_H */
