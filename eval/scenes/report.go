package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// results gathers every method's counts over the videos.
type results struct {
	methods []method
	videos  []videoRow
	cats    []map[string]*counts // per method: category -> counts
	failed  []map[string]error   // per method: video -> error
	kindOK  []counts             // per method: TP = kind right, FP = kind wrong
	truths  map[string]int       // category -> transitions in it
}

type videoRow struct {
	name        string
	transitions int
	perMethod   []*counts // nil when the method did not run on it
}

func newResults(ms []method) *results {
	r := &results{methods: ms, truths: map[string]int{}, kindOK: make([]counts, len(ms))}
	for range ms {
		r.cats = append(r.cats, map[string]*counts{})
		r.failed = append(r.failed, map[string]error{})
	}
	return r
}

func (r *results) addVideo(v video, tr truth) {
	r.videos = append(r.videos, videoRow{name: v.Name, transitions: len(tr.Transitions), perMethod: make([]*counts, len(r.methods))})
	r.truths[catOverall] += len(tr.Transitions)
	for _, t := range tr.Transitions {
		r.truths[catType(t.Type)]++
		r.truths[catCase(t.Case)]++
	}
	if v.Case != "" {
		r.truths[catCase(v.Case)] += 0 // listed even with no transitions
	}
}

func (r *results) fail(mi int, video string, err error) { r.failed[mi][video] = err }

func (r *results) score(mi int, v video, tr truth, dets []detection, tol float64) {
	per := score(tr, dets, tol, v.Case)
	for k, c := range per {
		if r.cats[mi][k] == nil {
			r.cats[mi][k] = &counts{}
		}
		r.cats[mi][k].add(*c)
	}
	row := &r.videos[len(r.videos)-1]
	row.perMethod[mi] = per[catOverall]
	// How often a matched detection has the right kind (cut or gradual).
	m := match(tr.Transitions, dets, tol)
	for i, j := range m.truthOf {
		if j < 0 || dets[i].Kind == "" {
			continue
		}
		if dets[i].Kind == tr.Transitions[j].Kind {
			r.kindOK[mi].TP++
		} else {
			r.kindOK[mi].FP++
		}
	}
}

// talkingHead is the category whose false positives the summary shows.
var talkingHead = catCase(caseTalkingHead)

func (r *results) markdown(tol, threshold float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Scene detection evaluation\n\n")
	fmt.Fprintf(&b, "%d videos, %d transitions; a detection is correct within ±%.1f s of a cut, or of a gradual transition's interval. Baseline: ffmpeg `select='gt(scene,%g)'`.\n\n",
		len(r.videos), r.truths[catOverall], tol, threshold)

	fmt.Fprintf(&b, "| method | precision | recall | F1 | F1 cuts | F1 dissolves | F1 fades | false cuts on talking head |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	for mi, m := range r.methods {
		if m.unavailable != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | | | |\n", m.Name, m.unavailable)
			continue
		}
		c := r.get(mi, catOverall)
		fp := "n/a"
		if _, ok := r.truths[talkingHead]; ok {
			fp = fmt.Sprint(r.get(mi, talkingHead).FP)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", m.Name, pct(c.precision()), pct(c.recall()), pct(c.f1()),
			pct(r.get(mi, catType("cut")).f1()), pct(r.get(mi, catType("dissolve")).f1()), pct(r.get(mi, catType("fade")).f1()), fp)
	}

	fmt.Fprintf(&b, "\n## By category\n\nPrecision, recall and F1, with TP/FP/FN. A false positive is charged to the nearest transition's type and case.\n\n")
	fmt.Fprintf(&b, "| category | transitions |")
	sep := "|---|---|"
	for _, m := range r.methods {
		fmt.Fprintf(&b, " %s: P / R / F1 | TP/FP/FN |", m.Name)
		sep += "---|---|"
	}
	fmt.Fprintf(&b, "\n%s\n", sep)
	for _, cat := range r.categories() {
		fmt.Fprintf(&b, "| %s | %d |", cat, r.truths[cat])
		for mi, m := range r.methods {
			if m.unavailable != "" {
				fmt.Fprintf(&b, " – | – |")
				continue
			}
			c := r.get(mi, cat)
			fmt.Fprintf(&b, " %s / %s / %s | %d/%d/%d |", pct(c.precision()), pct(c.recall()), pct(c.f1()), c.TP, c.FP, c.FN)
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "\n## By video\n\n| video | transitions |")
	sep = "|---|---|"
	for _, m := range r.methods {
		fmt.Fprintf(&b, " %s TP/FP/FN |", m.Name)
		sep += "---|"
	}
	fmt.Fprintf(&b, "\n%s\n", sep)
	for _, v := range r.videos {
		fmt.Fprintf(&b, "| %s | %d |", v.name, v.transitions)
		for mi, m := range r.methods {
			switch {
			case m.unavailable != "":
				b.WriteString(" – |")
			case r.failed[mi][v.name] != nil:
				c := v.perMethod[mi]
				fmt.Fprintf(&b, " failed (%d/%d/%d) |", c.TP, c.FP, c.FN)
			case v.perMethod[mi] != nil:
				c := v.perMethod[mi]
				fmt.Fprintf(&b, " %d/%d/%d |", c.TP, c.FP, c.FN)
			default:
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	for mi, m := range r.methods {
		if k := r.kindOK[mi]; k.TP+k.FP > 0 {
			fmt.Fprintf(&b, "\n%s labels %d of %d matched transitions with the right kind (cut or gradual).\n", m.Name, k.TP, k.TP+k.FP)
		}
		for _, v := range r.videos {
			if err := r.failed[mi][v.name]; err != nil {
				fmt.Fprintf(&b, "\n%s failed on %s (its transitions count as missed): %v\n", m.Name, v.name, err)
			}
		}
	}
	return b.String()
}

func (r *results) get(mi int, cat string) counts {
	if c := r.cats[mi][cat]; c != nil {
		return *c
	}
	return counts{}
}

// categories lists overall, then types, then cases, each sorted.
func (r *results) categories() []string {
	var types, cases []string
	for k := range r.truths {
		switch {
		case strings.HasPrefix(k, "type: "):
			types = append(types, k)
		case strings.HasPrefix(k, "case: "):
			cases = append(cases, k)
		}
	}
	sort.Strings(types)
	sort.Strings(cases)
	return append(append([]string{catOverall}, types...), cases...)
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.3f", x)
}
