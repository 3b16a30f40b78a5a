# Install rules (cmake --install BUILD [--prefix P], DESTDIR works), with the
# GNU directories Debian expects:
#   bin/tunnelctl, bin/tunnel-rendezvous
#   share/man/man8/tunnelctl.8, man8/tunnel-rendezvous.8, man5/tunnel.conf.5
#   the systemd units (TUNNEL_SYSTEMD_UNIT_DIR), ExecStart naming bin/ above
#   share/bash-completion/completions/tunnelctl
#   share/doc/tunnel/examples/{ssh-home,two-sites}/*.conf
# Configs and keys live in /etc/tunnel (the programs' default, SPEC.md); the
# administrator writes them, so nothing is installed there.
# tests/pkg/test_install checks this list.
include(GNUInstallDirs)

# systemd reads units from /usr/local/lib/systemd/system too, so a /usr/local
# install works as it is; for /usr, where systemd.pc says (/lib/systemd/system
# on Debian 12, which keeps units out of /usr/lib until its usr-merge ends).
set(unit_dir_default "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(systemd_unit_dir systemd systemdsystemunitdir)
  if(systemd_unit_dir)
    set(unit_dir_default "${systemd_unit_dir}")
  endif()
endif()
set(TUNNEL_SYSTEMD_UNIT_DIR "${unit_dir_default}" CACHE PATH
    "Where cmake --install puts the systemd units (absolute; DESTDIR applies)")

install(TARGETS tunnelctl tunnel-rendezvous RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES docs/man/tunnelctl.8 docs/man/tunnel-rendezvous.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/tunnel.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

foreach(unit tunnel@.service tunnel-rendezvous.service)
  configure_file(contrib/${unit}.in ${CMAKE_BINARY_DIR}/contrib/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/contrib/${unit} DESTINATION ${TUNNEL_SYSTEMD_UNIT_DIR})
endforeach()

install(FILES contrib/completion/tunnelctl.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME tunnelctl)

install(DIRECTORY contrib/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.conf")
