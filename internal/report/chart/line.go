package chart

import (
	"math"
	"strings"
	"time"
)

// Point is one value at one instant.
type Point struct {
	T time.Time
	V float64
}

// Series is one named line. Points should be in time order; non-finite
// values break the line.
type Series struct {
	Name   string
	Points []Point
}

// BandPoint is the band's range at one instant.
type BandPoint struct {
	T      time.Time
	Lo, Hi float64
}

// Line is a time-series chart: several series, an optional horizontal
// threshold and an optional shaded band (a confidence or expected range).
// Times are drawn in UTC.
type Line struct {
	Title, Desc   string
	Unit          string // the y axis label, e.g. "PSI" or "latency (ms)"
	Series        []Series
	Threshold     float64 // drawn when ThresholdName is set
	ThresholdName string
	// Steps, when set, is a threshold that changes from point to point
	// (each window's own), drawn as a dashed step line named ThresholdName
	// instead of Threshold.
	Steps    []Point
	Band     []BandPoint
	BandName string
}

const lineHeight = 320

// SVG renders the chart.
func (c Line) SVG() []byte {
	var s svg
	s.open("line", lineHeight, c.Title, c.Desc)
	x0, x1, y0, y1 := float64(marginL), float64(width-marginR), float64(plotTop), float64(lineHeight-48)

	// Extent of the finite data.
	var tlo, thi time.Time
	vlo, vhi := math.Inf(1), math.Inf(-1)
	see := func(t time.Time, v float64) {
		if !finite(v) {
			return
		}
		if tlo.IsZero() || t.Before(tlo) {
			tlo = t
		}
		if thi.IsZero() || t.After(thi) {
			thi = t
		}
		vlo, vhi = math.Min(vlo, v), math.Max(vhi, v)
	}
	for _, sr := range c.Series {
		for _, p := range sr.Points {
			see(p.T, p.V)
		}
	}
	if tlo.IsZero() {
		s.noData(x0, y0, x1, y1)
		return s.close()
	}
	for _, b := range c.Band {
		if finite(b.Lo) && finite(b.Hi) {
			see(b.T, b.Lo)
			see(b.T, b.Hi)
		}
	}
	if c.ThresholdName != "" && len(c.Steps) > 0 {
		for _, p := range c.Steps {
			see(p.T, p.V)
		}
	} else if c.ThresholdName != "" && finite(c.Threshold) {
		vlo, vhi = math.Min(vlo, c.Threshold), math.Max(vhi, c.Threshold)
	}

	yt, dec := niceTicks(vlo, vhi, 5)
	tlo, thi, xt, layout := timeTicks(tlo, thi, 6)
	xs := func(t time.Time) float64 { return x0 + (x1-x0)*float64(t.Sub(tlo))/float64(thi.Sub(tlo)) }
	ys := func(v float64) float64 { return y1 - (y1-y0)*(v-yt[0])/(yt[len(yt)-1]-yt[0]) }

	// Axes, grid and ticks.
	s.yAxis(yt, dec, x0, x1, ys)
	s.f(`<g class="x-axis" font-size="11" %s>`+"\n", font)
	for _, t := range xt {
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(xs(t)), num(y1), num(xs(t)), num(y1+5), axisColor)
		s.text(xs(t), y1+18, "middle", `class="tick"`, t.Format(layout))
	}
	s.f("</g>\n")
	s.f(`<path class="axis" d="M%s %sV%sH%s" fill="none" stroke="%s"/>`+"\n", num(x0), num(y0), num(y1), num(x1), axisColor)
	s.text((x0+x1)/2, y1+38, "middle", `class="axis-label" font-size="12"`, "time (UTC)")
	s.text(16, (y0+y1)/2, "middle", `class="axis-label" font-size="12" transform="rotate(-90 16 `+num((y0+y1)/2)+`)"`, c.Unit)

	var legend []entry
	if len(c.Band) > 0 {
		var up, down []string
		for _, b := range c.Band {
			if finite(b.Lo) && finite(b.Hi) {
				up = append(up, num(xs(b.T))+" "+num(ys(b.Hi)))
				down = append([]string{num(xs(b.T)) + " " + num(ys(b.Lo))}, down...)
			}
		}
		if len(up) > 0 {
			s.f(`<path class="band" d="M%sZ" fill="%s" fill-opacity="0.25" stroke="none"/>`+"\n", strings.Join(append(up, down...), "L"), SkyBlue)
			legend = append(legend, entry{c.BandName, SkyBlue, "rect"})
		}
	}
	if c.ThresholdName != "" && len(c.Steps) > 0 {
		var d strings.Builder
		for i, p := range c.Steps {
			if !finite(p.V) {
				continue
			}
			switch {
			case d.Len() == 0:
				d.WriteString("M" + num(xs(p.T)) + " " + num(ys(p.V)))
			default:
				d.WriteString("H" + num(xs(p.T)) + "V" + num(ys(p.V)))
			}
			if i == len(c.Steps)-1 && len(c.Steps) > 1 { // hold the last step for one interval
				d.WriteString("H" + num(min(x1, xs(p.T.Add(p.T.Sub(c.Steps[i-1].T))))))
			}
		}
		s.f(`<path class="threshold" d="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="6 3"/>`+"\n", d.String(), Vermillion)
		legend = append(legend, entry{c.ThresholdName, Vermillion, "dash"})
	} else if c.ThresholdName != "" && finite(c.Threshold) {
		s.f(`<line class="threshold" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 3"/>`+"\n",
			num(x0), num(ys(c.Threshold)), num(x1), num(ys(c.Threshold)), Vermillion)
		legend = append(legend, entry{c.ThresholdName, Vermillion, "dash"})
	}
	for i, sr := range c.Series {
		colour := seriesColours[i%len(seriesColours)]
		var d strings.Builder
		move := true
		var marks []Point
		for _, p := range sr.Points {
			if !finite(p.V) {
				move = true
				continue
			}
			if move {
				d.WriteString("M")
			} else {
				d.WriteString("L")
			}
			d.WriteString(num(xs(p.T)) + " " + num(ys(p.V)))
			move = false
			marks = append(marks, p)
		}
		dash := ""
		if i >= len(seriesColours) {
			dash = ` stroke-dasharray="2 2"`
		}
		s.f(`<path class="series" data-name="%s" d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", esc(sr.Name), d.String(), colour, dash)
		if len(marks) <= 48 { // markers show single points and let a reader count windows
			for _, p := range marks {
				s.f(`<circle cx="%s" cy="%s" r="2.5" fill="%s"><title>%s %s: %s</title></circle>`+"\n",
					num(xs(p.T)), num(ys(p.V)), colour, esc(sr.Name), p.T.UTC().Format(time.RFC3339), formatTick(p.V, dec+2))
			}
		}
		legend = append(legend, entry{sr.Name, colour, "line"})
	}
	s.legend(legend)
	return s.close()
}

func formatTick(v float64, dec int) string {
	if v == 0 {
		v = 0 // no "-0"
	}
	if math.Abs(v) >= 1e6 || (v != 0 && math.Abs(v) < 1e-4) {
		return strings.Replace(formatG(v), "e+0", "e", 1)
	}
	return formatF(v, dec)
}
