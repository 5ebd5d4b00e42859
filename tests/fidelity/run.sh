#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh [BUILD_DIR] [fidelity.py options] - the whole fidelity matrix (about 17 minutes).
# ctest runs the fast subset instead (ci.sh, test fidelity_ci). As root.
#   tests/fidelity/run.sh build                        every cell
#   tests/fidelity/run.sh build --cell 'vlan-*' -v     some cells, with phase timings
#   tests/fidelity/run.sh build --table results.md     also a markdown table of the results
set -euo pipefail
B=${RAWCAP_BUILD:-build}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then B=$1; shift; fi
exec python3 "$(dirname "$0")/fidelity.py" --build "$B" "$@"
