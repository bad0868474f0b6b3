#!/usr/bin/env bash
# Build the Debian package of facepipe from build/ (CPack DEB; docs/packaging.md):
# the binary, the converted face model from build/models, man pages, completion,
# scripts, systemd units and docs. Prints the .deb's path on stdout.
#
# Usage: scripts/package.sh [--lintian]
#   --lintian  also run lintian on the package; fail on any error or warning it reports
# Needs scripts/setup.sh to have built build/ and converted the model.
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
JOBS="${JOBS:-$(nproc)}"
LINTIAN=0
for arg in "$@"; do
  case "$arg" in
    --lintian) LINTIAN=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown option $arg" >&2; exit 2 ;;
  esac
done
log() { echo "package: $*" >&2; }
die() { log "error: $*"; exit 1; }

command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps not found: apt-get install dpkg-dev"
[ -x "$BUILD_DIR/facepipe" ] || die "no $BUILD_DIR/facepipe: run scripts/setup.sh first"
# The model that goes into the package must be the verified converted one.
"$BUILD_DIR/facepipe" --models "$BUILD_DIR/models" models show 2>/dev/null | grep -q "origin: converted" ||
  die "$BUILD_DIR/models holds no verified converted face model: run scripts/setup.sh"

# The changelog's date is the last commit's, so the same sources make the same package.
SOURCE_DATE_EPOCH="$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
# Prefix /usr: the package's layout, which the systemd units name (cmake/package.cmake).
cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target facepipe facepipe_docs facepipe_changelog >&2
rm -f "$BUILD_DIR"/package/facepipe_*.deb
(cd "$BUILD_DIR" && cpack -G DEB >&2) || die "cpack failed"
deb="$(ls "$BUILD_DIR"/package/facepipe_*.deb)"
log "built $deb"
if [ "$LINTIAN" -eq 1 ]; then
  command -v lintian >/dev/null || die "lintian not found: apt-get install lintian"
  # The package's own overrides (packaging/lintian-overrides) give the reason for each tag they silence.
  lintian --fail-on error,warning --info "$deb" >&2 ||
    die "lintian reports errors or warnings on $deb"
fi
echo "$deb"
