#!/usr/bin/env bash
# Set up facepipe on a Debian 12 machine: packages, build, models. Idempotent.
#
# Usage: scripts/setup.sh [--tests] [--sanitize] [--fuzz]
#   --tests     also fetch the JavaScript reference (face-api + tfjs) the tests compare against
#   --sanitize  also build build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#   --fuzz      also install clang and libFuzzer, for scripts/fuzz.sh (which builds build-fuzz/)
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
JOBS="${JOBS:-$(nproc)}"
WITH_TESTS=0
SANITIZE=0
FUZZ=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    --sanitize) SANITIZE=1 ;;
    --fuzz) FUZZ=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
log() { echo "setup: $*" >&2; }

# 1. Debian packages. libopenblas-dev: dlib's DNN runs ~10x faster on it than on
# the reference BLAS. imagemagick: the demo crops faces with it, tests make CMYK
# JPEGs. nlohmann-json3-dev: TF.js manifests and jsonl output. libutf8proc-dev: NFC person
# names. util-linux: flock(1) for scripts/retrain.sh and sync.sh. time (GNU time): the
# benchmark's peak-memory figures; jq: it reads live's JSON lines. xvfb + xauth: the test
# that screenshots `live`'s window runs it on a virtual X display. slurm-wlm + munge: the
# test of scripts/slurm/ starts a real single-node Slurm in a temp folder.
PACKAGES=(cmake g++ make pkg-config libopencv-dev libdlib-dev libdlib-data libcli11-dev libcereal-dev
          libspdlog-dev doctest-dev libopenblas-dev libssl-dev nlohmann-json3-dev imagemagick
          libutf8proc-dev util-linux time jq
          dpkg-dev       # dpkg-shlibdeps: the Debian package's dependencies (scripts/package.sh)
          libfaiss-dev   # FAISS: the approximate-nearest-neighbour index of large galleries (lib/gallery_index.h)
          libopencv-dnn-dev  # OpenCV's dnn module runs the SSD face detector (lib/ssd_detector.h); libopencv-dev pulls it today
          libcpp-httplib-dev)  # cpp-httplib: the HTTP(S) server of `facepipe serve` (lib/http_server.h)
[ "$WITH_TESTS" -eq 1 ] && PACKAGES+=(xvfb xauth slurm-wlm munge)
# chromium: the browser tests (tests/browser/) drive the pages headless, with a fake webcam.
[ "$WITH_TESTS" -eq 1 ] && PACKAGES+=(chromium)
# The package test (tests/package/test_deb.sh): lintian, man (man-db), zsh for the completion.
[ "$WITH_TESTS" -eq 1 ] && PACKAGES+=(lintian man-db zsh)
# clang + libclang-rt-dev (libFuzzer, clang's sanitizers): the fuzz harnesses (tests/fuzz/, docs/fuzzing.md).
[ "$FUZZ" -eq 1 ] && PACKAGES+=(clang libclang-rt-dev)
missing=()
# npm may come with a Node.js that is not Debian's: install Debian's only where there is none.
command -v npm >/dev/null 2>&1 || missing+=(npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. The npm package that ships the face ResNet weights and the sample photos.
if [ "$WITH_TESTS" -eq 1 ]; then
  "$REPO/scripts/npm_cache.sh" --with-js
else
  "$REPO/scripts/npm_cache.sh"
fi

# 3. Build (Release).
cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
TARGETS=(--target facepipe --target facepipe_docs)  # the binary, its man pages and completion
[ "$WITH_TESTS" -eq 1 ] && TARGETS=()
cmake --build "$BUILD_DIR" -j "$JOBS" "${TARGETS[@]}"
if [ "$SANITIZE" -eq 1 ]; then
  cmake -S "$REPO" -B "$REPO/build-asan" -DCMAKE_BUILD_TYPE=Release -DFACEPIPE_SANITIZE=ON >/dev/null
  cmake --build "$REPO/build-asan" -j "$JOBS" "${TARGETS[@]}"
fi

# 4. Models: convert face-api's ResNet into dlib's format, once (with the landmark
# cache beside it). `models show` verifies the checksums recorded by the importer;
# re-import when they fail or the landmark cache is missing.
for b in "$BUILD_DIR" $([ "$SANITIZE" -eq 1 ] && echo "$REPO/build-asan"); do
  if ! "$b/facepipe" --models "$b/models" models show 2>/dev/null | grep -q "origin: converted" ||
     [ ! -f "$b/models/shape_predictor_68_face_landmarks.fpcache" ] ||
     [ ! -f "$b/models/ssd_mobilenetv1_face.fpm" ]; then
    log "converting the face recognition model and the SSD face detector into $b/models"
    "$b/facepipe" models import "$REPO/.cache/npm/face-api/package/model" --output "$b/models" >/dev/null
  fi
done
"$BUILD_DIR/facepipe" --version >&2
