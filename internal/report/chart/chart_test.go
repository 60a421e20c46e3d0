package chart

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.svg")

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func hours(vs ...float64) []Point {
	p := make([]Point, len(vs))
	for i, v := range vs {
		p[i] = Point{t0.Add(time.Duration(i) * time.Hour), v}
	}
	return p
}

// element is a decoded SVG element, enough for structural checks.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parse decodes doc as XML, failing the test if it is not well formed or
// its root is not an <svg> with a viewBox, <title> and <desc>.
func parse(t *testing.T, doc []byte) []element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var out []element
	var stack []int
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	if len(out) < 3 || out[0].name != "svg" || out[0].attrs["viewBox"] == "" || out[1].name != "title" || out[2].name != "desc" {
		t.Fatalf("want <svg viewBox> then <title>, <desc>; got %v", out[:min(3, len(out))])
	}
	for _, e := range out {
		for k, v := range e.attrs {
			if strings.Contains(v, "NaN") || strings.Contains(v, "Inf") {
				t.Errorf("<%s %s=%q>: non-finite coordinate", e.name, k, v)
			}
		}
	}
	return out
}

func find(es []element, name, class string) []element {
	var out []element
	for _, e := range es {
		if e.name == name && (class == "" || strings.Contains(" "+e.attrs["class"]+" ", " "+class+" ")) {
			out = append(out, e)
		}
	}
	return out
}

// texts returns the text of the <text> elements of class inside the
// group of class group, in document order.
func texts(doc []byte, group, class string) []string {
	g := regexp.MustCompile(`(?s)<g class="` + group + `".*?</g>`).Find(doc)
	var out []string
	for _, m := range regexp.MustCompile(`<text[^>]*class="`+class+`"[^>]*>([^<]*)</text>`).FindAllSubmatch(g, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

func golden(t *testing.T, name string, doc []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".svg")
	if *update {
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s differs from the golden file; run go test ./internal/report/chart -update and review the diff", path)
	}
}

func TestLine(t *testing.T) {
	c := Line{
		Title: "amount: PSI per window", Desc: "PSI of amount against the baseline, hourly windows", Unit: "PSI",
		Series: []Series{
			{Name: "psi", Points: hours(0.05, 0.08, math.NaN(), 0.31, 0.42, math.Inf(1), 0.12)},
			{Name: "psi (calibrated)", Points: hours(0.02, 0.03, 0.04, 0.05, 0.04, 0.03, 0.02)},
		},
		Threshold: 0.2, ThresholdName: "threshold 0.2",
		Band:     []BandPoint{{t0, 0, 0.1}, {t0.Add(6 * time.Hour), 0, 0.15}},
		BandName: "expected",
	}
	doc := c.SVG()
	es := parse(t, doc)
	golden(t, "line", doc)

	if n := len(find(es, "path", "series")); n != 2 {
		t.Errorf("%d series paths, want 2", n)
	}
	if len(find(es, "path", "axis")) != 1 || len(find(es, "line", "threshold")) != 1 || len(find(es, "path", "band")) != 1 {
		t.Error("want one axis, one threshold line and one band")
	}
	// The NaN and the +Inf break the first line into three pieces.
	if d := find(es, "path", "series")[0].attrs["d"]; strings.Count(d, "M") != 3 {
		t.Errorf("first series d=%q: want 3 pieces around the non-finite values", d)
	}
	var ys []float64
	for _, s := range texts(doc, "y-axis", "tick") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("y tick %q: %v", s, err)
		}
		ys = append(ys, v)
	}
	if len(ys) < 3 || ys[0] > 0 || ys[len(ys)-1] < 0.42 {
		t.Errorf("y ticks %v do not cover [0.02, 0.42]", ys)
	}
	for i := 1; i < len(ys); i++ {
		if ys[i] <= ys[i-1] {
			t.Errorf("y ticks %v not increasing", ys)
		}
	}
	xs := texts(doc, "x-axis", "tick")
	if len(xs) < 3 || xs[0] != "10:00" {
		t.Errorf("x ticks %v: want hours from 10:00 UTC", xs)
	}
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			t.Errorf("x ticks %v not increasing", xs)
		}
	}
	for _, want := range []string{"psi", "psi (calibrated)", "threshold 0.2", "expected"} {
		if !hasText(es, "legend", want) {
			t.Errorf("legend lacks %q", want)
		}
	}
	if !hasText(es, "axis-label", "PSI") || !hasText(es, "axis-label", "time (UTC)") {
		t.Error("axis labels missing")
	}
}

