# libFuzzer targets, one per parser (tests/fuzz/README.md), and their ctest
# runs (label "fuzz").
#
# The targets exist only in a clang build configured with -DTUNNEL_FUZZ=ON
# (tests/run makes one in build/fuzz): the libraries there carry the fuzzer's
# coverage instrumentation (top-level CMakeLists.txt) and only these programs
# link libFuzzer itself. `cmake --build build/fuzz --target fuzz` builds just
# them and what they need.
#
# Every build registers the ctest runs, which execute the binaries of the
# fuzz build (TUNNEL_FUZZ_BIN_DIR); without them, or without clang, the runs
# skip with exit 77 and say why.
set(TUNNEL_FUZZ_TARGETS demux wireguard rendezvous stun config control probe
    engine allowedips offload coalesce inner_mtu)

if(TUNNEL_FUZZ)
  set(fuzz_bin_dir ${CMAKE_BINARY_DIR}/tests/fuzz)

  # The fixed keys and states the targets parse against, shared with the
  # seed generator so that seeds are valid inputs.
  add_library(fuzz_fixture STATIC ${CMAKE_SOURCE_DIR}/tests/fuzz/fixture.c
              ${CMAKE_SOURCE_DIR}/tests/fuzz/inet.c)
  target_link_libraries(fuzz_fixture PUBLIC crypto rendezvous)
  # The reference checksums run over every byte of every packet: without
  # coverage instrumentation they cost little and add no noise features.
  set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/fuzz/inet.c PROPERTIES
                              COMPILE_OPTIONS -fno-sanitize=fuzzer-no-link)

  set(fuzz_libs_demux rendezvous)
  set(fuzz_libs_wireguard fuzz_fixture crypto)
  set(fuzz_libs_rendezvous fuzz_fixture rendezvous)
  set(fuzz_libs_stun rendezvous)
  set(fuzz_libs_config engine)
  set(fuzz_libs_control engine)
  set(fuzz_libs_probe fuzz_fixture crypto)
  set(fuzz_libs_engine fuzz_fixture engine)
  set(fuzz_libs_allowedips engine)
  set(fuzz_libs_offload fuzz_fixture tun)
  set(fuzz_libs_coalesce fuzz_fixture tun)
  set(fuzz_libs_inner_mtu fuzz_fixture tun)

  foreach(t ${TUNNEL_FUZZ_TARGETS})
    add_executable(fuzz_${t} ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE ${fuzz_libs_${t}})
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    set_target_properties(fuzz_${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${fuzz_bin_dir})
    list(APPEND fuzz_all fuzz_${t})
  endforeach()
  # PrivateKeyFile opens files: the config target answers every open()
  # itself, so the fuzzer never touches the file system (fuzz_config.c).
  target_link_options(fuzz_config PRIVATE -Wl,--wrap=open -Wl,--wrap=open64)
  # The engine target holds a whole link in memory: what would touch a
  # socket, the TUN, the host's addresses or the wall clock is answered by
  # the target itself (fuzz_engine.c), and demux_classify marks where each
  # datagram's handling starts.
  foreach(f udp_receive_batch udp_send udp_send_batch tun_device_write tun_device_write_gso
            getifaddrs freeifaddrs clock_tai64n demux_classify)
    target_link_options(fuzz_engine PRIVATE -Wl,--wrap=${f})
  endforeach()

  add_executable(fuzz_make_seeds ${CMAKE_SOURCE_DIR}/tests/fuzz/make_seeds.c)
  target_link_libraries(fuzz_make_seeds PRIVATE fuzz_fixture engine)
  set_target_properties(fuzz_make_seeds PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${fuzz_bin_dir})

  add_custom_target(fuzz DEPENDS ${fuzz_all} fuzz_make_seeds)
  set(TUNNEL_FUZZ_BIN_DIR ${fuzz_bin_dir})
else()
  set(TUNNEL_FUZZ_BIN_DIR "${CMAKE_SOURCE_DIR}/build/fuzz/tests/fuzz" CACHE PATH
      "Where the fuzz build (-DTUNNEL_FUZZ=ON, clang) put the fuzz targets")
endif()

foreach(t ${TUNNEL_FUZZ_TARGETS})
  tunnel_script_test(NAME fuzz_${t} COMMAND tests/fuzz/run_fuzz fuzz_${t}
                     LABELS fuzz TIMEOUT 120)
  set_property(TEST fuzz_${t} APPEND PROPERTY ENVIRONMENT
               "TUNNEL_FUZZ_BIN_DIR=${TUNNEL_FUZZ_BIN_DIR}")
endforeach()
