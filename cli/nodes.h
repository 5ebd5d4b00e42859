/* SPDX-License-Identifier: MIT */
/*
 * nodes.h - what the JSON commands (bounds, snapshot, dissection) share:
 * one request to every node at once, the answers' fields read with care,
 * and aligned tables for the terminal.
 */
#ifndef RAWCAP_CLI_NODES_H
#define RAWCAP_CLI_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "http.h"
#include "transport.h"

/* A request per node: reqs[i] for t->nodes[i]. */
struct fanout {
	struct transport t;
	struct http h;
	struct http_req *reqs;
	bool have_http;
};

/*
 * Open the transport and send method path (body may be NULL) to every
 * reachable node, then wait for every answer. 0, or an exit code after
 * saying why on stderr (no nodes at all, out of memory).
 */
int fanout_run(struct fanout *f, struct cli *c, const char *method, const char *path,
	       const char *body);
/* Send another request to the nodes listed (want[i]); wait. */
int fanout_again(struct fanout *f, const bool *want, const char *method, const char *path,
		 const char *body);
/* Why node i failed (unreachable, HTTP error), or NULL; a 404 counts only if !allow_404. */
const char *fanout_failure(struct fanout *f, size_t i, bool allow_404, char *buf, size_t cap);
/* A 2xx answer's JSON object, which must hold key (its kind tells a node's answer from
   anything else); NULL with *why set (into buf) when it failed or is not such an answer. */
cJSON *fanout_json(struct fanout *f, size_t i, const char *key, int kind, const char **why,
		   char *buf, size_t cap);
void fanout_free(struct fanout *f);

/* Fields of an answer: printable strings only, numbers >= 0. */
const char *json_str(const cJSON *o, const char *key); /* NULL if absent or not a string */
bool json_u64(const cJSON *o, const char *key, uint64_t *out);
/* A time field given as RFC 3339 (KEY), exact to the nanosecond. */
bool json_time(const cJSON *o, const char *key, uint64_t *ns);

/* "1h2m3.5s", "250ms" */
void fmt_span(uint64_t ns, char *buf, size_t cap);
/* "12.3 MB", "512 B" */
void fmt_bytes(uint64_t n, char *buf, size_t cap);

/* A table of strings printed with aligned columns. */
struct table {
	size_t ncols, nrows;
	char **cells;
};

int table_row(struct table *tb, size_t ncols, ...); /* ncols const char * */
void table_print(const struct table *tb, FILE *f);
void table_free(struct table *tb);

#endif
