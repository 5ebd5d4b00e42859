// SPDX-License-Identifier: MIT
/* meta.c - msgpack maps into RAWCAP_REC_META records (see meta.h). */
#include <errno.h>
#include <string.h>

#include "meta.h"

void capd_meta_init(struct capd_meta *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

void capd_meta_reset(struct capd_meta *m)
{
	m->sb.size = 0;
}

void capd_meta_destroy(struct capd_meta *m)
{
	msgpack_sbuffer_destroy(&m->sb);
}

void capd_meta_str(struct capd_meta *m, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(&m->pk, n);
	msgpack_pack_str_body(&m->pk, s, n);
}

void capd_meta_kv_str(struct capd_meta *m, const char *k, const char *v)
{
	capd_meta_str(m, k);
	capd_meta_str(m, v);
}

void capd_meta_kv_u64(struct capd_meta *m, const char *k, uint64_t v)
{
	capd_meta_str(m, k);
	msgpack_pack_uint64(&m->pk, v);
}

int capd_meta_write(struct capd_meta *m, struct ring_writer *w, uint16_t kind, uint64_t ts_ns)
{
	void *p;

	if (m->sb.size > ring_max_payload(w)) {
		ring_count_loss(w, RAWCAP_LOSS_TRUNCATED, 1);
		return -EMSGSIZE;
	}
	p = ring_reserve(w, RAWCAP_REC_META, kind, ts_ns, (uint32_t)m->sb.size);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, m->sb.data, m->sb.size);
	return 0;
}
