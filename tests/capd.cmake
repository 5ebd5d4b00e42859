# capd: the capturer's integration tests (real sockets in test network namespaces).
add_executable(capd-verify ${CMAKE_CURRENT_SOURCE_DIR}/capd/capd-verify.c)
target_link_libraries(capd-verify PRIVATE rawcap)
add_executable(capd-traffic ${CMAKE_CURRENT_SOURCE_DIR}/capd/capd-traffic.c)
target_include_directories(capd-verify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}) # payload.h
target_include_directories(capd-traffic PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

foreach(t traffic filter privdrop veth restart badflags config storage_found)
  rawcap_script_test(capd_${t} capd/${t}.sh LABELS capd netns TIMEOUT 120)
endforeach()

# The disk FIFO driven by capd itself (the disk tests use the capd stand-in diskwriter).
rawcap_script_test(capd_storage_sigkill capd/storage_sigkill.sh LABELS "capd;disk" TIMEOUT 120)

# The metrics endpoint under load and attack: 100,000 requests, 1,000 idle clients.
rawcap_script_test(capd_http capd/http.sh LABELS "capd;netns;security" TIMEOUT 600)
# Slowloris from several addresses holding every slot: a request's headers have 5 s.
rawcap_script_test(capd_http_slowloris capd/http_slowloris.sh LABELS "capd;netns;security" TIMEOUT 120)

# Restarts inside a /dev/shm sized as the chart sizes it, with a reader attached.
rawcap_script_test(capd_restart_shm capd/restart_shm.sh LABELS "capd;netns" TIMEOUT 240)

# A capture socket stalled for good: /healthz 503 at once, /livez 503 past the bound (60 s).
rawcap_script_test(capd_stall capd/stall.sh LABELS "capd;netns" TIMEOUT 180)

# Readers tell a killed, stopped or hung capd from a live one.
rawcap_script_test(capd_liveness capd/liveness.sh LABELS "capd;netns" TIMEOUT 180)

# The self-exclusion's exact socket lookup, against real connections in a namespace of its own.
rawcap_unit_test(test_self_lookup SOURCES capd/test_self_lookup.c ${CMAKE_SOURCE_DIR}/capd/self_lookup.c
                 LABELS capd netns TIMEOUT 30)
target_include_directories(test_self_lookup PRIVATE ${CMAKE_SOURCE_DIR}/capd)

# The per-packet self-exclusion when a SYN reuses the 5-tuple of one of rawcap's closed connections.
rawcap_unit_test(test_self_match SOURCES capd/test_self_match.c ${CMAKE_SOURCE_DIR}/capd/self_match.c
                 LABELS capd TIMEOUT 30)
target_include_directories(test_self_match PRIVATE ${CMAKE_SOURCE_DIR}/capd)
