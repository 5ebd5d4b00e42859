// SPDX-License-Identifier: MIT
/*
 * node.c - GET /v1/node (what this node holds: the data boundaries of ring
 * and disk FIFO together, counters, loss by cause, whether capd runs),
 * GET /healthz and GET /metrics (requests by endpoint and code, bytes
 * streamed, exports running).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawcap/format.h>
#include <rawcap/forward.h>
#include <rawcap/rawcap.h>
#include <rawcap/window.h>

#include "server.h"

static const char *const writer_state_names[] = {
	[RAWCAP_WRITER_RUNNING] = "running", [RAWCAP_WRITER_STOPPED] = "stopped",
	[RAWCAP_WRITER_GONE] = "gone",	     [RAWCAP_WRITER_HUNG] = "hung",
	[RAWCAP_WRITER_RETIRED] = "retired",
};

/* Bytes in the regular files directly inside dir (the disk FIFO's segments). */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;
	struct stat st;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	closedir(d);
	return sum;
}

static void node_loss(cJSON *o, const struct rawcap_ring_info *ri)
{
	cJSON *loss = cJSON_AddObjectToObject(o, "loss");

	/* cause 0 is a reader's own loss, never counted in the ring header */
	for (uint32_t c = 1; c < 16; c++)
		if (rawcap_loss_cause_name(c))
			server_json_u64(loss, rawcap_loss_cause_name(c), ri->loss[c]);
}

/* The dissection switch in force, or null without --control-dir or when it cannot be read. */
static void node_dissection(cJSON *o, const struct server *s)
{
	struct rawcap_dissection st;

	if (!s->control_dir || server_dissection_state(s, &st))
		cJSON_AddNullToObject(o, "dissection");
	else
		server_dissection_json(cJSON_AddObjectToObject(o, "dissection"), &st);
}

static void node_capd(cJSON *o, struct rawcap_cursor *c, const struct rawcap_ring_info *ri)
{
	cJSON *capd = cJSON_AddObjectToObject(o, "capd");
	uint64_t silent = 0;
	int st = rawcap_writer_state(c, &silent);
	char why[160];

	cJSON_AddBoolToObject(capd, "running", st == RAWCAP_WRITER_RUNNING);
	cJSON_AddStringToObject(capd, "state",
				st >= 0 && st <= RAWCAP_WRITER_RETIRED ? writer_state_names[st]
								       : "unknown");
	cJSON_AddStringToObject(capd, "detail",
				rawcap_writer_describe(st, silent, why, sizeof(why)));
	server_json_u64(capd, "pid", ri->writer_pid);
	server_json_u64(capd, "heartbeat_age_ms", silent / 1000000);
}

/* The data boundaries: ring and disk FIFO together. */
static void node_bounds(cJSON *o, const struct server *s)
{
	struct rawcap_window_opts w = {.sz = sizeof(w), .ring = s->ring, .storage_dir = s->storage};
	uint64_t oldest = 0, newest = 0;

	if (rawcap_window_bounds(&w, &oldest, &newest))
		oldest = newest = 0;
	server_json_time(o, "oldest", oldest);
	server_json_time(o, "newest", newest);
}

static cJSON *node_json(struct server *s, struct rawcap_cursor *c)
{
	struct rawcap_ring_info ri;
	cJSON *o = cJSON_CreateObject(), *st;

	if (!o || rawcap_ring_info(c, &ri)) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "node", s->node);
	cJSON_AddStringToObject(o, "ring", s->ring);
	server_json_u64(o, "generation", ri.generation);
	cJSON_AddStringToObject(o, "version", rawcap_version());
	node_bounds(o, s);
	server_json_u64(o, "packets", ri.packets);
	server_json_u64(o, "bytes", ri.packet_bytes);
	node_loss(o, &ri);
	node_capd(o, c, &ri);
	node_dissection(o, s);
	if (!s->storage) {
		cJSON_AddNullToObject(o, "storage");
	} else {
		st = cJSON_AddObjectToObject(o, "storage");
		cJSON_AddStringToObject(st, "dir", s->storage);
		server_json_u64(st, "size", dir_bytes(s->storage));
	}
	return o;
}

int server_node_get(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	struct rawcap_open_opts oo = {.sz = sizeof(oo), .ring = s->ring};
	struct rawcap_cursor *c;
	char why[320];
	cJSON *o;
	int err = rawcap_open_opts(&oo, &c);

	if (err)
		return server_reply_error(req, 503, "no_ring", "%s",
					  rawcap_ring_explain(s->ring, err, why, sizeof(why)));
	o = node_json(s, c);
	rawcap_close(c);
	return o ? server_reply_json(req, 200, o) : -ENOMEM;
}

int server_healthz_get(void *arg, struct httpd_req *req)
{
	(void)arg;
	return httpd_reply_text(req, 200, "ok\n");
}

void server_count_answer(void *arg, const struct httpd_route *route, unsigned status)
{
	struct server *s = arg;
	const char *ep = route ? route->path : "other";
	unsigned i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->ncounts; i++)
		if (s->counts[i].code == status && !strcmp(s->counts[i].endpoint, ep))
			break;
	if (i == s->ncounts && i < SERVER_MAX_COUNTS)
		s->counts[s->ncounts++] = (struct server_count){.endpoint = ep, .code = status};
	if (i < s->ncounts)
		s->counts[i].n++;
	pthread_mutex_unlock(&s->lock);
}

int server_metrics_get(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	struct httpd_stats st;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	httpd_get_stats(s->h, &st);
	fprintf(f, "# HELP rawcap_server_requests_total Requests answered, by endpoint and "
		   "status code.\n# TYPE rawcap_server_requests_total counter\n");
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->ncounts; i++)
		fprintf(f, "rawcap_server_requests_total{endpoint=\"%s\",code=\"%u\"} %llu\n",
			s->counts[i].endpoint, s->counts[i].code,
			(unsigned long long)s->counts[i].n);
	pthread_mutex_unlock(&s->lock);
	fprintf(f,
		"# HELP rawcap_server_bytes_streamed_total Body bytes of pcap downloads sent.\n"
		"# TYPE rawcap_server_bytes_streamed_total counter\n"
		"rawcap_server_bytes_streamed_total %llu\n"
		"# HELP rawcap_server_exports_running pcap exports running now.\n"
		"# TYPE rawcap_server_exports_running gauge\n"
		"rawcap_server_exports_running %d\n",
		(unsigned long long)st.streamed_bytes,
		__atomic_load_n(&s->exports, __ATOMIC_RELAXED));
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	return httpd_reply_take(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
