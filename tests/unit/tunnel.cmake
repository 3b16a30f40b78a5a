# Unit tests of tunnel/ (the engine).
tunnel_unit_test(NAME test_config SOURCES tests/unit/test_config.c LIBS engine)
tunnel_unit_test(NAME test_control SOURCES tests/unit/test_control.c LIBS engine)
# tunnelctl show's and ping's words, as wg show prints them.
tunnel_unit_test(NAME test_show_format SOURCES tests/unit/test_show_format.c
                 tunnel/ctl/show_format.c)
tunnel_unit_test(NAME test_loop SOURCES tests/unit/test_loop.c LIBS engine)
# systemd STATUS= lines: one per change of what they show, none per wake-up.
tunnel_unit_test(NAME test_service SOURCES tests/unit/test_service.c LIBS engine)
tunnel_unit_test(NAME test_probe SOURCES tests/unit/test_probe.c LIBS crypto)
tunnel_unit_test(NAME test_pmtu SOURCES tests/unit/test_pmtu.c LIBS engine)
tunnel_unit_test(NAME test_mactable SOURCES tests/unit/test_mactable.c LIBS engine)
tunnel_unit_test(NAME test_allowedips SOURCES tests/unit/test_allowedips.c LIBS engine)
tunnel_unit_test(NAME test_tun_offload SOURCES tests/unit/test_tun_offload.c tests/fuzz/inet.c LIBS tun)
tunnel_unit_test(NAME test_tun_mss SOURCES tests/unit/test_tun_mss.c tests/fuzz/inet.c LIBS tun)
tunnel_unit_test(NAME test_tun_icmp SOURCES tests/unit/test_tun_icmp.c tests/fuzz/inet.c LIBS tun)
tunnel_unit_test(NAME test_tun_fragment SOURCES tests/unit/test_tun_fragment.c tests/fuzz/inet.c LIBS tun)
# The path state machine in memory (test_peer.c): two links and the
# rendezvous server on a fake network; what would touch a socket, the TUN,
# the host's addresses or the clocks is answered by the test itself.
tunnel_unit_test(NAME test_peer SOURCES tests/unit/test_peer.c LIBS engine)
foreach(f udp_receive_batch udp_send udp_send_batch tun_device_read tun_device_write
          tun_device_write_gso getifaddrs freeifaddrs clock_tai64n)
  target_link_options(test_peer PRIVATE -Wl,--wrap=${f})
endforeach()
tunnel_unit_test(NAME test_pcp SOURCES tests/unit/test_pcp.c LIBS engine)
tunnel_unit_test(NAME test_probe_guard SOURCES tests/unit/test_probe_guard.c LIBS engine)
tunnel_unit_test(NAME test_birthday SOURCES tests/unit/test_birthday.c LIBS engine)
# Our addresses and their kinds: a fake getifaddrs and sysfs tree.
tunnel_unit_test(NAME test_local_addrs SOURCES tests/unit/test_local_addrs.c LIBS engine)
foreach(f getifaddrs freeifaddrs)
  target_link_options(test_local_addrs PRIVATE -Wl,--wrap=${f})
endforeach()
