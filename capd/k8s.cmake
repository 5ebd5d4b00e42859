# SPDX-License-Identifier: MIT
# rawcap_k8s: capd's Kubernetes metadata source (watch client, JSON to msgpack,
# bounded queue) and its capd source adapter (k8s_source.c). Included by
# capd/CMakeLists.txt's glob of capd/*.cmake; capd links it via CAPD_EXTRA_LIBS.
pkg_check_modules(K8S_CURL REQUIRED IMPORTED_TARGET GLOBAL libcurl)
pkg_check_modules(K8S_CJSON REQUIRED IMPORTED_TARGET GLOBAL libcjson)

add_library(rawcap_k8s STATIC
  ${CMAKE_CURRENT_LIST_DIR}/k8s_json.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_list.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_queue.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_cache.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_config.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_stream.c
  ${CMAKE_CURRENT_LIST_DIR}/k8s_watch.c)
target_include_directories(rawcap_k8s PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${RAWCAP_INCLUDE})
target_link_libraries(rawcap_k8s PUBLIC rawcap_ring_writer PkgConfig::K8S_CURL
                      PkgConfig::K8S_CJSON PkgConfig::MSGPACK Threads::Threads)

# The capd adapter needs capd's private headers; it is compiled into capd itself.
if(TARGET capd)
  target_sources(capd PRIVATE ${CMAKE_CURRENT_LIST_DIR}/k8s_source.c)
  list(APPEND CAPD_EXTRA_LIBS rawcap_k8s)
endif()
