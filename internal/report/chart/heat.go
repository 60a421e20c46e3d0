package chart

import (
	"math"
	"strconv"
)

// Verdict is a heat-map cell's state.
type Verdict int

// The verdicts, from nothing to the most severe. SEV-1 is the most severe
// alert severity (CONTRACT.md section 6).
const (
	Missing      Verdict = iota // no row: the subject was not judged in the window
	OK                          // judged, not drifted
	Insufficient                // threshold_source insufficient_samples
	Drifted                     // drifted, no alert rule matched
	Sev4
	Sev3
	Sev2
	Sev1
)

// verdictStyle is each verdict's name, fill and glyph. Severity runs from
// yellow to black, an order readable without hue; ok is bluish green,
// insufficient data a neutral grey with "?".
var verdictStyle = [...]struct{ name, fill, glyph string }{
	Missing:      {"not judged", "#FFFFFF", ""},
	OK:           {"ok", BluishGreen, ""},
	Insufficient: {"insufficient data", Grey, "?"},
	Drifted:      {"drifted", ReddishPurple, "!"},
	Sev4:         {"SEV-4", Yellow, "4"},
	Sev3:         {"SEV-3", Orange, "3"},
	Sev2:         {"SEV-2", Vermillion, "2"},
	Sev1:         {"SEV-1", Black, "1"},
}

func (v Verdict) String() string { return verdictStyle[v].name }

// Cell is one subject in one window. Note is the cell's tooltip, e.g.
// "psi = 0.31 (threshold 0.2)".
type Cell struct {
	Verdict Verdict
	Note    string
}

// Heat is a grid of verdicts: Rows are subjects, Cols windows (labels given
// by the caller, in order), Cells[row][col].
type Heat struct {
	Title, Desc string
	Rows        []string
	Cols        []string
	Cells       [][]Cell
}

const (
	heatRow    = 20.0
	heatLabelW = 160.0
)

// SVG renders the heat map. Its height grows with the number of rows.
func (c Heat) SVG() []byte {
	var s svg
	x0, x1, y0 := heatLabelW, float64(width-marginR), float64(plotTop)
	h := y0 + heatRow*float64(max(len(c.Rows), 3)) + 40
	s.open("heat", h, c.Title, c.Desc)
	if len(c.Rows) == 0 || len(c.Cols) == 0 {
		s.noData(x0, y0, x1, h-40)
		return s.close()
	}
	cw := (x1 - x0) / float64(len(c.Cols))
	s.f(`<g class="rows axis" font-size="11" %s>`+"\n", font)
	for i, r := range c.Rows {
		s.text(x0-6, y0+heatRow*float64(i)+14, "end", `class="row-label"`, r)
	}
	s.f("</g>\n")
	every := int(math.Ceil(float64(len(c.Cols)) * 90 / (x1 - x0))) // a label per 90 units
	y1 := y0 + heatRow*float64(len(c.Rows))
	s.f(`<g class="cols axis" font-size="11" %s>`+"\n", font)
	for j := 0; j < len(c.Cols); j += max(every, 1) {
		s.text(x0+cw*(float64(j)+0.5), y1+16, "middle", `class="col-label"`, c.Cols[j])
	}
	s.f("</g>\n")
	used := map[Verdict]bool{}
	for i := range c.Rows {
		for j := range c.Cols {
			var cell Cell
			if i < len(c.Cells) && j < len(c.Cells[i]) {
				cell = c.Cells[i][j]
			}
			st := verdictStyle[cell.Verdict]
			used[cell.Verdict] = true
			x, y := x0+cw*float64(j), y0+heatRow*float64(i)
			tip := c.Rows[i] + ", " + c.Cols[j] + ": " + st.name
			if cell.Note != "" {
				tip += "; " + cell.Note
			}
			s.f(`<rect class="cell" data-verdict="%s" x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#FFFFFF"><title>%s</title></rect>`+"\n",
				st.name, num(x), num(y), num(cw), num(heatRow), st.fill, esc(tip))
			if st.glyph != "" && cw >= 10 {
				ink := "#000000"
				if cell.Verdict == Sev1 || cell.Verdict == Sev2 || cell.Verdict == Drifted {
					ink = "#FFFFFF"
				}
				s.text(x+cw/2, y+14, "middle", `font-size="11" fill="`+ink+`" aria-hidden="true"`, st.glyph)
			}
		}
	}
	var legend []entry
	for v := range verdictStyle {
		if used[Verdict(v)] {
			st := verdictStyle[v]
			name := st.name
			if st.glyph != "" {
				name += " (" + st.glyph + ")"
			}
			legend = append(legend, entry{name, st.fill, "rect"})
		}
	}
	s.legend(legend)
	return s.close()
}

// Severity maps a row's severity text to its verdict: Drifted when empty or
// unknown.
func Severity(sev string) Verdict {
	if len(sev) == 5 && sev[:4] == "SEV-" {
		if n, err := strconv.Atoi(sev[4:]); err == nil && n >= 1 && n <= 4 {
			return Sev1 + 1 - Verdict(n)
		}
	}
	return Drifted
}
