#!/usr/bin/env bash
# make bench: vidprint embed against ffmpeg's decode-only time on the same
# files in the same run (interleaved, best of $BENCH_RUNS), the model's own
# throughput, peak memory, and what --fast costs the print.
# Writes a markdown report to out/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${VIDPRINT_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vidprint}
data=$home/data
b=$home/bench
mkdir -p "$b" out
runs=${BENCH_RUNS:-3}

go build -o bin/vidprint ./cmd/vidprint


# Benchmark files, made once from real footage.
h264=$b/minions_720p_h264.mp4 # 60 s, 1280x720 H.264 with B-frames: decode-bound
[ -s "$h264" ] || ffmpeg -v error -nostdin -i "$data/minions.mp4" -vf scale=1280:720 \
  -c:v libx264 -preset medium -crf 22 -an -y "$h264"
long=$b/vtest_x8_384x288_mpeg4.avi # 640 s, low resolution, cheap to decode: model-bound
[ -s "$long" ] || ffmpeg -v error -nostdin -stream_loop 7 -i "$data/vtest.avi" -vf scale=384:288 \
  -c:v mpeg4 -q:v 4 -an -y "$long"
cheap=$data/vtest.avi # 80 s, 768x576 MS-MPEG-4

# timed WALL_S PEAK_KB for one run; stderr of the command goes to $b/.err
timed() {
  /usr/bin/time -f '%e %M' -o "$b/.time" "$@" >/dev/null 2>"$b/.err" || { cat "$b/.err" >&2; return 1; }
  cat "$b/.time"
}
minf() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a < b) ? a : b}'; }

frames() { bin/vidprint info --json "$1" | sed -n 's/.*"frames": \([0-9]*\).*/\1/p'; }
desc() { ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height:format=duration \
  -of default=nw=1:nk=1 "$1" | paste -sd' ' | awk '{printf "%s %sx%s, %.0f s", $1, $2, $3, $4}'; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "## make bench, $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3)."
  echo "Each row: ffmpeg's decode-only time (\`ffmpeg -i F -f null -\`) and vidprint embed on the same file, runs interleaved, best of $runs."
  echo
  echo "| file | mode | decode-only | vidprint embed | ratio | frames | embed rate | peak RSS vidprint / ffmpeg |"
  echo "|---|---|---|---|---|---|---|---|"
} >out/bench.md

# bench FILE MODE... : one row per mode, all measured in the same loop.
bench() {
  local f=$1; shift
  local -A best rss
  local dbest="" w m
  for _ in $(seq "$runs"); do
    read -r w _ < <(timed ffmpeg -v error -nostdin -i "$f" -f null -)
    dbest=$(minf "$w" "$dbest")
    for mode in "$@"; do
      local flags=()
      [ "$mode" = default ] || flags=("--$mode")
      read -r w m < <(timed bin/vidprint embed -q --peak-rss "$f" -o "$b/$(basename "$f").$mode.vprint" "${flags[@]}")
      best[$mode]=$(minf "$w" "${best[$mode]:-}")
      rss[$mode]="$(sed -n 's/^peak RSS \([0-9]*\) kB/\1/p' "$b/.err") $m"
    done
  done
  for mode in "$@"; do
    local n own all
    n=$(frames "$b/$(basename "$f").$mode.vprint")
    read -r own all <<<"${rss[$mode]}"
    printf '| %s (%s) | %s | %.2f s | %.2f s | **%.2f** | %d | %.0f frames/s | %d / %d MB |\n' \
      "$(basename "$f")" "$(desc "$f")" "$mode" "$dbest" "${best[$mode]}" \
      "$(awk -v e="${best[$mode]}" -v d="$dbest" 'BEGIN{print e/d}')" "$n" \
      "$(awk -v n="$n" -v e="${best[$mode]}" 'BEGIN{print n/e}')" $((own / 1024)) $((all / 1024)) >>out/bench.md
  done
}

# workers=1 runs one inference session, the default before a session ran
# on every core: the baseline, same run.
bench "$h264" default workers=1 regions=false fast
bench "$cheap" default workers=1 regions=false
bench "$long" default workers=1 regions=false

