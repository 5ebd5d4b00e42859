// SPDX-License-Identifier: MIT
/*
 * k8s_json.c - Kubernetes JSON (pods, namespaces, services, EndpointSlices)
 * to rawcap metadata msgpack, for capd's watcher.
 *
 * cJSON parses each bounded input (one watch line or one list page) into a
 * tree; we pick the fields the schema names and pack them with msgpack-c.
 * Missing fields pack as empty strings/arrays/maps so every record of a kind
 * has the same keys. Lists inside an object are bounded by count and
 * strings by length; an object over a bound is rejected, never truncated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <msgpack.h>

#include <rawcap/format.h>

#include "k8s_json.h"
#include "mp_pack.h"

#define STR_MAX	       4096 /* any single string we copy */
#define IPS_MAX	       16
#define CONTAINERS_MAX 64
#define LABELS_MAX     256
#define PORTS_MAX      256
#define ENDPOINTS_MAX  1000 /* the API's own limit per EndpointSlice */
#define ADDRS_MAX      100

struct pk {
	msgpack_sbuffer sb;
	msgpack_packer p;
	uint32_t npairs;
	int err;
};

static const char *const res_names[K8S_RES_NR] = { "pod", "namespace", "service", "endpoints" };
static const uint16_t res_kinds[K8S_RES_NR] = { RAWCAP_META_POD, RAWCAP_META_NAMESPACE,
						 RAWCAP_META_SERVICE, RAWCAP_META_ENDPOINTS };

const char *k8s_res_name(enum k8s_res res)
{
	return res < K8S_RES_NR ? res_names[res] : "?";
}

uint16_t k8s_res_meta_kind(enum k8s_res res)
{
	return res < K8S_RES_NR ? res_kinds[res] : 0;
}

const char *k8s_ev_name(enum k8s_ev ev)
{
	switch (ev) {
	case K8S_EV_ADDED:
		return "added";
	case K8S_EV_MODIFIED:
		return "modified";
	case K8S_EV_DELETED:
		return "deleted";
	case K8S_EV_SYNC:
		return "sync";
	case K8S_EV_BOOKMARK:
		return "bookmark";
	case K8S_EV_ERROR:
		return "error";
	default:
		return "none";
	}
}

static cJSON *jget(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* A string field, or "" when absent or not a string. */
static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(jget(o, key));

	return s ? s : "";
}

static void pk_str(struct pk *k, const char *s)
{
	size_t n = strlen(s);

	if (n > STR_MAX) {
		k->err = -E2BIG;
		n = 0;
	}
	mp_pack_strn(&k->p, s, n);
}

/* key: string value; an empty value is left out (docs/METADATA.md: test for presence) */
static void kv_str(struct pk *k, const char *key, const char *val)
{
	if (!*val)
		return;
	pk_str(k, key);
	pk_str(k, val);
	k->npairs++;
}

static void kv_key(struct pk *k, const char *key)
{
	pk_str(k, key);
	k->npairs++;
}

/* Count the elements of an array (0 if not an array), rejecting more than max. */
static int arr_len(struct pk *k, const cJSON *a, int max)
{
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;

	if (n > max) {
		k->err = -E2BIG;
		return 0;
	}
	return n;
}

/* A map of string to string (labels, selectors); non-string values are skipped. */
static void pk_strmap(struct pk *k, const cJSON *m)
{
	const cJSON *e;
	int n = 0;

	if (cJSON_IsObject(m))
		cJSON_ArrayForEach(e, m)
			n += cJSON_IsString(e);
	if (n > LABELS_MAX) {
		k->err = -E2BIG;
		n = 0;
	}
	msgpack_pack_map(&k->p, n);
	if (!n)
		return;
	cJSON_ArrayForEach(e, m)
		if (cJSON_IsString(e) && e->string) {
			pk_str(k, e->string);
			pk_str(k, e->valuestring);
		}
}

/* An array of strings; non-strings pack as "". */
static void pk_strarr(struct pk *k, const cJSON *a, int max)
{
	int n = arr_len(k, a, max);
	const cJSON *e;

	msgpack_pack_array(&k->p, n);
	if (!n)
		return;
	cJSON_ArrayForEach(e, a)
		pk_str(k, cJSON_IsString(e) ? e->valuestring : "");
}

static void pk_int(struct pk *k, const cJSON *n)
{
	/* ports and codes: anything not a sane integer packs as 0 */
	if (cJSON_IsNumber(n) && n->valuedouble >= -2147483648.0 && n->valuedouble <= 4294967295.0)
		msgpack_pack_int64(&k->p, (int64_t)n->valuedouble);
	else
		msgpack_pack_int64(&k->p, 0);
}

