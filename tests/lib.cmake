# SPDX-License-Identifier: MIT
# librawcap as a library: its shared tables.
rawcap_unit_test(test_loss_names SOURCES lib/test_loss_names.c LIBS rawcap LABELS lib TIMEOUT 30)
