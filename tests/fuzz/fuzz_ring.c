// SPDX-License-Identifier: MIT
/*
 * fuzz_ring.c - libFuzzer target for librawcap's ring reader: every byte a
 * reader maps comes from another process, so a damaged or hostile ring
 * object must never crash a reader or trap it in a loop.
 *
 * The input becomes a ring object in a private shm directory, then a cursor
 * opens it and drains it, seeks by time and sequence, and drains again, with
 * a hard bound on the number of calls. Input layout (struct fuzz_in):
 *
 *	flags  bit 0: build a valid header (else the input is the whole object)
 *	       bit 1: take head and tail verbatim (else keep them plausible)
 *	       bit 2: truncate the object by a page
 *	head, tail, base_seq, seek targets, index entries, two interface slots,
 *	then the data area (the rest, zero filled).
 *
 * Built as the fuzzer with -DRAWCAP_FUZZ=ON (clang); without it the same
 * function is driven by a main that replays corpus files (fuzz_ring_corpus)
 * and can write a seed corpus from a real writer (--make-seeds DIR).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "atomics.h"
#include "ring_layout.h"

#define FUZZ_DATA_SIZE RING_DATA_MIN
#define FUZZ_RAW_MAX   (1u << 20)
#define FUZZ_MAX_CALLS 50000 /* > one record per 8 bytes of a 64 KiB area, several passes */

enum { FUZZ_VALID_HDR = 1, FUZZ_RAW_POS = 2, FUZZ_TRUNCATE = 4 };

struct fuzz_in {
	uint8_t flags;
	uint8_t pad[7];
	uint64_t head, tail, base_seq, seek_ts, seek_seq;
	uint32_t ifindex, copy_cap;
	uint8_t index[(FUZZ_DATA_SIZE >> RING_INDEX_MIN_CHUNK_SHIFT) *
		      sizeof(struct ring_index_ent)];
	uint8_t ifaces[2 * sizeof(struct ring_iface_slot)];
	/* data area bytes follow */
};

static char fuzz_path[256];

static char fuzz_dir[] = "/dev/shm/rawcap-fuzz-XXXXXX";

/* libFuzzer ends with exit(): leave no directory behind in /dev/shm. */
static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

static void fuzz_init(void)
{
	if (fuzz_path[0])
		return;
	if (!mkdtemp(fuzz_dir))
		abort();
	setenv("RAWCAP_SHM_DIR", fuzz_dir, 1);
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/rawcap-fuzz", fuzz_dir);
	atexit(fuzz_cleanup);
}

static size_t fuzz_data_off(void)
{
	size_t index_sz =
		(FUZZ_DATA_SIZE >> RING_INDEX_MIN_CHUNK_SHIFT) * sizeof(struct ring_index_ent);
	size_t end = RING_HDR_SIZE + index_sz + RING_IFACE_SLOTS * sizeof(struct ring_iface_slot);

	return (end + 4095) & ~(size_t)4095;
}

