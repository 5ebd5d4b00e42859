// SPDX-License-Identifier: MIT
/* history_stub.c - placeholder until the disk FIFO reader lands (issue: disk FIFO). */
#include <errno.h>
#include <stddef.h>

#include "history.h"

int history_open(const char *dir, struct history **out)
{
	(void)dir;
	*out = NULL;
	return -ENOTSUP;
}

void history_close(struct history *h)
{
	(void)h;
}

int history_seek(struct history *h, enum rawcap_seek whence, uint64_t value)
{
	(void)h, (void)whence, (void)value;
	return -ENOTSUP;
}

int history_next(struct history *h, struct rawcap_rec *rec, uint64_t *corrupt)
{
	(void)h, (void)rec, (void)corrupt;
	return -ENOTSUP;
}

int history_bounds(struct history *h, uint64_t *a, uint64_t *b, uint64_t *c, uint64_t *d)
{
	(void)h, (void)a, (void)b, (void)c, (void)d;
	return -ENOTSUP;
}
