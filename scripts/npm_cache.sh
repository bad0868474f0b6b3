#!/usr/bin/env bash
# Fetch and verify the pinned face-api npm package (and optionally the JS test
# dependencies) into a git-ignored cache directory.
#
# Usage: scripts/npm_cache.sh [--with-js] [CACHE_DIR]     (default CACHE_DIR: <repo>/.cache)
#
#  - npm pack @vladmandic/face-api@1.7.15 -> CACHE_DIR/npm/ (skipped if present),
#    verify sha512 integrity against the value pinned below, extract to
#    CACHE_DIR/npm/face-api/package/ (model/, demo/, src/, dist/ ...).
#  - --with-js: for tests/js (face-api's JS reference), tests/serve (the
#    CompreFace JS SDK) and tests/browser (puppeteer-core, for the pages), copy
#    package.json + package-lock.json to CACHE_DIR/npm/<name>/
#    and `npm ci` there (node_modules stays out of the repo tree).
# Idempotent; safe to re-run. Progress goes to stderr. Nothing here is committed.
set -euo pipefail

FACE_API_SPEC="@vladmandic/face-api@1.7.15"
FACE_API_TGZ="vladmandic-face-api-1.7.15.tgz"
# From: npm view @vladmandic/face-api@1.7.15 dist.integrity
FACE_API_INTEGRITY="sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="

log() { echo "npm_cache: $*" >&2; }
die() { echo "npm_cache: ERROR: $*" >&2; exit 1; }

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_JS=0
CACHE_DIR=""
for arg in "$@"; do
  case "$arg" in
    --with-js) WITH_JS=1 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    -*) die "unknown option: $arg" ;;
    *) [ -z "$CACHE_DIR" ] || die "more than one CACHE_DIR given"; CACHE_DIR="$arg" ;;
  esac
done
[ -n "$CACHE_DIR" ] || CACHE_DIR="$REPO_DIR/.cache"

command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
command -v tar >/dev/null 2>&1 || die "tar not found in PATH"
command -v openssl >/dev/null 2>&1 || command -v sha512sum >/dev/null 2>&1 || die "need openssl or sha512sum"

mkdir -p "$CACHE_DIR/npm" || die "cannot create $CACHE_DIR/npm"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"
NPM_DIR="$CACHE_DIR/npm"
TGZ="$NPM_DIR/$FACE_API_TGZ"

# sha512 of a file in npm's SRI form: "sha512-<base64>"
sri_sha512() {
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n')"
  else
    printf 'sha512-%s' "$(sha512sum "$1" | cut -d' ' -f1 | xxd -r -p | base64 | tr -d '\n')"
  fi
}

# --- (a) face-api tarball --------------------------------------------------
if [ -f "$TGZ" ]; then
  log "tarball already present: $TGZ"
else
  log "npm pack $FACE_API_SPEC -> $NPM_DIR"
  tmpd="$(mktemp -d "$NPM_DIR/pack.XXXXXX")"
  trap 'rm -rf "$tmpd"' EXIT
  (cd "$tmpd" && npm pack "$FACE_API_SPEC" --silent >/dev/null) || die "npm pack $FACE_API_SPEC failed (registry reachable?)"
  [ -f "$tmpd/$FACE_API_TGZ" ] || die "npm pack did not produce $FACE_API_TGZ"
  mv "$tmpd/$FACE_API_TGZ" "$TGZ"
  rm -rf "$tmpd"; trap - EXIT
fi

got="$(sri_sha512 "$TGZ")"
if [ "$got" != "$FACE_API_INTEGRITY" ]; then
  die "integrity mismatch for $TGZ
  expected $FACE_API_INTEGRITY
  got      $got
  (delete the tarball and re-run to re-download)"
fi
log "integrity OK ($FACE_API_INTEGRITY)"

EXTRACT="$NPM_DIR/face-api"
STAMP="$EXTRACT/.extracted-from"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FACE_API_INTEGRITY" ] \
   && [ -f "$EXTRACT/package/model/face_recognition_model.bin" ]; then
  log "already extracted: $EXTRACT/package"
else
  log "extracting to $EXTRACT/package"
  rm -rf "$EXTRACT"
  mkdir -p "$EXTRACT"
  tar -xzf "$TGZ" -C "$EXTRACT" || die "tar extraction failed"
  printf '%s' "$FACE_API_INTEGRITY" > "$STAMP"
fi
for f in model/face_recognition_model.bin model/face_recognition_model-weights_manifest.json; do
  [ -f "$EXTRACT/package/$f" ] || die "missing $EXTRACT/package/$f after extraction"
done
ls "$EXTRACT"/package/demo/sample*.jpg >/dev/null 2>&1 || die "no demo/sample*.jpg in extracted package"
log "model: $EXTRACT/package/model/face_recognition_model.bin"

# --- (b) JS test dependencies (optional) ------------------------------------
# npm ci of tests/<name>/package.json + package-lock.json into CACHE_DIR/npm/<name>/
# (node_modules stays out of the repo tree); skipped when already up to date.
npm_ci_dir() {
  local name="$1" src="$REPO_DIR/tests/$1" dst="$NPM_DIR/$1" f
  for f in package.json package-lock.json; do
    [ -f "$src/$f" ] || die "missing $src/$f"
  done
  mkdir -p "$dst"
  if [ -d "$dst/node_modules" ] && cmp -s "$src/package-lock.json" "$dst/package-lock.json" \
     && cmp -s "$src/package.json" "$dst/package.json" \
     && [ -f "$dst/node_modules/.package-lock.json" ]; then
    log "JS deps up to date: $dst/node_modules"
  else
    cp "$src/package.json" "$src/package-lock.json" "$dst/"
    log "npm ci in $dst"
    (cd "$dst" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
      || die "npm ci failed in $dst"
  fi
  log "JS deps ($name): $dst/node_modules (run with NODE_PATH=$dst/node_modules)"
}
if [ "$WITH_JS" = 1 ]; then
  npm_ci_dir js      # face-api's reference descriptors (tests/js)
  npm_ci_dir serve   # the CompreFace JavaScript SDK, a client of facepipe serve (tests/serve)
  npm_ci_dir browser # puppeteer-core, which drives chromium through the pages (tests/browser)
fi
log "done"
