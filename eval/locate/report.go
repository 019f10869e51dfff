package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// Goals for vidprint locate, from the issue.
const (
	goalPositives = 0.97 // of all positives correct
	goalNegatives = 0.99 // of all negatives rejected
	goalWorst     = 0.85 // of the positives of every transformation
)

// runInfo is what the report says about the run itself.
type runInfo struct {
	seed    int64
	perPair int
	started time.Time
	took    time.Duration
	flags   string // -locate-flags
	print   bool   // -clip-print: locate got the clip's print, not its video
}

func (r *results) markdown(ri runInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Clip location evaluation\n\n")
	fmt.Fprintf(&b, "Seed %d, %d clips (%d per reference and transformation), run %s on %s (%d cores), %s.",
		ri.seed, len(r.clips), ri.perPair, ri.started.Format("2006-01-02 15:04"), cpuModel(), runtime.NumCPU(), ri.took.Round(time.Second))
	if ri.print {
		b.WriteString(" locate got each clip as its print (-clip-print): whole-frame view only.")
	}
	if ri.flags != "" {
		fmt.Fprintf(&b, " locate flags: `%s`.", ri.flags)
	}
	fmt.Fprintf(&b, "\n\nA positive is correct when the method reports the clip in its source with the implied start "+
		"within ±%.1f s of the truth. A negative is a clip searched in a reference that is neither its source nor "+
		"its pip/inset host; any match there is a false positive. Hard negatives: cap12 clips in cap13 and back "+
		"(same person, same room). The baselines' thresholds are the lowest that reject at least %.0f%% of their "+
		"own negatives.\n\n", tol, 100*negReject)

	fmt.Fprintf(&b, "| method | positives correct | negatives rejected | hard negatives rejected | threshold | mean time per clip |\n|---|---|---|---|---|---|\n")
	for mi, m := range r.methods {
		if m.unavailable != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | |\n", m.Name, m.unavailable)
			continue
		}
		th := "its own"
		if m.calibrated {
			th = num(r.thresholds[mi])
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", m.Name, frac(r.positives(mi, all, tol)), frac(r.rejected(mi, false)),
			frac(r.rejected(mi, true)), th, r.meanTime(mi))
	}
	embedding := "embedding the clip's views included"
	if ri.print {
		embedding = "the clip's print given"
	}
	fmt.Fprintf(&b, "\nTime per clip: vidprint, one `locate` call with every reference (%s); plain, the Go search over "+
		"the prints (embedding the clip not included); chromaprint, fpcalc on the clip and the search.\n", embedding)

	if vi := r.method("vidprint"); vi >= 0 && r.methods[vi].unavailable == "" {
		r.callTimes(&b, vi)
		r.goals(&b, vi)
	}

	fmt.Fprintf(&b, "\n## By transformation\n\nCorrect positives; chromaprint judges only clips with sound (its n in brackets).\n\n")
	r.table(&b, "transformation", transformsIn(r.clips), ofTransform)
	var fine []string
	for mi, m := range r.methods {
		if t := r.positives(mi, ofTransform("none"), fineTol); m.unavailable == "" && t.N > 0 {
			fine = append(fine, fmt.Sprintf("%s %s", m.Name, frac(t)))
		}
	}
	if len(fine) > 0 {
		fmt.Fprintf(&b, "\n\"none\" within ±%.1f s (one sample): %s.\n", fineTol, strings.Join(fine, ", "))
	}

	fmt.Fprintf(&b, "\n## By reference\n\nCorrect positives of the clips cut from each reference (Megamind_bugy counts for megamind).\n\n")
	var refs []string
	for _, ref := range references {
		refs = append(refs, ref.Name)
	}
	r.table(&b, "reference", refs, ofRef)

	for mi, m := range r.methods {
		r.falsePositives(&b, mi)
		var failed, notes []string
		for ci, c := range r.clips {
			a := r.answers[ci][mi]
			if a.Err != "" {
				failed = append(failed, fmt.Sprintf("- %s: %s", c.Name, a.Err))
			}
			if a.Note != "" {
				notes = append(notes, c.Name)
			}
		}
		if len(failed) > 0 {
			fmt.Fprintf(&b, "\n%s failed on %d clips (their positives count as missed, their negatives are left out):\n\n%s\n",
				m.Name, len(failed), strings.Join(first(failed, 20), "\n"))
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, "\n%s: on %d clips the exit code, \"found\" and the matches disagree: %s\n",
				m.Name, len(notes), strings.Join(first(notes, 20), ", "))
		}
	}
	return b.String()
}