/* A header as ring_writer_create() writes it, with positions from the input. */
static void fuzz_build_valid(uint8_t *obj, const struct fuzz_in *in, const uint8_t *data,
			     size_t data_len)
{
	struct ring_hdr *h = (void *)obj;
	uint64_t head = in->head, tail = in->tail;

	h->magic = RING_MAGIC;
	h->version = RING_LAYOUT_VERSION;
	h->hdr_size = RING_HDR_SIZE;
	h->data_off = fuzz_data_off();
	h->data_size = FUZZ_DATA_SIZE;
	h->total_size = h->data_off + FUZZ_DATA_SIZE;
	h->generation = 1;
	h->index_off = RING_HDR_SIZE;
	h->index_shift = (uint32_t)ring_layout_index_shift(FUZZ_DATA_SIZE);
	h->index_entries = FUZZ_DATA_SIZE >> h->index_shift;
	h->iface_off = RING_HDR_SIZE + h->index_entries * sizeof(struct ring_index_ent);
	h->base_seq = in->base_seq;
	h->max_record = FUZZ_DATA_SIZE / 4;
	if (!(in->flags & FUZZ_RAW_POS)) {
		/* What a correct writer keeps: 8-aligned, tail <= head <= tail + size. */
		head = (head % (64ull * FUZZ_DATA_SIZE)) & ~7ull;
		tail = head - ((tail % (FUZZ_DATA_SIZE + 1)) & ~7ull);
		if (tail > head)
			tail = 0;
	}
	store_relaxed(&h->head, head);
	store_relaxed(&h->tail, tail);
	memcpy(obj + h->index_off, in->index, sizeof(in->index));
	memcpy(obj + h->iface_off, in->ifaces, sizeof(in->ifaces));
	memcpy(obj + h->data_off, data, data_len < FUZZ_DATA_SIZE ? data_len : FUZZ_DATA_SIZE);
}

static int fuzz_write_object(const uint8_t *buf, size_t size)
{
	int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, buf, size) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)size ? 0 : -1;
}

/* Read records until the cursor says there are none; abort if that never happens. */
static volatile uint8_t fuzz_sink;

static void fuzz_drain(struct rawcap_cursor *c, uint32_t copy_cap)
{
	static uint8_t copy[RAWCAP_REC_MAX];
	struct rawcap_rec rec;
	uint8_t sink = 0;

	for (int i = 0; i < FUZZ_MAX_CALLS; i++) {
		int ret = (i & 7) == 7 ? rawcap_next_copy(c, &rec, copy, copy_cap % sizeof(copy))
				       : rawcap_next(c, &rec);

		if (ret == 0 || ret == -ENODATA)
			return;
		if (ret < 0) {
			if (ret != -EBADMSG && ret != -EMSGSIZE)
				abort();
			continue;
		}
		if (rec.type == RAWCAP_REC_PAD || rec.len > RAWCAP_REC_MAX)
			abort();
		/* Touch the whole payload: it must lie inside the mapping. */
		for (uint32_t j = 0; j < rec.len; j += 61)
			sink ^= ((const uint8_t *)rec.payload)[j];
		if (rec.len)
			sink ^= ((const uint8_t *)rec.payload)[rec.len - 1];
		fuzz_sink = sink;
		rawcap_rec_valid(c, &rec);
		rawcap_rec_pkt(&rec, NULL, NULL);
	}
	abort(); /* no end in sight: a reader would spin here forever */
}

static void fuzz_read(const struct fuzz_in *in)
{
	struct rawcap_ring_info info;
	struct rawcap_iface iface;
	struct rawcap_cursor *c;

	if (rawcap_open("fuzz", &c))
		return;
	fuzz_drain(c, in->copy_cap);
	rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
	fuzz_drain(c, in->copy_cap);
	rawcap_seek(c, RAWCAP_SEEK_TIME, in->seek_ts);
	fuzz_drain(c, in->copy_cap);
	rawcap_seek(c, RAWCAP_SEEK_SEQ, in->seek_seq);
	fuzz_drain(c, in->copy_cap);
	rawcap_ring_info(c, &info);
	rawcap_iface_get(c, in->ifindex, &iface);
	rawcap_wait(c, 0);
	rawcap_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static uint8_t obj[(1u << 17) + FUZZ_RAW_MAX];
	struct fuzz_in in = {0};
	size_t len;

	fuzz_init();
	memcpy(&in, buf, size < sizeof(in) ? size : sizeof(in));
	if (in.flags & FUZZ_VALID_HDR) {
		size_t data_len = size > sizeof(in) ? size - sizeof(in) : 0;

		memset(obj, 0, fuzz_data_off() + FUZZ_DATA_SIZE);
		fuzz_build_valid(obj, &in, buf + sizeof(in), data_len);
		len = fuzz_data_off() + FUZZ_DATA_SIZE;
		if (in.flags & FUZZ_TRUNCATE)
			len -= 4096;
	} else {
		len = size > FUZZ_RAW_MAX ? FUZZ_RAW_MAX : size;
		memcpy(obj, buf, len);
	}
	if (fuzz_write_object(obj, len) == 0)
		fuzz_read(&in);
	unlink(fuzz_path);
	return 0;
}

