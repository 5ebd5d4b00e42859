# SPDX-License-Identifier: MIT
# The README's everyday lines, read from README.md and run as written.
rawcap_script_test(readme_everyday readme/everyday.sh LABELS "capd;netns" TIMEOUT 300)

# The README's install lines (cmake --install, ldconfig, the example reader
# built with pkg-config) as written, in a private mount namespace. nosan: the
# example is built as a user would, without the sanitizer runtime.
rawcap_script_test(readme_install readme/install.sh LABELS "readme;nosan" TIMEOUT 120)

# The README's first command (scripts/run-capd.sh) fetches nothing once the build packages are in.
rawcap_script_test(readme_offline readme/offline.sh LABELS "readme" TIMEOUT 60)

# The README's first command as written: capd starts and its user is told where the ring is and what next.
rawcap_script_test(readme_run_capd readme/run_capd.sh LABELS "readme;capd;netns" TIMEOUT 120)
