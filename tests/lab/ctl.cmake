# What tunnelctl promises around a link, and the demo (issue 10 item 5):
# a refused `up` leaves nothing behind, a SIGKILLed daemon's leftovers are
# cleaned by the next `up`, contrib/demo runs against this build, cookies
# against a stock wireguard-go. Root and namespaces needed, else skip (77).
tunnel_script_test(NAME lab_link_up_refused COMMAND tests/lab/test_link_up_refused LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_link_up_stale COMMAND tests/lab/test_link_up_stale LABELS lab TIMEOUT 120 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_demo COMMAND tests/lab/test_demo LABELS lab TIMEOUT 300 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_interop_cookie_wggo COMMAND tests/lab/test_interop_cookie wggo LABELS lab interop TIMEOUT 200 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME lab_interop_cookie_ours COMMAND tests/lab/test_interop_cookie ours LABELS lab interop TIMEOUT 200 DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
