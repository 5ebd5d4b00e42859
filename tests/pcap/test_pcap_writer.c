// SPDX-License-Identifier: MIT
/*
 * test_pcap_writer.c - the pcap/pcapng writer, block by block: what a
 * reader of the file depends on (magics, block lengths, link types, drop
 * counts, the SLL fallback for mixed link types, empty files, loss after
 * the last packet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <rawcap/pcap.h>

static uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x08, 0x00, 0x45};
static uint8_t rawip[20] = {0x45, 0, 0, 20};

static size_t read_all(int fd, uint8_t *buf, size_t cap)
{
	off_t end = lseek(fd, 0, SEEK_END);

	assert_true(end >= 0 && (size_t)end <= cap);
	assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
	return (size_t)end;
}

static struct rawcap_iface iface(uint32_t ifindex, uint16_t lt, const char *name)
{
	struct rawcap_iface i = {.ifindex = ifindex, .linktype = lt, .arphrd = 1};

	snprintf(i.name, sizeof(i.name), "%s", name);
	return i;
}

static void write_pkt(struct rawcap_pcap *w, uint32_t ifindex, uint16_t lt, const uint8_t *d,
		      uint32_t len, uint8_t dir)
{
	struct rawcap_pkt p = {.ifindex = ifindex, .orig_len = len, .linktype = lt, .dir = dir};
	struct rawcap_pcap_pkt pp = {
		.ts_ns = 1790000000123456789ull, .pkt = &p, .data = d, .caplen = len};

	assert_int_equal(rawcap_pcap_write(w, &pp), 0);
}

/* Walk pcapng blocks: each block's two length fields agree and the file ends on a block. */
static void should_write_well_formed_pcapng_with_drop_count(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = iface(3, 1, "eth0");
	struct rawcap_pcap *w;
	static uint8_t buf[1 << 16];
	size_t len, off = 0;
	unsigned types[16], n = 0;
	bool drop_seen = false;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &i1), 0);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_OUTGOING);
	rawcap_pcap_note_loss(w, 3, 7);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_close(w), 0);
	len = read_all(fd, buf, sizeof(buf));
	while (off + 12 <= len) {
		uint32_t type, blen, tail;

		memcpy(&type, buf + off, 4);
		memcpy(&blen, buf + off + 4, 4);
		assert_true(blen % 4 == 0 && off + blen <= len);
		memcpy(&tail, buf + off + blen - 4, 4);
		assert_int_equal(blen, tail);
		if (type == 6 && memmem(buf + off, blen, "\x04\x00\x08\x00\x07\x00\x00\x00", 8))
			drop_seen = true;
		types[n++] = type;
		off += blen;
	}
	assert_int_equal(off, len);
	assert_int_equal(n, 5); /* SHB IDB EPB EPB ISB */
	assert_int_equal(types[0], 0x0A0D0D0A);
	assert_int_equal(types[1], 1);
	assert_int_equal(types[2], 6);
	assert_int_equal(types[4], 5);
	assert_true(drop_seen);
	close(fd);
}

static uint32_t classic_linktype(int fd)
{
	uint8_t buf[24];
	uint32_t magic, lt;

	assert_int_equal(pread(fd, buf, 24, 0), 24);
	memcpy(&magic, buf, 4);
	assert_int_equal(magic, 0xA1B23C4D);
	memcpy(&lt, buf + 20, 4);
	return lt;
}

static void should_keep_link_type_when_all_interfaces_share_it(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_CLASSIC};
	struct rawcap_iface i1 = iface(3, 1, "eth0"), i2 = iface(4, 1, "eth1");
	struct rawcap_pcap *w;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	rawcap_pcap_add_iface(w, &i2);
	write_pkt(w, 4, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(classic_linktype(fd), 1);
	assert_int_equal(lseek(fd, 0, SEEK_END), 24 + 16 + sizeof(frame));
	close(fd);
}

/*
 * An Ethernet packet out of eth0 (3) and a raw IP one into tun0 (9), into a
 * file of format fmt and link type rule lt: returns the file (a memfd).
 */
static int write_mixed(enum rawcap_pcap_format fmt, uint16_t lt)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = fmt, .linktype = lt};
	struct rawcap_iface i1 = iface(3, 1, "eth0"), i2 = iface(9, 101, "tun0");
	struct rawcap_pcap *w;

	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	rawcap_pcap_add_iface(w, &i2);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_OUTGOING);
	write_pkt(w, 9, 101, rawip, sizeof(rawip), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_skipped(w), 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	return fd;
}

