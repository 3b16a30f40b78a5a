# Issue 13 on the NAT lab: path MTU black holes (direct, relayed, lowered
# mid-copy, site to site), the too-big signal inside the tunnel, failover to
# the relay and back, no flapping at 5 % loss. Root and namespaces needed,
# else skip (77).
tunnel_script_test(NAME lab_link_path_mtu_blackhole COMMAND tests/lab/test_link_path_mtu_blackhole LABELS lab TIMEOUT 600 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_site_blackhole COMMAND tests/lab/test_link_site_blackhole LABELS lab TIMEOUT 240 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_too_big_signal COMMAND tests/lab/test_link_too_big_signal LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_failover COMMAND tests/lab/test_link_failover failover LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Its third step, two minutes of 5 % loss (mostly waiting): IDLE.
tunnel_script_test(NAME lab_link_failover_loss COMMAND tests/lab/test_link_failover loss LABELS lab TIMEOUT 240 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
