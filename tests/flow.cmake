# SPDX-License-Identifier: MIT
# Process context in exported packets: the flow table behind
# "pid=... comm=... container=..." packet comments, and capd --process-context
# through rawcap-pcap to tshark in private network namespaces (ctest -L flow).
rawcap_unit_test(test_meta_flow SOURCES flow/test_meta_flow.c LIBS rawcap_static
                 LABELS flow TIMEOUT 30)
if(RAWCAP_BPF)
  rawcap_script_test(flow_pcap_comments flow/pcap_comments.sh LABELS "ebpf;flow" TIMEOUT 90)
endif()
