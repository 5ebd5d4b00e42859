// SPDX-License-Identifier: MIT
/*
 * fuzz_s3.c - libFuzzer target for what librawcap's S3 client parses from
 * outside: the XML answers of S3 and STS (lib/s3_xml.c, libxml2 glue), the
 * shared credentials file (lib/s3_creds.c) and s3:// URLs with endpoints
 * (lib/s3_target.c). The first byte picks the parser; the rest is the input.
 * Whatever parses must hold what the parser promises (NUL-terminated,
 * bounded strings; keys within S3's limit).
 *
 * ctest replays the seed corpus (fuzz_s3_corpus) in every build; with clang:
 *   CC=clang cmake -S . -B build-fuzz -DRAWCAP_FUZZ=ON -DRAWCAP_BPF=OFF
 *   cmake --build build-fuzz --target fuzz_s3
 *   build-fuzz/tests/fuzz_s3 -max_total_time=300 tests/fuzz/corpus/s3
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_key(void *arg, const char *key, uint64_t size)
{
	(void)size;
	if (strlen(key) >= S3_KEY_MAX)
		abort();
	return ++*(int *)arg > 5000 ? -E2BIG : 0;
}

static int on_upload(void *arg, const char *key, const char *id)
{
	if (strlen(key) >= S3_KEY_MAX || strlen(id) >= 1024)
		abort();
	return ++*(int *)arg > 5000 ? -E2BIG : 0;
}

static void parse_xml(uint8_t which, const char *p, size_t n)
{
	char token[1024], k[S3_KEY_MAX], id[1024];
	struct s3_creds c = {0};
	struct s3_xml_error e;
	bool truncated;
	int count = 0;

	switch (which % 6) {
	case 0:
		if (!s3_xml_error(p, n, &e) && (strlen(e.code) >= sizeof(e.code)))
			abort();
		break;
	case 1:
		if (!s3_xml_list(p, n, on_key, &count, token, sizeof(token)) &&
		    strlen(token) >= sizeof(token))
			abort();
		break;
	case 2:
		s3_xml_uploads(p, n, on_upload, &count, &truncated, k, id, sizeof(id));
		break;
	case 3:
		if (!s3_xml_upload_id(p, n, id, sizeof(id)) && (!id[0] || strchr(id, ' ')))
			abort();
		break;
	case 4:
		s3_xml_complete(p, n, &e);
		break;
	case 5:
		if (!s3_xml_sts(p, n, &c) && (!c.access_key || !c.secret_key || !c.session_token))
			abort();
		s3_creds_free(&c);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_creds c = {0};
	struct s3_target t;
	char err[512], *s;

	if (size < 1)
		return 0;
	if (data[0] < 6) {
		parse_xml(data[0], (const char *)data + 1, size - 1);
		return 0;
	}
	if (data[0] == 6) {
		s3_creds_parse_file((const char *)data + 1, size - 1, "default", &c);
		s3_creds_free(&c);
		return 0;
	}
	/* 7: "URL\nENDPOINT" */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	{
		char *nl = strchr(s, '\n');

		if (nl)
			*nl++ = '\0';
		if (!s3_target_parse(&t, s, nl && *nl ? nl : NULL, "us-east-1", err, sizeof(err))) {
			char key[S3_KEY_MAX];
			char *url = s3_key(&t, "snap", "data/x", key, sizeof(key))
					    ? NULL
					    : s3_url(&t, key, NULL);

			if (url && strncmp(url, "http", 4))
				abort();
			free(url);
		}
	}
	free(s);
	return 0;
}