/* write_mixed() as classic pcap: the whole file into buf, its size. */
static size_t write_mixed_classic(uint16_t lt, uint8_t *buf, size_t cap)
{
	int fd = write_mixed(RAWCAP_PCAP_CLASSIC, lt);
	size_t len = read_all(fd, buf, cap);

	close(fd);
	return len;
}

static void should_use_sll_for_mixed_link_types(void **state)
{
	uint8_t buf[256];
	uint32_t lt;

	(void)state;
	/* Each record: its SLL header (16) + the frame without its Ethernet header (46). */
	assert_int_equal(write_mixed_classic(RAWCAP_PCAP_LT_AUTO, buf, sizeof(buf)),
			 24 + 16 + 16 + 46 + 16 + 16 + 20);
	memcpy(&lt, buf + 20, 4);
	assert_int_equal(lt, 113);
	assert_memory_equal(buf + 40, "\x00\x04", 2);	   /* packet type: outgoing */
	assert_memory_equal(buf + 40 + 4, "\x00\x06", 2);  /* address length */
	assert_memory_equal(buf + 40 + 6, frame + 6, 6);   /* source MAC */
	assert_memory_equal(buf + 40 + 14, "\x08\x00", 2); /* protocol: IPv4 */
	assert_memory_equal(buf + 40 + 16, frame + 14, 46);
	assert_memory_equal(buf + 24 + 16 + 62 + 16 + 14, "\x08\x00", 2); /* raw IPv4 */
}

static void should_keep_the_ifindex_with_sll2_on_request(void **state)
{
	uint8_t buf[256];
	uint32_t lt, ifindex;

	(void)state;
	/* Each record: its SLL2 header (20) + the frame without its Ethernet header (46). */
	assert_int_equal(write_mixed_classic(RAWCAP_LINKTYPE_SLL2, buf, sizeof(buf)),
			 24 + 16 + 20 + 46 + 16 + 20 + 20);
	memcpy(&lt, buf + 20, 4);
	assert_int_equal(lt, 276);
	assert_memory_equal(buf + 40, "\x08\x00", 2); /* protocol: IPv4 */
	memcpy(&ifindex, buf + 44, 4);
	assert_int_equal(ifindex, __builtin_bswap32(3));
	assert_int_equal(buf[40 + 10], RAWCAP_DIR_OUTGOING);
	assert_memory_equal(buf + 40 + 20, frame + 14, 46);
	memcpy(&ifindex, buf + 24 + 16 + 66 + 16 + 4, 4);
	assert_int_equal(ifindex, __builtin_bswap32(9));
}

static void should_truncate_to_snaplen(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_CLASSIC, .snaplen = 32};
	struct rawcap_pcap *w;
	uint32_t rec[4];

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(pread(fd, rec, 16, 24), 16);
	assert_int_equal(rec[1], 123456789);
	assert_int_equal(rec[2], 32);
	assert_int_equal(rec[3], sizeof(frame));
	close(fd);
}

/* capd's -s 40: the header and the IDB announce 40, as tcpdump -s 40 would. */
static void should_announce_the_snaplen_capd_kept(void **state)
{
	struct rawcap_iface i1 = iface(3, 1, "eth0");
	uint32_t hdr[6], idb[4];

	(void)state;
	i1.snaplen_kb = rawcap_iface_snap_encode(40);
	assert_int_equal(rawcap_iface_snaplen(&i1), 40);
	for (int f = 0; f < 2; f++) {
		int fd = memfd_create("t", 0);
		struct rawcap_pcap_opts o = {
			.sz = sizeof(o), .format = f ? RAWCAP_PCAP_PCAPNG : RAWCAP_PCAP_CLASSIC};
		struct rawcap_pcap *w;

		assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
		assert_int_equal(rawcap_pcap_add_iface(w, &i1), 0);
		write_pkt(w, 3, 1, frame, 40, RAWCAP_DIR_HOST);
		assert_int_equal(rawcap_pcap_close(w), 0);
		if (!f) {
			assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
			assert_int_equal(hdr[4], 40);
		} else {
			assert_int_equal(pread(fd, hdr, 8, 0), 8); /* the SHB, then the IDB */
			assert_int_equal(pread(fd, idb, sizeof(idb), hdr[1]), sizeof(idb));
			assert_int_equal(idb[0], 1);
			assert_int_equal(idb[3], 40);
		}
		close(fd);
	}
	/* Old records in whole KiB, the full length, and sizes above the exact form. */
	i1.snaplen_kb = 2;
	assert_int_equal(rawcap_iface_snaplen(&i1), 2048);
	i1.snaplen_kb = rawcap_iface_snap_encode(262144);
	assert_int_equal(rawcap_iface_snaplen(&i1), 262144);
	i1.snaplen_kb = rawcap_iface_snap_encode(65536);
	assert_int_equal(rawcap_iface_snaplen(&i1), 65536);
}

