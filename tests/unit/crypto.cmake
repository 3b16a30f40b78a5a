# Unit tests of crypto/ (the WireGuard v1 core). Known-answer tests read
# $TUNNEL_VECTORS_DIR with jansson and skip (77) when it is missing.
foreach(t test_keys test_messages test_noise test_cookie test_session test_replay)
  if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/${t}.c)
    tunnel_unit_test(NAME ${t} SOURCES tests/unit/${t}.c LIBS crypto)
  endif()
endforeach()
foreach(t test_noise_vectors test_aead_vectors)
  if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/${t}.c)
    tunnel_unit_test(NAME ${t} SOURCES tests/unit/${t}.c LIBS crypto PkgConfig::JANSSON)
  endif()
endforeach()
