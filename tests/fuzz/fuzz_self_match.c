// SPDX-License-Identifier: MIT
/*
 * fuzz_self_match.c - capd's per-packet self-exclusion test
 * (capd/self_match.c) on arbitrary frames: it parses captured bytes from
 * any host, so it must never read past caplen, whatever the link type, VLAN
 * tags, IP version, header lengths or TCP flags say. The table holds an
 * IPv4 and an IPv6 connection and a listener on each family; the lookup
 * callback (capd's asks the kernel) checks what it is given and answers as
 * the input's first byte says, which also gives the packet's direction: a
 * packet from another host never spends the budget of this host's own;
 * and whether the host's addresses are known.
 * Built as a libFuzzer target with -DRAWCAP_FUZZ=ON (clang), and as a
 * corpus replay (fuzz_self_match_corpus) in every build.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "self_match.h"

static struct self_match m;
static struct self_addrs addrs; /* the host's: the connections' first ends */
static bool answer;
static enum self_dir dir;

static bool fuzz_unknown_conn(struct self_match *sm, const struct self_key *k, int local,
			      bool listener, bool here)
{
	(void)listener;
	if (sm != &m || (local != 0 && local != 1) || (k->proto != 6) ||
	    memcmp(k->a, k->b, 16) > 0 || (!memcmp(k->a, k->b, 16) && k->pa > k->pb))
		abort(); /* a TCP key, lower end first, and a valid end */
	if (here != (dir != SELF_DIR_IN))
		abort(); /* budgeted by who sent the packet */
	return answer;
}

static void fuzz_setup(void)
{
	static const uint8_t v4a[16] = {[10] = 0xff, [11] = 0xff, 198, 18, 0, 1};
	static const uint8_t v4b[16] = {[10] = 0xff, [11] = 0xff, 198, 18, 0, 2};
	static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	static const uint8_t any[16];
	struct self_table *t = self_next(&m);

	self_table_clear(t);
	self_table_add(t, 6, v4a, 9470, v4b, 40000);
	self_table_add(t, 17, v6a, 57012, v6b, 50000);
	self_table_listen(t, v4a, 9470);
	self_table_listen(t, any, 57013);
	self_publish(&m);
	self_addrs_add(&addrs, v4a);
	self_addrs_add(&addrs, v6a);
	m.unknown_conn = fuzz_unknown_conn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint64_t before;
	uint8_t *frame;
	bool hit;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	answer = data[0] & 1;
	dir = (enum self_dir)(((data[0] >> 2) & 3) % 3);
	m.addrs = data[0] & 0x10 ? &addrs : NULL;
	before = m.excluded;
	/* a copy of exactly the frame's length, so ASan sees any read past it */
	frame = malloc(size - 1 ? size - 1 : 1);

	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	hit = self_match_packet(&m, frame, (uint32_t)(size - 1), (uint32_t)(size - 1),
				data[0] & 2 ? 101 : 1, dir);
	if (hit != (m.excluded == before + 1))
		abort(); /* every exclusion counted, nothing else */
	free(frame);
	return 0;
}
