#!/usr/bin/env bash
# run.sh - test the Helm chart offline: build the Go renderer, render helm/rawcap, assert on the manifests.
#
# Helm itself is not installable here, so tests/helm/render renders the chart with
# text/template + sprig from Debian packages (GO111MODULE=off, GOPATH=/usr/share/gocode),
# and test_chart.py checks the output with PyYAML and jsonschema. kubectl, when
# present, decodes the DaemonSet and RBAC binding offline.
# Exit 0 pass, 1 fail, 77 skip (only when Go or sprig is not installed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
gopath=/usr/share/gocode

if ! command -v go >/dev/null 2>&1; then
	echo "helm: skip: go not installed (Debian golang-go)"
	exit 77
fi
for pkg in github.com/Masterminds/sprig sigs.k8s.io/yaml; do
	if [ ! -d "$gopath/src/$pkg" ]; then
		echo "helm: skip: $pkg not in $gopath (Debian golang-github-masterminds-sprig-dev, golang-k8s-sigs-yaml-dev)"
		exit 77
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keep the Go build cache between runs when there is a home for it; else in tmp.
cache=${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$tmp}/.cache}/go-build}
if ! (cd "$here/render" && GO111MODULE=off GOPATH=$gopath GOCACHE=$cache GOFLAGS='' \
	go build -o "$tmp/render" .) >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "helm: 0 passed, 1 failed (renderer did not build)"
	exit 1
fi

# Debian's python3 is the one python3-yaml and python3-jsonschema install into.
py=${PYTHON:-python3}
[ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec "$py" "$here/test_chart.py" "$tmp/render" "$root/helm/rawcap"
