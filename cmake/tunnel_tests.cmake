# Helpers that register tests with ctest, so every folder does it the same way.
#
#   tunnel_unit_test(NAME test_replay SOURCES tests/unit/test_replay.c LIBS crypto)
#     a cmocka program, label "unit". Paths are relative to the repository root.
#   tunnel_script_test(NAME lab_natcheck COMMAND tests/lab/test_natcheck LABELS lab
#                      [TIMEOUT 600] [DEPENDS_TARGETS tunnelctl ...] [IDLE])
#     a script; exit 77 means skipped (no root, no namespaces). Tests labelled
#     "lab", "interop" or "fuzz" are timing-sensitive or CPU-bound: they take
#     one lock ("machine") and so run one at a time, with only short unit
#     tests beside them. IDLE marks a lab test that mostly waits (an idle
#     link, NAT or key timers, a ping and a slow stream) and whose bounds
#     hold on a busy machine: it takes no lock and runs beside the others
#     (tests/run gives ctest one job more than cores), so its waiting does
#     not add to the suite's wall time. Namespaces are named
#     per test run (tests/lab/lab.sh), so lab tests never share one.
#     DEPENDS_TARGETS names the programs the script runs: ctest reports the
#     test as not run (instead of failing obscurely) when one of them was not
#     built.
#
# Every test gets these environment variables:
#   TUNNEL_SOURCE_DIR   the repository root
#   TUNNEL_BUILD_DIR    this build's directory (binaries live in its subfolders)
#   TUNNEL_VECTORS_DIR  tests/vectors (the published vectors, README there)
set(TUNNEL_SANITIZER_ENV
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

function(tunnel_test_env name)
  set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
    "TUNNEL_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "TUNNEL_BUILD_DIR=${CMAKE_BINARY_DIR}"
    "TUNNEL_VECTORS_DIR=${TUNNEL_VECTORS_DIR}"
    ${TUNNEL_SANITIZER_ENV})
  set_property(TEST ${name} PROPERTY SKIP_RETURN_CODE 77)
endfunction()

function(tunnel_unit_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  list(TRANSFORM T_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} cmocka)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_property(TEST ${T_NAME} PROPERTY LABELS unit)
  set_property(TEST ${T_NAME} PROPERTY TIMEOUT 300)
  foreach(target ${T_DEPENDS_TARGETS})
    set_property(TEST ${T_NAME} APPEND PROPERTY REQUIRED_FILES $<TARGET_FILE:${target}>)
  endforeach()
  tunnel_test_env(${T_NAME})
endfunction()

function(tunnel_script_test)
  cmake_parse_arguments(T "IDLE" "NAME;TIMEOUT" "COMMAND;LABELS;DEPENDS_TARGETS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  list(GET T_COMMAND 0 script)
  list(REMOVE_AT T_COMMAND 0)
  add_test(NAME ${T_NAME} COMMAND ${CMAKE_SOURCE_DIR}/${script} ${T_COMMAND})
  set_property(TEST ${T_NAME} PROPERTY LABELS ${T_LABELS})
  set_property(TEST ${T_NAME} PROPERTY TIMEOUT ${T_TIMEOUT})
  if(NOT T_IDLE AND ("lab" IN_LIST T_LABELS OR "interop" IN_LIST T_LABELS
                      OR "fuzz" IN_LIST T_LABELS))
    set_property(TEST ${T_NAME} PROPERTY RESOURCE_LOCK machine)
  endif()
  foreach(target ${T_DEPENDS_TARGETS})
    set_property(TEST ${T_NAME} APPEND PROPERTY REQUIRED_FILES $<TARGET_FILE:${target}>)
  endforeach()
  tunnel_test_env(${T_NAME})
endfunction()