/* --snaplen 16 into SLL2 keeps the 20-byte header and a byte, as tcpdump -i any -s 16. */
static void should_keep_a_cooked_header_below_its_length(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o),
				     .format = RAWCAP_PCAP_CLASSIC,
				     .snaplen = 16,
				     .linktype = RAWCAP_LINKTYPE_SLL2};
	struct rawcap_pcap *w;
	uint32_t hdr[6], rec[4];

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	write_pkt(w, 4, RAWCAP_LINKTYPE_RAW, rawip, sizeof(rawip), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
	assert_int_equal(hdr[4], 21);
	assert_int_equal(hdr[5], RAWCAP_LINKTYPE_SLL2);
	assert_int_equal(pread(fd, rec, sizeof(rec), 24), sizeof(rec));
	assert_int_equal(rec[2], 21);
	assert_int_equal(rec[3], sizeof(frame) - 14 + 20);
	assert_int_equal(pread(fd, rec, sizeof(rec), 24 + 16 + 21), sizeof(rec));
	assert_int_equal(rec[2], 21);
	assert_int_equal(rec[3], sizeof(rawip) + 20);
	close(fd);
}

/* SLL2 keeps the interface's ARPHRD type, as tcpdump -i any: 772 on loopback. */
static void should_give_loopback_its_hatype_in_sll2(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {
		.sz = sizeof(o), .format = RAWCAP_PCAP_CLASSIC, .linktype = RAWCAP_LINKTYPE_SLL2};
	struct rawcap_iface lo = iface(1, 1, "lo"), eth = iface(2, 1, "eth0");
	struct rawcap_pcap *w;
	uint8_t hatype[2];

	(void)state;
	lo.arphrd = 772;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &lo), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &eth), 0);
	write_pkt(w, 1, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	write_pkt(w, 2, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(pread(fd, hatype, 2, 24 + 16 + 8), 2);
	assert_int_equal(hatype[0] << 8 | hatype[1], 772);
	assert_int_equal(pread(fd, hatype, 2, 24 + 2 * 16 + 20 + sizeof(frame) - 14 + 8), 2);
	assert_int_equal(hatype[0] << 8 | hatype[1], 1);
	close(fd);
}

static void should_report_broken_pipe(void **state)
{
	int p[2];
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_pcap *w;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(rawcap_pcap_open(p[1], &o, &w), 0);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_flush(w), -EPIPE);
	assert_int_equal(rawcap_pcap_close(w), -EPIPE);
	close(p[1]);
}

/* The pcapng blocks of a file: types and (for IDBs) link types, in order. */
struct ng_walk {
	unsigned n, types[32];
	uint16_t idb_lt[8];
	unsigned nidb;
	bool isb_comment, isb_drops_nonzero;
};

static struct ng_walk walk_pcapng(int fd)
{
	static uint8_t buf[1 << 16];
	struct ng_walk r = {0};
	size_t len = read_all(fd, buf, sizeof(buf)), off = 0;

	while (off + 12 <= len) {
		uint32_t type, blen, tail;

		memcpy(&type, buf + off, 4);
		memcpy(&blen, buf + off + 4, 4);
		assert_true(blen % 4 == 0 && blen >= 12 && off + blen <= len);
		memcpy(&tail, buf + off + blen - 4, 4);
		assert_int_equal(blen, tail);
		if (type == 1 && r.nidb < 8)
			memcpy(&r.idb_lt[r.nidb++], buf + off + 8, 2);
		if (type == 5) {
			/* isb: id, ts(8); then options: comment (1), ..., isb_ifdrop (5) */
			size_t o = off + 20;

			while (o + 4 <= off + blen - 4) {
				uint16_t code, olen;
				uint64_t v;

				memcpy(&code, buf + o, 2);
				memcpy(&olen, buf + o + 2, 2);
				if (code == 0)
					break;
				if (code == 1)
					r.isb_comment = true;
				if (code == 5 && olen == 8) {
					memcpy(&v, buf + o + 4, 8);
					r.isb_drops_nonzero = v != 0;
				}
				o += 4 + ((olen + 3u) & ~3u);
			}
		}
		if (r.n < 32)
			r.types[r.n++] = type;
		off += blen;
	}
	assert_int_equal(off, len);
	return r;
}

