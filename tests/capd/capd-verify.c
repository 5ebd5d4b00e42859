// SPDX-License-Identifier: MIT
/*
 * capd-verify.c - a librawcap reader that checks what capd captured.
 *
 * Follows a ring from its oldest record until --until-file exists (then
 * drains what is left) and prints one line of key=value figures: packets
 * and their original bytes, loss records by cause, interface records, and
 * for the UDP test payloads (payload.h) to --port: how many were exactly
 * right, duplicated, damaged, or missing from [--min-idx, --count).
 * Exit 0 when it ran; the test script judges the figures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rawcap/rawcap.h>

#include "payload.h"

struct verify {
	uint32_t port, count, min_idx;
	uint8_t *seen;
	uint64_t packets, pkt_bytes, cap_bytes, loss[16], iface_recs, meta_recs;
	uint64_t udp_ok, udp_dup, udp_bad, udp_range, other_port, non_udp;
	uint64_t vlan, dir[8];
	char iface_names[512];
};

/* The UDP payload of an Ethernet frame or raw IP packet, if any. */
static int udp_payload(const struct rawcap_pkt *pkt, const uint8_t *d, uint32_t caplen,
		       uint16_t *dport, const uint8_t **pl, uint32_t *pl_len)
{
	uint32_t off = 0, ihl, ulen;

	if (pkt->linktype == 1) {
		if (caplen < 14 || d[12] != 0x08 || d[13] != 0x00)
			return -1;
		off = 14;
	} else if (pkt->linktype != 101) {
		return -1;
	}
	if (caplen < off + 20 || (d[off] >> 4) != 4 || d[off + 9] != 17)
		return -1;
	ihl = (uint32_t)(d[off] & 15) * 4;
	if (caplen < off + ihl + 8)
		return -1;
	*dport = (uint16_t)(d[off + ihl + 2] << 8 | d[off + ihl + 3]);
	ulen = (uint32_t)(d[off + ihl + 4] << 8 | d[off + ihl + 5]);
	if (ulen < 8 || caplen < off + ihl + ulen)
		return 0;
	*pl = d + off + ihl + 8;
	*pl_len = ulen - 8;
	return 1;
}

static void verify_packet(struct verify *v, const struct rawcap_rec *rec)
{
	const uint8_t *d, *pl;
	uint32_t caplen, pl_len, idx;
	const struct rawcap_pkt *pkt = rawcap_rec_pkt(rec, &d, &caplen);
	uint16_t dport;
	int r;

	if (!pkt)
		return;
	v->packets++;
	v->pkt_bytes += pkt->orig_len;
	v->cap_bytes += caplen;
	v->dir[pkt->dir & 7]++;
	if (pkt->pkt_flags & RAWCAP_PKT_VLAN)
		v->vlan++;
	r = udp_payload(pkt, d, caplen, &dport, &pl, &pl_len);
	if (r < 0) {
		v->non_udp++;
		return;
	}
	if (dport != v->port) {
		v->other_port++;
		return;
	}
	if (r == 0 || udp_payload_check(pl, pl_len, &idx) != 1) {
		v->udp_bad++;
		return;
	}
	if (idx >= v->count) {
		v->udp_range++;
		return;
	}
	if (v->seen[idx]++)
		v->udp_dup++;
	else
		v->udp_ok++;
}

static void verify_rec(struct verify *v, const struct rawcap_rec *rec)
{
	if (rec->type == RAWCAP_REC_PACKET) {
		verify_packet(v, rec);
	} else if (rec->type == RAWCAP_REC_LOSS && rec->len >= sizeof(struct rawcap_loss)) {
		const struct rawcap_loss *l = rec->payload;

		v->loss[l->cause & 15] += l->count;
	} else if (rec->type == RAWCAP_REC_IFACE && rec->len >= sizeof(struct rawcap_iface)) {
		const struct rawcap_iface *i = rec->payload;
		size_t n = strlen(v->iface_names);

		v->iface_recs++;
		if (n + RAWCAP_IFNAMSIZ + 2 < sizeof(v->iface_names))
			snprintf(v->iface_names + n, sizeof(v->iface_names) - n, "%s%.15s",
				 n ? "," : "", i->name);
	} else if (rec->type == RAWCAP_REC_META) {
		v->meta_recs++;
	}
}