static void pk_meta(struct pk *k, const cJSON *md, bool namespaced)
{
	kv_str(k, "uid", jstr(md, "uid"));
	kv_str(k, "rv", jstr(md, "resourceVersion"));
	if (namespaced)
		kv_str(k, "namespace", jstr(md, "namespace"));
	kv_str(k, "name", jstr(md, "name"));
	kv_key(k, "labels");
	pk_strmap(k, jget(md, "labels"));
}

/* status.podIPs[].ip, or status.podIP for old API servers. */
static void pk_pod_ips(struct pk *k, const cJSON *status)
{
	const cJSON *ips = jget(status, "podIPs"), *e;
	const char *one = jstr(status, "podIP");
	int n = arr_len(k, ips, IPS_MAX);

	kv_key(k, "ips");
	if (!n) {
		msgpack_pack_array(&k->p, *one ? 1 : 0);
		if (*one)
			pk_str(k, one);
		return;
	}
	msgpack_pack_array(&k->p, n);
	cJSON_ArrayForEach(e, ips)
		pk_str(k, jstr(e, "ip"));
}

/* The id of container name from status.containerStatuses, or "". */
static const char *container_id(const cJSON *statuses, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, statuses)
		if (!strcmp(jstr(e, "name"), name))
			return jstr(e, "containerID");
	return "";
}

static void pk_containers(struct pk *k, const cJSON *spec, const cJSON *status)
{
	const cJSON *cs = jget(spec, "containers"), *st = jget(status, "containerStatuses");
	const cJSON *e;
	int n = arr_len(k, cs, CONTAINERS_MAX);

	if (!cJSON_IsArray(st) || cJSON_GetArraySize(st) > CONTAINERS_MAX)
		st = NULL;
	kv_key(k, "containers");
	msgpack_pack_array(&k->p, n);
	if (!n)
		return;
	cJSON_ArrayForEach(e, cs) {
		const char *name = jstr(e, "name"), *id = st ? container_id(st, name) : "";

		msgpack_pack_map(&k->p, 2 + !!*id);
		pk_str(k, "name");
		pk_str(k, name);
		if (*id) { /* absent until the container was created */
			pk_str(k, "id");
			pk_str(k, id);
		}
		pk_str(k, "image");
		pk_str(k, jstr(e, "image"));
	}
}

static void conv_pod(struct pk *k, const cJSON *o)
{
	const cJSON *spec = jget(o, "spec"), *status = jget(o, "status");

	pk_meta(k, jget(o, "metadata"), true);
	kv_str(k, "node", jstr(spec, "nodeName"));
	kv_str(k, "phase", jstr(status, "phase"));
	kv_key(k, "host_network");
	if (cJSON_IsTrue(jget(spec, "hostNetwork")))
		msgpack_pack_true(&k->p);
	else
		msgpack_pack_false(&k->p);
	pk_pod_ips(k, status);
	pk_containers(k, spec, status);
}

static void conv_namespace(struct pk *k, const cJSON *o)
{
	pk_meta(k, jget(o, "metadata"), false);
	kv_str(k, "phase", jstr(jget(o, "status"), "phase"));
}

static void pk_service_port(struct pk *k, const cJSON *p)
{
	const cJSON *tp = jget(p, "targetPort"), *np = jget(p, "nodePort");
	const char *name = jstr(p, "name");
	bool has_tp = cJSON_IsString(tp) || cJSON_IsNumber(tp), has_np = cJSON_IsNumber(np);

	msgpack_pack_map(&k->p, 2 + !!*name + has_tp + has_np);
	if (*name) { /* only a service's single port may be unnamed */
		pk_str(k, "name");
		pk_str(k, name);
	}
	pk_str(k, "protocol");
	pk_str(k, jstr(p, "protocol"));
	pk_str(k, "port");
	pk_int(k, jget(p, "port"));
	if (has_tp) {
		pk_str(k, "target_port"); /* a number or a named port */
		if (cJSON_IsString(tp))
			pk_str(k, tp->valuestring);
		else
			pk_int(k, tp);
	}
	if (has_np) {
		pk_str(k, "node_port");
		pk_int(k, np);
	}
}

