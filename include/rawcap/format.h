/* SPDX-License-Identifier: MIT */
/*
 * rawcap/format.h - the record framing shared by the shm ring, the disk FIFO
 * and snapshots.
 *
 * Every record starts with struct rawcap_rec_hdr and is padded to 8 bytes.
 * The first 8 bytes (len, type, flags) are readable on their own, so a pad
 * record can be as small as 8 bytes at the end of the ring's data area.
 * Everything is little-endian, host order on the machines we support.
 *
 * Bump RAWCAP_FORMAT_VERSION on any change to a struct below.
 */
#ifndef RAWCAP_FORMAT_H
#define RAWCAP_FORMAT_H

#include <stdint.h>

#define RAWCAP_FORMAT_VERSION 1
#define RAWCAP_REC_ALIGN      8
#define RAWCAP_REC_MAX	      (256u * 1024u) /* largest record, header included */

enum rawcap_rec_type {
	RAWCAP_REC_PAD = 1,    /* filler: skip len bytes, no sequence number */
	RAWCAP_REC_PACKET = 2, /* struct rawcap_pkt + captured bytes */
	RAWCAP_REC_META = 3,   /* one msgpack map; flags = enum rawcap_meta_kind */
	RAWCAP_REC_LOSS = 4,   /* struct rawcap_loss */
	RAWCAP_REC_IFACE = 5,  /* struct rawcap_iface */
};

/*
 * rawcap_rec_hdr.flags of an IFACE or LOSS record that a reader wrote
 * rather than capd: a snapshot's interface description taken from the
 * ring's table (capd's own record lies before the window), or its note of
 * records lost while copying. Such a record is not part of the node's
 * sequence: it carries the sequence number of the next record of that
 * sequence, which follows it; only other synthesised records and that one
 * record may share the number, so real sequence numbers stay strictly
 * increasing and unique.
 */
#define RAWCAP_REC_F_SYNTH 0x8000

struct rawcap_rec_hdr {
	uint32_t len;	/* header + payload, before padding to 8 */
	uint16_t type;	/* enum rawcap_rec_type */
	uint16_t flags; /* per type; META: enum rawcap_meta_kind; RAWCAP_REC_F_SYNTH */
	uint64_t seq;	/* dense per node, continues across capd restarts */
	uint64_t ts_ns; /* CLOCK_REALTIME nanoseconds */
};
_Static_assert(sizeof(struct rawcap_rec_hdr) == 24, "record header is 24 bytes");

static inline uint32_t rawcap_rec_span(uint32_t len)
{
	return (len + RAWCAP_REC_ALIGN - 1) & ~(uint32_t)(RAWCAP_REC_ALIGN - 1);
}

/* Direction, as AF_PACKET's sll_pkttype. */
enum rawcap_dir {
	RAWCAP_DIR_HOST = 0,	  /* PACKET_HOST: to us */
	RAWCAP_DIR_BROADCAST = 1, /* PACKET_BROADCAST */
	RAWCAP_DIR_MULTICAST = 2, /* PACKET_MULTICAST */
	RAWCAP_DIR_OTHERHOST = 3, /* PACKET_OTHERHOST: promiscuous */
	RAWCAP_DIR_OUTGOING = 4,  /* PACKET_OUTGOING: sent by us */
};

enum rawcap_pkt_flags {
	RAWCAP_PKT_VLAN = 1 << 0,    /* vlan_tci/vlan_tpid valid (kernel stripped the tag) */
	RAWCAP_PKT_EBPF = 1 << 1,    /* captured by the tc eBPF backend */
	RAWCAP_PKT_COOKIE = 1 << 2,  /* sock_cookie valid */
	RAWCAP_PKT_CGROUP = 1 << 3,  /* cgroup_id valid */
	RAWCAP_PKT_CSUM_BAD = 1 << 4 /* reserved */
};