func hasText(es []element, class, want string) bool {
	for _, e := range find(es, "text", class) {
		if e.text == want {
			return true
		}
	}
	return false
}

func TestLineEdges(t *testing.T) {
	for name, c := range map[string]Line{
		"line_empty":     {Title: "empty", Series: []Series{{Name: "psi"}}},
		"line_nonfinite": {Title: "only NaN", Series: []Series{{Name: "psi", Points: hours(math.NaN(), math.Inf(-1))}}},
		"line_one_point": {Title: "one point", Unit: "PSI", Series: []Series{{Name: "psi", Points: hours(0.3)}}},
		"line_equal":     {Title: "all equal", Unit: "ms", Series: []Series{{Name: "p95", Points: hours(5, 5, 5)}}},
		"line_zero":      {Title: "all zero", Unit: "count", Series: []Series{{Name: "adwin", Points: hours(0, 0)}}},
		"line_days":      {Title: "days", Unit: "share", Series: []Series{{Name: "x", Points: []Point{{t0, 1}, {t0.Add(80 * time.Hour), 2}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			doc := c.SVG()
			es := parse(t, doc)
			golden(t, name, doc)
			noData := len(find(es, "text", "no-data")) == 1
			if want := name == "line_empty" || name == "line_nonfinite"; noData != want {
				t.Fatalf("no-data label shown: %v, want %v", noData, want)
			}
			if noData {
				return
			}
			if len(find(es, "path", "series")) != 1 || len(find(es, "circle", "")) == 0 {
				t.Error("want the series drawn with markers")
			}
			if ys := texts(doc, "y-axis", "tick"); len(ys) < 2 {
				t.Errorf("y ticks %v: a flat series still needs a scale", ys)
			}
			if xs := texts(doc, "x-axis", "tick"); len(xs) < 2 {
				t.Errorf("x ticks %v: a single instant still needs a scale", xs)
			}
		})
	}
}

func TestTimeTicksLayout(t *testing.T) {
	_, _, ticks, layout := timeTicks(t0, t0.Add(80*time.Hour), 6)
	if layout != "Jan 2" || len(ticks) < 3 || len(ticks) > 6 {
		t.Errorf("80 hours: layout %q, %d ticks", layout, len(ticks))
	}
	for _, x := range ticks {
		if x.Location() != time.UTC {
			t.Errorf("tick %v not in UTC", x)
		}
	}
}

func TestHeat(t *testing.T) {
	c := Heat{
		Title: "verdicts per window", Desc: "subjects by hourly window, coloured by verdict",
		Rows: []string{"amount", "country", "prediction", "<script>"},
		Cols: []string{"10:00", "11:00", "12:00", "13:00"},
		Cells: [][]Cell{
			{{OK, "psi = 0.05"}, {Sev3, "psi = 0.31 (threshold 0.2)"}, {Sev1, ""}, {OK, ""}},
			{{Insufficient, ""}, {OK, ""}, {Drifted, ""}, {Sev4, ""}},
			{{OK, ""}, {Sev2, ""}},
			{},
		},
	}
	doc := c.SVG()
	es := parse(t, doc)
	golden(t, "heat", doc)
	cells := find(es, "rect", "cell")
	if len(cells) != 16 {
		t.Fatalf("%d cells, want 4x4", len(cells))
	}
	want := []string{"ok", "SEV-3", "SEV-1", "ok", "insufficient data", "ok", "drifted", "SEV-4", "ok", "SEV-2", "not judged", "not judged"}
	for i, w := range want {
		if got := cells[i].attrs["data-verdict"]; got != w {
			t.Errorf("cell %d: %q, want %q", i, got, w)
		}
	}
	fills := map[string]string{}
	for _, c := range cells {
		v := c.attrs["data-verdict"]
		if f, ok := fills[v]; ok && f != c.attrs["fill"] {
			t.Errorf("verdict %s drawn in %s and %s", v, f, c.attrs["fill"])
		}
		fills[v] = c.attrs["fill"]
	}
	if len(fills) != 8 {
		t.Errorf("%d distinct fills for 8 verdicts", len(fills))
	}
	if len(find(es, "text", "row-label")) != 4 || len(find(es, "text", "col-label")) != 4 {
		t.Error("want every row and column labelled")
	}
	for _, w := range []string{"ok", "SEV-1 (1)", "insufficient data (?)", "not judged"} {
		if !hasText(es, "legend", w) {
			t.Errorf("legend lacks %q", w)
		}
	}
	if !hasText(es, "row-label", "<script>") {
		t.Error("row label not escaped and decoded back")
	}
}

func TestHeatManyWindowsAndEmpty(t *testing.T) {
	cols := make([]string, 168)
	for i := range cols {
		cols[i] = t0.Add(time.Duration(i) * time.Hour).Format("Jan 2 15h")
	}
	es := parse(t, Heat{Title: "a week", Rows: []string{"amount"}, Cols: cols}.SVG())
	if n := len(find(es, "text", "col-label")); n < 3 || n > 10 {
		t.Errorf("%d column labels for 168 windows: want a readable few", n)
	}
	es = parse(t, Heat{Title: "nothing"}.SVG())
	if len(find(es, "text", "no-data")) != 1 {
		t.Error("an empty heat map must say no data")
	}
}

func TestSeverity(t *testing.T) {
	for in, want := range map[string]Verdict{"SEV-1": Sev1, "SEV-2": Sev2, "SEV-3": Sev3, "SEV-4": Sev4, "": Drifted, "SEV-5": Drifted, "SEV-x": Drifted} {
		if got := Severity(in); got != want {
			t.Errorf("Severity(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBars(t *testing.T) {
	c := Bars{
		Title: "amount: baseline and current", Desc: "share of records per reference decile", XLabel: "amount (EUR)", Unit: "share of records",
		Bins:     []string{"<10", "10-20", "20-50", "50-100", ">=100"},
		Baseline: []float64{0.2, 0.2, 0.2, 0.2, 0.2},
		Current:  []float64{0.1, 0.15, math.NaN(), 0.3, 0.3},
	}
	doc := c.SVG()
	es := parse(t, doc)
	golden(t, "bars", doc)
	if n := len(find(es, "g", "series")); n != 2 {
		t.Fatalf("%d series groups, want baseline and current", n)
	}
	if n := len(find(es, "rect", "")) - 1 - 2; n != 9 { // less the background and legend swatches
		t.Errorf("%d bars, want 9 (the NaN draws none)", n)
	}
	if !hasText(es, "legend", "baseline") || !hasText(es, "legend", "current") || !hasText(es, "axis-label", "amount (EUR)") {
		t.Error("legend or axis label missing")
	}
	if ticks := texts(doc, "x-axis", "tick"); len(ticks) != 5 {
		t.Errorf("bin labels %v", ticks)
	}
	es = parse(t, Bars{Title: "empty", Bins: []string{"a"}, Baseline: []float64{math.NaN()}}.SVG())
	if len(find(es, "text", "no-data")) != 1 {
		t.Error("bars without a finite value must say no data")
	}
}
