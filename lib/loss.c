// SPDX-License-Identifier: MIT
/* loss.c - the names of loss causes (rawcap_loss_cause_name() in rawcap/rawcap.h). */
#include <rawcap/rawcap.h>
#include <rawcap/window.h>

static const struct {
	const char *name; /* metrics label value, JSON key */
	const char *text; /* for people: pcapng comments, messages */
} loss_causes[] = {
	[RAWCAP_LOSS_READER] = {"reader", "missed by this reader (lapped or damaged)"},
	[RAWCAP_LOSS_KERNEL_DROP] = {"kernel_drop", "kernel socket ring full"},
	[RAWCAP_LOSS_KERNEL_FREEZE] = {"kernel_freeze", "kernel queue frozen"},
	[RAWCAP_LOSS_EBPF_RINGBUF] = {"ebpf_ringbuf", "eBPF ring buffer full"},
	[RAWCAP_LOSS_PERSIST_LAPPED] = {"persist_lapped", "overwritten before reaching disk"},
	[RAWCAP_LOSS_DISK_ERROR] = {"disk_error", "disk write error"},
	[RAWCAP_LOSS_CORRUPT] = {"corrupt", "damaged block skipped"},
	[RAWCAP_LOSS_TRUNCATED] = {"truncated", "record too large"},
	[RAWCAP_LOSS_META_QUEUE] = {"meta_queue", "metadata queue overflow"},
	[RAWCAP_LOSS_IFACE_UNKNOWN] = {"iface_unknown", "interface without a description"},
};
#define LOSS_CAUSES_NR (sizeof(loss_causes) / sizeof(loss_causes[0]))

const char *rawcap_loss_cause_name(uint32_t cause)
{
	return cause < LOSS_CAUSES_NR ? loss_causes[cause].name : NULL;
}

const char *rawcap_loss_cause_text(uint32_t cause)
{
	return cause < LOSS_CAUSES_NR ? loss_causes[cause].text : NULL;
}
