// SPDX-License-Identifier: MIT
/*
 * fanin.c - drive the merge from the nodes' streams or from files, and
 * report per node (see fanin.h).
 *
 * One thread: libcurl's multi loop (or read(2) on files) feeds the inputs;
 * the merge writes whatever it can after each step; an input whose buffer
 * is full pauses its stream until the merge wants its bytes again. A stream
 * the merge waits for that brings nothing for --request-timeout seconds is
 * cut and its node reported, so one hung node cannot hang the export.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>

#include "fanin.h"
#include "http.h"

#define FLUSH_IDLE_NS (200ull * 1000000u)

int fanin_new(struct fanin *f, struct cli *c, const struct merge_opts *mo, const char *const *names,
	      size_t n)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->c = c;
	f->nodes = calloc(n ? n : 1, sizeof(*f->nodes));
	if (!f->nodes || (err = merge_new(mo, &f->m)))
		return -ENOMEM;
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		f->nodes[i].name = names[i];
		if ((err = merge_add(f->m, names[i], &f->nodes[i].in)))
			return err;
	}
	return 0;
}

void fanin_free(struct fanin *f)
{
	merge_free(f->m);
	free(f->nodes);
	memset(f, 0, sizeof(*f));
}

static void fail_node(struct fanin_node *fn, const char *why)
{
	snprintf(fn->why, sizeof(fn->why), "%s", why);
	merge_fail(fn->in, fn->why);
}

uint64_t fanin_packets(const struct fanin *f)
{
	uint64_t packets = 0;

	for (size_t i = 0; f->nodes && i < f->n; i++) {
		struct merge_in_stats st;

		if (!f->nodes[i].in)
			continue;
		merge_in_stats(f->nodes[i].in, &st);
		packets += st.packets;
	}
	return packets;
}

static void progress(struct fanin *f, uint64_t *last, uint64_t bytes_in)
{
	uint64_t now = cli_mono_ns();
	size_t done = 0;

	if (!f->c->progress || now - *last < 1000000000u)
		return;
	*last = now;
	for (size_t i = 0; i < f->n; i++) {
		struct merge_in_stats st;

		merge_in_stats(f->nodes[i].in, &st);
		done += st.state != MERGE_IN_RUNNING;
	}
	fprintf(stderr, "\r" PROG ": %s: %zu/%zu nodes done, %llu packets, %.1f MB received ",
		f->what, done, f->n, (unsigned long long)fanin_packets(f), (double)bytes_in / 1e6);
}

/* The merge's step; flush streams that sit idle. Returns merge_run()'s value. */
static int merge_step(struct fanin *f, uint64_t *wake, uint64_t *last_flush)
{
	int rc = merge_run(f->m, wake);
	uint64_t now = cli_mono_ns();

	if (rc == 0 && f->stream_out && now - *last_flush > FLUSH_IDLE_NS) {
		*last_flush = now;
		rc = merge_flush(f->m);
	}
	return rc;
}

/* ---- from the nodes ---- */

struct stream {
	struct fanin *f;
	struct fanin_node *fn;
	struct http_req req;
	bool ended;
};

static const char *missing_words(const struct fanin_node *fn)
{
	return fn->uncaptured ? "is " RAWCAP_UNCAPTURED_WORDS
			      : "is missing (" RAWCAP_MISSING_RECYCLED " before the export)";
}

