// SPDX-License-Identifier: MIT
/*
 * forwarder.c - the "forwarder" object of GET/PUT /v1/dissection: what
 * rawcap-forward says it is doing (rawcap_forward_status_load(), the status
 * file it rewrites every second in the control directory), set beside the
 * state asked for. A file not rewritten for FORWARDER_STALE_S is reported
 * as stale, and a stale forwarder has applied nothing: its figures are the
 * last it published, not what happens now.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rawcap/forward.h>

#include "server.h"

#define FORWARDER_STALE_S 5

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *forwarder_error(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a forwarder status file";
	case -ELOOP:
		return "a symbolic link, not followed";
	case -EBADFD:
	case -EISDIR:
		return "not a regular file";
	case -EPERM:
		return "owned by another user";
	case -EFBIG:
		return "larger than a forwarder status file";
	default:
		return strerror(-err);
	}
}

static void forwarder_fields(cJSON *o, const struct rawcap_forward_status *fs, uint64_t now_ns)
{
	cJSON_AddNumberToObject(o, "pid", (double)fs->pid);
	cJSON_AddStringToObject(o, "state", fs->paused ? "paused" : "forwarding");
	cJSON_AddStringToObject(o, "resume",
				fs->resume == RAWCAP_FWD_RESUME_BACKLOG ? "backlog" : "live");
	server_json_time(o, "since", fs->since_ns);
	server_json_time(o, "updated", fs->updated_ns);
	server_json_u64(o, "age_ms",
			now_ns > fs->updated_ns ? (now_ns - fs->updated_ns) / 1000000 : 0);
	server_json_u64(o, "receivers", fs->receivers);
	server_json_u64(o, "packets", fs->packets);
	server_json_u64(o, "bytes", fs->bytes);
}

void server_forwarder_json(const struct server *s, cJSON *parent,
			   const struct rawcap_dissection *want)
{
	struct rawcap_forward_status fs;
	cJSON *o = cJSON_AddObjectToObject(parent, "forwarder");
	uint64_t now = real_ns();
	bool stale;
	int err;

	if (!o)
		return;
	err = rawcap_forward_status_load(s->control_dir, &fs);
	cJSON_AddBoolToObject(o, "present", !err);
	if (err) {
		cJSON_AddBoolToObject(o, "applied", false);
		if (err != -ENOENT)
			cJSON_AddStringToObject(o, "error", forwarder_error(err));
		return;
	}
	/* A clock stepped back makes updated_ns lie ahead: that is not fresh either. */
	stale = fs.updated_ns + FORWARDER_STALE_S * 1000000000ull < now ||
		fs.updated_ns > now + FORWARDER_STALE_S * 1000000000ull;
	cJSON_AddBoolToObject(o, "stale", stale);
	cJSON_AddBoolToObject(o, "applied",
			      !stale && fs.paused == !want->enabled && fs.resume == want->resume);
	forwarder_fields(o, &fs, now);
}