struct rawcap_pkt {
	uint32_t ifindex;
	uint32_t orig_len;  /* length on the wire */
	uint16_t linktype;  /* DLT_* / LINKTYPE_* of the bytes that follow */
	uint8_t dir;	    /* enum rawcap_dir */
	uint8_t pkt_flags;  /* enum rawcap_pkt_flags */
	uint16_t vlan_tci;  /* when RAWCAP_PKT_VLAN */
	uint16_t vlan_tpid; /* when RAWCAP_PKT_VLAN */
	uint16_t protocol;  /* ethertype, network order as in sll_protocol */
	uint16_t reserved;
	uint32_t reserved2;
	uint64_t sock_cookie; /* when RAWCAP_PKT_COOKIE */
	uint64_t cgroup_id;   /* when RAWCAP_PKT_CGROUP */
	/* captured bytes follow; caplen = hdr.len - sizeof(hdr) - sizeof(pkt) */
};
_Static_assert(sizeof(struct rawcap_pkt) == 40, "packet header is 40 bytes");
_Static_assert(sizeof(struct rawcap_rec_hdr) + sizeof(struct rawcap_pkt) == 64,
	       "record + packet headers fill one cache line");

enum rawcap_loss_cause {
	RAWCAP_LOSS_KERNEL_DROP = 1,   /* tp_drops: the socket ring was full */
	RAWCAP_LOSS_KERNEL_FREEZE = 2, /* tp_freeze_q_cnt */
	RAWCAP_LOSS_EBPF_RINGBUF = 3,  /* bpf_ringbuf_reserve failed */
	RAWCAP_LOSS_PERSIST_LAPPED = 4, /* the ring overwrote data before it reached disk */
	RAWCAP_LOSS_DISK_ERROR = 5,    /* a write to the disk FIFO failed */
	RAWCAP_LOSS_CORRUPT = 6,       /* a damaged block was skipped while reading */
	RAWCAP_LOSS_TRUNCATED = 7,     /* a record too large for the ring */
	RAWCAP_LOSS_META_QUEUE = 8,    /* metadata queue into the ring overflowed */
};

struct rawcap_loss {
	uint64_t count;	  /* units lost (packets, or records for the reader-side causes) */
	uint32_t cause;	  /* enum rawcap_loss_cause */
	uint32_t ifindex; /* 0 when not tied to an interface */
	uint64_t first_seq; /* for reader-side causes: first lost sequence number, else 0 */
};
_Static_assert(sizeof(struct rawcap_loss) == 24, "loss payload is 24 bytes");

#define RAWCAP_IFNAMSIZ 16
#define RAWCAP_FILTER_MAX 256

struct rawcap_iface {
	uint32_t ifindex;
	uint16_t linktype; /* LINKTYPE_* */
	uint16_t arphrd;   /* ARPHRD_* */
	uint32_t mtu;
	uint32_t if_flags; /* IFF_* */
	uint8_t mac[8];
	uint16_t mac_len;
	uint16_t snaplen_kb; /* snaplen / 1024, rounded up; 0 = full */
	uint32_t netns_cookie_lo;
	char name[RAWCAP_IFNAMSIZ];
	char filter[RAWCAP_FILTER_MAX]; /* capture filter, NUL terminated, may be empty */
};
_Static_assert(sizeof(struct rawcap_iface) == 304, "interface payload is 304 bytes");

enum rawcap_meta_kind {
	RAWCAP_META_IFACE = 1,
	RAWCAP_META_POD = 2,
	RAWCAP_META_SERVICE = 3,
	RAWCAP_META_ENDPOINTS = 4,
	RAWCAP_META_NAMESPACE = 5,
	RAWCAP_META_PROCESS = 6, /* flow: 5-tuple to pid, comm, cgroup, container */
	RAWCAP_META_STATS = 7,
	RAWCAP_META_NODE = 8,
};

#endif /* RAWCAP_FORMAT_H */
