#!/bin/sh
# SPDX-License-Identifier: MIT
# kubectl_standin.sh - Debian's real kubectl ($RC_REAL_KUBECTL) for every
# command but port-forward, which goes to pf_standin.py (it cannot run
# without a cluster). exec keeps the pid, so kubectl-rawcap's process
# handling applies to what it started.
for a in "$@"; do
	[ "$a" = port-forward ] && exec python3 "$(dirname "$0")/pf_standin.py" "$@"
done
exec "$RC_REAL_KUBECTL" "$@"
