# SPDX-License-Identifier: MIT
# Differential fidelity: rawcap's exports against tcpdump's capture of the same
# interfaces in the same run (tests/fidelity/). ctest runs the ci tier of the
# matrix; tests/fidelity/run.sh runs all of it.
rawcap_script_test(fidelity_ci fidelity/ci.sh LABELS "fidelity;netns" TIMEOUT 400)
rawcap_script_test(fidelity_selftest fidelity/selftest.sh LABELS fidelity TIMEOUT 60)
