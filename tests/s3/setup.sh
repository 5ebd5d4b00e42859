#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# setup.sh - install the S3 test server's npm packages, exactly those of
# package-lock.json (npm ci), into tests/s3/node_modules. Skipped when they
# were installed from this very lock file. Run by scripts/install-deps.sh
# and by each S3 test before it starts the server.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stamp=$here/node_modules/.rawcap-lock.sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
exec 9>"$here/.setup.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
if ! command -v npm >/dev/null; then
	echo "tests/s3/setup.sh: npm not found (Debian package nodejs)" >&2
	exit 1
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
echo "tests/s3: npm packages installed"
