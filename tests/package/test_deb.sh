#!/usr/bin/env bash
# The Debian package as a user gets it (issue 19): build it (scripts/package.sh,
# lintian clean), install it with apt, run the README's pipeline with the installed
# /usr/bin/facepipe from an empty folder (it must find its models from the package),
# check the man pages, bash and zsh completion and the installed scripts, then purge
# it and check that nothing of it is left (the pipeline's files, user data, stay).
# Also checks that a build-tree binary still uses build/models while the package is
# installed. Exits 1 at the first failed check, naming it; leaves no package installed.
#
# Usage: tests/package/test_deb.sh     (root, Debian 12, apt reachable; scripts/setup.sh --tests done)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
log() { echo "test_deb: $*" >&2; }
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" -eq 0 ] || fail "needs root (apt-get install)"
if dpkg-query -W -f='${Status}' facepipe 2>/dev/null | grep -q "ok installed"; then
  fail "facepipe is installed already; this test installs and purges it: remove it first"
fi
WORK="$(mktemp -d)"
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then apt-get purge -y -qq facepipe >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
start=$SECONDS

log "building the package"
deb="$(JOBS=2 "$REPO/scripts/package.sh" --lintian)" || fail "scripts/package.sh --lintian failed"
[ -f "$deb" ] || fail "scripts/package.sh printed no package ($deb)"

log "installing $(basename "$deb") with apt"
installed=1
apt-get install -y -qq "$deb" >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt-get install $deb"; }
dpkg -L facepipe | sort > "$WORK/files"
for f in /usr/bin/facepipe "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/facepipe/facepipe_media_image.so" /usr/share/facepipe/models/dlib_face_recognition_resnet_model_v1.dat \
         /usr/share/facepipe/models/dlib_face_recognition_resnet_model_v1.dat.provenance.json \
         /usr/share/man/man1/facepipe.1.gz /usr/share/man/man5/facepipe.5.gz \
         /usr/share/bash-completion/completions/facepipe /usr/share/zsh/vendor-completions/_facepipe \
         /lib/systemd/system/facepipe-serve.service /lib/systemd/system/facepipe-retrain.service \
         /lib/systemd/system/facepipe-retrain.timer /usr/share/facepipe/scripts/sync.sh \
         /usr/share/facepipe/scripts/retrain.sh /usr/share/facepipe/scripts/slurm/submit.sh \
         /usr/share/doc/facepipe/copyright /usr/share/doc/facepipe/changelog.Debian.gz \
         /usr/share/doc/facepipe/docs/formats.md; do
  grep -qx "$f" "$WORK/files" || fail "the package does not install $f"
done

# The README's pipeline, from an empty folder, with the installed binary and models.
cd "$WORK" && mkdir run && cd run
unset FACEPIPE_MODELS FACEPIPE_BIN
[ "$(command -v facepipe)" = /usr/bin/facepipe ] || fail "facepipe on PATH is $(command -v facepipe), not /usr/bin/facepipe"
facepipe models show > models.txt || fail "the installed facepipe does not find its models (models show)"
grep -q "/usr/share/facepipe/models/dlib_face_recognition_resnet_model_v1.dat" models.txt ||
  fail "the installed facepipe does not use /usr/share/facepipe/models: $(cat models.txt)"
grep -q "origin: converted" models.txt || fail "the packaged model has no provenance: $(cat models.txt)"
"$REPO/scripts/make_demo_dataset.sh" "$PWD/dataset" >/dev/null
log "pipeline: augment, encode, train, predict (as README's quick start)"
facepipe augment --copies 5 --seed 1 >/dev/null || fail "facepipe augment"
facepipe encode >/dev/null || fail "facepipe encode"
facepipe train >/dev/null || fail "facepipe train"
for f in encodings.bin model.bin labels.bin; do [ -f "$f" ] || fail "encode/train wrote no $f"; done
SAMPLES="$REPO/.cache/npm/face-api/package/demo"
facepipe predict "$SAMPLES"/sample{1,2,3,4,5,6}.jpg --format csv > predict.csv || fail "facepipe predict"
for name in sample1-a sample1-b sample1-c sample2-a sample3-a sample3-b sample3-c; do
  grep -q ",$name," predict.csv || fail "predict did not name $name: $(cat predict.csv)"
done
if grep -E '^[^,]*sample[456]\.jpg,ok,' predict.csv | grep -v ',unknown,' >&2; then
  fail "predict named someone in sample4-6 (nobody there is enrolled)"
fi

# A build-tree binary on the same machine keeps using build/models.
"$BUILD_DIR/facepipe" models show | grep -q "$BUILD_DIR/models/" ||
  fail "with the package installed, $BUILD_DIR/facepipe no longer uses $BUILD_DIR/models"

# Man pages, completion, scripts.
[ "$(man -w facepipe-predict)" = /usr/share/man/man1/facepipe-predict.1.gz ] || fail "man -w facepipe-predict: $(man -w facepipe-predict 2>&1)"
[ "$(man -w 5 facepipe)" = /usr/share/man/man5/facepipe.5.gz ] || fail "man -w 5 facepipe: $(man -w 5 facepipe 2>&1)"
bash -c 'source /usr/share/bash-completion/completions/facepipe && complete -p facepipe' | grep -q "_facepipe facepipe" ||
  fail "the bash completion does not load"
got="$(bash -c 'source /usr/share/bash-completion/completions/facepipe
  COMP_WORDS=(facepipe predict --format ""); COMP_CWORD=3; _facepipe; echo "${COMPREPLY[*]}"')"
[ "$got" = "table csv jsonl" ] || fail "bash completion of predict --format gives '$got'"
if command -v zsh >/dev/null; then zsh -n /usr/share/zsh/vendor-completions/_facepipe || fail "zsh completion: syntax error"; fi
# shellcheck disable=SC2016  # $FACEPIPE expands in the inner shell
got="$(env -u FACEPIPE_BIN bash -c 'source /usr/share/facepipe/scripts/sync-common.sh; echo "$FACEPIPE"')"
[ "$got" = /usr/bin/facepipe ] || fail "the installed scripts run $got, not /usr/bin/facepipe"
/usr/share/facepipe/scripts/sync.sh --help >/dev/null || fail "/usr/share/facepipe/scripts/sync.sh --help"

log "purging"
apt-get purge -y -qq facepipe >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt-get purge facepipe"; }
installed=0
if dpkg-query -W -f='${Status}' facepipe 2>/dev/null | grep -q "installed"; then fail "dpkg still lists facepipe"; fi
left=()
while IFS= read -r f; do
  # Shared folders (/usr/bin, /usr/share/man/man1, ...) stay; anything of facepipe's must go.
  if [ -e "$f" ] && { [ ! -d "$f" ] || [[ "$f" == *facepipe* ]]; }; then left+=("$f"); fi
done < "$WORK/files"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
[ -f "$WORK/run/model.bin" ] || fail "purge removed the user's model.bin"
log "ok ($((SECONDS - start)) s)"
