# SPDX-License-Identifier: MIT
# kubectl-rawcap (cli/): the pcapng stream reader and the k-way merge as
# units, the merge against mergecap on real captures, discovery with
# Debian's kubectl against the fake API server, and the corpus replay of
# the reader's fuzz target.
rawcap_unit_test(test_pcapng_read SOURCES kubectl/test_pcapng_read.c
                 LIBS rawcap_cli rawcap_static LABELS kubectl TIMEOUT 60)
