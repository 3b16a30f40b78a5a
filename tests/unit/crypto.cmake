# Unit tests of crypto/ (the WireGuard v1 core). The known-answer tests read
# $TUNNEL_VECTORS_DIR with jansson and skip (exit 77) when it is missing.
foreach(t test_keys test_messages test_noise test_cookie test_session test_replay)
  tunnel_unit_test(NAME ${t} SOURCES tests/unit/${t}.c LIBS crypto)
endforeach()
foreach(t test_noise_vectors test_aead_vectors)
  tunnel_unit_test(NAME ${t} SOURCES tests/unit/${t}.c tests/unit/vectors.c
                   LIBS crypto PkgConfig::JANSSON)
endforeach()

# tunnelctl genkey/pubkey agree with wg(8).
if(TARGET tunnelctl)
  tunnel_script_test(NAME cli_tunnelctl_keys COMMAND tests/unit/test_tunnelctl_keys
                     LABELS unit cli TIMEOUT 120 DEPENDS_TARGETS tunnelctl)
endif()
