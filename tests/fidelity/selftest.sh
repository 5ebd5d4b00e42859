#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# selftest.sh - the fidelity harness's comparison finds each kind of difference (ctest fidelity_selftest).
exec python3 "$(dirname "$0")/selftest.py"
