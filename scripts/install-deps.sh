#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh - install every Debian package rawcap needs to build and test.
#
# The single source of the package list: CI, the README's two commands and the
# Helm chart's Dockerfile all call this script. Idempotent; safe to re-run.
#   --build-only   only what building and running rawcap needs (scripts/run-capd.sh):
#                  no test packages, npm packages or Debian's kubectl, so a machine
#                  that has the build packages needs no network to run capd
set -euo pipefail
BUILD_ONLY=0
case "${1:-}" in
--build-only) BUILD_ONLY=1 ;;
"") ;;
*) echo "install-deps: unknown option '$1' (--build-only, or none)" >&2; exit 2 ;;
esac

BUILD_PKGS=(
	build-essential cmake pkg-config clang llvm
	libbpf-dev bpftool libelf-dev zlib1g-dev
	liburing-dev libpcap-dev libmsgpack-dev libcmocka-dev
	libseccomp-dev libssl-dev libcurl4-openssl-dev libcjson-dev libxml2-dev
	libmicrohttpd-dev libgnutls28-dev
)
TEST_PKGS=(
	iproute2 tcpdump tshark wireshark-common netsniff-ng stenographer tcpreplay
	python3 python3-jsonschema python3-yaml openssl procps psmisc util-linux curl valgrind acl
	libclang-rt-14-dev
	golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
	nodejs
)

# Debian's kubectl (package kubernetes-client) for kubectl-rawcap's tests, unpacked
# into the source tree (.deps/kubectl/usr/bin/kubectl) rather than installed: a
# machine may already have another /usr/bin/kubectl (google-cloud-sdk's), which
# this leaves alone. Only when run from a checkout (the image build has none).
REPO=$(cd "$(dirname "$0")/.." && pwd)
KUBECTL_DIR=$REPO/.deps/kubectl
fetch_kubectl() {
	local tmp
	[ -f "$REPO/CMakeLists.txt" ] && [ ! -x "$KUBECTL_DIR/usr/bin/kubectl" ] || return 0
	tmp=$(mktemp -d)
	chown _apt "$tmp" 2>/dev/null || true # apt-get download fetches as _apt
	(cd "$tmp" && { apt-get download -qq kubernetes-client 2>/dev/null ||
		{ apt-get update -qq && apt-get download -qq kubernetes-client; }; })
	mkdir -p "$KUBECTL_DIR"
	dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$KUBECTL_DIR"
	rm -rf "$tmp"
	echo "install-deps: Debian's kubectl in $KUBECTL_DIR/usr/bin/kubectl"
}

want=()
[ "$BUILD_ONLY" = 1 ] && TEST_PKGS=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
done
if [ "${#want[@]}" -eq 0 ]; then
	echo "install-deps: all packages present"
else
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer no, non-interactively.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${want[@]}"
	echo "install-deps: installed ${#want[@]} packages"
fi
[ "$BUILD_ONLY" = 0 ] || exit 0

# The S3-protocol test server's npm packages (tests/s3/package-lock.json), in
# the source tree only (the image build copies this script alone).
s3setup=$(dirname "$0")/../tests/s3/setup.sh
[ ! -f "$s3setup" ] || bash "$s3setup"

# Debian's kubectl for kubectl-rawcap's tests (see fetch_kubectl).
fetch_kubectl
