# Issue 12 on the NAT lab: wall clocks 10 minutes off and stepped by an hour
# (libfaketime) change nothing. Root and namespaces needed, else skip (77).
# Mostly waits for the registration refresh after the step: IDLE.
tunnel_script_test(NAME lab_link_clock COMMAND tests/lab/test_link_clock LABELS lab TIMEOUT 180 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
# Issue 12 item 6: a relayed 16 MiB copy under 20 % reordering, no replay drops.
tunnel_script_test(NAME lab_link_relay_reorder COMMAND tests/lab/test_link_relay_reorder LABELS lab TIMEOUT 240 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
