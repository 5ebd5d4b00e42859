/* SPDX-License-Identifier: MIT */
/*
 * frame.h - what capd records of a packet: the link type of an interface
 * and the bytes of a frame, as libpcap hands them to tcpdump on the same
 * interface. Shared by the AF_PACKET and the tc/eBPF backends.
 *
 * Link types (libpcap's map_arphrd_to_dlt() in pcap-linux.c):
 *  - Ethernet, veth, bridges, loopback: LINKTYPE_ETHERNET, the frame as the
 *    kernel holds it, with an 802.1Q/802.1ad tag the kernel moved into
 *    packet metadata put back in front of the type field
 *    (libpcap's pcap_handle_packet_mmap()).
 *  - interfaces without an Ethernet header (tun, wireguard, ipip, sit,
 *    ip6tnl, gre, ip6gre, ppp, raw-IP modems): LINKTYPE_RAW, the packet from
 *    its network header on. libpcap records tun, wireguard, ipip and sit
 *    the same way; for gre, ip6gre, ip6tnl, ppp and raw-IP it falls back to a
 *    cooked (LINKTYPE_LINUX_SLL) header in front of these same bytes.
 *  - anything else (CAN, 802.11 monitor, netlink, ...): not recorded.
 */
#ifndef CAPD_FRAME_H
#define CAPD_FRAME_H

#include <linux/if_arp.h>
#include <stdint.h>
#include <string.h>

#define CAPD_LINKTYPE_ETHERNET 1
#define CAPD_LINKTYPE_RAW      101
#define CAPD_VLAN_TAG_LEN      4
#define CAPD_ETH_TYPE_OFF      12 /* where libpcap puts a tag back: before the type field */

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/* Interface types whose packets are recorded from the network header, as LINKTYPE_RAW. */
static const uint16_t capd_raw_hatypes[] = {
	ARPHRD_NONE,  ARPHRD_TUNNEL, ARPHRD_TUNNEL6, ARPHRD_SIT,
	ARPHRD_IPGRE, ARPHRD_IP6GRE, ARPHRD_PPP,     ARPHRD_RAWIP,
};
/* Interface types whose packets are recorded as Ethernet frames. */
static const uint16_t capd_eth_hatypes[] = {ARPHRD_ETHER, ARPHRD_LOOPBACK};

#define CAPD_N_RAW_HATYPES (sizeof(capd_raw_hatypes) / sizeof(capd_raw_hatypes[0]))
#define CAPD_N_ETH_HATYPES (sizeof(capd_eth_hatypes) / sizeof(capd_eth_hatypes[0]))

/* The link type capd records an interface of type arphrd with; 0: not recorded. */
static inline uint16_t capd_linktype(uint16_t arphrd)
{
	for (unsigned i = 0; i < CAPD_N_ETH_HATYPES; i++)
		if (capd_eth_hatypes[i] == arphrd)
			return CAPD_LINKTYPE_ETHERNET;
	for (unsigned i = 0; i < CAPD_N_RAW_HATYPES; i++)
		if (capd_raw_hatypes[i] == arphrd)
			return CAPD_LINKTYPE_RAW;
	return 0;
}

/*
 * Bytes of an Ethernet frame of caplen captured bytes once its stripped tag
 * is back, cut to snaplen as libpcap cuts (the tag goes back only if the
 * capture holds both MAC addresses).
 */
static inline uint32_t capd_vlan_caplen(uint32_t caplen, uint32_t snaplen)
{
	if (caplen < CAPD_ETH_TYPE_OFF)
		return caplen;
	caplen += CAPD_VLAN_TAG_LEN;
	return caplen < snaplen ? caplen : snaplen;
}

/*
 * Copy an Ethernet frame into dst (capd_vlan_caplen() bytes) with the tag
 * (tpid, tci: host order) in front of its type field, the frame's bytes
 * after the tag cut to fit.
 */
static inline void capd_vlan_copy(uint8_t *dst, const uint8_t *src, uint32_t caplen,
				  uint32_t out_len, uint16_t tpid, uint16_t tci)
{
	if (caplen < CAPD_ETH_TYPE_OFF) {
		memcpy(dst, src, caplen);
		return;
	}
	memcpy(dst, src, CAPD_ETH_TYPE_OFF);
	dst[12] = (uint8_t)(tpid >> 8);
	dst[13] = (uint8_t)tpid;
	dst[14] = (uint8_t)(tci >> 8);
	dst[15] = (uint8_t)tci;
	memcpy(dst + CAPD_ETH_TYPE_OFF + CAPD_VLAN_TAG_LEN, src + CAPD_ETH_TYPE_OFF,
	       out_len - CAPD_ETH_TYPE_OFF - CAPD_VLAN_TAG_LEN);
}

#endif /* CAPD_FRAME_H */
