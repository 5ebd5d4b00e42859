# SPDX-License-Identifier: MIT
# rawcap_self: the per-packet test of rawcap's own traffic (self_match.c),
# used by both capture backends; self_exclude.c, the capd source that finds
# rawcap's sockets, is compiled into capd itself.
add_library(rawcap_self STATIC ${CMAKE_CURRENT_LIST_DIR}/self_match.c)
target_include_directories(rawcap_self PUBLIC ${CMAKE_CURRENT_LIST_DIR})
if(TARGET rawcap_ebpf)
  target_link_libraries(rawcap_ebpf PUBLIC rawcap_self)
endif()
if(TARGET capd)
  target_sources(capd PRIVATE ${CMAKE_CURRENT_LIST_DIR}/self_exclude.c)
  list(APPEND CAPD_EXTRA_LIBS rawcap_self)
endif()
