// SPDX-License-Identifier: MIT
/*
 * replay.c - the corpus replay driver shared by the fuzz targets: runs
 * LLVMFuzzerTestOneInput over every file of the directories (or files) named
 * on the command line, so that ctest exercises each target's corpus, crash
 * regressions included, in every build, without libFuzzer.
 *
 * Exit: 0 when at least one input ran, 1 otherwise or if a file was unreadable.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX (16u << 20) /* larger than any target's -max_len */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(buf, 1, REPLAY_MAX, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *buf = malloc(REPLAY_MAX);
	int err = 0, files = 0;

	if (!buf)
		return 1;
	for (int a = 1; a < argc; a++) {
		struct dirent **names;
		char path[4096];
		int n = scandir(argv[a], &names, NULL, alphasort);

		if (n < 0) {
			err |= replay_file(argv[a], buf);
			files++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (names[i]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]->d_name);
				err |= replay_file(path, buf);
				files++;
			}
			free(names[i]);
		}
		free(names);
	}
	free(buf);
	printf("%s: replayed %d inputs\n", argv[0], files);
	return err || files == 0 ? 1 : 0;
}
