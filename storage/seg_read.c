// SPDX-License-Identifier: MIT
/*
 * seg_read.c - checks over segment and block bytes. Nothing read from disk
 * is trusted before it passes here: sizes are bounded, both CRCs must match,
 * and a block's records must walk exactly to its used length with the
 * sequence numbers its header claims, strictly increasing, except that a
 * synthesised record (RAWCAP_REC_F_SYNTH) shares its number with the record
 * that follows it.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "seg_read.h"

int seg_hdr_check(const struct seg_hdr *h, uint64_t file_size)
{
	if (h->magic != SEG_MAGIC)
		return -EBADMSG;
	if (h->hdr_crc != crc32c(0, h, offsetof(struct seg_hdr, hdr_crc)))
		return -EBADMSG;
	if (h->version != SEG_VERSION)
		return -EPROTO;
	if (h->hdr_size != SEG_HDR_SIZE || h->block_size != SEG_BLOCK_SIZE || h->nblocks < 1 ||
	    h->nblocks > SEG_MAX_BLOCKS)
		return -EBADMSG;
	if (file_size < SEG_HDR_SIZE)
		return -EBADMSG;
	return 0;
}

void seg_hdr_seal(struct seg_hdr *h)
{
	h->hdr_crc = crc32c(0, h, offsetof(struct seg_hdr, hdr_crc));
}

bool seg_blk_hdr_ok(const struct seg_blk_hdr *b, uint64_t seg_no, uint32_t blk_no)
{
	return b->magic == SEG_BLK_MAGIC && b->seg_no == seg_no && b->blk_no == blk_no &&
	       b->hdr_crc == crc32c(0, b, offsetof(struct seg_blk_hdr, hdr_crc)) &&
	       b->used <= SEG_BLK_CAP && b->used >= sizeof(struct rawcap_rec_hdr) && b->nrec >= 1 &&
	       b->last_seq >= b->first_seq;
}

void seg_blk_hdr_seal(struct seg_blk_hdr *b)
{
	b->hdr_crc = crc32c(0, b, offsetof(struct seg_blk_hdr, hdr_crc));
}

static bool seg_rec_type_ok(uint16_t type)
{
	return type >= RAWCAP_REC_PACKET && type <= RAWCAP_REC_IFACE;
}

int seg_blk_rec(const void *blk, uint32_t *off, const struct rawcap_rec_hdr **rec)
{
	const struct seg_blk_hdr *b = blk;

	if (*off >= b->used)
		return 0;
	*rec = (const void *)((const uint8_t *)blk + sizeof(*b) + *off);
	*off += rawcap_rec_span((*rec)->len);
	return 1;
}

static bool seg_rec_synth(const struct rawcap_rec_hdr *h)
{
	return (h->flags & RAWCAP_REC_F_SYNTH) &&
	       (h->type == RAWCAP_REC_IFACE || h->type == RAWCAP_REC_LOSS);
}

int seg_blk_check(const void *blk, uint64_t seg_no, uint32_t blk_no)
{
	const struct seg_blk_hdr *b = blk;
	const uint8_t *data = (const uint8_t *)blk + sizeof(*b);
	uint64_t expect = b->first_seq, last = 0;
	uint32_t off = 0, n = 0;
	bool synth = false; /* the previous record was synthesised: the next shares its number */

	if (!seg_blk_hdr_ok(b, seg_no, blk_no))
		return -EBADMSG;
	if (b->data_crc != crc32c(0, data, b->used))
		return -EBADMSG;
	while (off < b->used) {
		struct rawcap_rec_hdr h;

		if (b->used - off < sizeof(h))
			return -EBADMSG;
		memcpy(&h, data + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > RAWCAP_REC_MAX || !seg_rec_type_ok(h.type) ||
		    rawcap_rec_span(h.len) > b->used - off || h.seq < expect ||
		    (synth && h.seq != last))
			return -EBADMSG;
		if (n == 0 && h.seq != b->first_seq)
			return -EBADMSG;
		synth = seg_rec_synth(&h);
		expect = synth ? h.seq : h.seq + 1;
		last = h.seq;
		off += rawcap_rec_span(h.len);
		n++;
	}
	if (n != b->nrec || last != b->last_seq)
		return -EBADMSG;
	return 0;
}

int seg_read_hdr(int fd, struct seg_hdr *out)
{
	ssize_t n = pread(fd, out, sizeof(*out), 0);
	off_t size;

	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(*out))
		return -EBADMSG;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return -errno;
	return seg_hdr_check(out, (uint64_t)size);
}

int seg_read_blk_hdr(int fd, const struct seg_hdr *sh, uint32_t blk, struct seg_blk_hdr *out)
{
	ssize_t n;

	if (blk >= sh->nblocks)
		return -ENODATA;
	n = pread(fd, out, sizeof(*out), (off_t)seg_blk_off(blk));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	if (n != (ssize_t)sizeof(*out))
		return -EBADMSG;
	return seg_blk_hdr_ok(out, sh->seg_no, blk) ? 0 : -EBADMSG;
}

/*
 * One pread of the whole block, header and all: the unused tail (at most a
 * record's worth) costs less than a second system call per block.
 */
int seg_read_blk(int fd, const struct seg_hdr *sh, uint32_t blk, void *buf)
{
	const struct seg_blk_hdr *b = buf;
	ssize_t n;

	if (blk >= sh->nblocks)
		return -ENODATA;
	n = pread(fd, buf, SEG_BLOCK_SIZE, (off_t)seg_blk_off(blk));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	if ((size_t)n < sizeof(*b) || !seg_blk_hdr_ok(b, sh->seg_no, blk) ||
	    (size_t)n < sizeof(*b) + b->used)
		return -EBADMSG;
	return seg_blk_check(buf, sh->seg_no, blk);
}

int seg_name_parse(const char *name, uint64_t *seg_no)
{
	uint64_t v = 0;

	if (strlen(name) != SEG_NAME_LEN || strncmp(name, "seg-", 4) || strcmp(name + 20, ".rcs"))
		return -EINVAL;
	for (int i = 4; i < 20; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*seg_no = v;
	return 0;
}

int seg_dir_each(int dirfd, int (*fn)(void *arg, const char *name, uint64_t seg_no), void *arg)
{
	int fd = dup(dirfd), err = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d); /* the dup shares dirfd's offset: start at the top every time */
	while (!err && (de = readdir(d))) {
		uint64_t no;

		if (!seg_name_parse(de->d_name, &no))
			err = fn(arg, de->d_name, no);
	}
	closedir(d);
	return err;
}
