package chart

import (
	"math"
)

// Bars compares a baseline's distribution with the current window's over the
// same bins or categories: two bars per bin, side by side, baseline first.
// Values are typically shares (0 to 1); non-finite ones draw no bar.
type Bars struct {
	Title, Desc string
	XLabel      string   // what the bins are, e.g. "amount (EUR)"
	Unit        string   // the y axis label, e.g. "share of records"
	Bins        []string // bin or category labels, in order
	Baseline    []float64
	Current     []float64
}

const barsHeight = 320

// SVG renders the chart.
func (c Bars) SVG() []byte {
	var s svg
	s.open("bars", barsHeight, c.Title, c.Desc)
	x0, x1, y0, y1 := float64(marginL), float64(width-marginR), float64(plotTop), float64(barsHeight-48)
	hi, any := 0.0, false
	for _, vs := range [][]float64{c.Baseline, c.Current} {
		for _, v := range vs {
			if finite(v) {
				hi, any = math.Max(hi, v), true
			}
		}
	}
	if !any || len(c.Bins) == 0 {
		s.noData(x0, y0, x1, y1)
		return s.close()
	}
	lo := 0.0
	for _, vs := range [][]float64{c.Baseline, c.Current} {
		for _, v := range vs {
			if finite(v) {
				lo = math.Min(lo, v)
			}
		}
	}
	yt, dec := niceTicks(lo, hi, 5)
	ys := func(v float64) float64 { return y1 - (y1-y0)*(v-yt[0])/(yt[len(yt)-1]-yt[0]) }
	s.yAxis(yt, dec, x0, x1, ys)
	bw := (x1 - x0) / float64(len(c.Bins))
	every := max(int(math.Ceil(float64(len(c.Bins))*70/(x1-x0))), 1)
	s.f(`<g class="x-axis" font-size="11" %s>`+"\n", font)
	for i := 0; i < len(c.Bins); i += every {
		s.text(x0+bw*(float64(i)+0.5), y1+18, "middle", `class="tick"`, c.Bins[i])
	}
	s.f("</g>\n")
	for k, sr := range []struct {
		name, colour string
		vs           []float64
	}{{"baseline", Blue, c.Baseline}, {"current", Orange, c.Current}} {
		s.f(`<g class="series" data-name="%s" fill="%s">`+"\n", sr.name, sr.colour)
		for i, v := range sr.vs {
			if i >= len(c.Bins) || !finite(v) {
				continue
			}
			x := x0 + bw*float64(i) + bw*0.1 + bw*0.4*float64(k)
			top, bot := math.Min(ys(v), ys(0)), math.Max(ys(v), ys(0))
			s.f(`<rect x="%s" y="%s" width="%s" height="%s"><title>%s %s: %s</title></rect>`+"\n",
				num(x), num(top), num(bw*0.4), num(bot-top), sr.name, esc(c.Bins[i]), formatTick(v, dec+2))
		}
		s.f("</g>\n")
	}
	s.f(`<path class="axis" d="M%s %sV%sH%s" fill="none" stroke="%s"/>`+"\n", num(x0), num(y0), num(ys(0)), num(x1), axisColor)
	s.text((x0+x1)/2, y1+38, "middle", `class="axis-label" font-size="12"`, c.XLabel)
	s.text(16, (y0+y1)/2, "middle", `class="axis-label" font-size="12" transform="rotate(-90 16 `+num((y0+y1)/2)+`)"`, c.Unit)
	s.legend([]entry{{"baseline", Blue, "rect"}, {"current", Orange, "rect"}})
	return s.close()
}
