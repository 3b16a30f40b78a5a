# Behaviours the docs claim, one lab test each (issue 10 item 5): AllowedIPs
# on receive, relay -> direct upgrade, bulk data over the relay, keepalive
# across key expiry, outer IPv6. Root and namespaces needed, else skip (77).
tunnel_script_test(NAME lab_link_allowedips_receive COMMAND tests/lab/test_link_allowedips_receive LABELS lab TIMEOUT 90 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_relay_upgrade COMMAND tests/lab/test_link_relay_upgrade LABELS lab TIMEOUT 150 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_relay_bulk COMMAND tests/lab/test_link_relay_bulk LABELS lab TIMEOUT 180 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_idle_key_expiry COMMAND tests/lab/test_link_idle_key_expiry LABELS lab TIMEOUT 360 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
tunnel_script_test(NAME lab_link_ipv6_underlay COMMAND tests/lab/test_link_ipv6_underlay LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 13 item 3: a relayed link idle for a time-compressed 10 minutes (mostly sleeps).
tunnel_script_test(NAME lab_link_relay_idle COMMAND tests/lab/test_link_relay_idle LABELS lab TIMEOUT 300 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