static void conv_service(struct pk *k, const cJSON *o)
{
	const cJSON *spec = jget(o, "spec"), *ports = jget(spec, "ports"), *e;
	const cJSON *ips = jget(spec, "clusterIPs");
	const char *ip = jstr(spec, "clusterIP");
	int n;

	pk_meta(k, jget(o, "metadata"), true);
	kv_str(k, "type", jstr(spec, "type"));
	kv_key(k, "cluster_ips");
	if (cJSON_IsArray(ips)) {
		pk_strarr(k, ips, IPS_MAX);
	} else {
		bool has = *ip && strcmp(ip, "None");

		msgpack_pack_array(&k->p, has);
		if (has)
			pk_str(k, ip);
	}
	kv_key(k, "selector");
	pk_strmap(k, jget(spec, "selector"));
	kv_key(k, "ports");
	n = arr_len(k, ports, PORTS_MAX);
	msgpack_pack_array(&k->p, n);
	if (n)
		cJSON_ArrayForEach(e, ports)
			pk_service_port(k, e);
}

static void pk_endpoint(struct pk *k, const cJSON *ep)
{
	const cJSON *ref = jget(ep, "targetRef"), *cond = jget(ep, "conditions");
	const cJSON *ready = jget(cond, "ready");
	bool is_pod = !strcmp(jstr(ref, "kind"), "Pod");
	const char *node = jstr(ep, "nodeName");

	msgpack_pack_map(&k->p, 2 + !!*node + is_pod);
	pk_str(k, "addresses");
	pk_strarr(k, jget(ep, "addresses"), ADDRS_MAX);
	pk_str(k, "ready"); /* unknown readiness means ready, as the API documents */
	if (cJSON_IsFalse(ready))
		msgpack_pack_false(&k->p);
	else
		msgpack_pack_true(&k->p);
	if (*node) {
		pk_str(k, "node");
		pk_str(k, node);
	}
	if (!is_pod)
		return;
	pk_str(k, "pod");
	msgpack_pack_map(&k->p, 3);
	pk_str(k, "namespace");
	pk_str(k, jstr(ref, "namespace"));
	pk_str(k, "name");
	pk_str(k, jstr(ref, "name"));
	pk_str(k, "uid");
	pk_str(k, jstr(ref, "uid"));
}

static void conv_endpoints(struct pk *k, const cJSON *o)
{
	const cJSON *md = jget(o, "metadata"), *ports = jget(o, "ports"), *eps, *e;
	int n;

	pk_meta(k, md, true);
	kv_str(k, "service", jstr(jget(md, "labels"), "kubernetes.io/service-name"));
	kv_str(k, "address_type", jstr(o, "addressType"));
	kv_key(k, "ports");
	n = arr_len(k, ports, PORTS_MAX);
	msgpack_pack_array(&k->p, n);
	if (n)
		cJSON_ArrayForEach(e, ports) {
			const char *name = jstr(e, "name");

			msgpack_pack_map(&k->p, 2 + !!*name);
			if (*name) {
				pk_str(k, "name");
				pk_str(k, name);
			}
			pk_str(k, "protocol");
			pk_str(k, jstr(e, "protocol"));
			pk_str(k, "port");
			pk_int(k, jget(e, "port"));
		}
	kv_key(k, "endpoints");
	eps = jget(o, "endpoints");
	n = arr_len(k, eps, ENDPOINTS_MAX);
	msgpack_pack_array(&k->p, n);
	if (n)
		cJSON_ArrayForEach(e, eps)
			pk_endpoint(k, e);
}

static void copy_str(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		n = cap - 1; /* ids longer than this are not valid Kubernetes ids */
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* Convert one API object of resource res into obj's body. */
static int conv_object(enum k8s_res res, const cJSON *o, const struct k8s_json_limits *lim,
		       struct k8s_obj *obj)
{
	const cJSON *md = jget(o, "metadata");
	struct pk k = { .npairs = 0, .err = 0 };

	if (!cJSON_IsObject(md) || !*jstr(md, "uid"))
		return -EBADMSG;
	copy_str(obj->uid, sizeof(obj->uid), jstr(md, "uid"));
	copy_str(obj->rv, sizeof(obj->rv), jstr(md, "resourceVersion"));
	msgpack_sbuffer_init(&k.sb);
	msgpack_packer_init(&k.p, &k.sb, msgpack_sbuffer_write);
	switch (res) {
	case K8S_RES_POD:
		conv_pod(&k, o);
		break;
	case K8S_RES_NAMESPACE:
		conv_namespace(&k, o);
		break;
	case K8S_RES_SERVICE:
		conv_service(&k, o);
		break;
	case K8S_RES_ENDPOINTS:
		conv_endpoints(&k, o);
		break;
	default:
		k.err = -EINVAL;
	}
	if (!k.err && (!k.sb.data || k.sb.size + 64 > lim->max_record))
		k.err = k.sb.data ? -E2BIG : -ENOMEM;
	if (k.err) {
		msgpack_sbuffer_destroy(&k.sb);
		return k.err;
	}
	obj->res = res;
	obj->npairs = k.npairs;
	obj->body_len = k.sb.size;
	obj->body = (uint8_t *)msgpack_sbuffer_release(&k.sb);
	return 0;
}

static enum k8s_ev ev_parse(const char *t)
{
	static const struct {
		const char *name;
		enum k8s_ev ev;
	} map[] = { { "ADDED", K8S_EV_ADDED },
		    { "MODIFIED", K8S_EV_MODIFIED },
		    { "DELETED", K8S_EV_DELETED },
		    { "BOOKMARK", K8S_EV_BOOKMARK },
		    { "ERROR", K8S_EV_ERROR } };

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(t, map[i].name))
			return map[i].ev;
	return K8S_EV_NONE;
}