func (r *results) goals(b *strings.Builder, vi int) {
	pos, neg := r.positives(vi, all, tol), r.rejected(vi, false)
	worst, worstName := math.Inf(1), ""
	for _, t := range transformsIn(r.clips) {
		if s := r.positives(vi, ofTransform(t), tol).share(); s < worst {
			worst, worstName = s, t
		}
	}
	fmt.Fprintf(b, "\n## Goals (vidprint locate)\n\n| goal | result | |\n|---|---|---|\n")
	fmt.Fprintf(b, "| ≥ %.0f%% of positives correct | %s | %s |\n", 100*goalPositives, pct(pos.share()), pass(pos.share() >= goalPositives))
	fmt.Fprintf(b, "| ≥ %.0f%% of negatives rejected | %s | %s |\n", 100*goalNegatives, pct(neg.share()), pass(neg.share() >= goalNegatives))
	fmt.Fprintf(b, "| no transformation below %.0f%% | worst: %s %s | %s |\n", 100*goalWorst, worstName, pct(worst), pass(worst >= goalWorst))
}

// table writes one row per group: n, then each method's correct share.
func (r *results) table(b *strings.Builder, what string, groups []string, of func(string) func(clip) bool) {
	fmt.Fprintf(b, "| %s | n |", what)
	sep := "|---|---|"
	for _, m := range r.methods {
		fmt.Fprintf(b, " %s |", m.Name)
		sep += "---|"
	}
	fmt.Fprintf(b, "\n%s\n", sep)
	row := func(name string, keep func(clip) bool) {
		n := 0
		for _, c := range r.clips {
			if keep(c) {
				n++
			}
		}
		fmt.Fprintf(b, "| %s | %d |", name, n)
		for mi, m := range r.methods {
			t := r.positives(mi, keep, tol)
			switch {
			case m.unavailable != "" || t.N == 0:
				b.WriteString(" – |")
			case t.N != n:
				fmt.Fprintf(b, " %s (%d) |", pct(t.share()), t.N)
			default:
				fmt.Fprintf(b, " %s |", pct(t.share()))
			}
		}
		b.WriteString("\n")
	}
	for _, g := range groups {
		row(g, of(g))
	}
	row("**all**", all)
}

// falsePositives lists where method mi reported a clip that is not there.
func (r *results) falsePositives(b *strings.Builder, mi int) {
	var lines []string
	for _, p := range r.negatives(mi) {
		if h, ok := r.found(mi, p.clip, p.ref); ok {
			lines = append(lines, fmt.Sprintf("- %s in %s at %.1f s, score %s", r.clips[p.clip].Name, p.ref, h.Start, num(h.Score)))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\n%s false positives (%d):\n\n%s\n", r.methods[mi].Name, len(lines), strings.Join(first(lines, 20), "\n"))
	}
}

// callTimes sums up the time of vidprint's locate calls.
func (r *results) callTimes(b *strings.Builder, vi int) {
	var sum, most float64
	n := 0
	for ci := range r.clips {
		if a := r.answers[ci][vi]; a.Exit != nil {
			sum += a.Seconds
			most = max(most, a.Seconds)
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(b, "\n`vidprint locate`: %d calls, %.2f s each on average, %.2f s at most.\n", n, sum/float64(n), most)
	}
}

func (r *results) meanTime(mi int) string {
	var sum float64
	n := 0
	for ci := range r.clips {
		if s := r.answers[ci][mi].Seconds; s > 0 {
			sum += s
			n++
		}
	}
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f s", sum/float64(n))
}

func (r *results) method(key string) int {
	for i, m := range r.methods {
		if m.Key == key {
			return i
		}
	}
	return -1
}

// transformsIn lists the transformations present, in the set's order.
func transformsIn(clips []clip) []string {
	seen := map[string]bool{}
	for _, c := range clips {
		seen[c.Transform] = true
	}
	var out []string
	for _, t := range transforms {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func frac(t tally) string {
	if t.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (%d/%d)", pct(t.share()), t.OK, t.N)
}

func pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.3f", x)
}

func pass(ok bool) string {
	if ok {
		return "pass"
	}
	return "**fail**"
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("- ... and %d more", len(s)-n))
	}
	return s
}
