# tun/: the TUN device and its netlink configuration.
# test_tun_prefix runs anywhere; test_tun (a script) needs root and builds a
# network namespace, running test_tun_ns inside it.
tunnel_unit_test(NAME test_tun_prefix SOURCES tests/unit/test_tun_prefix.c LIBS tun)
set_property(TEST test_tun_prefix APPEND PROPERTY LABELS tun)

add_executable(test_tun_ns ${CMAKE_SOURCE_DIR}/tests/unit/test_tun_ns.c)
target_link_libraries(test_tun_ns PRIVATE tun)
tunnel_script_test(NAME test_tun COMMAND tests/unit/test_tun.sh LABELS tun
                   TIMEOUT 600 DEPENDS_TARGETS test_tun_ns)
