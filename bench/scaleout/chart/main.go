// Command chart draws the load test's samples (bench/scaleout -csv) as an
// SVG of three stacked panels over time: lag in records (columns lag_*),
// CPU in percent of one core (cpu_*) and RSS in MiB (rss_*), one line per
// column, with axes, ticks and a legend per panel. The x axis is the
// column t_s (seconds).
//
//	go run ./bench/scaleout/chart -in bench/scaleout-load.csv -out bench/scaleout-load.svg
//
// It draws what the file holds; it computes no figures.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"html"
	"math"
	"os"
	"strconv"
	"strings"
)

// Geometry of the chart, in pixels.
const (
	width       = 960
	panelHeight = 220
	top         = 50 // room for the title
	left        = 80
	right       = 190 // room for the legend
	gap         = 50  // between panels, room for the x axis labels
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

type panel struct {
	prefix, label string
}

var panels = []panel{
	{"lag_", "consumer lag (records)"},
	{"cpu_", "CPU (% of one core)"},
	{"rss_", "RSS (MiB)"},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", "", "the CSV of bench/scaleout -csv")
	out := flag.String("out", "", "the SVG to write")
	title := flag.String("title", "", "the chart's title (default: the CSV's first line \"# title: ...\", else the file's name)")
	flag.Parse()
	if *in == "" || *out == "" {
		return errors.New("-in and -out are required")
	}
	head, cols, fileTitle, err := readCSV(*in)
	if err != nil {
		return err
	}
	if *title == "" {
		*title = fileTitle
	}
	if *title == "" {
		*title = *in
	}
	ti := index(head, "t_s")
	if ti < 0 {
		return fmt.Errorf("%s: no column t_s", *in)
	}
	svg := draw(*title, head, cols, ti)
	return os.WriteFile(*out, []byte(svg), 0o644)
}

// readCSV returns the header, the columns and the title of a "# title:"
// first line, if any (other lines starting with # are skipped).
func readCSV(path string) ([]string, [][]float64, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", err
	}
	title := ""
	if first, _, _ := strings.Cut(string(data), "\n"); strings.HasPrefix(first, "# title:") {
		title = strings.TrimSpace(strings.TrimPrefix(first, "# title:"))
	}
	r := csv.NewReader(strings.NewReader(string(data)))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		return nil, nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) < 3 {
		return nil, nil, "", fmt.Errorf("%s: %d rows, want a header and at least 2 samples", path, len(rows))
	}
	head := rows[0]
	cols := make([][]float64, len(head))
	for i, row := range rows[1:] {
		if len(row) != len(head) {
			return nil, nil, "", fmt.Errorf("%s: row %d has %d fields, the header %d", path, i+2, len(row), len(head))
		}
		for j, s := range row {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, nil, "", fmt.Errorf("%s: row %d, %s: %w", path, i+2, head[j], err)
			}
			cols[j] = append(cols[j], v)
		}
	}
	return head, cols, title, nil
}

func index(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return -1
}

func draw(title string, head []string, cols [][]float64, ti int) string {
	var b strings.Builder
	height := top + len(panels)*(panelHeight+gap)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="16" font-weight="bold" text-anchor="middle">%s</text>`+"\n", width/2, html.EscapeString(title))
	ts := cols[ti]
	x0, x1 := ts[0], ts[len(ts)-1]
	xt := ticks(0, x1)
	x0 = min(x0, 0)
	pw := float64(width - left - right)
	sx := func(v float64) float64 { return left + (v-x0)/(xt[len(xt)-1]-x0)*pw }
	for pi, p := range panels {
		y0 := float64(top + pi*(panelHeight+gap))
		var idx []int
		ymax := 0.0
		for j, h := range head {
			if strings.HasPrefix(h, p.prefix) {
				idx = append(idx, j)
				for _, v := range cols[j] {
					ymax = max(ymax, v)
				}
			}
		}
		yt := ticks(0, ymax)
		ytop := yt[len(yt)-1]
		sy := func(v float64) float64 { return y0 + panelHeight - v/ytop*panelHeight }
		// Frame, grid and ticks.
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%.0f" height="%d" fill="none" stroke="#444"/>`+"\n", left, y0, pw, panelHeight)
		for _, v := range yt {
			y := sy(v)
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+pw, y)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y, label(v))
		}
		for _, v := range xt {
			x := sx(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#eee"/>`+"\n", x, y0, x, y0+panelHeight)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x, y0+panelHeight+16, label(v))
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">time (s)</text>`+"\n", left+pw/2, y0+panelHeight+32)
		fmt.Fprintf(&b, `<text transform="translate(16,%.0f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", y0+panelHeight/2, html.EscapeString(p.label))
		// Lines and legend.
		for k, j := range idx {
			color := palette[k%len(palette)]
			var pts []string
			for i, v := range cols[j] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(ts[i]), sy(v)))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", color, strings.Join(pts, " "))
			ly := y0 + 14 + float64(k)*18
			lx := left + pw + 14
			fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/>`+"\n", lx, ly, lx+20, ly, color)
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" dominant-baseline="middle">%s</text>`+"\n", lx+26, ly, html.EscapeString(strings.TrimPrefix(head[j], p.prefix)))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// ticks returns about 5 round tick values from lo up to at least hi.
func ticks(lo, hi float64) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := lo; ; v += step {
		out = append(out, v)
		if v >= hi {
			break
		}
	}
	return out
}

// label formats a tick value: whole numbers with k and M suffixes.
func label(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}
