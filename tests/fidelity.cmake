# SPDX-License-Identifier: MIT
# Differential fidelity: rawcap's exports against tcpdump's capture of the same
# interfaces in the same run (tests/fidelity/). ctest runs the ci tier of the
# matrix; tests/fidelity/run.sh runs all of it.
# The sanitizer pass of scripts/test.sh runs it too (about 3.5 min on the
# loaded 2-core VM): capd, the readers and the writers under ASan and UBSan
# across every export path.
rawcap_script_test(fidelity_ci fidelity/ci.sh LABELS "fidelity;netns" TIMEOUT 600)
rawcap_script_test(fidelity_selftest fidelity/selftest.sh LABELS fidelity TIMEOUT 60)
