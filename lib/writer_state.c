// SPDX-License-Identifier: MIT
/*
 * writer_state.c - is capd writing the ring, and what is under a ring's
 * name: judged once here (shm/ring_check.c's checks) and put into the words
 * every reader prints.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "clock.h"
#include "cursor.h"

/* How often rawcap_writer_news() looks at capd's state. */
#define WRITER_NEWS_MS 1000

int rawcap_writer_state(struct rawcap_cursor *c, uint64_t *silent_ns)
{
	*silent_ns = 0;
	if (c->detached)
		return RAWCAP_WRITER_GONE; /* its ring was replaced and no new one exists yet */
	if (!c->has_ring)
		return -ENODATA;
	return (int)ring_liveness(c->ring.hdr, c->ring.fd, silent_ns);
}

const char *rawcap_writer_describe(int state, uint64_t silent_ns, char *buf, size_t len)
{
	double s = (double)silent_ns / 1e9;

	switch (state) {
	case RAWCAP_WRITER_RUNNING:
		snprintf(buf, len, "capd is running");
		break;
	case RAWCAP_WRITER_STOPPED:
		snprintf(buf, len, "capd is not running: it stopped (last heartbeat %.0f s ago)",
			 s);
		break;
	case RAWCAP_WRITER_GONE:
		snprintf(
			buf, len,
			"capd is not running: it was killed or crashed (last heartbeat %.0f s ago)",
			s);
		break;
	case RAWCAP_WRITER_HUNG:
		snprintf(buf, len, "capd is not responding: no heartbeat for %.0f s", s);
		break;
	case RAWCAP_WRITER_RETIRED:
		snprintf(buf, len, "capd replaced this ring with a new one");
		break;
	default:
		snprintf(buf, len, "capd's state is unknown");
	}
	return buf;
}

int rawcap_writer_news(struct rawcap_cursor *c, char *buf, size_t len)
{
	int64_t now = (int64_t)(clock_ns(CLOCK_MONOTONIC) / 1000000);
	uint64_t silent;
	int st;

	if (now - c->news_checked_ms < WRITER_NEWS_MS)
		return 0;
	c->news_checked_ms = now;
	st = rawcap_writer_state(c, &silent);
	if (st < 0)
		return 0;
	if (st == RAWCAP_WRITER_RETIRED)
		st = RAWCAP_WRITER_RUNNING; /* the cursor moves to the new ring by itself */
	if (st == c->news_state)
		return 0;
	c->news_state = st;
	if (st == RAWCAP_WRITER_RUNNING) {
		snprintf(buf, len, "capd is running again (generation %llu)",
			 (unsigned long long)c->ring.generation);
	} else {
		size_t n = strlen(rawcap_writer_describe(st, silent, buf, len));

		snprintf(buf + n, len > n ? len - n : 0, "; waiting for it to restart");
	}
	return 1;
}

/* Permission denied: name the group capd gave the ring (capd --group) and how to join it. */
static void ring_explain_group(const char *path, char *buf, size_t len)
{
	struct group *gr;
	struct stat st;
	char name[64];

	if (stat(path, &st)) {
		snprintf(buf, len, "%s: %s (readers need the group capd --group gave the ring)",
			 path, strerror(EACCES));
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr)
		snprintf(name, sizeof(name), "%s", gr->gr_name);
	else
		snprintf(name, sizeof(name), "%u", (unsigned)st.st_gid);
	snprintf(buf, len,
		 "%s: %s: readers need group %s (gid %u), the group capd --group gave the ring: "
		 "run as a member (usermod -aG %s USER, then log in again; or sg %s)",
		 path, strerror(EACCES), name, (unsigned)st.st_gid, name, name);
}

const char *rawcap_ring_explain(const char *ring, int err, char *buf, size_t len)
{
	char path[RING_PATH_MAX];
	const char *name = ring ? ring : "default";

	if (ring_name_path(name, path, sizeof(path))) {
		snprintf(buf, len, "bad ring name '%s' (1-64 of A-Z a-z 0-9 . _ -): %s", name,
			 strerror(EINVAL));
		return buf;
	}
	switch (err) {
	case -ENOENT:
		snprintf(buf, len, "%s: %s (is capd running with --ring %s?)", path,
			 strerror(ENOENT), name);
		break;
	case -EACCES:
		ring_explain_group(path, buf, len);
		break;
	case -EPERM:
		if (ring_reader_check(name, buf, len) == 0)
			snprintf(buf, len, "%s: not a ring capd made", path);
		break;
	case -EBADMSG:
		snprintf(buf, len, "%s: not a rawcap ring (damaged or foreign header)", path);
		break;
	case -EPROTO:
		snprintf(buf, len, "%s: written by another rawcap version (layout)", path);
		break;
	default:
		snprintf(buf, len, "%s: %s", path, strerror(-err));
	}
	return buf;
}