static void stream_start(void *arg, struct http_req *r)
{
	struct stream *s = arg;
	const char *mf = http_header(r, "X-Rawcap-Missing-From");
	const char *mt = http_header(r, "X-Rawcap-Missing-To");
	const char *why = http_header(r, "X-Rawcap-Missing-Reason");
	char note[400];

	if (r->status != 200 || !mf || !mt)
		return;
	snprintf(s->fn->missing, sizeof(s->fn->missing), "%.70s .. %.70s", mf, mt);
	for (char *p = s->fn->missing; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	/* a server before X-Rawcap-Missing-Reason: recycled, as it then said */
	s->fn->uncaptured = why && !strcmp(why, "before capture");
	snprintf(note, sizeof(note), "window part %s %s", s->fn->missing, missing_words(s->fn));
	merge_note(s->fn->in, note);
}

static int stream_data(void *arg, const void *data, size_t len)
{
	struct stream *s = arg;

	return merge_feed(s->fn->in, data, len);
}

/* A request ended: what it means for the node's input. */
static void stream_done(struct stream *s, struct transport *t)
{
	char buf[400], why[512];
	const char *fail = http_failure(&s->req, buf, sizeof(buf));
	const char *health = fail ? transport_health(t, s->req.node) : NULL;

	s->ended = true;
	if (health)
		fail = health;
	if (!fail) {
		merge_end(s->fn->in, NULL);
		return;
	}
	if (s->req.status == 200) {
		snprintf(why, sizeof(why), "stream cut after %llu bytes: %s",
			 (unsigned long long)s->req.rx_bytes, fail);
		snprintf(s->fn->why, sizeof(s->fn->why), "%s", why);
		merge_end(s->fn->in, why);
	} else {
		fail_node(s->fn, fail);
	}
}

static int stream_open(struct http *h, struct stream *s, size_t i, const char *path)
{
	s->req.node = i;
	s->req.stream = true;
	s->req.on_start = stream_start;
	s->req.on_data = stream_data;
	s->req.arg = s;
	s->req.path = strdup(path);
	if (!s->req.path || http_add(h, &s->req)) {
		fail_node(s->fn, s->req.error[0] ? s->req.error : "out of memory");
		s->ended = true;
	}
	return 0;
}

/* Cut streams the merge waits for that brought nothing for timeout_s. */
static void check_stalls(struct fanin *f, struct stream *ss)
{
	uint64_t now = cli_mono_ns(), limit = (uint64_t)f->c->timeout_s * 1000000000u;
	char why[96];

	for (size_t i = 0; i < f->n; i++) {
		struct stream *s = &ss[i];

		if (s->ended || !s->req.h || s->req.done || s->req.paused ||
		    !merge_wants(s->fn->in) || now - s->req.last_rx_ns < limit)
			continue;
		snprintf(why, sizeof(why), "no data for %u s (--request-timeout)", f->c->timeout_s);
		http_abort(&s->req, why);
	}
}

static int http_loop(struct fanin *f, struct http *h, struct transport *t, struct stream *ss)
{
	uint64_t last_progress = cli_mono_ns(), last_flush = 0, wake;
	int rc = 0;

	for (;;) {
		uint64_t bytes = 0;
		int timeout = 100;

		wake = 0;
		if (f->c->stop && *f->c->stop) {
			for (size_t i = 0; i < f->n; i++)
				http_abort(&ss[i].req, "interrupted");
		}
		for (size_t i = 0; i < f->n; i++) {
			struct merge_in_stats st;

			merge_in_stats(ss[i].fn->in, &st);
			if (!ss[i].ended && !ss[i].req.done && st.state != MERGE_IN_RUNNING)
				http_abort(&ss[i].req, "its stream was refused"); /* bad bytes */
			if (!ss[i].ended && ss[i].req.done)
				stream_done(&ss[i], t);
			bytes += ss[i].req.rx_bytes;
		}
		rc = merge_step(f, &wake, &last_flush);
		if (rc != 0)
			break;
		for (size_t i = 0; i < f->n; i++)
			if (ss[i].req.paused && merge_wants(ss[i].fn->in))
				http_resume(&ss[i].req);
		check_stalls(f, ss);
		progress(f, &last_progress, bytes);
		if (wake) {
			uint64_t now = cli_mono_ns();

			timeout = wake > now ? (int)((wake - now) / 1000000u) : 0;
			timeout = timeout > 100 ? 100 : timeout;
		}
		http_step(h, timeout);
	}
	if (f->c->progress)
		fputc('\n', stderr);
	return rc < 0 ? rc : (f->c->stop && *f->c->stop ? -EINTR : 0);
}

int fanin_http(struct fanin *f, struct transport *t, const char *path)
{
	struct stream *ss = calloc(f->n ? f->n : 1, sizeof(*ss));
	struct http h;
	int rc;

	f->what = f->what ? f->what : "export";
	if (!ss || http_init(&h, t, f->c)) {
		free(ss);
		return -ENOMEM;
	}
	/* f->nodes[i] is t->nodes[i]: both sorted by name */
	for (size_t i = 0; i < f->n; i++) {
		ss[i].f = f; /* every node, reachable or not: the loop reads them all */
		ss[i].fn = &f->nodes[i];
		if (!t->nodes[i].url) {
			fail_node(&f->nodes[i], t->nodes[i].why);
			ss[i].ended = true;
			continue;
		}
		stream_open(&h, &ss[i], i, path);
	}
	rc = http_loop(f, &h, t, ss);
	for (size_t i = 0; i < f->n; i++)
		http_req_free(&ss[i].req);
	http_cleanup(&h);
	free(ss);
	return rc;
}

/* ---- from files ---- */

static int read_some(struct fanin_node *fn, int fd, uint64_t *bytes)
{
	size_t room;
	uint8_t *p = merge_wbuf(fn->in, &room);
	ssize_t n;

	if (!p || !room) {
		fail_node(fn, "no room to read into");
		return 0;
	}
	n = read(fd, p, room);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0) {
		snprintf(fn->why, sizeof(fn->why), "read: %s", strerror(errno));
		merge_end(fn->in, fn->why);
		return -1;
	}
	if (n == 0) {
		merge_end(fn->in, NULL);
		return -1;
	}
	merge_commit(fn->in, (size_t)n);
	*bytes += (uint64_t)n;
	return 0;
}