#ifdef FUZZ_RING_MAIN
#include "ring_writer.h"

static int replay_file(const char *path)
{
	static uint8_t buf[FUZZ_RAW_MAX + sizeof(struct fuzz_in)];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "fuzz_ring: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), err = 0, files = 0;
	char path[4096];

	if (n < 0)
		return replay_file(dir);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			err |= replay_file(path);
			files++;
		}
		free(names[i]);
	}
	free(names);
	printf("fuzz_ring: replayed %d inputs from %s\n", files, dir);
	return err || files == 0;
}

/* Seed: a real writer's ring (records, pads, wrap, index, interfaces) in input form. */
static int make_seed(const char *dir, const char *file, unsigned n, uint32_t len, uint8_t flags)
{
	struct ring_writer_opts o = {.name = "seed", .data_size = FUZZ_DATA_SIZE, .gid = -1};
	struct rawcap_iface ifc = {.ifindex = 2, .linktype = 1, .mtu = 1500, .name = "eth0"};
	struct fuzz_in in = {.flags = flags, .ifindex = 2, .copy_cap = 512};
	struct ring_writer w;
	char path[4096];
	FILE *f;

	if (ring_writer_create(&w, &o))
		return 1;
	ring_iface_set(&w, &ifc);
	for (unsigned i = 0; i < n; i++) {
		uint16_t type = i % 5 == 4 ? RAWCAP_REC_META : RAWCAP_REC_PACKET;
		uint8_t *p = ring_reserve(&w, type, 0, 1000 + i, len + i % 97);

		memset(p, (int)i, len + i % 97);
	}
	ring_publish(&w);
	in.head = load_relaxed(&w.hdr->head);
	in.tail = load_relaxed(&w.hdr->tail);
	in.base_seq = w.hdr->base_seq;
	in.seek_ts = 1000 + n / 2;
	in.seek_seq = n / 3;
	memcpy(in.index, w.index, sizeof(in.index));
	memcpy(in.ifaces, w.ifaces, sizeof(in.ifaces));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "wb");
	if (!f)
		return 1;
	if (flags & FUZZ_VALID_HDR) {
		fwrite(&in, sizeof(in), 1, f);
		fwrite(w.data, 1, FUZZ_DATA_SIZE, f);
	} else {
		fwrite(w.hdr, 1, w.map_len, f); /* the raw object, header and all */
	}
	fclose(f);
	ring_writer_close(&w);
	snprintf(path, sizeof(path), "%s/rawcap-seed", getenv("RAWCAP_SHM_DIR"));
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	int err = 0;

	if (argc == 3 && !strcmp(argv[1], "--make-seeds")) {
		fuzz_init();
		err |= make_seed(argv[2], "small", 20, 40, FUZZ_VALID_HDR);
		err |= make_seed(argv[2], "wrapped", 3000, 60, FUZZ_VALID_HDR);
		err |= make_seed(argv[2], "big-records", 200, 3000, FUZZ_VALID_HDR);
		err |= make_seed(argv[2], "raw-positions", 500, 100, FUZZ_VALID_HDR | FUZZ_RAW_POS);
		err |= make_seed(argv[2], "truncated", 50, 100, FUZZ_VALID_HDR | FUZZ_TRUNCATE);
		err |= make_seed(argv[2], "raw-object", 700, 80, 0);
		return err;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: fuzz_ring_corpus DIR|FILE... | --make-seeds DIR\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		err |= replay_dir(argv[i]);
	return err ? 1 : 0;
}
#endif
