#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh - install every Debian package rawcap needs to build and test.
#
# The single source of the package list: CI, the README's two commands and the
# Helm chart's Dockerfile all call this script. Idempotent; safe to re-run.
set -euo pipefail

BUILD_PKGS=(
	build-essential cmake pkg-config clang llvm
	libbpf-dev bpftool libelf-dev zlib1g-dev
	liburing-dev libpcap-dev libmsgpack-dev libcmocka-dev
	libseccomp-dev libssl-dev libcurl4-openssl-dev libcjson-dev libxml2-dev
	libmicrohttpd-dev libgnutls28-dev
)
TEST_PKGS=(
	iproute2 tcpdump tshark wireshark-common netsniff-ng stenographer tcpreplay
	python3 python3-jsonschema python3-yaml openssl procps psmisc util-linux curl valgrind
	libclang-rt-14-dev
	golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
	nodejs
)

want=()
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

# The S3-protocol test server's npm packages (tests/s3/package-lock.json), in
# the source tree only (the image build copies this script alone).
s3setup=$(dirname "$0")/../tests/s3/setup.sh
[ ! -f "$s3setup" ] || bash "$s3setup"
