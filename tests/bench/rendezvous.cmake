# Rendezvous benchmark: the load generator. tests/bench/rendezvous_bench runs
# it against tunnel-rendezvous and prints numbers (not a ctest test).
add_executable(rdv-load ${CMAKE_SOURCE_DIR}/tests/bench/rdv_load.c)
target_link_libraries(rdv-load PRIVATE rendezvous)
