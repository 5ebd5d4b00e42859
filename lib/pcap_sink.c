// SPDX-License-Identifier: MIT
/*
 * pcap_sink.c - the pcap/pcapng writer as a window sink: interfaces become
 * interface blocks, loss becomes the next packet's drop count plus a
 * comment that says what was lost and why (or, after the last packet, the
 * interface statistics' drop count and comment).
 */
#include <stdio.h>
#include <string.h>

#include <rawcap/pcap.h>
#include <rawcap/window.h>

static const char *loss_cause_name(uint32_t cause)
{
	static const char *const names[] = {
		[RAWCAP_LOSS_READER] = "missed by this reader (lapped or damaged)",
		[RAWCAP_LOSS_KERNEL_DROP] = "kernel socket ring full",
		[RAWCAP_LOSS_KERNEL_FREEZE] = "kernel queue frozen",
		[RAWCAP_LOSS_EBPF_RINGBUF] = "eBPF ring buffer full",
		[RAWCAP_LOSS_PERSIST_LAPPED] = "overwritten before reaching disk",
		[RAWCAP_LOSS_DISK_ERROR] = "disk write error",
		[RAWCAP_LOSS_CORRUPT] = "damaged block skipped",
		[RAWCAP_LOSS_TRUNCATED] = "record too large",
		[RAWCAP_LOSS_META_QUEUE] = "metadata queue overflow",
	};

	return cause < sizeof(names) / sizeof(names[0]) && names[cause] ? names[cause] : "unknown";
}

static int sink_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct rawcap_pcap_sink_state *st = ctx;

	return rawcap_pcap_add_iface(st->w, ifc);
}

static int sink_loss(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause)
{
	struct rawcap_pcap_sink_state *st = ctx;

	rawcap_pcap_note_loss(st->w, ifindex, count);
	snprintf(st->comment, sizeof(st->comment), "%llu %s lost: %s", (unsigned long long)count,
		 cause == RAWCAP_LOSS_READER || cause == RAWCAP_LOSS_CORRUPT ? "records"
									     : "packets",
		 loss_cause_name(cause));
	rawcap_pcap_note_comment(st->w, st->comment);
	return 0;
}

static int sink_packet(void *ctx, const struct rawcap_window_pkt *p)
{
	struct rawcap_pcap_sink_state *st = ctx;
	struct rawcap_pcap_pkt pp = {
		.ts_ns = p->rec->ts_ns,
		.pkt = p->pkt,
		.data = p->data,
		.caplen = p->caplen,
		.comment = p->comment,
	};
	int err = rawcap_pcap_write(st->w, &pp);

	return err < 0 ? err : 0;
}

static int sink_flush(void *ctx)
{
	struct rawcap_pcap_sink_state *st = ctx;

	return rawcap_pcap_flush(st->w);
}

void rawcap_pcap_sink(struct rawcap_pcap_sink_state *st, struct rawcap_pcap *w,
		      struct rawcap_sink *out)
{
	memset(st, 0, sizeof(*st));
	st->w = w;
	*out = (struct rawcap_sink){
		.ctx = st,
		.iface = sink_iface,
		.packet = sink_packet,
		.loss = sink_loss,
		.flush = sink_flush,
	};
}
