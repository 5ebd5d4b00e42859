# SPDX-License-Identifier: MIT
# rawcap-server (server/): the node API against the real capd in a private
# namespace, curl as the client.
rawcap_script_test(server_pcap server/pcap.sh LABELS server capd netns TIMEOUT 240)
