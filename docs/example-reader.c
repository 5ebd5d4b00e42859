// SPDX-License-Identifier: MIT
/*
 * example-reader.c - a complete third-party reader in 30 lines: follow the
 * ring and print one line per packet. Build: cc example-reader.c $(pkg-config --cflags --libs rawcap)
 */
#include <stdio.h>
#include <string.h>
#include <rawcap/rawcap.h>

int main(int argc, char **argv)
{
	struct rawcap_cursor *c;
	struct rawcap_rec rec;
	int err = rawcap_open(argc > 1 ? argv[1] : "default", &c);

	if (err) {
		fprintf(stderr, "example-reader: open ring: %s\n", strerror(-err));
		return 1;
	}
	while (rawcap_wait(c, 1000) >= 0) {
		while (rawcap_next(c, &rec) > 0) {
			const struct rawcap_pkt *p = rawcap_rec_pkt(&rec, NULL, NULL);
			unsigned ifindex = p ? p->ifindex : 0, wire = p ? p->orig_len : 0;

			if (p && rawcap_rec_valid(c, &rec))
				printf("seq=%llu if=%u len=%u\n", (unsigned long long)rec.seq, ifindex, wire);
		}
	}
	rawcap_close(c);
	return 0;
}
