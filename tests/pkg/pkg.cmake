# Packaging and the command line (issue 15 items 1-4 and 8): install rules
# with DESTDIR, the man pages, tunnelctl's options and errors, and the .deb
# (built, linted, installed into a scratch root, a lab link run with the
# installed programs, removed). Label "pkg"; pkg_deb also "lab": it runs a
# lab link and builds the package, so it takes the machine lock.
tunnel_script_test(NAME pkg_install COMMAND tests/pkg/test_install LABELS pkg TIMEOUT 180
                   DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME pkg_man COMMAND tests/pkg/test_man LABELS pkg TIMEOUT 60)
tunnel_script_test(NAME pkg_cli COMMAND tests/pkg/test_cli LABELS pkg cli TIMEOUT 60
                   DEPENDS_TARGETS tunnelctl tunnel-rendezvous)
tunnel_script_test(NAME pkg_deb COMMAND tests/pkg/test_deb LABELS pkg lab TIMEOUT 900
                   DEPENDS_TARGETS tunnelctl)
