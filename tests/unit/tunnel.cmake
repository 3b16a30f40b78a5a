# Unit tests of tunnel/ (the engine).
tunnel_unit_test(NAME test_config SOURCES tests/unit/test_config.c LIBS engine)
tunnel_unit_test(NAME test_control SOURCES tests/unit/test_control.c LIBS engine)
tunnel_unit_test(NAME test_loop SOURCES tests/unit/test_loop.c LIBS engine)
tunnel_unit_test(NAME test_probe SOURCES tests/unit/test_probe.c LIBS crypto)
tunnel_unit_test(NAME test_tun_offload SOURCES tests/unit/test_tun_offload.c LIBS tun)