static int verify_drain(struct verify *v, struct rawcap_cursor *c, uint8_t *buf, size_t cap)
{
	struct rawcap_rec rec;
	int n = 0, r;

	while ((r = rawcap_next_copy(c, &rec, buf, cap)) != 0) {
		if (r == -EBADMSG || r == -EMSGSIZE)
			continue;
		if (r < 0)
			return r;
		verify_rec(v, &rec);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ring", required_argument, NULL, 'r'},
		{"port", required_argument, NULL, 'p'},
		{"count", required_argument, NULL, 'n'},
		{"min-idx", required_argument, NULL, 'm'},
		{"until-file", required_argument, NULL, 'u'},
		{"ready-file", required_argument, NULL, 'R'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct verify v = {.port = 9999, .count = 0};
	const char *ring = "default", *until = NULL, *ready = NULL;
	struct rawcap_cursor *c = NULL;
	struct rawcap_stats st;
	size_t cap = 512 * 1024;
	uint8_t *buf = malloc(cap);
	int timeout = 60, o, err, tries;
	uint64_t missing = 0, lost = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			ring = optarg;
			break;
		case 'p':
			v.port = (uint32_t)atoi(optarg);
			break;
		case 'n':
			v.count = (uint32_t)atoi(optarg);
			break;
		case 'm':
			v.min_idx = (uint32_t)atoi(optarg);
			break;
		case 'u':
			until = optarg;
			break;
		case 'R':
			ready = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		default:
			fprintf(stderr, "capd-verify: bad option\n");
			return 2;
		}
	}
	v.seen = calloc(v.count + 1, 1);
	/* capd may still be creating the ring. */
	for (tries = 0; tries < 100; tries++) {
		err = rawcap_open(ring, &c);
		if (err != -ENOENT)
			break;
		usleep(100000);
	}
	if (err) {
		fprintf(stderr, "capd-verify: cannot open ring %s: %s\n", ring, strerror(-err));
		return 1;
	}
	rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	for (int waited = 0; waited < timeout * 10; waited++) {
		err = verify_drain(&v, c, buf, cap);
		if (err < 0 && err != -ENODATA) {
			fprintf(stderr, "capd-verify: read: %s\n", strerror(-err));
			break;
		}
		if (until && access(until, F_OK) == 0) {
			rawcap_wait(c, 100);
			verify_drain(&v, c, buf, cap);
			break;
		}
		rawcap_wait(c, 100);
	}
	for (uint32_t i = v.min_idx; i < v.count; i++)
		missing += !v.seen[i];
	for (int i = 0; i < 16; i++)
		lost += v.loss[i];
	rawcap_get_stats(c, &st);
	printf("packets=%llu pkt_bytes=%llu cap_bytes=%llu udp_ok=%llu udp_dup=%llu udp_bad=%llu "
	       "udp_missing=%llu udp_out_of_range=%llu other_port=%llu non_udp=%llu "
	       "loss_kernel_drop=%llu loss_total=%llu iface_records=%llu meta_records=%llu "
	       "dir_host=%llu dir_outgoing=%llu vlan=%llu generations=%llu records_lost=%llu "
	       "ifaces=%s\n",
	       (unsigned long long)v.packets, (unsigned long long)v.pkt_bytes,
	       (unsigned long long)v.cap_bytes, (unsigned long long)v.udp_ok,
	       (unsigned long long)v.udp_dup, (unsigned long long)v.udp_bad,
	       (unsigned long long)missing, (unsigned long long)v.udp_range,
	       (unsigned long long)v.other_port, (unsigned long long)v.non_udp,
	       (unsigned long long)v.loss[RAWCAP_LOSS_KERNEL_DROP], (unsigned long long)lost,
	       (unsigned long long)v.iface_recs, (unsigned long long)v.meta_recs,
	       (unsigned long long)v.dir[RAWCAP_DIR_HOST],
	       (unsigned long long)v.dir[RAWCAP_DIR_OUTGOING], (unsigned long long)v.vlan,
	       (unsigned long long)st.generations, (unsigned long long)st.records_lost,
	       v.iface_names[0] ? v.iface_names : "-");
	rawcap_close(c);
	free(v.seen);
	free(buf);
	return 0;
}
