// SPDX-License-Identifier: MIT
/*
 * pktwriter.c - a stand-in for capd in the reader tests: create a ring and
 * write the packets of a pcap file (or a live pcap stream on stdin, e.g.
 * `tcpdump -U -w - | pktwriter RING -`) as RAWCAP_REC_PACKET records, after
 * describing the interface in the ring's table and with an IFACE record.
 *
 * Usage: pktwriter [--size BYTES] [--ifindex N] [--ifname NAME] [--loss-after K:N]
 *                  [--now] [--storage DIR --storage-size BYTES [--fill BYTES]]
 *                  RING FILE|-
 * --loss-after K:N writes a loss record of N kernel drops after K packets;
 * --now restamps packets with the current time (for relative-time tests);
 * --storage also persists every record into a disk FIFO, as capd's persister
 * does; --fill then prints "ready", waits for a line on stdin and writes
 * BYTES of filler packets (to make the FIFO recycle), then prints "filled".
 * Prints "written N" on stdout at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ring_writer.h"
#include "seg_writer.h"

static struct seg_writer *fifo;

/* Persist the record just reserved and filled, header as the ring holds it. */
static void persist(void *payload)
{
	const struct rawcap_rec_hdr *h = (const void *)((uint8_t *)payload - sizeof(*h));
	int err;

	if (fifo && (err = seg_write_record(fifo, h, payload))) {
		fprintf(stderr, "pktwriter: persist: %s\n", strerror(-err));
		exit(1);
	}
}

static void write_iface(struct ring_writer *w, uint32_t ifindex, const char *name, int dlt,
			uint64_t ts)
{
	struct rawcap_iface ifc = {
		.ifindex = ifindex, .linktype = (uint16_t)dlt, .arphrd = 1, .mtu = 65536};
	void *p;

	snprintf(ifc.name, sizeof(ifc.name), "%s", name);
	snprintf(ifc.filter, sizeof(ifc.filter), "tcp or udp");
	if (ring_iface_set(w, &ifc))
		fprintf(stderr, "pktwriter: interface table full\n");
	p = ring_reserve(w, RAWCAP_REC_IFACE, 0, ts, sizeof(ifc));
	if (p) {
		memcpy(p, &ifc, sizeof(ifc));
		persist(p);
	}
}

static void write_loss(struct ring_writer *w, uint32_t ifindex, uint64_t n, uint64_t ts)
{
	struct rawcap_loss l = {.count = n, .cause = RAWCAP_LOSS_KERNEL_DROP, .ifindex = ifindex};
	void *p = ring_reserve(w, RAWCAP_REC_LOSS, 0, ts, sizeof(l));

	if (p) {
		memcpy(p, &l, sizeof(l));
		persist(p);
	}
	ring_count_loss(w, RAWCAP_LOSS_KERNEL_DROP, n);
}

/* Filler: Ethernet + IPv4 + UDP frames of 1400 bytes, stamped now (written, never sent). */
static void fill(struct ring_writer *w, uint32_t ifindex, uint64_t bytes)
{
	static const uint8_t hdr[42] = {
		2,    0,    0,	  0,	0,    2,    2,	  0, 0,	 0,  0, 1,
		0x08, 0x00,						   /* Ethernet */
		0x45, 0,    0x05, 0x5a, 0,    0,    0x40, 0, 64, 17, 0, 0, /* IPv4, UDP */
		198,  18,   0,	  1,	198,  18,   0,	  2,		   /* 198.18.0.1 -> .2 */
		0x30, 0x39, 0x30, 0x3a, 0x05, 0x46, 0,	  0,		   /* UDP 12345 -> 12346 */
	};
	uint64_t done = 0;

	while (done < bytes) {
		struct rawcap_pkt *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, clock_real_ns(),
						    (uint32_t)sizeof(*p) + 1400);

		memset(p, 0, sizeof(*p) + 1400);
		p->ifindex = ifindex;
		p->orig_len = 1400;
		p->linktype = 1;
		memcpy(p + 1, hdr, sizeof(hdr));
		persist(p);
		done += 1400 + 64;
		if ((done / 1464) % 256 == 0) {
			ring_publish(w);
			ring_notify(w);
		}
	}
	ring_publish(w);
	ring_notify(w);
}