{
  echo
  echo "What --fast costs the print, against the default full decoding of the same file (cosine of each row with the default's row after subtracting the video's mean feature; and how often a row's nearest default row is within one sample):"
  echo
  echo '```'
  printf '%-8s ' fast
  bin/vidprint compare "$b/$(basename "$h264").default.vprint" "$b/$(basename "$h264").fast.vprint"
  echo '```'
  echo
  echo "The model alone, same run (\`go test -bench Embed ./internal/model/\`; ns/op is per frame):"
  echo
  echo '```'
  go test -run '^$' -bench 'BenchmarkEmbed(Parallel)?$' -benchtime 300x ./internal/model/ | grep -E '^Benchmark'
  echo '```'
  echo
  echo "A 2-hour print (36,000 x 1024): scene detection, and the picture binned and drawn (ns/op per whole print):"
  echo
  echo '```'
  go test -run '^$' -bench 'TwoHours' -benchtime 5x -benchmem ./internal/scenes/ ./internal/picture/ | grep -E '^Benchmark'
  echo '```'
  echo
  echo "Locate: a 15 s clip (75 samples, 11 views) in prints of 0.25 to 2 hours (ns/op per search; NewReference prepares a 2-hour print once), the same with region features on both sides (LocateRegions), and the baseline in the same run: the exhaustive exact search, whole-frame view and speed 1 only:"
  echo
  echo '```'
  go test -run '^$' -bench 'Locate|NewReference|Exhaustive' -benchtime 10x -benchmem ./internal/match/ | grep -E '^Benchmark'
  echo '```'
  echo
  echo "Reading a library's window index (100,000 windows), on one goroutine (the baseline) and on every core:"
  echo
  echo '```'
  go test -run '^$' -bench 'ReadIndex' -benchtime 10x ./internal/search/ | grep -E '^Benchmark'
  echo '```'
} >>out/bench.md
# Locate and search end to end: a 15 s clip of the 720p file, located in
# its 60 s print and searched in a synthetic library bound to the default
# model (eval/libbench -model-meta; built once, kept). Each run reports its
# phases (--timings); decode-only is ffmpeg sampling the clip as the
# pipeline does, the part of "embed" that is not inference.
clip=$b/clip15_640x360.mp4
[ -s "$clip" ] || ffmpeg -v error -nostdin -ss 20 -i "$h264" -t 15 -vf scale=640:360 \
  -c:v libx264 -preset medium -crf 23 -an -y "$clip"
ref=$b/$(basename "$h264").default.vprint
hours=${BENCH_SEARCH_HOURS:-100}
# The library is bound to the default model's file: one a conversion.
sdir=$b/search-$(sed -n 's/^MODEL_ONNX_SHA=//p' scripts/deps.sh | cut -c1-12)
lib=$sdir/lib-${hours}h
bin/vidprint index stats --library "$lib" >/dev/null 2>&1 ||
  go run ./eval/libbench -hours "$hours" -queries 5 -exhaustive 1 -model-meta -dir "$sdir" -out "$sdir/libbench.md" >/dev/null
# phases CMD...: the best of $runs runs' timings JSON (by total)
phases() {
  local best="" bestj="" t j
  for _ in $(seq "$runs"); do
    j=$("$@" --timings 2>&1 >/dev/null | grep '^{"timings"' || true)
    t=$(sed -n 's/.*"total_s":\([0-9.e-]*\).*/\1/p' <<<"$j")
    if [ -n "$t" ] && { [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a < b)}'; }; then best=$t; bestj=$j; fi
  done
  printf '%s' "$bestj"
}
field() { sed -n "s/.*\"$1\":\([0-9.e-]*\).*/\1/p" <<<"$2" | awk '{printf "%.2f s", $1}'; }
dbest=""
for _ in $(seq "$runs"); do
  read -r w _ < <(timed ffmpeg -v error -nostdin -i "$clip" -vf fps=5,scale=448:448 -f null -)
  dbest=$(minf "$w" "$dbest")
done
lj=$(phases bin/vidprint -q locate "$clip" "$ref")
sj=$(phases bin/vidprint -q search --library "$lib" "$clip")
{
  echo
  echo "Locate and search end to end, a 15 s 640x360 clip (best of $runs; embed is decoding and inference together, decode-only is ffmpeg sampling the clip alone, same run):"
  echo
  echo "| command | total | embed the clip's views | of which decode-only | read / open | index | match |"
  echo "|---|---|---|---|---|---|---|"
  echo "| locate in its 60 s print | $(field total_s "$lj") | $(field embed_s "$lj") | ${dbest} s | $(field prints_s "$lj") | - | $(field match_s "$lj") |"
  echo "| search a ${hours} h library | $(field total_s "$sj") | $(field embed_s "$sj") | ${dbest} s | $(field open_s "$sj") | $(field index_s "$sj") | $(field match_s "$sj") |"
} >>out/bench.md
cat out/bench.md
