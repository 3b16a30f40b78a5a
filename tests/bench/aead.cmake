# AEAD benchmark: the measuring program; tests/bench/aead builds it without
# sanitizers and runs it (not a ctest test).
add_executable(aead-bench ${CMAKE_SOURCE_DIR}/tests/bench/aead_bench.c)
target_link_libraries(aead-bench PRIVATE crypto)
