# SPDX-License-Identifier: MIT
# httpd: the HTTP module every rawcap listener uses (httpd/httpd.h), over real
# loopback sockets in a private network namespace (unshare -n, as root).
add_executable(test_httpd httpd/test_httpd.c)
target_link_libraries(test_httpd PRIVATE PkgConfig::CMOCKA rawcap_httpd Threads::Threads)
add_test(NAME test_httpd COMMAND unshare -n sh -c "ip link set lo up && exec \"$0\""
                                 $<TARGET_FILE:test_httpd>)
set_tests_properties(test_httpd PROPERTIES TIMEOUT 120 LABELS "httpd;netns")

# What a node API needs of httpd/: "*" segments, errors as JSON, 414, streamed bodies.
add_executable(test_httpd_api httpd/test_httpd_api.c)
target_link_libraries(test_httpd_api PRIVATE PkgConfig::CMOCKA rawcap_httpd Threads::Threads)
add_test(NAME test_httpd_api COMMAND unshare -n sh -c "ip link set lo up && exec \"$0\""
                                     $<TARGET_FILE:test_httpd_api>)
set_tests_properties(test_httpd_api PROPERTIES TIMEOUT 180 LABELS "httpd;netns")
