# Rendezvous unit tests (rendezvous/ owns them). The amplification test runs
# the real server on loopback, so it needs the binary built first.
tunnel_unit_test(NAME test_rdv_proto SOURCES tests/unit/test_rdv_proto.c LIBS rendezvous)
tunnel_unit_test(NAME test_rdv_demux SOURCES tests/unit/test_rdv_demux.c LIBS rendezvous)
tunnel_unit_test(NAME test_stun SOURCES tests/unit/test_stun.c tests/unit/vectors.c
                 LIBS rendezvous PkgConfig::JANSSON)
tunnel_unit_test(NAME test_rdv_server SOURCES tests/unit/test_rdv_server.c LIBS rendezvous)
tunnel_unit_test(NAME test_rdv_amplify SOURCES tests/unit/test_rdv_amplify.c tests/unit/rdv_child.c LIBS rendezvous)
add_dependencies(test_rdv_amplify tunnel-rendezvous)
set_property(TEST test_rdv_amplify APPEND PROPERTY LABELS rendezvous)
tunnel_unit_test(NAME test_rdv_keyfile SOURCES tests/unit/test_rdv_keyfile.c LIBS rendezvous)
# Suspend and wrong clocks, with clock_gettime() wrapped by the test.
tunnel_unit_test(NAME test_rdv_clock SOURCES tests/unit/test_rdv_clock.c LIBS rendezvous crypto common)
target_link_options(test_rdv_clock PRIVATE -Wl,--wrap=clock_gettime)
# The amplification table: every spoofed or unauthenticated input, in memory.
tunnel_unit_test(NAME test_rdv_reflect SOURCES tests/unit/test_rdv_reflect.c LIBS rendezvous)
# 24 clients relaying through the real server with two worker threads
# (SO_REUSEPORT), on loopback.
tunnel_unit_test(NAME test_rdv_threads SOURCES tests/unit/test_rdv_threads.c tests/unit/rdv_child.c LIBS rendezvous)
add_dependencies(test_rdv_threads tunnel-rendezvous)
set_property(TEST test_rdv_threads APPEND PROPERTY LABELS rendezvous)
set_property(TEST test_rdv_threads PROPERTY TIMEOUT 120)