int fanin_files(struct fanin *f, const char *const *files)
{
	int *fds = calloc(f->n ? f->n : 1, sizeof(*fds));
	uint64_t last_progress = cli_mono_ns(), last_flush = 0, bytes = 0;
	char why[300];
	int rc = 0;

	f->what = f->what ? f->what : "merge";
	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		fds[i] = strcmp(files[i], "-") ? open(files[i], O_RDONLY | O_CLOEXEC) : dup(0);
		if (fds[i] < 0) {
			snprintf(why, sizeof(why), "%s: %s", files[i], strerror(errno));
			fail_node(&f->nodes[i], why);
		}
	}
	while (rc == 0) {
		if (f->c->stop && *f->c->stop) {
			rc = -EINTR;
			break;
		}
		for (size_t i = 0; i < f->n; i++)
			if (fds[i] >= 0 && merge_wants(f->nodes[i].in) &&
			    read_some(&f->nodes[i], fds[i], &bytes)) {
				close(fds[i]);
				fds[i] = -1;
			}
		rc = merge_step(f, NULL, &last_flush);
		progress(f, &last_progress, bytes);
	}
	for (size_t i = 0; i < f->n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (f->c->progress)
		fputc('\n', stderr);
	return rc < 0 ? rc : 0;
}

/* ---- the report ---- */

static const char *state_word(const struct merge_in_stats *st, const struct fanin_node *fn)
{
	switch (st->state) {
	case MERGE_IN_COMPLETE:
		return (fn->missing[0] && !fn->uncaptured) || st->drops || st->skipped ? "partial"
											 : "complete";
	case MERGE_IN_TRUNCATED:
		return "partial";
	case MERGE_IN_FAILED:
		return "failed";
	default:
		return "interrupted";
	}
}

static bool report_node(const struct fanin_node *fn)
{
	struct merge_in_stats st;
	const char *word;

	merge_in_stats(fn->in, &st);
	word = state_word(&st, fn);
	fprintf(stderr, PROG ": %s: %s, %llu packets (%.1f MB)", fn->name, word,
		(unsigned long long)st.packets, (double)st.bytes / 1e6);
	if (fn->missing[0])
		fprintf(stderr, "; window part %s %s", fn->missing, missing_words(fn));
	if (st.drops)
		fprintf(stderr, "; %llu packets dropped on the node (drop counts in the file)",
			(unsigned long long)st.drops);
	if (st.skipped)
		fprintf(stderr,
			"; %llu packets skipped: their link type does not fit the file's "
			"(use --linktype sll, or native with pcapng)",
			(unsigned long long)st.skipped);
	if (st.why)
		fprintf(stderr, "; %s", st.why);
	fputc('\n', stderr);
	return strcmp(word, "complete") != 0;
}

int fanin_report(struct fanin *f, int run_err)
{
	bool partial = run_err != 0;
	int err = merge_finish(f->m);

	for (size_t i = 0; i < f->n; i++)
		partial |= report_node(&f->nodes[i]);
	if (run_err == -EINTR)
		fprintf(stderr, PROG ": interrupted: the output holds what was merged so far\n");
	else if (run_err && run_err != -EPIPE)
		fprintf(stderr, PROG ": writing the output: %s\n", strerror(-run_err));
	if (err && err != run_err && err != -EPIPE) {
		fprintf(stderr, PROG ": writing the output: %s\n", strerror(-err));
		partial = true;
	}
	return partial || err ? CLI_PARTIAL : CLI_OK;
}
