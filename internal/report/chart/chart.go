// Package chart draws the report's charts as standalone SVG: a time-series
// line chart (Line), a verdict heat map (Heat) and a baseline-against-current
// bar chart (Bars). Each chart is written by hand into one <svg> element with
// a fixed viewBox, a <title> and <desc> for screen readers, and its words as
// <text> elements so a reader can select and search them. Nothing is fetched:
// styles are attributes, fonts are the reader's sans-serif.
//
// Colours are the Okabe-Ito palette (Okabe and Ito, "Color Universal Design",
// 2008), which stays distinguishable under the common colour-vision
// deficiencies; series also differ by dash pattern past the palette's length,
// and heat-map cells carry a glyph (1-4, ?) so no meaning rests on hue alone.
//
// Non-finite values (NaN, ±Inf) are skipped, never drawn; a chart without a
// finite value says "no data". The package deliberately knows nothing of
// metric rows or verdict rules: callers turn rows into series and cells.
package chart

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Okabe-Ito colours, by name.
const (
	Black         = "#000000"
	Orange        = "#E69F00"
	SkyBlue       = "#56B4E9"
	BluishGreen   = "#009E73"
	Yellow        = "#F0E442"
	Blue          = "#0072B2"
	Vermillion    = "#D55E00"
	ReddishPurple = "#CC79A7"
	Grey          = "#BBBBBB" // not Okabe-Ito: neutral, for "insufficient data"
)

// seriesColours is the order in which series take colours. Yellow is left
// out: on white it fails contrast for lines.
var seriesColours = []string{Blue, Orange, BluishGreen, ReddishPurple, SkyBlue, Vermillion, Black}

// Canvas size and margins of every chart, in viewBox units.
const (
	width     = 720
	marginL   = 72
	marginR   = 24
	titleY    = 22
	legendY   = 44
	plotTop   = 60
	font      = `font-family="sans-serif"`
	axisColor = "#333333"
	gridColor = "#DDDDDD"
)

// svg builds one document. Coordinates are written with one decimal.
type svg struct{ b strings.Builder }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// open starts the document: kind is the chart's kind (line, bars, heat),
// its class besides "chart".
func (s *svg) open(kind string, h float64, title, desc string) {
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart %s" viewBox="0 0 %d %s" width="%d" height="%s" role="img">`+"\n", kind, width, num(h), width, num(h))
	s.f("<title>%s</title>\n<desc>%s</desc>\n", esc(title), esc(desc))
	s.f(`<rect x="0" y="0" width="%d" height="%s" fill="#FFFFFF"/>`+"\n", width, num(h))
	s.text(marginL, titleY, "start", `font-size="15" font-weight="bold"`, title)
}

func (s *svg) close() []byte { s.f("</svg>\n"); return []byte(s.b.String()) }

func (s *svg) text(x, y float64, anchor, attrs, t string) {
	s.f(`<text x="%s" y="%s" text-anchor="%s" %s %s>%s</text>`+"\n", num(x), num(y), anchor, font, attrs, esc(t))
}

// yAxis writes the y axis's ticks and grid lines from x0 to x1; ys maps a
// value to its y.
func (s *svg) yAxis(ticks []float64, dec int, x0, x1 float64, ys func(float64) float64) {
	s.f(`<g class="y-axis" font-size="11" %s>`+"\n", font)
	for _, v := range ticks {
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(x0), num(ys(v)), num(x1), num(ys(v)), gridColor)
		s.text(x0-6, ys(v)+4, "end", `class="tick"`, formatTick(v, dec))
	}
	s.f("</g>\n")
}

// noDataClass marks the "no data" sentence of a chart drawn without data.
const noDataClass = "no-data"

// Empty reports whether svg, as a chart's SVG method wrote it, was drawn
// without data (its frame says "no data").
func Empty(svg []byte) bool { return bytes.Contains(svg, []byte(`class="`+noDataClass+`"`)) }

// noData writes the chart's frame with the sentence "no data".
func (s *svg) noData(x0, y0, x1, y1 float64) {
	s.f(`<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`+"\n", num(x0), num(y0), num(x1-x0), num(y1-y0), gridColor)
	s.text((x0+x1)/2, (y0+y1)/2, "middle", `class="`+noDataClass+`" font-size="14" fill="#555555"`, "no data")
}

// legend writes swatches left to right from x; kinds are "line", "dash",
// "rect". It returns nothing: the legend wraps never (callers keep it short).
type entry struct{ name, colour, kind string }

func (s *svg) legend(entries []entry) {
	x := float64(marginL)
	for _, e := range entries {
		switch e.kind {
		case "rect":
			s.f(`<rect x="%s" y="%d" width="14" height="10" fill="%s" stroke="%s"/>`, num(x), legendY-9, e.colour, axisColor)
		default:
			dash := ""
			if e.kind == "dash" {
				dash = ` stroke-dasharray="6 3"`
			}
			s.f(`<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-width="2"%s/>`, num(x), legendY-4, num(x+14), legendY-4, e.colour, dash)
		}
		s.b.WriteString("\n")
		s.text(x+18, legendY, "start", `class="legend" font-size="12"`, e.name)
		x += 18 + 7*float64(len(e.name)) + 16
	}
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func esc(s string) string { return escaper.Replace(s) }

func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// niceTicks returns about n round values covering [lo, hi] (Heckbert,
// "Nice numbers for graph labels", Graphics Gems, 1990) and the decimals
// their labels need. An empty range is widened around its value.
func niceTicks(lo, hi float64, n int) ([]float64, int) {
	if hi <= lo {
		d := math.Max(math.Abs(lo)*0.1, 1)
		if lo >= 0 && lo-d < 0 {
			lo, hi = 0, lo+d
		} else {
			lo, hi = lo-d, hi+d
		}
	}
	step := nice((hi-lo)/float64(n-1), true)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	var t []float64
	for i := 0; lo+float64(i)*step <= hi+step/2; i++ {
		t = append(t, math.Round((lo+float64(i)*step)/step)*step)
	}
	return t, max(0, -int(math.Floor(math.Log10(step))))
}

func nice(x float64, round bool) float64 {
	e := math.Floor(math.Log10(x))
	f := x / math.Pow(10, e)
	var n float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		n = 1
	case round && f < 3, !round && f <= 2:
		n = 2
	case round && f < 7, !round && f <= 5:
		n = 5
	default:
		n = 10
	}
	return n * math.Pow(10, e)
}

// timeSteps are the spacings time axes choose from.
var timeSteps = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// timeTicks returns at most n aligned instants within [lo, hi] (UTC) and
// the layout of their labels. An empty span is widened by an hour each way.
func timeTicks(lo, hi time.Time, n int) (time.Time, time.Time, []time.Time, string) {
	if !hi.After(lo) {
		lo, hi = lo.Add(-time.Hour), hi.Add(time.Hour)
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if float64(hi.Sub(lo))/float64(s) <= float64(n) {
			step = s
			break
		}
	}
	var t []time.Time
	for x := lo.Truncate(step); !x.After(hi); x = x.Add(step) {
		if !x.Before(lo) {
			t = append(t, x.UTC())
		}
	}
	layout := "15:04"
	switch {
	case step >= 24*time.Hour:
		layout = "Jan 2"
	case hi.Sub(lo) >= 24*time.Hour || lo.UTC().YearDay() != hi.UTC().YearDay():
		layout = "Jan 2 15:04"
	}
	return lo, hi, t, layout
}

func formatF(v float64, dec int) string { return strconv.FormatFloat(v, 'f', dec, 64) }
func formatG(v float64) string          { return strconv.FormatFloat(v, 'g', 3, 64) }
