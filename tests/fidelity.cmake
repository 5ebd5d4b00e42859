# SPDX-License-Identifier: MIT
# Differential fidelity: rawcap's exports against tcpdump's capture of the same
# interfaces in the same run (tests/fidelity/). ctest runs the ci tier of the
# matrix; tests/fidelity/run.sh runs all of it.
# nosan: the sanitizer pass of scripts/test.sh does not run the matrix a second
# time (~2 min); run it by hand on a sanitizer build with
# `ctest --test-dir build-asan -R fidelity_ci`.
rawcap_script_test(fidelity_ci fidelity/ci.sh LABELS "fidelity;netns;nosan" TIMEOUT 400)
rawcap_script_test(fidelity_selftest fidelity/selftest.sh LABELS fidelity TIMEOUT 60)