int k8s_json_event(enum k8s_res res, const char *line, size_t len,
		   const struct k8s_json_limits *lim, struct k8s_obj *obj)
{
	cJSON *root, *o;
	int err = 0;

	memset(obj, 0, sizeof(*obj));
	if (len > lim->max_line)
		return -E2BIG;
	root = cJSON_ParseWithLength(line, len);
	if (!root)
		return -EBADMSG;
	o = jget(root, "object");
	obj->res = res;
	obj->ev = ev_parse(jstr(root, "type"));
	if (!cJSON_IsObject(o) || obj->ev == K8S_EV_NONE) {
		err = -EBADMSG;
	} else if (obj->ev == K8S_EV_BOOKMARK) {
		copy_str(obj->rv, sizeof(obj->rv), jstr(jget(o, "metadata"), "resourceVersion"));
		if (!obj->rv[0])
			err = -EBADMSG;
	} else if (obj->ev == K8S_EV_ERROR) {
		const cJSON *code = jget(o, "code");

		obj->err_code = cJSON_IsNumber(code) ? code->valueint : 0;
	} else {
		err = conv_object(res, o, lim, obj);
	}
	cJSON_Delete(root);
	return err;
}

int k8s_json_item(enum k8s_res res, const char *json, size_t len, const struct k8s_json_limits *lim,
		  struct k8s_obj *obj)
{
	cJSON *root;
	int err;

	memset(obj, 0, sizeof(*obj));
	if (len > lim->max_line)
		return -E2BIG;
	root = cJSON_ParseWithLength(json, len);
	if (!root)
		return -EBADMSG;
	err = conv_object(res, root, lim, obj);
	cJSON_Delete(root);
	obj->ev = K8S_EV_ADDED;
	return err;
}

int k8s_json_list_meta(const char *json, size_t len, char *rv, size_t rv_len, char *cont,
		       size_t cont_len)
{
	cJSON *md = cJSON_ParseWithLength(json, len);
	const char *c = jstr(md, "continue");
	int err = 0;

	if (!cJSON_IsObject(md) || strlen(c) >= cont_len)
		err = -EBADMSG; /* a cut token would continue another list */
	else {
		copy_str(rv, rv_len, jstr(md, "resourceVersion"));
		copy_str(cont, cont_len, c);
	}
	cJSON_Delete(md);
	return err;
}

int k8s_record_build(const struct k8s_obj *obj, enum k8s_ev ev, size_t max_record,
		     uint8_t **out, size_t *out_len)
{
	msgpack_sbuffer sb;
	msgpack_packer p;
	const char *kind = k8s_res_name(obj->res), *evn = k8s_ev_name(ev);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, obj->npairs + 3);
	msgpack_pack_str_with_body(&p, "v", 1);
	msgpack_pack_uint32(&p, K8S_SCHEMA_VERSION);
	msgpack_pack_str_with_body(&p, "kind", 4);
	msgpack_pack_str_with_body(&p, kind, strlen(kind));
	msgpack_pack_str_with_body(&p, "event", 5);
	msgpack_pack_str_with_body(&p, evn, strlen(evn));
	msgpack_sbuffer_write(&sb, (const char *)obj->body, obj->body_len);
	if (!sb.data) {
		msgpack_sbuffer_destroy(&sb);
		return -ENOMEM;
	}
	if (sb.size > max_record) {
		msgpack_sbuffer_destroy(&sb);
		return -E2BIG;
	}
	*out_len = sb.size;
	*out = (uint8_t *)msgpack_sbuffer_release(&sb);
	return 0;
}

void k8s_obj_free(struct k8s_obj *obj)
{
	free(obj->body);
	obj->body = NULL;
}
