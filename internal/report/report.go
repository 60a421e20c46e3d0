// Package report renders pipeline results for a person at a terminal: one
// line per closed window naming the subjects that drifted with their scores,
// and a closing summary. It deliberately computes nothing; it formats rows.
package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Printer writes one line per committed window. Safe for concurrent use.
type Printer struct {
	mu     sync.Mutex
	w      io.Writer
	header bool
}

// NewPrinter writes to w.
func NewPrinter(w io.Writer) *Printer { return &Printer{w: w} }

// Window prints one committed result: a window's verdicts, or late records.
func (p *Printer) Window(res pipeline.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.header {
		fmt.Fprintf(p.w, "%-17s %-15s %7s  %s\n", "window (UTC)", "model", "records", "verdict: drifted subjects (metric = value, threshold)")
		p.header = true
	}
	if res.Late != nil {
		l := res.Late
		fmt.Fprintf(p.w, "%-17s %-15s %7s  %d records arrived after the window closed (counted, not windowed)\n",
			l.Start.Format("2006-01-02 15:04"), l.Model+" "+l.Version, "", l.Records)
		return
	}
	w := res.Window
	if w == nil {
		return // closed windows re-evaluated with late labels: their verdict line stands
	}
	fmt.Fprintf(p.w, "%-17s %-15s %7s  %s\n", w.Start.Format("2006-01-02 15:04"), w.Model+" "+w.Version,
		Thousands(w.Records), Verdict(res.Rows))
}

// Verdict summarizes a window's rows: "ok", or the drifted subjects with the
// value and threshold of their deciding metric, prediction first; then the
// serving rows an alert rule found breached (error rate, latency,
// throughput: SERVING), and the count of quality rows that drifted.
func Verdict(rows []drift.Row) string {
	var parts, serving []string
	var quality int
	for _, r := range rows {
		switch {
		case r.Family == drift.FamilyServing && r.Severity != "":
			serving = append(serving, fmt.Sprintf("%s %s=%.3g (%s)", r.Subject, r.Metric, r.Value, r.Severity))
		case !r.Drifted:
		case r.Primary:
			s := fmt.Sprintf("%s %s=%.3g (>=%.2g)", r.Subject, short(r.Metric), r.Value, r.Threshold)
			if r.Family == drift.FamilyPrediction {
				parts = append([]string{s}, parts...)
			} else {
				parts = append(parts, s)
			}
		case r.Family == drift.FamilyQuality:
			quality++
		}
	}
	out := "ok"
	if len(parts) > 0 {
		out = "DRIFT " + strings.Join(parts, ", ")
	}
	switch {
	case len(serving) > 0 && len(parts) > 0:
		out += "; SERVING " + strings.Join(serving, ", ")
	case len(serving) > 0:
		out = "SERVING " + strings.Join(serving, ", ")
	}
	if quality > 0 {
		out += fmt.Sprintf("; %d quality warning(s)", quality)
	}
	return out
}

func short(metric string) string {
	switch metric {
	case drift.MetricJensenShannon:
		return "js"
	case drift.MetricWasserstein:
		return "w1"
	}
	return metric
}

// Source summarizes what a source read and where bad records went.
func Source(c consumer.Counts, elapsed time.Duration, dlq string) string {
	var b strings.Builder
	rate := float64(c.Records) / elapsed.Seconds()
	fmt.Fprintf(&b, "%s records read in %.1fs (%s/s): %s windowed, %s duplicates dropped",
		Thousands(c.Records), elapsed.Seconds(), Thousands(int64(rate)), Thousands(c.Accepted), Thousands(c.Duplicates))
	var dead int64
	reasons := make([]string, 0, len(c.DeadLetter))
	for r, n := range c.DeadLetter {
		dead += n
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(reasons)
	if dead > 0 {
		fmt.Fprintf(&b, ", %s dead-lettered to %s (%s)", Thousands(dead), dlq, strings.Join(reasons, ", "))
	}
	if c.TypeErrors > 0 {
		fmt.Fprintf(&b, ", %s feature values of the wrong type stored as missing", Thousands(c.TypeErrors))
	}
	return b.String()
}

// Thousands formats n with comma separators.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
