// SPDX-License-Identifier: MIT
/*
 * fuzz_pcapng.c - libFuzzer target for the bytes a node's stream may carry
 * into kubectl-rawcap: the push-fed pcapng reader (cli/pcapng_read.c),
 * fed in chunk sizes the input chooses, and the k-way merge (cli/merge.c)
 * over two such streams, written through librawcap's writer to nowhere.
 *
 * Input: byte 0 picks the chunk size, byte 1 where the two merge inputs
 * split, byte 2 the output format; the rest is the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "merge.h"
#include "pcapng_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int discard(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static void read_all(const uint8_t *p, size_t len, size_t chunk)
{
	struct pcapng_rd *r;
	struct pcapng_ev ev;
	size_t off = 0;
	int n = 0;

	if (pcapng_rd_new(&r))
		return;
	while (off < len && n >= 0) {
		size_t k = len - off < chunk ? len - off : chunk;

		if (pcapng_rd_feed(r, p + off, k))
			break;
		off += k;
		while ((n = pcapng_rd_next(r, &ev)) > 0)
			if (ev.type == PCAPNG_EV_PACKET && ev.caplen)
				(void)ev.data[ev.caplen - 1]; /* in bounds, or ASan says so */
	}
	pcapng_rd_free(r);
}

/* Feed in[i] (len[i] bytes) to input i, chunk bytes at a time, honouring back-pressure. */
static void merge_two(const uint8_t *const in[2], const size_t len[2], size_t chunk, int fmt)
{
	struct merge_opts o = {.format = fmt ? RAWCAP_PCAP_CLASSIC : RAWCAP_PCAP_PCAPNG,
			       .fd = -1,
			       .write_fn = discard,
			       .comment = "fuzz"};
	struct merge_in *mi[2];
	size_t off[2] = {0, 0};
	struct merge *m;
	int rc = 0;

	if (merge_new(&o, &m))
		return;
	if (merge_add(m, "a", &mi[0]) || merge_add(m, "b", &mi[1])) {
		merge_free(m);
		return;
	}
	for (unsigned round = 0; rc == 0 && round < 100000; round++) {
		for (int i = 0; i < 2; i++) {
			size_t k = len[i] - off[i] < chunk ? len[i] - off[i] : chunk;

			if (!merge_wants(mi[i]))
				continue;
			if (!k) {
				merge_end(mi[i], i ? "cut" : NULL);
				continue;
			}
			if (merge_feed(mi[i], in[i] + off[i], k) == 0)
				off[i] += k;
		}
		rc = merge_run(m, NULL);
	}
	merge_finish(m);
	merge_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in[2];
	size_t len[2], chunk, split;

	if (size < 3)
		return 0;
	chunk = (size_t)data[0] * 7 + 1;
	split = (size_t)data[1] * (size - 3) / 255;
	in[0] = data + 3;
	len[0] = split;
	in[1] = data + 3 + split;
	len[1] = size - 3 - split;
	read_all(data + 3, size - 3, chunk);
	merge_two(in, len, chunk, data[2] & 1);
	return 0;
}
