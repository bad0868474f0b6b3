# What `cmake --install` and the Debian package (CPack DEB, scripts/package.sh)
# hold besides the binary and the models: man pages, shell completion, the
# scripts, the systemd units and the docs. docs/packaging.md describes the package.

# Man pages and shell completion, written by the binary from its own command-line
# definitions and the prose of README.md and docs/ (cmd/docgen.h), so they never
# disagree with --help. The pages are gzipped as Debian wants (-n: no name or time).
file(GLOB FACEPIPE_DOC_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
set(FACEPIPE_GENERATED_DOCS ${CMAKE_BINARY_DIR}/generated/docs)
add_custom_command(
  OUTPUT ${FACEPIPE_GENERATED_DOCS}/stamp
  COMMAND facepipe --generate-docs ${CMAKE_SOURCE_DIR} ${FACEPIPE_GENERATED_DOCS}
  COMMAND sh -c "gzip -9nkf man1/*.1 man5/*.5"
  COMMAND ${CMAKE_COMMAND} -E touch stamp
  WORKING_DIRECTORY ${FACEPIPE_GENERATED_DOCS}
  DEPENDS facepipe ${CMAKE_SOURCE_DIR}/README.md ${FACEPIPE_DOC_SOURCES}
  COMMENT "Generating the man pages and shell completion"
  VERBATIM)
add_custom_target(facepipe_docs ALL DEPENDS ${FACEPIPE_GENERATED_DOCS}/stamp)
file(MAKE_DIRECTORY ${FACEPIPE_GENERATED_DOCS})

install(DIRECTORY ${FACEPIPE_GENERATED_DOCS}/man1/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        FILES_MATCHING PATTERN "*.1.gz")
install(DIRECTORY ${FACEPIPE_GENERATED_DOCS}/man5/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
        FILES_MATCHING PATTERN "*.5.gz")
install(FILES ${FACEPIPE_GENERATED_DOCS}/completion/facepipe
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions OPTIONAL)
install(FILES ${FACEPIPE_GENERATED_DOCS}/completion/_facepipe
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions OPTIONAL)

# The scripts keep their layout under share/facepipe (sync-common.sh finds its
# siblings from its own path); they run the facepipe on PATH unless FACEPIPE_BIN says otherwise.
set(FACEPIPE_SCRIPT_DIR ${CMAKE_INSTALL_DATADIR}/facepipe/scripts)
install(PROGRAMS scripts/sync.sh scripts/retrain.sh DESTINATION ${FACEPIPE_SCRIPT_DIR})
install(FILES scripts/sync-common.sh scripts/crontab.example DESTINATION ${FACEPIPE_SCRIPT_DIR})
install(PROGRAMS scripts/slurm/submit.sh scripts/slurm/encode-array.sbatch scripts/slurm/merge-train.sbatch
        DESTINATION ${FACEPIPE_SCRIPT_DIR}/slurm)

# The systemd units name /usr/bin/facepipe and /usr/share/facepipe/scripts: they
# are installed only with the prefix /usr (the package; scripts/package.sh sets it).
# Debian 12 keeps units in /lib/systemd/system (/usr/lib only from Debian 13).
# -DFACEPIPE_SYSTEMD_UNIT_DIR=DIR installs them elsewhere.
if(NOT DEFINED FACEPIPE_SYSTEMD_UNIT_DIR AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(FACEPIPE_SYSTEMD_UNIT_DIR /lib/systemd/system)
endif()
if(FACEPIPE_SYSTEMD_UNIT_DIR)
  install(FILES scripts/systemd/facepipe-retrain.service scripts/systemd/facepipe-retrain.timer
                scripts/systemd/facepipe-serve.service DESTINATION ${FACEPIPE_SYSTEMD_UNIT_DIR})
endif()

# Docs: the README and docs/ keep their relative links.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# --- The Debian package: `cpack` in the build folder (scripts/package.sh) ---
set(FACEPIPE_MAINTAINER "facepipe maintainers <maintainers@users.noreply.r-seed-f4dea8ee.example>")
# The Debian changelog lintian asks for: one entry for this version. Its date is
# SOURCE_DATE_EPOCH's when set (scripts/package.sh sets the last commit's), so the
# package is reproducible.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
string(TIMESTAMP FACEPIPE_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/debian/changelog.Debian CONTENT
"facepipe (${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}) unstable; urgency=medium

  * Package built with CPack from the facepipe sources (README.md).

 -- ${FACEPIPE_MAINTAINER}  ${FACEPIPE_CHANGELOG_DATE}
")
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/generated/debian/changelog.Debian.gz
  COMMAND gzip -9nkf changelog.Debian
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/generated/debian
  DEPENDS ${CMAKE_BINARY_DIR}/generated/debian/changelog.Debian)
add_custom_target(facepipe_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/generated/debian/changelog.Debian.gz)
install(FILES ${CMAKE_BINARY_DIR}/generated/debian/changelog.Debian.gz packaging/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)

# The lintian tags this package accepts, each with its reason (docs/packaging.md).
install(FILES packaging/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME facepipe)

# cpack (and `make install`) must not build the whole tree (the tests): scripts/package.sh
# builds the targets the package holds.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME facepipe)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FACEPIPE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FACEPIPE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "face-recognition pipeline and server on dlib")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents these lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "facepipe is one command whose subcommands are the stages of face recognition:
augment a folder-per-person dataset, encode every photo into a 128-d
descriptor (dlib's HOG detector, 68-point landmarks and face ResNet), train
a k-nearest-neighbour classifier with a calibrated unknown-threshold, and
predict the names in photos, live video or over HTTP (a REST API, a
CompreFace-compatible API and web pages).

The package holds the face ResNet converted from @vladmandic/face-api with
its provenance, man pages, bash and zsh completion, the systemd units of the
server and of periodic retraining, and the bucket-sync and Slurm scripts.")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # facepipe_VERSION-RELEASE_amd64.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Runtime libraries from dpkg-shlibdeps; the 68-point landmark model is Debian's,
# not a copy; flock (util-linux) for the scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libdlib-data")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/package)
include(CPack)
