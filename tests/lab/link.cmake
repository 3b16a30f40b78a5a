# End-to-end tests of the link engine (tunnelctl + tunnel-rendezvous) on the
# NAT lab: issue 6 evidence 1-8. Root and namespaces needed, else skip (77).
tunnel_script_test(NAME lab_link_nat COMMAND tests/lab/test_link_nat LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_ssh COMMAND tests/lab/test_link_ssh LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_sites COMMAND tests/lab/test_link_sites LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_mss_clamp COMMAND tests/lab/test_link_mss_clamp LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_lan COMMAND tests/lab/test_link_lan LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_matrix COMMAND tests/lab/test_link_matrix LABELS lab TIMEOUT 360 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_keepalive COMMAND tests/lab/test_link_keepalive LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_wggo COMMAND tests/lab/test_link_wggo LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_ctl COMMAND tests/lab/test_link_ctl LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_rdv_multi COMMAND tests/lab/test_link_rdv_multi LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 15 items 5-6: Type=notify messages (READY, STATUS, RELOADING, STOPPING)
# against a socket the test holds, and reload while a ping runs.
tunnel_script_test(NAME lab_link_reload COMMAND tests/lab/test_link_reload LABELS lab TIMEOUT 180 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 15 item 7: names in Endpoint and Rendezvous resolved by the daemon
# (dnsmasq in the lab): up exits 1 and retries; the link follows a move.
tunnel_script_test(NAME lab_link_resolve COMMAND tests/lab/test_link_resolve LABELS lab TIMEOUT 300 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
