// SPDX-License-Identifier: MIT
/*
 * fuzz_manifest.c - libFuzzer target for the snapshot manifest parser: a
 * snapshot can come from another node, so its manifest.json is untrusted.
 * Whatever parses must render and parse back to the same values.
 *
 * With FUZZ_MANIFEST_MAIN the file also has a main that replays a corpus
 * (ctest: fuzz_manifest_corpus).
 *
 *   CC=clang cmake -S . -B build-fuzz -DRAWCAP_FUZZ=ON -DRAWCAP_BPF=OFF
 *   cmake --build build-fuzz --target fuzz_manifest
 *   build-fuzz/tests/fuzz_manifest -max_total_time=300 tests/fuzz/corpus/manifest
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_manifest m, back;
	char *text;
	size_t len;

	if (snap_manifest_parse((const char *)data, size, &m))
		return 0;
	if (snap_manifest_render(&m, &text, &len))
		abort();
	if (snap_manifest_parse(text, len, &back))
		abort(); /* we rendered something we cannot read */
	/* Both were zeroed before parsing, so padding and string tails compare too. */
	if (memcmp(&m.info, &back.info, sizeof(m.info)) || m.nfiles != back.nfiles)
		abort();
	for (size_t i = 0; i < m.nfiles; i++)
		if (strcmp(m.files[i].path, back.files[i].path) ||
		    m.files[i].size != back.files[i].size)
			abort();
	free(text);
	snap_manifest_free(&m);
	snap_manifest_free(&back);
	return 0;
}

#ifdef FUZZ_MANIFEST_MAIN
int main(int argc, char **argv)
{
	static char buf[SNAP_MANIFEST_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (argc != 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: fuzz_manifest_corpus DIR\n");
		return 1;
	}
	while ((de = readdir(d))) {
		char path[4096];
		size_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		n++;
	}
	closedir(d);
	printf("replayed %d inputs\n", n);
	return n ? 0 : 1;
}
#endif
