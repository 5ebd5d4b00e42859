// SPDX-License-Identifier: MIT
/*
 * fuzz_segment.c - libFuzzer target for the disk FIFO's segment and block
 * parser (lib/seg_read.c) and the history reader on top of it (lib/history.c).
 *
 * The input becomes a segment file seg-0000000000000001.rcs in a private
 * directory, which history_open/seek/next then read like any reader would.
 * Byte 0 picks a mode: odd = "repair" the checksums (and the segment number)
 * first, so mutations get past the CRCs into the record walk; even = raw.
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer.
 * (ctest: fuzz_segment_corpus).
 *
 *   CC=clang cmake -S . -B build-fuzz -DRAWCAP_FUZZ=ON -DRAWCAP_BPF=OFF
 *   cmake --build build-fuzz --target fuzz_segment
 *   build-fuzz/tests/fuzz_segment -max_total_time=300 tests/fuzz/corpus/segment
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "history.h"
#include "seg_read.h"

#define FUZZ_SEG_MAX (SEG_HDR_SIZE + 3 * SEG_BLOCK_SIZE)

static char fuzz_dir[64];
static char fuzz_file[128];

static void fuzz_cleanup(void)
{
	unlink(fuzz_file);
	rmdir(fuzz_dir);
}

static void fuzz_init(void)
{
	if (fuzz_dir[0])
		return;
	atexit(fuzz_cleanup);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/rc-fuzzseg-%d", (int)getpid());
	mkdir(fuzz_dir, 0700);
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/seg-0000000000000001.rcs", fuzz_dir);
}

/* Make the checksums right so the fuzzer reaches the record walk. */
static void fuzz_repair(uint8_t *p, size_t len)
{
	struct seg_hdr *h = (struct seg_hdr *)p;

	if (len < sizeof(*h))
		return;
	h->seg_no = 1;
	seg_hdr_seal(h);
	for (uint32_t b = 0; seg_blk_off(b) + sizeof(struct seg_blk_hdr) <= len; b++) {
		struct seg_blk_hdr *bh = (struct seg_blk_hdr *)(p + seg_blk_off(b));
		size_t room = len - seg_blk_off(b) - sizeof(*bh);

		bh->seg_no = 1;
		bh->blk_no = b;
		if (bh->used <= room && bh->used <= SEG_BLK_CAP)
			bh->data_crc = crc32c(0, bh + 1, bh->used);
		seg_blk_hdr_seal(bh);
	}
}

static void fuzz_read_history(void)
{
	struct history *h;
	struct rawcap_rec rec;
	uint64_t corrupt = 0, a, b, c, d, sum = 0;

	if (history_open(fuzz_dir, &h))
		return;
	history_bounds(h, &a, &b, &c, &d);
	for (int pass = 0; pass < 3; pass++) {
		enum rawcap_seek wh = pass == 0	  ? RAWCAP_SEEK_OLDEST
				      : pass == 1 ? RAWCAP_SEEK_SEQ
						  : RAWCAP_SEEK_TIME;

		if (history_seek(h, wh, pass == 1 ? 5 : 1000) != 0)
			continue;
		for (int n = 0; n < 100000 && history_next(h, &rec, &corrupt) > 0; n++) {
			const uint8_t *p = rec.payload;

			for (uint32_t i = 0; i < rec.len; i++) /* every byte must be readable */
				sum += p[i];
		}
	}
	history_close(h);
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static uint8_t file[FUZZ_SEG_MAX];
	size_t len;
	int fd;

	fuzz_init();
	if (size < 1)
		return 0;
	len = size - 1 > FUZZ_SEG_MAX ? FUZZ_SEG_MAX : size - 1;
	memcpy(file, buf + 1, len);
	if (buf[0] & 1)
		fuzz_repair(file, len);
	for (size_t off = 0; off + sizeof(struct seg_blk_hdr) <= len; off += SEG_BLOCK_SIZE) {
		static uint8_t blk[SEG_BLOCK_SIZE];
		size_t n = len - off < SEG_BLOCK_SIZE ? len - off : SEG_BLOCK_SIZE;

		memset(blk, 0, sizeof(blk));
		memcpy(blk, file + off, n);
		if (seg_blk_check(blk, ((struct seg_blk_hdr *)blk)->seg_no,
				  ((struct seg_blk_hdr *)blk)->blk_no) == 0) {
			const struct rawcap_rec_hdr *r;
			uint32_t o = 0;

			while (seg_blk_rec(blk, &o, &r))
				;
		}
	}
	fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	if (write(fd, file, len) == (ssize_t)len)
		fuzz_read_history();
	close(fd);
	unlink(fuzz_file);
	return 0;
}