int main(int argc, char **argv)
{
	struct ring_writer_opts ro = {.data_size = 64u << 20, .mode = 0644, .gid = (gid_t)-1};
	struct ring_writer w;
	char errbuf[PCAP_ERRBUF_SIZE], ifname[RAWCAP_IFNAMSIZ] = "lo";
	unsigned long long loss_k = 0, loss_n = 0, n = 0;
	struct seg_writer_opts so = {.fifo = true, .gid = -1};
	unsigned long long fill_bytes = 0;
	uint32_t ifindex = 1;
	bool restamp = false, live;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int c, err;

	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'},
		{"ifindex", required_argument, NULL, 'i'},
		{"ifname", required_argument, NULL, 'n'},
		{"loss-after", required_argument, NULL, 'l'},
		{"now", no_argument, NULL, 'N'},
		{"storage", required_argument, NULL, 'S'},
		{"storage-size", required_argument, NULL, 'Z'},
		{"fill", required_argument, NULL, 'F'},
		{0},
	};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ro.data_size = strtoull(optarg, NULL, 0);
			break;
		case 'i':
			ifindex = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			snprintf(ifname, sizeof(ifname), "%s", optarg);
			break;
		case 'l':
			if (sscanf(optarg, "%llu:%llu", &loss_k, &loss_n) != 2)
				return 2;
			break;
		case 'N':
			restamp = true;
			break;
		case 'S':
			so.dir = optarg;
			break;
		case 'Z':
			so.total_size = strtoull(optarg, NULL, 0);
			break;
		case 'F':
			fill_bytes = strtoull(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: pktwriter [opts] RING FILE|-\n");
		return 2;
	}
	ro.name = argv[optind];
	live = !strcmp(argv[optind + 1], "-");
	pc = pcap_open_offline_with_tstamp_precision(argv[optind + 1], PCAP_TSTAMP_PRECISION_NANO,
						     errbuf);
	if (!pc) {
		fprintf(stderr, "pktwriter: %s\n", errbuf);
		return 1;
	}
	err = ring_writer_create(&w, &ro);
	if (err) {
		fprintf(stderr, "pktwriter: create ring %s: %s\n", ro.name, strerror(-err));
		return 1;
	}
	if (so.dir && (err = seg_writer_open(&so, &fifo))) {
		fprintf(stderr, "pktwriter: open storage %s: %s\n", so.dir, strerror(-err));
		return 1;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		uint64_t ts =
			restamp ? clock_real_ns()
				: (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		struct rawcap_pkt *p;

		/* Like capd: the interface is described before its first packet, at that time. */
		if (n == 0)
			write_iface(&w, ifindex, ifname, pcap_datalink(pc), ts);
		p = ring_reserve(&w, RAWCAP_REC_PACKET, 0, ts, (uint32_t)sizeof(*p) + h->caplen);
		if (!p) {
			fprintf(stderr, "pktwriter: packet of %u bytes too large\n", h->caplen);
			return 1;
		}
		memset(p, 0, sizeof(*p));
		p->ifindex = ifindex;
		p->orig_len = h->len;
		p->linktype = (uint16_t)pcap_datalink(pc);
		p->dir = RAWCAP_DIR_HOST;
		memcpy(p + 1, data, h->caplen);
		persist(p);
		if (++n == loss_k && loss_n)
			write_loss(&w, ifindex, loss_n, ts);
		if (live || (n & 255) == 0) {
			ring_publish(&w);
			ring_notify(&w);
		}
	}
	ring_publish(&w);
	ring_notify(&w);
	if (fifo && (err = seg_writer_sync(fifo)))
		fprintf(stderr, "pktwriter: sync storage: %s\n", strerror(-err));
	printf("written %llu\n", n);
	if (fill_bytes) {
		char line[16];

		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		if (n == 0)
			write_iface(&w, ifindex, ifname, 1, clock_real_ns());
		fill(&w, ifindex, fill_bytes);
		if (fifo)
			seg_writer_sync(fifo);
		printf("filled\n");
	}
	if (fifo && (err = seg_writer_close(fifo))) {
		fprintf(stderr, "pktwriter: close storage: %s\n", strerror(-err));
		return 1;
	}
	pcap_close(pc);
	ring_writer_close(&w);
	return 0;
}
