package browser

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// inspect opens testdata/<name>.html with the test's Chromium.
func inspect(t *testing.T, name string, opt Options) *Page {
	t.Helper()
	p, err := Inspect(t.Context(), testservers.Chromium(t), filepath.Join("testdata", name+".html"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantProblems fails the test unless p's problems are want, in order.
func wantProblems(t *testing.T, p *Page, want ...string) {
	t.Helper()
	if got := p.Problems(); !slices.Equal(got, want) {
		t.Errorf("problems:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// decodePNG reads a screenshot.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is no PNG: %v", path, err)
	}
	return img
}

// TestClean: a page with two inline charts that have their axes has no
// problems; its charts are measured and show in the screenshots.
func TestClean(t *testing.T) {
	t.Parallel()
	shots := t.TempDir()
	p := inspect(t, "clean", Options{Shots: shots})
	wantProblems(t, p)
	if p.Title != "Clean report" {
		t.Errorf("title %q", p.Title)
	}
	want := []SVG{
		{Index: 0, ID: "share", Label: "Dataset drift share", Class: "chart", Width: 640, Height: 400, Children: 4, Axes: 2},
		{Index: 1, ID: "psi", Label: "amount: PSI per window", Class: "chart", Width: 640, Height: 400, Children: 3, Axes: 1},
	}
	if !slices.Equal(p.SVGs, want) {
		t.Errorf("SVGs:\n%+v\nwant\n%+v", p.SVGs, want)
	}
	if len(p.Console)+len(p.Exceptions)+len(p.Requests) != 0 {
		t.Errorf("console %v, exceptions %v, requests %v; want none", p.Console, p.Exceptions, p.Requests)
	}
	if p.Width != DefaultWidth || p.Height <= DefaultHeight {
		t.Errorf("document %dx%d, want %d wide and taller than %d", p.Width, p.Height, DefaultWidth, DefaultHeight)
	}

	wantShots := []string{filepath.Join(shots, "clean-first.png"), filepath.Join(shots, "clean-full.png")}
	if !slices.Equal(p.Shots, wantShots) {
		t.Fatalf("shots %v, want %v", p.Shots, wantShots)
	}
	first, full := decodePNG(t, p.Shots[0]), decodePNG(t, p.Shots[1])
	if got := first.Bounds().Size(); got != image.Pt(DefaultWidth, DefaultHeight) {
		t.Errorf("first screen is %v, want %dx%d", got, DefaultWidth, DefaultHeight)
	}
	if got := full.Bounds().Size(); got != image.Pt(DefaultWidth, p.Height) {
		t.Errorf("full page is %v, want %dx%d", got, DefaultWidth, p.Height)
	}
	// The first chart's line (#0072B2) is drawn in the first screen.
	if n := countNear(first, 0x00, 0x72, 0xB2); n < 100 {
		t.Errorf("the first screen has %d pixels of the chart's line colour, want at least 100", n)
	}
}

// countNear counts the pixels of img close to the colour r, g, b.
func countNear(img image.Image, r, g, b uint8) int {
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d > -24 && d < 24 }
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return n
}

// TestScreenshotSize: the screenshots have the width asked for, the first
// screen the height asked for, and the full page is cut at MaxHeight.
func TestScreenshotSize(t *testing.T) {
	t.Parallel()
	p := inspect(t, "clean", Options{Width: 800, Height: 600, MaxHeight: 700, Shots: t.TempDir(), Name: "small"})
	if p.Width != 800 || p.Height <= 700 {
		t.Fatalf("document %dx%d, want 800 wide and taller than 700", p.Width, p.Height)
	}
	for i, want := range []image.Point{{800, 600}, {800, 700}} {
		if !strings.HasPrefix(filepath.Base(p.Shots[i]), "small-") {
			t.Errorf("screenshot %s is not named after Options.Name", p.Shots[i])
		}
		if got := decodePNG(t, p.Shots[i]).Bounds().Size(); got != want {
			t.Errorf("%s is %v, want %v", p.Shots[i], got, want)
		}
	}
}

// TestConsoleError: console.error is a problem, console.log is not.
func TestConsoleError(t *testing.T) {
	t.Parallel()
	p := inspect(t, "console", Options{})
	url := p.URL
	wantProblems(t, p, "console error: boom ("+url+":7)")
	want := []Message{
		{Level: "log", Source: "console-api", Text: "all is well", URL: url, Line: 6},
		{Level: "error", Source: "console-api", Text: "boom", URL: url, Line: 7},
	}
	if !slices.Equal(p.Console, want) {
		t.Errorf("console %+v, want %+v", p.Console, want)
	}
}

// TestException: an uncaught exception is a problem.
func TestException(t *testing.T) {
	t.Parallel()
	p := inspect(t, "exception", Options{})
	wantProblems(t, p, "uncaught exception: Uncaught Error: kaput ("+p.URL+":6)")
}

// TestBrokenCharts: an empty <svg>, one with nothing that draws, and
// charts without a drawn axis are problems; a good chart (with an <svg>
// inside it, which is not counted apart) and a heat map without axes are
// not.
func TestBrokenCharts(t *testing.T) {
	t.Parallel()
	p := inspect(t, "broken", Options{})
	wantProblems(t, p,
		"svg #empty: no child element that draws",
		"svg #noaxes: no drawn axis (.axis)",
		`svg "A chart whose axis draws nothing": no drawn axis (.axis)`,
		`svg "Only a title": no child element that draws`,
	)
	var names []string
	for _, s := range p.SVGs {
		names = append(names, s.Name())
	}
	if want := []string{"#empty", "#noaxes", `"A chart whose axis draws nothing"`, `"Only a title"`, "#good", "#heat"}; !slices.Equal(names, want) {
		t.Errorf("SVGs %v, want %v", names, want)
	}

	// The predicate and the selector are the caller's.
	p = inspect(t, "broken", Options{AxisSelector: "path", RequireAxes: func(s SVG) bool { return s.ID == "heat" }})
	wantProblems(t, p,
		"svg #empty: no child element that draws",
		`svg "Only a title": no child element that draws`,
		"svg #heat: no drawn axis (path)",
	)
}

// TestOutsideRequest: an image from a loopback address is reported, and
// blocked; an inline data: image is not.
func TestOutsideRequest(t *testing.T) {
	t.Parallel()
	p := inspect(t, "outside", Options{})
	wantProblems(t, p, "outside request: image http://127.0.0.1:1/x.png (blocked by Inspect)")
	if want := []Request{{URL: "http://127.0.0.1:1/x.png", Type: "Image", Failed: "blocked by Inspect"}}; !slices.Equal(p.Requests, want) {
		t.Errorf("requests %+v, want %+v", p.Requests, want)
	}
}

// TestNetworkBlocked: the page's requests to a loopback server never reach
// it, and are listed.
func TestNetworkBlocked(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	// A space in the name: the page's own request is still its own.
	page := filepath.Join(t.TempDir(), "net page.html")
	html := `<!DOCTYPE html><title>net</title><link rel="stylesheet" href="` + srv.URL + `/s.css"><img src="` + srv.URL + `/i.png">`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Inspect(t.Context(), testservers.Chromium(t), page, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests, want none", n)
	}
	var urls []string
	for _, r := range p.Requests {
		urls = append(urls, r.URL)
	}
	slices.Sort(urls)
	if want := []string{srv.URL + "/i.png", srv.URL + "/s.css"}; !slices.Equal(urls, want) {
		t.Errorf("requests %v, want %v", urls, want)
	}
}

// procs lists the live processes (not zombies) of the browser that a test
// started: those in its process group (the browser, its zygotes and what
// they start), and those with the variable markVar set to mark in their
// environment (the browser's crash handlers, which leave the group; the
// zygotes' children rewrite their environment and are found by group).
func procs(t *testing.T, pgid int, mark string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find processes in: %v", err)
	}
	self := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid pgrp ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if f[2] != strconv.Itoa(pgid) && !slices.ContainsFunc(bytes.Split(environ, []byte{0}), func(kv []byte) bool { return string(kv) == markVar+"="+mark }) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}

const markVar = "DRIFTWATCH_BROWSER_TEST_MARK"

// observed sets the environment variable markVar for the browsers a test
// starts, and returns Inspect's observer, which records the browser's
// process group and, at stage, its processes.
func observed(t *testing.T, stage string) (mark string, pgid *int, during *[]string, observe func(context.Context, string)) {
	mark = t.Name() + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	t.Setenv(markVar, mark)
	pgid, during = new(int), new([]string)
	return mark, pgid, during, func(ctx context.Context, s string) {
		if s == stage {
			*pgid = chromedp.FromContext(ctx).Browser.Process().Pid
			*during = procs(t, *pgid, mark)
		}
	}
}

// TestStopsBrowser: while the page is open, the browser and its children
// run, with a fresh profile in the temporary directory; when Inspect
// returns, none of them is left, nor a goroutine, nor the profile.
func TestStopsBrowser(t *testing.T) {
	chromium := testservers.Chromium(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mark, pgid, during, observe := observed(t, "loaded")
	var profiles []string
	_, err := Inspect(t.Context(), chromium, "testdata/clean.html", Options{observe: func(ctx context.Context, stage string) {
		observe(ctx, stage)
		if stage == "loaded" {
			profiles, _ = filepath.Glob(filepath.Join(tmp, "chromedp-runner*"))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The browser, its zygote and the page's renderer at least.
	if len(*during) < 3 {
		t.Fatalf("%d browser processes while the page was open, want the browser and its children:\n%s", len(*during), strings.Join(*during, "\n"))
	}
	if len(profiles) != 1 {
		t.Errorf("profiles in TMPDIR while the page was open: %v, want one", profiles)
	}
	if left := procs(t, *pgid, mark); len(left) > 0 {
		t.Errorf("browser processes left after Inspect:\n%s", strings.Join(left, "\n"))
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "chromedp-runner*")); len(left) > 0 {
		t.Errorf("profiles left after Inspect: %v", left)
	}
}

// TestTimeout: a page that never loads ends Inspect at Options.Timeout
// with a deadline error, and the browser, killed, leaves no process (the
// page's busy renderer included).
func TestTimeout(t *testing.T) {
	chromium := testservers.Chromium(t)
	page := filepath.Join(t.TempDir(), "busy.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><title>busy</title><script>for (;;) {}</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	mark, pgid, during, observe := observed(t, "started")
	const timeout = 3 * time.Second
	t0 := time.Now()
	p, err := Inspect(t.Context(), chromium, page, Options{Timeout: timeout, observe: observe})
	took := time.Since(t0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Inspect = %v, %v; want a deadline error", p, err)
	}
	if took < timeout || took > timeout+closeTimeout {
		t.Errorf("Inspect took %v with a timeout of %v", took, timeout)
	}
	if len(*during) < 2 {
		t.Fatalf("%d browser processes once it started, want the browser and its children:\n%s", len(*during), strings.Join(*during, "\n"))
	}
	if left := procs(t, *pgid, mark); len(left) > 0 {
		t.Errorf("browser processes left after Inspect:\n%s", strings.Join(left, "\n"))
	}
}

// TestInspectErrors: a missing page or browser is an error, with the
// path in it, and starts nothing.
func TestInspectErrors(t *testing.T) {
	if _, err := Inspect(t.Context(), "/bin/true", "testdata/missing.html", Options{}); err == nil || !strings.Contains(err.Error(), "missing.html") {
		t.Errorf("missing page: %v", err)
	}
	if _, err := Inspect(t.Context(), "/bin/true", "testdata", Options{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "chromium")
	if _, err := Inspect(t.Context(), bin, "testdata/clean.html", Options{}); err == nil || !strings.Contains(err.Error(), "starting "+bin) {
		t.Errorf("missing browser: %v", err)
	}
}

// TestProblems: which messages, requests and SVGs are problems, on a page
// made by hand.
func TestProblems(t *testing.T) {
	p := &Page{
		Console: []Message{
			{Level: "log", Text: "hello"},
			{Level: "info", Text: "fyi"},
			{Level: "debug", Text: "detail"},
			{Level: "verbose", Text: "noise"},
			{Level: "warning", Source: "console-api", Text: "careful", URL: "file:///r.html", Line: 3},
			{Level: "assert", Text: "Assertion failed"},
			{Level: "error", Source: "network", Text: "Failed to load resource", URL: "file:///x.png"},
		},
		Exceptions: []Message{{Level: "exception", Text: "Uncaught TypeError: x is null"}},
		Requests:   []Request{{URL: "https://cdn.example/font.woff2", Type: "Font", Failed: "blocked by Inspect"}, {URL: "file:///other.css", Type: "Stylesheet"}},
		SVGs: []SVG{
			{Index: 0, ID: "ok", Class: "chart wide", Width: 10, Height: 10, Children: 3, Axes: 2},
			{Index: 1, Class: "chart", Width: 10, Height: 0, Children: 3, Axes: 1},
			{Index: 2, Label: "heat", Class: "heat", Width: 10, Height: 10, Children: 3},
			{Index: 3, Class: "charts", Width: 10, Height: 10, Children: 1},
			{Index: 4, ID: "bare", Class: "x chart", Width: 10, Height: 10, Children: 0},
		},
	}
	wantProblems(t, p,
		"uncaught exception: Uncaught TypeError: x is null",
		"console warning: careful (file:///r.html:3)",
		"console assert: Assertion failed",
		"console error: Failed to load resource (file:///x.png)",
		"outside request: font https://cdn.example/font.woff2 (blocked by Inspect)",
		"outside request: stylesheet file:///other.css",
		"svg svg 2: empty box (10x0)",
		"svg #bare: no child element that draws",
		"svg #bare: no drawn axis (.axis)",
	)
	p.requireAxes = func(s SVG) bool { return s.Label == "heat" }
	p.axisSelector = "g.axis"
	p.Console, p.Exceptions, p.Requests = nil, nil, nil
	wantProblems(t, p,
		"svg svg 2: empty box (10x0)",
		`svg "heat": no drawn axis (g.axis)`,
		"svg #bare: no child element that draws",
	)
}