/* libpcap refuses a pcapng section without an interface block: an empty file gets one. */
static void should_give_an_empty_pcapng_an_interface_block(void **state)
{
	int fd = memfd_create("t", 0), fd2 = memfd_create("t2", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = iface(3, 101, "tun0");
	struct rawcap_pcap *w;
	struct ng_walk r;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	r = walk_pcapng(fd);
	assert_int_equal(r.n, 3); /* SHB IDB ISB */
	assert_int_equal(r.types[1], 1);
	assert_int_equal(r.idb_lt[0], 1);
	/* With a declared interface, the block describes it. */
	assert_int_equal(rawcap_pcap_open(fd2, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	assert_int_equal(rawcap_pcap_close(w), 0);
	r = walk_pcapng(fd2);
	assert_int_equal(r.nidb, 1);
	assert_int_equal(r.idb_lt[0], 101);
	close(fd);
	close(fd2);
}

/* libpcap refuses a pcapng whose interfaces differ in link type: auto makes them SLL. */
static void should_give_pcapng_one_link_type_unless_native(void **state)
{
	uint16_t modes[2] = {RAWCAP_PCAP_LT_AUTO, RAWCAP_PCAP_LT_NATIVE};

	(void)state;
	for (int m = 0; m < 2; m++) {
		int fd = write_mixed(RAWCAP_PCAP_PCAPNG, modes[m]);
		struct ng_walk r = walk_pcapng(fd);

		assert_int_equal(r.nidb, 2);
		assert_int_equal(r.idb_lt[0], m ? 1 : 113);
		assert_int_equal(r.idb_lt[1], m ? 101 : 113);
		close(fd);
	}
}

/* Loss with no packet after it still reaches the file: drops and a comment in the ISB. */
static void should_put_trailing_loss_into_the_statistics(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = iface(3, 1, "eth0");
	struct rawcap_pcap *w;
	struct rawcap_pcap_ifstats st;
	struct ng_walk r;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	rawcap_pcap_note_loss(w, 0, 723);
	rawcap_pcap_note_comment(w, "723 records lost: damaged block skipped");
	assert_int_equal(rawcap_pcap_ifstats(w, 3, &st), 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	r = walk_pcapng(fd);
	assert_int_equal(r.n, 4); /* SHB IDB EPB ISB */
	assert_true(r.isb_comment);
	assert_true(r.isb_drops_nonzero);
	close(fd);
}

/* An export abandoned before a byte was written leaves its output empty; one already written is kept. */
static void should_write_nothing_once_abandoned_before_any_output(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = iface(3, 1, "eth0");
	struct rawcap_pcap *w;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_abandon(w), 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);

	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_flush(w), 0);
	assert_int_equal(rawcap_pcap_abandon(w), -EALREADY);
	assert_int_equal(rawcap_pcap_close(w), 0);
	assert_int_equal(walk_pcapng(fd).n, 4); /* SHB IDB EPB ISB: finished as ever */
	close(fd);
}

/* RAWCAP_PCAP_LT_FIRST: the first packet's link type; another one is -EXDEV, not written. */
static void should_tell_the_caller_when_packets_mix_link_types(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {
		.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG, .linktype = RAWCAP_PCAP_LT_FIRST};
	struct rawcap_iface i1 = iface(3, 1, "eth0"), i2 = iface(9, 101, "tun0");
	struct rawcap_pkt p = {.ifindex = 9, .orig_len = sizeof(rawip), .linktype = 101};
	struct rawcap_pcap_pkt pp = {.ts_ns = 1, .pkt = &p, .data = rawip, .caplen = sizeof(rawip)};
	struct rawcap_pcap *w;
	struct ng_walk r;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	rawcap_pcap_add_iface(w, &i1);
	rawcap_pcap_add_iface(w, &i2); /* declared, but idle so far: Ethernet is kept */
	write_pkt(w, 3, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	assert_int_equal(rawcap_pcap_write(w, &pp), -EXDEV);
	assert_int_equal(rawcap_pcap_skipped(w), 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	r = walk_pcapng(fd);
	assert_int_equal(r.nidb, 1);
	assert_int_equal(r.idb_lt[0], 1);
	close(fd);
}

/*
 * Labels longer than struct rawcap_iface holds name and describe the
 * interface block; an interface comment lands in its statistics block; a
 * packet goes to the interface of its own ifindex whether ifindexes are
 * dense (1..n, a merge of nodes) or not.
 */
static void should_write_labels_and_statistics_comments(void **state)
{
	static const char name[] = "ip-198-18-0-17.eu-west-1.compute.internal/veth1234abcd";
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = iface(1, 1, "eth0"), i2 = iface(2, 101, "tun0"),
			    i9 = iface(9, 1, "lo");
	struct rawcap_pcap_ifstats st;
	struct rawcap_pcap *w;
	static uint8_t buf[1 << 16];
	size_t len, off = 0;
	unsigned idbs = 0, isb_comments = 0;

	(void)state;
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &i1), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &i2), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &i9), 0);
	assert_int_equal(rawcap_pcap_iface_label(w, 2, name, "node n1: a tunnel"), 0);
	assert_int_equal(rawcap_pcap_iface_label(w, 1, NULL, NULL), 0); /* keeps the defaults */
	write_pkt(w, 2, 101, rawip, sizeof(rawip), RAWCAP_DIR_HOST);
	write_pkt(w, 9, 1, frame, sizeof(frame), RAWCAP_DIR_HOST);
	write_pkt(w, 2, 101, rawip, sizeof(rawip), RAWCAP_DIR_OUTGOING);
	assert_int_equal(rawcap_pcap_iface_comment(w, 2, "node n1: stream cut"), 0);
	assert_int_equal(rawcap_pcap_ifstats(w, 2, &st), 0);
	assert_int_equal(st.packets, 2);
	assert_int_equal(rawcap_pcap_ifstats(w, 9, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(rawcap_pcap_ifstats(w, 1, &st), 0);
	assert_int_equal(st.packets, 0);
	assert_int_equal(rawcap_pcap_close(w), 0);
	len = read_all(fd, buf, sizeof(buf));
	while (off + 12 <= len) {
		uint32_t type, blen;

		memcpy(&type, buf + off, 4);
		memcpy(&blen, buf + off + 4, 4);
		assert_true(blen % 4 == 0 && off + blen <= len);
		if (type == 1) {
			idbs++;
			if (idbs == 1) {
				assert_non_null(memmem(buf + off, blen, name, strlen(name)));
				assert_non_null(memmem(buf + off, blen, "node n1: a tunnel", 17));
			} else {
				assert_non_null(memmem(buf + off, blen, "lo", 2));
				assert_non_null(memmem(buf + off, blen, "rawcap ifindex 9", 16));
			}
		}
		if (type == 5 && memmem(buf + off, blen, "node n1: stream cut", 19))
			isb_comments++;
		off += blen;
	}
	assert_int_equal(off, len);
	assert_int_equal(idbs, 2); /* interface 1 had no packet: no block */
	assert_int_equal(isb_comments, 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_write_well_formed_pcapng_with_drop_count),
		cmocka_unit_test(should_keep_link_type_when_all_interfaces_share_it),
		cmocka_unit_test(should_use_sll_for_mixed_link_types),
		cmocka_unit_test(should_keep_the_ifindex_with_sll2_on_request),
		cmocka_unit_test(should_truncate_to_snaplen),
		cmocka_unit_test(should_announce_the_snaplen_capd_kept),
		cmocka_unit_test(should_keep_a_cooked_header_below_its_length),
		cmocka_unit_test(should_give_loopback_its_hatype_in_sll2),
		cmocka_unit_test(should_report_broken_pipe),
		cmocka_unit_test(should_give_an_empty_pcapng_an_interface_block),
		cmocka_unit_test(should_give_pcapng_one_link_type_unless_native),
		cmocka_unit_test(should_put_trailing_loss_into_the_statistics),
		cmocka_unit_test(should_write_nothing_once_abandoned_before_any_output),
		cmocka_unit_test(should_tell_the_caller_when_packets_mix_link_types),
		cmocka_unit_test(should_write_labels_and_statistics_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
