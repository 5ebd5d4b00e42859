/* SPDX-License-Identifier: MIT */
/*
 * query.h - the query of a pcap download (GET /v1/pcap), parsed argument by
 * argument, independent of HTTP (fuzzed by tests/fuzz/fuzz_server_query.c).
 *
 *	server_query_init(&q, rawcap_now_ns());
 *	httpd_req_args(req, server_query_arg, &q);	// each key=value in turn
 *	server_query_finish(&q, oldest_held_ns);	// combination, filter, window
 *	... q.from_ns, q.to_ns, q.filter, q.pods ...
 *	server_query_free(&q);
 *
 * server_query_arg and server_query_finish return 0, -EINVAL with a
 * sentence in q.detail (the 400's detail), or -ENOMEM.
 */
#ifndef RAWCAP_SERVER_QUERY_H
#define RAWCAP_SERVER_QUERY_H

#include <stdint.h>

#include <rawcap/pcap.h>

struct rawcap_meta_join;

struct server_query {
	uint64_t now_ns;
	uint64_t from_ns, to_ns; /* the window, [from, to) once finished */
	uint64_t last_ns;	 /* "last": a duration before to */
	char *filter;		 /* pcap filter expression, or NULL */
	enum rawcap_pcap_format format;
	uint32_t snaplen;	       /* 0: the writer's default */
	struct rawcap_meta_join *pods; /* pod, namespace, label */
	unsigned seen;		       /* arguments seen that may appear once */
	char detail[320];
};

int server_query_init(struct server_query *q, uint64_t now_ns);
void server_query_free(struct server_query *q);
int server_query_arg(void *q, const char *key, const char *value);
/* Before finish: the window when the query names none (a snapshot's own). */
void server_query_default_window(struct server_query *q, uint64_t from_ns, uint64_t to_ns);
int server_query_finish(struct server_query *q, uint64_t oldest_ns);

#endif /* RAWCAP_SERVER_QUERY_H */
