# Installation layout and the Debian package (CPack DEB generator).
#
# `cmake --install build` puts bulwark under CMAKE_INSTALL_PREFIX (default
# /usr/local); `cpack -G DEB` in the build directory produces
# bulwark_<version>-<release>_<arch>.deb installing under /usr. The layout
# follows Debian policy for a package named bulwark: binary in /usr/bin, man
# page gzipped in /usr/share/man/man1, bash completion in
# /usr/share/bash-completion/completions (bash-completion 2.x loads it on
# demand), zsh completion in /usr/share/zsh/vendor-completions (in the fpath of
# Debian's zsh), examples and copyright in /usr/share/doc/bulwark. Profiles and
# the check catalogue are compiled into the binary: no data files.
#
# Compiler flags are the build directory's: tests/package/deb_test.sh
# configures its own with Debian's hardening flags (dpkg-buildflags) and
# without the unit tests, since cpack first builds the `all` target.

include(GNUInstallDirs)

set(BULWARK_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(BULWARK_BASH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    CACHE STRING "Where the bash completion is installed (relative to the prefix)")
set(BULWARK_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
    CACHE STRING "Where the zsh completion is installed (relative to the prefix)")

# Debian policy 12.1 and 12.7: man pages and changelogs are installed
# gzip-compressed (-9), and -n keeps the archives reproducible (no name, no
# timestamp in the header).
find_program(BULWARK_GZIP gzip REQUIRED)
set(_bulwark_gz_dir ${CMAKE_CURRENT_BINARY_DIR}/packaging)

# The Debian changelog is dated from SOURCE_DATE_EPOCH when set (reproducible
# builds), otherwise from the configure time.
string(TIMESTAMP BULWARK_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(BULWARK_DEB_MAINTAINER
    "bulwark maintainers <maintainers@users.noreply.r-seed-fed6f806.example>"
    CACHE STRING "Maintainer field of the Debian package (Name <address>)")
set(BULWARK_DEB_RELEASE 1 CACHE STRING "Debian revision of the package (the -N of the version)")
configure_file(${BULWARK_PACKAGING_DIR}/changelog.Debian.in ${_bulwark_gz_dir}/changelog.Debian
               @ONLY)

set(_bulwark_gz_outputs)
foreach(pair "${BULWARK_PACKAGING_DIR}/bulwark.1|bulwark.1.gz"
             "${_bulwark_gz_dir}/changelog.Debian|changelog.Debian.gz")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 _in)
  list(GET pair 1 _out)
  add_custom_command(
    OUTPUT ${_bulwark_gz_dir}/${_out}
    COMMAND ${BULWARK_GZIP} -9nc ${_in} > ${_bulwark_gz_dir}/${_out}
    DEPENDS ${_in}
    COMMENT "Compressing ${_out}"
    VERBATIM)
  list(APPEND _bulwark_gz_outputs ${_bulwark_gz_dir}/${_out})
endforeach()
add_custom_target(bulwark_packaging_files ALL DEPENDS ${_bulwark_gz_outputs})

install(TARGETS bulwark RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${_bulwark_gz_dir}/bulwark.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${BULWARK_PACKAGING_DIR}/completions/bulwark.bash
        DESTINATION ${BULWARK_BASH_COMPLETION_DIR}
        RENAME bulwark)
install(FILES ${BULWARK_PACKAGING_DIR}/completions/_bulwark
        DESTINATION ${BULWARK_ZSH_COMPLETION_DIR})
install(FILES ${BULWARK_PACKAGING_DIR}/copyright ${_bulwark_gz_dir}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Tags that do not apply to a package built outside the Debian archive, each
# with its reason in the file.
install(FILES ${BULWARK_PACKAGING_DIR}/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME bulwark)
# bulwark watch as a service; not enabled on install (the package has no
# maintainer scripts): `systemctl enable --now bulwark-watch` after reading
# docs/watch.md.
install(FILES ${BULWARK_PACKAGING_DIR}/bulwark-watch.service
        DESTINATION lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# The daily fim check (issue 17), not enabled on install either.
install(FILES ${BULWARK_PACKAGING_DIR}/bulwark-fim.service ${BULWARK_PACKAGING_DIR}/bulwark-fim.timer
        DESTINATION lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/docs/watch.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/docs/fim.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/docs/fix.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY ${BULWARK_PACKAGING_DIR}/examples/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bulwark)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "bulwark")
set(CPACK_PACKAGE_CONTACT "${BULWARK_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "security-hardening auditor for Linux servers")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "bulwark audits a host, or an offline root filesystem such as an extracted
container image, against two server hardening guides (a production VPN
deployment and an LMS backend server): SSH, accounts and sudo, PAM, kernel
parameters, file permissions, patching, logging and monitoring.

Each verdict names the file and line that decided it and the fix. Reports
come as text or JSON, and as SARIF, JUnit XML, Markdown or HTML for CI
pipelines and sign-off checklists; the exit status can gate a pipeline.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BULWARK_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${BULWARK_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Depends: computed by dpkg-shlibdeps (package dpkg-dev) from the binary's
# shared libraries: libc6, libstdc++6, libgcc-s1, libfyaml0, libfmt9 on
# Debian 12.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The libraries bulwark loads on first use with dlopen (watch, bans, audit
# --live: include/bulwark/core/system_libs.hpp) are not linked, so
# dpkg-shlibdeps cannot see them: listed here, with the versions it gave
# when they were linked; CPack appends its own list.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libhiredis0.14 (>= 0.14.0), libnftables1 (>= 1.0.2), libpq5 (>= 9.0~), libsqlite3-0 (>= 3.5.9), libsystemd0")
# Suggested, not required: completions are inert without their shells.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
# Debian's control members are 0644 and the maintainer scripts 0755; CPack's
# default keeps the source files' modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# RelWithDebInfo keeps symbols for development; the package ships a stripped
# binary (Debian policy 10.1).
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
