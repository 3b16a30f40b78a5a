# Test tools: programs the tests and the lab drive, never installed.
# rdv-probe is a small rendezvous peer: it registers, asks for peers, relays,
# and prints what it learns as JSON lines (tests/lab/test_rendezvous.sh).
add_executable(rdv-probe ${CMAKE_SOURCE_DIR}/tests/tools/rdv_probe.c)
target_link_libraries(rdv-probe PRIVATE rendezvous PkgConfig::JANSSON)
set_target_properties(rdv-probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/tools)
