# SPDX-License-Identifier: MIT
# librawcap as a library: its shared tables and its exported symbols.
rawcap_unit_test(test_loss_names SOURCES lib/test_loss_names.c LIBS rawcap LABELS lib TIMEOUT 30)
# The shared library exports exactly the symbols its map lists, by name and version.
rawcap_script_test(lib_exports lib/exports.sh LABELS lib TIMEOUT 60)
# The dissection switch file rawcap-server writes and rawcap-forward follows.
rawcap_unit_test(test_dissection SOURCES lib/test_dissection.c LIBS rawcap LABELS lib TIMEOUT 30)
# The window loop itself over a ring written in-process: packets, interfaces,
# metadata hooks, loss records and reader loss.
rawcap_unit_test(test_window SOURCES lib/test_window.c LIBS rawcap_static rawcap_ring_writer
                 LABELS lib TIMEOUT 60)
rawcap_unit_test(test_forward_status SOURCES lib/test_forward_status.c LIBS rawcap LABELS lib TIMEOUT 30)
