# SPDX-License-Identifier: MIT
# httpd: the HTTP module every rawcap listener uses (httpd/httpd.h), over real
# loopback sockets in a private network namespace (unshare -n, as root).
add_executable(test_httpd httpd/test_httpd.c)
target_link_libraries(test_httpd PRIVATE PkgConfig::CMOCKA rawcap_httpd Threads::Threads)
add_test(NAME test_httpd COMMAND unshare -n sh -c "ip link set lo up && exec \"$0\""
                                 $<TARGET_FILE:test_httpd>)
set_tests_properties(test_httpd PROPERTIES TIMEOUT 120 LABELS "httpd;netns")
