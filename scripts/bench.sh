#!/usr/bin/env bash
# make bench: vidprint embed against ffmpeg's decode-only time on the same
# files in the same run, the model's own throughput, and peak memory.
# Writes a markdown report to out/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${VIDPRINT_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vidprint}
data=$home/data
b=$home/bench
mkdir -p "$b" out
runs=${BENCH_RUNS:-3}

go build -o bin/vidprint ./cmd/vidprint
go build -o bin/printcmp ./bench/printcmp

# Benchmark files, made once from real footage.
h264=$b/minions_720p_h264.mp4
[ -s "$h264" ] || ffmpeg -v error -nostdin -i "$data/minions.mp4" -vf scale=1280:720 \
  -c:v libx264 -preset medium -crf 22 -an -y "$h264"
long=$b/vtest_x8_384x288_mpeg4.avi
[ -s "$long" ] || ffmpeg -v error -nostdin -stream_loop 7 -i "$data/vtest.avi" -vf scale=384:288 \
  -c:v mpeg4 -q:v 4 -an -y "$long"
cheap=$data/vtest.avi

# best WALL_SECONDS PEAK_KB of $runs runs of a command
best() {
  local bw=999999 bm=0 w m
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$b/.time" "$@" >/dev/null 2>"$b/.err" || { cat "$b/.err" >&2; return 1; }
    read -r w m <"$b/.time"
    if awk "BEGIN{exit !($w < $bw)}"; then bw=$w; fi
    [ "$m" -gt "$bm" ] && bm=$m
  done
  echo "$bw $bm"
}

frames() { bin/vidprint info --json "$1" | sed -n 's/.*"frames": \([0-9]*\).*/\1/p'; }
desc() { ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height:format=duration \
  -of default=nw=1:nk=1 "$1" | paste -sd' ' | awk '{printf "%s %sx%s, %.0f s", $1, $2, $3, $4}'; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "## make bench, $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3); best of $runs runs."
  echo
  echo "| file | decode-only (ffmpeg -i F -f null -) | vidprint embed | ratio | frames | embed rate | peak RSS |"
  echo "|---|---|---|---|---|---|---|"
} >out/bench.md

row() { # label file [embed flags...]
  local label=$1 f=$2; shift 2
  read -r dw _ < <(best ffmpeg -v error -nostdin -i "$f" -f null -)
  read -r ew em < <(best bin/vidprint embed -q "$f" -o "$b/out.vprint" "$@")
  local n
  n=$(frames "$b/out.vprint")
  cp "$b/out.vprint" "$b/$(basename "$f").$label.vprint"
  printf '| %s (%s)%s | %.2f s | %.2f s | **%.2f** | %d | %.0f frames/s | %d MB |\n' \
    "$(basename "$f")" "$(desc "$f")" "${*:+ $*}" "$dw" "$ew" "$(awk "BEGIN{print $ew/$dw}")" "$n" \
    "$(awk "BEGIN{print $n/$ew}")" $((em / 1024)) >>out/bench.md
}

row default "$h264"
row fast "$h264" --fast
row default "$cheap"
row default "$long"

{
  echo
  echo "Print quality of --fast against full decoding (same file; centred cosine per row, and whether each fast row's nearest full row is within one sample):"
  echo
  echo '```'
  bin/printcmp "$b/$(basename "$h264").default.vprint" "$b/$(basename "$h264").fast.vprint"
  echo '```'
  echo
  echo "The model alone (go test -bench BenchmarkEmbed ./internal/model/, same run):"
  echo
  echo '```'
  go test -run '^$' -bench 'BenchmarkEmbed' -benchtime 300x ./internal/model/ | grep -E '^Benchmark'
  echo '```'
} >>out/bench.md
cat out/bench.md
