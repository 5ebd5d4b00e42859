// SPDX-License-Identifier: MIT
/*
 * ebpf_ring_dump.c - the eBPF tests' independent checker: read a ring with
 * librawcap from the oldest record to the newest and print one line per
 * record (packets with their direction and lengths, process metadata decoded
 * with msgpack-c as key=value pairs, loss notices), for the scripts to assert on.
 *
 * usage: ebpf_ring_dump RING
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>
#include <rawcap/rawcap.h>

static void print_meta(const struct rawcap_rec *rec)
{
	msgpack_unpacked u;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, rec->payload, rec->len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP) {
		printf("META-BAD\n");
		goto out;
	}
	printf("META flags=%u", rec->flags);
	for (uint32_t i = 0; i < u.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u.data.via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		printf(" %.*s=", (int)kv->key.via.str.size, kv->key.via.str.ptr);
		if (kv->val.type == MSGPACK_OBJECT_STR)
			printf("%.*s", (int)kv->val.via.str.size, kv->val.via.str.ptr);
		else if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			printf("%" PRIu64, kv->val.via.u64);
		else
			printf("?");
	}
	printf("\n");
out:
	msgpack_unpacked_destroy(&u);
}

int main(int argc, char **argv)
{
	static uint8_t buf[RAWCAP_REC_MAX];
	struct rawcap_cursor *c;
	struct rawcap_rec rec;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: ebpf_ring_dump RING\n");
		return 2;
	}
	err = rawcap_open(argv[1], &c);
	if (err) {
		fprintf(stderr, "ebpf_ring_dump: open ring %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
	while ((err = rawcap_next_copy(c, &rec, buf, sizeof(buf))) > 0) {
		const struct rawcap_pkt *p;
		const struct rawcap_loss *l;
		const uint8_t *data;
		uint32_t caplen;

		switch (rec.type) {
		case RAWCAP_REC_PACKET:
			p = rawcap_rec_pkt(&rec, &data, &caplen);
			if (!p)
				break;
			printf("PKT dir=%u if=%u len=%u cap=%u flags=%u linktype=%u cookie=%" PRIu64
			       " cgroup=%" PRIu64 " ts=%" PRIu64 "\n",
			       p->dir, p->ifindex, p->orig_len, caplen, p->pkt_flags, p->linktype,
			       p->sock_cookie, p->cgroup_id, rec.ts_ns);
			break;
		case RAWCAP_REC_META:
			print_meta(&rec);
			break;
		case RAWCAP_REC_LOSS:
			l = rec.payload;
			if (rec.len >= sizeof(*l))
				printf("LOSS cause=%u count=%" PRIu64 "\n", l->cause, l->count);
			break;
		}
	}
	rawcap_close(c);
	if (err < 0 && err != -ENODATA) {
		fprintf(stderr, "ebpf_ring_dump: read: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
