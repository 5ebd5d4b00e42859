#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci.sh - the fidelity matrix's ci tier, as ctest's fidelity_ci runs it (RAWCAP_BUILD set).
exec python3 "$(dirname "$0")/fidelity.py" --build "${RAWCAP_BUILD:?run through ctest}" --tier ci "$@"
