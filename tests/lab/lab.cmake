# The virtual NAT lab's own tests (tests/lab/lab.sh, natcheck, punch).
# They need root and network namespaces and skip (77) without them.
tunnel_script_test(NAME lab_natcheck COMMAND tests/lab/test_natcheck LABELS lab TIMEOUT 120)
tunnel_script_test(NAME lab_punch COMMAND tests/lab/test_punch LABELS lab TIMEOUT 120)
# lab_keepalive waits out 5 s conntrack timeouts (IDLE: beside the others).
tunnel_script_test(NAME lab_keepalive COMMAND tests/lab/test_keepalive LABELS lab TIMEOUT 120 IDLE)
# lab_knobs mostly waits for NAT mappings to expire (IDLE: beside the others).
tunnel_script_test(NAME lab_knobs COMMAND tests/lab/test_knobs LABELS lab TIMEOUT 180 IDLE)
tunnel_script_test(NAME lab_path_mtu COMMAND tests/lab/test_path_mtu LABELS lab TIMEOUT 180)
tunnel_script_test(NAME lab_netem COMMAND tests/lab/test_netem LABELS lab TIMEOUT 300)
