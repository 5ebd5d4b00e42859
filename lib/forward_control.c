// SPDX-License-Identifier: MIT
/*
 * forward_control.c - rawcap_forward follows the dissection switch
 * (rawcap_dissection_load(), written by rawcap-server) in its control
 * directory: read at create, then a stat(2) at most once a second from the
 * event loop; the file is read again only when its inode, size or mtime
 * changed. A change becomes a pause or a resume through want_paused, as a
 * signal would, with the resume mode the file gives.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "forward_int.h"

#define FWD_CONTROL_PERIOD_MS 1000

static void fwd_control_apply(struct rawcap_forward *f, const struct rawcap_dissection *st)
{
	f->o.resume = st->resume;
	atomic_store(&f->want_paused, !st->enabled);
}

/* Read the switch; on a bad file say so once per version of it. */
static void fwd_control_read(struct rawcap_forward *f)
{
	struct rawcap_dissection st;
	int err = rawcap_dissection_load(f->o.control_dir, &st);

	if (!err) {
		fwd_control_apply(f, &st);
		f->control_warned = false;
	} else if (err != -ENOENT && !f->control_warned) {
		fprintf(stderr, "rawcap-forward: %s/%s: %s; dissection stays %s\n",
			f->o.control_dir, RAWCAP_DISSECTION_FILE,
			err == -EINVAL ? "not a dissection switch file" : strerror(-err),
			atomic_load(&f->want_paused) ? "off" : "on");
		f->control_warned = true;
	}
}

/* Which version of the file is there now; all zero when there is none. */
static struct fwd_file_id fwd_control_id(const struct rawcap_forward *f)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", f->o.control_dir, RAWCAP_DISSECTION_FILE);
	if (lstat(path, &sb))
		return (struct fwd_file_id){0};
	return (struct fwd_file_id){sb.st_dev, sb.st_ino, sb.st_size, sb.st_mtim.tv_sec,
				    sb.st_mtim.tv_nsec};
}

void fwd_control_init(struct rawcap_forward *f)
{
	if (!f->o.control_dir)
		return;
	f->control_id = fwd_control_id(f);
	fwd_control_read(f);
	f->paused = atomic_load(&f->want_paused);
	f->control_check_ms = clock_mono_ms() + FWD_CONTROL_PERIOD_MS;
}

void fwd_control_poll(struct rawcap_forward *f)
{
	struct fwd_file_id id;
	uint64_t now;

	if (!f->o.control_dir || (now = clock_mono_ms()) < f->control_check_ms)
		return;
	f->control_check_ms = now + FWD_CONTROL_PERIOD_MS;
	id = fwd_control_id(f);
	if (!memcmp(&id, &f->control_id, sizeof(id)))
		return;
	f->control_id = id;
	if (id.ino)
		fwd_control_read(f);
}
