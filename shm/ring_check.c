// SPDX-License-Identifier: MIT
/* ring_check.c - ring header validation shared by readers and capd's recovery. */
#include <errno.h>

#include "ring_check.h"

int ring_hdr_check(const struct ring_hdr *h, uint64_t file_size)
{
	uint64_t index_end, iface_end, max_rec;

	if (file_size < RING_HDR_SIZE || h->magic != RING_MAGIC)
		return -EBADMSG;
	if (h->version != RING_LAYOUT_VERSION || h->hdr_size != RING_HDR_SIZE)
		return -EPROTO;
	if (!ring_layout_valid_data_size(h->data_size) || (h->data_off & 4095) ||
	    h->total_size != file_size || h->data_off > file_size ||
	    file_size - h->data_off != h->data_size)
		return -EBADMSG;
	if (h->index_shift != ring_layout_index_shift(h->data_size) ||
	    h->index_entries != (h->data_size >> h->index_shift) || h->index_off != RING_HDR_SIZE)
		return -EBADMSG;
	index_end = h->index_off + (uint64_t)h->index_entries * sizeof(struct ring_index_ent);
	iface_end = h->iface_off + RING_IFACE_SLOTS * sizeof(struct ring_iface_slot);
	if (h->iface_off < index_end || h->iface_off > h->data_off || iface_end > h->data_off)
		return -EBADMSG;
	max_rec = h->data_size / 4 < RAWCAP_REC_MAX ? h->data_size / 4 : RAWCAP_REC_MAX;
	if (h->max_record != max_rec)
		return -EBADMSG;
	return 0;
}
