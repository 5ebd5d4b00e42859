#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-capd.sh - set up everything and run capd on a sensible default (the README's first command).
#
# Installs the Debian packages, builds a release build, and runs capd in the
# foreground: every interface, ring "default" of 256 MiB, a 1 GiB disk FIFO in
# /var/lib/rawcap/fifo, metrics on 127.0.0.1:9464, dropping to the user and
# group rawcap (64720), which it creates if missing. Extra arguments go to capd.
# Stop it with Ctrl-C; read it meanwhile with e.g. `build/readers/rawcap-stat`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --build-only # tests' tools are scripts/test.sh's
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
# capd's default identity, named (README.md, "Identity"): user and group rawcap,
# uid and gid 64720. capd drops to those ids with or without the names; the
# names let `ls -l` show them and `usermod -aG rawcap USER` let USER read.
ensure_identity() {
	local u g
	g=$(getent group rawcap | cut -d: -f3 || true)
	u=$(getent passwd rawcap | cut -d: -f3 || true)
	if [ -z "$g" ]; then
		getent group 64720 >/dev/null && {
			echo "run-capd: gid 64720 is taken by group $(getent group 64720 | cut -d: -f1):" \
				"pass --user and --group to choose capd's identity" >&2
			exit 1
		}
		groupadd --system --gid 64720 rawcap
		g=64720
	fi
	if [ -z "$u" ]; then
		getent passwd 64720 >/dev/null && {
			echo "run-capd: uid 64720 is taken by user $(getent passwd 64720 | cut -d: -f1):" \
				"pass --user and --group to choose capd's identity" >&2
			exit 1
		}
		useradd --system --uid 64720 --gid rawcap --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin rawcap
		u=64720
	fi
	if [ "$u:$g" != 64720:64720 ]; then
		echo "run-capd: using the existing user and group rawcap ($u:$g), not 64720:64720" >&2
		IDENTITY=(--user rawcap --group rawcap)
	fi
}
IDENTITY=()
case " $* " in
*" --user "* | *" -u "* | *" --user="*) ;; # the caller chose one
*) ensure_identity ;;
esac
mkdir -p /var/lib/rawcap/fifo
# What to do next, before capd's own lines (README.md, "After the two commands").
cat >&2 <<'EOF'
run-capd: starting capd; its ring is /dev/shm/rawcap-NAME (capd names it below), its disk FIFO
run-capd: /var/lib/rawcap/fifo. From another terminal, as root or in group rawcap:
run-capd:   build/readers/rawcap-stat                              # is capd running, what it holds
run-capd:   build/readers/rawcap-pcap --last 5m -o last5m.pcapng   # the last 5 minutes for Wireshark
run-capd:   curl -s http://127.0.0.1:9464/metrics                  # Prometheus metrics
run-capd: Stop with Ctrl-C (or SIGTERM): the ring and the FIFO stay; running this again continues them.
EOF
exec build/capd/capd --storage /var/lib/rawcap/fifo --storage-size 1Gi \
	--stats-listen 127.0.0.1:9464 "${IDENTITY[@]}" "$@"
