// SPDX-License-Identifier: MIT
/*
 * dissection.c - GET/PUT /v1/dissection: the dissection switch that
 * rawcap-forward follows (rawcap_dissection_load/store(), a file in
 * --control-dir on a volume the two share). Capture is never touched; the
 * forwarder sees a change within a second and survives restarts in the
 * state the file gives. No file yet: the state of --dissection on|off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rawcap/forward.h>

#include "server.h"

/* The state in force: the file's, or the initial one while there is none. */
int server_dissection_state(const struct server *s, struct rawcap_dissection *st)
{
	int err = rawcap_dissection_load(s->control_dir, st);

	if (err == -ENOENT) {
		*st = (struct rawcap_dissection){.enabled = s->dissection_initial,
						 .resume = RAWCAP_FWD_RESUME_LIVE};
		return 0;
	}
	return err;
}

void server_dissection_json(cJSON *o, const struct rawcap_dissection *st)
{
	cJSON_AddBoolToObject(o, "enabled", st->enabled);
	cJSON_AddStringToObject(o, "resume",
				st->resume == RAWCAP_FWD_RESUME_BACKLOG ? "backlog" : "live");
}

static int dissection_reply(struct server *s, struct httpd_req *req)
{
	struct rawcap_dissection st;
	cJSON *o;
	int err = server_dissection_state(s, &st);

	if (err)
		return server_reply_error(req, 500, "internal", "reading %s/%s: %s", s->control_dir,
					  RAWCAP_DISSECTION_FILE,
					  err == -EINVAL ? "not a dissection switch file"
							 : strerror(-err));
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	server_dissection_json(o, &st);
	server_forwarder_json(s, o, &st);
	return server_reply_json(req, 200, o);
}

static int no_control(struct httpd_req *req)
{
	return server_reply_error(req, 404, "not_found",
				  "this server has no dissection switch (started without "
				  "--control-dir)");
}

int server_dissection_get(void *arg, struct httpd_req *req)
{
	struct server *s = arg;

	return s->control_dir ? dissection_reply(s, req) : no_control(req);
}

/* {"enabled": bool, "resume": "live"|"backlog"} into st; "resume" defaults to live. */
static const char *dissection_parse(const char *text, size_t len, struct rawcap_dissection *st,
				    char *detail, size_t dlen)
{
	static const char *const keys[] = {"enabled", "resume"};
	cJSON *body = server_json_parse(text, len);
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(body, "enabled");
	const cJSON *re = cJSON_GetObjectItemCaseSensitive(body, "resume");
	const char *why = NULL;

	st->resume = RAWCAP_FWD_RESUME_LIVE;
	if (!cJSON_IsObject(body))
		why = SERVER_JSON_BAD;
	else if (server_json_keys(body, keys, 2, detail, dlen))
		why = detail;
	else if (!cJSON_IsBool(en))
		why = "\"enabled\" must be true or false";
	else if (re && !(cJSON_IsString(re) &&
			 (!strcmp(re->valuestring, "live") || !strcmp(re->valuestring, "backlog"))))
		why = "\"resume\" must be \"live\" or \"backlog\"";
	else {
		st->enabled = cJSON_IsTrue(en);
		if (re && !strcmp(re->valuestring, "backlog"))
			st->resume = RAWCAP_FWD_RESUME_BACKLOG;
	}
	cJSON_Delete(body);
	return why;
}

int server_dissection_put(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	struct rawcap_dissection st;
	size_t len;
	const char *body = httpd_req_body(req, &len), *why;
	char detail[128];
	int err;

	if (!s->control_dir)
		return no_control(req);
	why = dissection_parse(body ? body : "", len, &st, detail, sizeof(detail));
	if (why)
		return server_reply_error(req, 400, "bad_body", "%s", why);
	pthread_mutex_lock(&s->lock);
	err = rawcap_dissection_store(s->control_dir, &st);
	pthread_mutex_unlock(&s->lock);
	if (err)
		return server_reply_error(req, 500, "internal", "writing %s/%s: %s", s->control_dir,
					  RAWCAP_DISSECTION_FILE, strerror(-err));
	fprintf(stderr, SERVER_PROG ": dissection %s (resume %s)\n", st.enabled ? "on" : "off",
		st.resume == RAWCAP_FWD_RESUME_BACKLOG ? "backlog" : "live");
	return dissection_reply(s, req);
}
