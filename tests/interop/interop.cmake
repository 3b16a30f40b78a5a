# Interop with a stock WireGuard peer: wgpeer (our crypto/ over a plain UDP
# socket) against Debian's wireguard-go in network namespaces.
add_executable(wgpeer ${CMAKE_SOURCE_DIR}/tests/interop/wgpeer.c)
target_link_libraries(wgpeer PRIVATE crypto common)
set_target_properties(wgpeer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/interop)
tunnel_script_test(NAME interop_wireguard_go COMMAND tests/interop/test_wireguard_go
                   LABELS interop TIMEOUT 300 DEPENDS_TARGETS wgpeer)
