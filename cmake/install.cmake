# Install rules (cmake --install BUILD [--prefix P], DESTDIR works), with the
# GNU directories Debian expects:
#   bin/tunnelctl, bin/tunnel-rendezvous
#   share/man/man8/tunnelctl.8, man8/tunnel-rendezvous.8, man5/tunnel.conf.5
#   lib/systemd/system/tunnel@.service, tunnel-rendezvous.service (see
#   TUNNEL_SYSTEMD_UNIT_DIR), whose ExecStart names bin/ above
#   share/bash-completion/completions/tunnelctl
#   share/doc/tunnel/examples/{bridge,ssh-home,two-sites}/*.conf
# Configs and keys live in /etc/tunnel (the programs' default, SPEC.md); the
# administrator writes them, so nothing is installed there.
# tests/pkg/test_install checks this list.
include(GNUInstallDirs)

# Units: where systemd.pc says when the prefix is /usr (/lib/systemd/system on
# Debian 12, which keeps units out of /usr/lib until its usr-merge ends);
# else PREFIX/lib/systemd/system, relative so that it follows
# `cmake --install --prefix` (systemd reads /usr/local/lib/systemd/system too).
set(unit_dir_default "lib/systemd/system")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(systemd_unit_dir systemd systemdsystemunitdir)
  if(systemd_unit_dir)
    set(unit_dir_default "${systemd_unit_dir}")
  endif()
endif()
set(TUNNEL_SYSTEMD_UNIT_DIR "${unit_dir_default}" CACHE STRING
    "Where cmake --install puts the systemd units (absolute, or relative to the prefix)")

install(TARGETS tunnelctl tunnel-rendezvous RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES docs/man/tunnelctl.8 docs/man/tunnel-rendezvous.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/tunnel.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# ExecStart names the installed program: substituted when installing, so
# that `cmake --install --prefix P` gets P/bin, not the configured prefix.
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(bindir_code "${CMAKE_INSTALL_BINDIR}")
else()
  set(bindir_code "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}")
endif()
foreach(unit tunnel@.service tunnel-rendezvous.service)
  install(CODE "set(CMAKE_INSTALL_FULL_BINDIR \"${bindir_code}\")
    configure_file(\"${CMAKE_SOURCE_DIR}/contrib/${unit}.in\"
                   \"${CMAKE_BINARY_DIR}/contrib/${unit}\" @ONLY)")
  install(FILES ${CMAKE_BINARY_DIR}/contrib/${unit} DESTINATION ${TUNNEL_SYSTEMD_UNIT_DIR})
endforeach()

install(FILES contrib/completion/tunnelctl.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME tunnelctl)

install(DIRECTORY contrib/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.conf")
