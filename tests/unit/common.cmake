# Unit tests of common/ (the helpers every folder shares).
tunnel_unit_test(NAME test_common SOURCES tests/unit/test_common.c LIBS common)
