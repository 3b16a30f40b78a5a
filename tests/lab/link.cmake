# End-to-end tests of the link engine (tunnelctl + tunnel-rendezvous) on the
# NAT lab: issue 6 evidence 1-8. Root and namespaces needed, else skip (77).
tunnel_script_test(NAME lab_link_nat COMMAND tests/lab/test_link_nat LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_ssh COMMAND tests/lab/test_link_ssh LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_sites COMMAND tests/lab/test_link_sites LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 17: two LANs bridged at layer 2 (Mode = bridge), and mixed modes refused.
tunnel_script_test(NAME lab_link_bridge COMMAND tests/lab/test_link_bridge LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_mss_clamp COMMAND tests/lab/test_link_mss_clamp LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_lan COMMAND tests/lab/test_link_lan LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_matrix COMMAND tests/lab/test_link_matrix LABELS lab TIMEOUT 360 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# lab_link_keepalive idles 45 s against 12 s NAT timeouts (IDLE: beside the others).
tunnel_script_test(NAME lab_link_keepalive COMMAND tests/lab/test_link_keepalive LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
tunnel_script_test(NAME lab_link_wggo COMMAND tests/lab/test_link_wggo LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 16 items 6-7: tunnelctl show against wg show; tunnelctl ping relay -> direct, RTTs.
tunnel_script_test(NAME lab_link_show COMMAND tests/lab/test_link_show LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_ping COMMAND tests/lab/test_link_ping LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_ctl COMMAND tests/lab/test_link_ctl LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_rdv_multi COMMAND tests/lab/test_link_rdv_multi LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 13 item 0: beside another VPN (wireguard-go carrying the LANs, container bridges).
tunnel_script_test(NAME lab_link_beside_vpn COMMAND tests/lab/test_link_beside_vpn LABELS lab TIMEOUT 300 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 14: the router's port mapping (miniupnpd in the lab) makes
# symmetric <-> symmetric direct; without one the link is relayed and says why.
foreach(p upnp natpmp pcp pcp-renew none)
  tunnel_script_test(NAME lab_link_portmap_${p} COMMAND tests/lab/test_link_portmap ${p} LABELS lab TIMEOUT 150 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
endforeach()
# Issue 14: birthday probing makes every cell with one symmetric NAT direct;
# Punch = basic leaves port-restricted <-> symmetric relayed.
tunnel_script_test(NAME lab_link_birthday COMMAND tests/lab/test_link_birthday LABELS lab TIMEOUT 150 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 14: tunnelctl netcheck against every lab NAT type and double NAT.
tunnel_script_test(NAME lab_netcheck COMMAND tests/lab/test_netcheck LABELS lab TIMEOUT 150 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# Issue 14: the link's status says what its NAT does (mapping, port preservation).
tunnel_script_test(NAME lab_link_natmap COMMAND tests/lab/test_link_natmap LABELS lab TIMEOUT 90 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 15 items 5-6: Type=notify messages (READY, STATUS, RELOADING, STOPPING)
# against a socket the test holds, and reload while a ping runs.
tunnel_script_test(NAME lab_link_reload COMMAND tests/lab/test_link_reload LABELS lab TIMEOUT 180 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 15 item 6: reload moves the Rendezvous servers and the Endpoint
# without a handshake; new keys re-establish.
tunnel_script_test(NAME lab_link_reload_peer COMMAND tests/lab/test_link_reload_peer LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 15 item 7: names in Endpoint and Rendezvous resolved by the daemon
# (dnsmasq in the lab): up exits 1 and retries; the link follows a move.
# Mostly waits for the daemon's retry and re-resolve timers: IDLE.
tunnel_script_test(NAME lab_link_resolve COMMAND tests/lab/test_link_resolve LABELS lab TIMEOUT 300 DEPENDS_TARGETS tunnelctl tunnel-rendezvous IDLE)
# issue 16 items 1-4: a full tunnel (wg-quick's policy routing), DNS
# (resolvconf stand-in) and hooks; kill -9 leftovers removed by the next up.
tunnel_script_test(NAME lab_link_full_tunnel COMMAND tests/lab/test_link_full_tunnel LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
# issue 16 item 5: wg-quick files as-is (tests/lab/wg-quick/) against wireguard-go.
tunnel_script_test(NAME lab_wgquick_configs COMMAND tests/lab/test_wgquick_configs LABELS lab TIMEOUT 60 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
