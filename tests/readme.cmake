# SPDX-License-Identifier: MIT
# The README's everyday lines, read from README.md and run as written.
rawcap_script_test(readme_everyday readme/everyday.sh LABELS "capd;netns" TIMEOUT 300)
