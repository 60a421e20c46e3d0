// Package browser checks an HTML page as a person would: it opens a local
// file in headless Chromium (through the DevTools protocol, with
// github.com/chromedp/chromedp), waits for it to load, and reports what the
// page did and how it looks: the console messages and uncaught exceptions,
// every request for something other than the page's own file, the page's
// title and size, each outermost <svg> element's box, contents and axes, and
// screenshots of the first screen and of the whole page. Page.Problems turns
// that into the list of things a reviewer would object to. It is meant for
// tests of driftwatch's self-contained HTML report (internal/report/html);
// tests find the browser that deploy/servers/chromium.sh installs with
// testservers.Chromium.
//
// What it deliberately does not do: it serves nothing and opens only
// file:// pages; it lets the page reach no network (http, https, ws and wss
// requests are blocked, and listed); it clicks, types and scrolls nothing,
// and runs no script of its own beyond reading the document; it waits for
// the load event and no longer (what a page does later, on timers, is seen
// only until the snapshot is read); it compares no screenshot with an
// earlier one (they are for people to look at); it keeps no browser between
// calls: each Inspect starts Chromium with a fresh temporary profile and
// stops it before returning; and it installs no browser.
package browser

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Defaults of Options.
const (
	DefaultWidth        = 1280
	DefaultHeight       = 900
	DefaultMaxHeight    = 10000
	DefaultTimeout      = 60 * time.Second
	DefaultAxisSelector = ".axis"
)

// closeTimeout bounds the graceful close of the browser; after it the
// browser is killed.
const closeTimeout = 10 * time.Second

// Options tunes Inspect. The zero value is usable.
type Options struct {
	// Width and Height are the viewport's size in CSS pixels, at a device
	// scale factor of 1, so they are the first screenshot's size in pixels
	// (defaults DefaultWidth and DefaultHeight).
	Width, Height int

	// MaxHeight caps the full-page screenshot's height in pixels
	// (default DefaultMaxHeight); a longer page is cut there.
	MaxHeight int

	// Timeout bounds the whole of Inspect, the browser's start and stop
	// included (default DefaultTimeout). ctx may end it sooner.
	Timeout time.Duration

	// Shots is the directory the screenshots are written to, created if
	// missing: <Name>-first.png (the first screen) and <Name>-full.png (the
	// whole page, up to MaxHeight). Empty means no screenshots.
	Shots string

	// Name names the screenshots (default the page file's name without its
	// extension).
	Name string

	// AxisSelector is the CSS selector of an axis inside an <svg> (default
	// DefaultAxisSelector). Only matches that are drawn (whose box is not
	// 0×0) count.
	AxisSelector string

	// RequireAxes tells which SVGs must have an axis; Problems reports those
	// without one. Nil means HasClass("chart").
	RequireAxes func(SVG) bool

	// observe, when set, is called with the chromedp context of the
	// browser once it has started ("started") and once the page has loaded
	// ("loaded"), for the tests.
	observe func(ctx context.Context, stage string)
}

func (o Options) withDefaults(path string) Options {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Height <= 0 {
		o.Height = DefaultHeight
	}
	if o.MaxHeight <= 0 {
		o.MaxHeight = DefaultMaxHeight
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Name == "" {
		o.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if o.AxisSelector == "" {
		o.AxisSelector = DefaultAxisSelector
	}
	if o.RequireAxes == nil {
		o.RequireAxes = HasClass("chart")
	}
	return o
}

// Page is what Inspect saw of a page.
type Page struct {
	// URL is the file:// URL that was opened.
	URL string
	// Title is the document's title.
	Title string
	// Width and Height are the document's scroll size in CSS pixels.
	Width, Height int

	// Console holds the console's messages in the order they came: calls
	// of the console API and the browser's own log (such as a failed
	// resource), but not uncaught exceptions, which are in Exceptions.
	Console []Message
	// Exceptions holds the uncaught exceptions and unhandled rejections.
	Exceptions []Message
	// Requests holds every request for a URL other than the page's own
	// file and data: URLs, in the order they were made.
	Requests []Request

	// SVGs holds the document's outermost <svg> elements, in document order.
	SVGs []SVG

	// Shots holds the paths of the screenshots written, first screen first.
	Shots []string

	axisSelector string
	requireAxes  func(SVG) bool
}

// Message is a console message or an uncaught exception.
type Message struct {
	// Level is the console API's type for a call of it ("log", "info",
	// "warning", "error", "assert", "debug", ...), the level of a browser
	// log entry ("verbose", "info", "warning", "error"), or "exception".
	Level string
	// Source is "console-api" for a call of the console API, "exception" for
	// an exception, else the browser log's source ("network", "javascript",
	// "security", ...).
	Source string
	// Text is the message: the console call's arguments joined by spaces
	// (format directives such as %s are left as they are), or the
	// exception's text and description.
	Text string
	// URL and Line tell where it came from when the browser says (Line
	// counts from 1; 0 means unknown).
	URL  string
	Line int64
}

// String gives the level, the text and where it came from.
func (m Message) String() string {
	s := m.Level + ": " + m.Text
	switch {
	case m.URL != "" && m.Line > 0:
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line)
	case m.URL != "":
		s += " (" + m.URL + ")"
	}
	return s
}

// Request is a request the page made for something other than its own file.
type Request struct {
	// URL is the requested URL.
	URL string
	// Type is the resource type, such as "Image", "Stylesheet" or "Font".
	Type string
	// Failed says why it failed, if it did: the browser's error (such as
	// "net::ERR_FILE_NOT_FOUND"), or "blocked by Inspect" for a request to
	// the network.
	Failed string
}

// SVG is one outermost <svg> element of the page.
type SVG struct {
	// Index is its position among the page's outermost SVGs, from 0.
	Index int
	// ID is its id attribute.
	ID string `json:"id"`
	// Label is its aria-label, else the text of its <title> child.
	Label string `json:"label"`
	// Class is its class attribute.
	Class string `json:"class"`
	// Width and Height are the size of its box (getBoundingClientRect) in
	// CSS pixels.
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Children counts its child elements that can draw: title, desc,
	// metadata, defs, style and script are not counted.
	Children int `json:"children"`
	// Axes counts the elements inside it that match Options.AxisSelector
	// and are drawn (their box is not 0×0).
	Axes int `json:"axes"`
}

// Name names the SVG for a person: #id, else its label in quotes, else
// "svg N" (counting from 1).
func (s SVG) Name() string {
	switch {
	case s.ID != "":
		return "#" + s.ID
	case s.Label != "":
		return fmt.Sprintf("%q", s.Label)
	}
	return fmt.Sprintf("svg %d", s.Index+1)
}

// HasClass returns a predicate for Options.RequireAxes: whether the SVG's
// class attribute holds class.
func HasClass(class string) func(SVG) bool {
	return func(s SVG) bool {
		for _, c := range strings.Fields(s.Class) {
			if c == class {
				return true
			}
		}
		return false
	}
}

// Problems lists what is wrong with the page, one line each, in this
// order: uncaught exceptions; console messages of level error, assert or
// warning; outside requests; then, per SVG, a box of zero width or height,
// no child element that can draw, and no drawn axis where RequireAxes
// wants one. A clean page has none.
func (p *Page) Problems() []string {
	var out []string
	for _, m := range p.Exceptions {
		out = append(out, "uncaught "+m.String())
	}
	for _, m := range p.Console {
		switch m.Level {
		case "error", "assert", "warning":
			out = append(out, "console "+m.String())
		}
	}
	for _, r := range p.Requests {
		s := fmt.Sprintf("outside request: %s %s", strings.ToLower(r.Type), r.URL)
		if r.Failed != "" {
			s += " (" + r.Failed + ")"
		}
		out = append(out, s)
	}
	sel, require := p.axisSelector, p.requireAxes
	if sel == "" {
		sel = DefaultAxisSelector
	}
	if require == nil {
		require = HasClass("chart")
	}
	for _, s := range p.SVGs {
		if s.Width <= 0 || s.Height <= 0 {
			out = append(out, fmt.Sprintf("svg %s: empty box (%gx%g)", s.Name(), s.Width, s.Height))
		}
		if s.Children == 0 {
			out = append(out, fmt.Sprintf("svg %s: no child element that draws", s.Name()))
		}
		if s.Axes == 0 && require(s) {
			out = append(out, fmt.Sprintf("svg %s: no drawn axis (%s)", s.Name(), sel))
		}
	}
	return out
}

// Inspect opens the HTML file at path in headless Chromium (the binary
// chromium names), waits for the page to load, and returns what it saw;
// with opt.Shots set it writes the screenshots. The browser runs with a
// fresh temporary profile, without the sandbox (so that it runs as root
// too) and the GPU, and without network: requests to http, https, ws and
// wss URLs are blocked, and listed in Page.Requests with the others. It is
// stopped, its processes gone and its profile removed, before Inspect
// returns, which is within opt.Timeout.
//
// An error means the page could not be inspected, except that when only
// closing the browser failed, the page is returned with the error. What is
// wrong with a page that could be inspected is in Page.Problems.
func Inspect(ctx context.Context, chromium, path string, opt Options) (_ *Page, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("browser: %s is a directory", abs)
	}
	if chromium == "" {
		return nil, errors.New("browser: no chromium binary given")
	}
	opt = opt.withDefaults(abs)
	p := &Page{
		URL:          (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(),
		axisSelector: opt.AxisSelector,
		requireAxes:  opt.RequireAxes,
	}

	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	out := &tail{max: 4 << 10}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(opt.Width, opt.Height),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.CombinedOutput(out),
	), platformOptions...)...)
	// Runs last: waits until the browser's processes are gone and its
	// temporary profile is removed.
	defer cancelAlloc()
	// chromedp's own complaints go with the browser's output, not to the
	// process's log.
	logf := func(format string, args ...any) { fmt.Fprintf(out, "chromedp: "+format+"\n", args...) }
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	defer cancelBrowser()
	defer func() {
		// Close the browser gracefully while there is time; cancelBrowser
		// and cancelAlloc kill what is left. Without a browser (it did not
		// start) there is nothing to close, and Cancel would leave
		// cancelBrowser waiting for ever.
		if c := chromedp.FromContext(bctx); c == nil || c.Browser == nil {
			return
		}
		cctx, ccancel := context.WithTimeout(bctx, closeTimeout)
		defer ccancel()
		if cerr := chromedp.Cancel(cctx); cerr != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("browser: closing chromium: %w", cerr)
		}
	}()

	// Start the browser with the viewport set and the network blocked.
	blocked := make([]*network.BlockPattern, 0, 4)
	for _, scheme := range []string{"http", "https", "ws", "wss"} {
		blocked = append(blocked, &network.BlockPattern{URLPattern: scheme + "://*:*/*", Block: true})
	}
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(int64(opt.Width), int64(opt.Height), chromedp.EmulateScale(1)),
		call(network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: blocked}),
	); err != nil {
		return nil, fmt.Errorf("browser: starting %s: %w%s", chromium, ctxErr(ctx, err), out.note())
	}
	if opt.observe != nil {
		opt.observe(bctx, "started")
	}

	// Collect events from before the navigation until the snapshot is read.
	var rec recorder
	rec.page = p.URL
	lctx, stopListening := context.WithCancel(bctx)
	defer stopListening()
	if err := chromedp.Listen(lctx, rec.event); err != nil {
		return nil, fmt.Errorf("browser: listening to %s: %w", chromium, ctxErr(ctx, err))
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(p.URL)); err != nil {
		return nil, fmt.Errorf("browser: opening %s: %w", p.URL, ctxErr(ctx, err))
	}
	if opt.observe != nil {
		opt.observe(bctx, "loaded")
	}

	raw, err := chromedp.Run(bctx, chromedp.Evaluate[[]byte]("("+snapshotJS+")("+jsString(opt.AxisSelector)+")"))
	if err != nil {
		return nil, fmt.Errorf("browser: reading the document of %s: %w", p.URL, ctxErr(ctx, err))
	}
	var snap struct {
		Title         string
		Width, Height int
		SVGs          []SVG
	}
	if err := json.Unmarshal(raw, &snap); err != nil {
		return nil, fmt.Errorf("browser: reading the document of %s: %w", p.URL, err)
	}
	p.Title, p.Width, p.Height, p.SVGs = snap.Title, snap.Width, snap.Height, snap.SVGs
	for i := range p.SVGs {
		p.SVGs[i].Index = i
	}

	if opt.Shots != "" {
		if err := p.screenshots(bctx, opt); err != nil {
			return nil, ctxErr(ctx, err)
		}
	}

	stopListening()
	p.Console, p.Exceptions, p.Requests = rec.results()
	return p, nil
}

// screenshots writes the first screen and the whole page (up to
// opt.MaxHeight) as PNG files into opt.Shots.
func (p *Page) screenshots(ctx context.Context, opt Options) error {
	if err := os.MkdirAll(opt.Shots, 0o755); err != nil {
		return fmt.Errorf("browser: screenshots: %w", err)
	}
	full := &page.Viewport{Width: float64(opt.Width), Height: float64(min(max(p.Height, 1), opt.MaxHeight)), Scale: 1}
	for _, s := range []struct {
		suffix string
		params page.CaptureScreenshotParams
	}{
		{"first", page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng}},
		{"full", page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, Clip: full, CaptureBeyondViewport: new(true)}},
	} {
		png, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
			r, err := cdp.Call(ctx, t, page.CaptureScreenshot, s.params)
			return r.Data, err
		})
		if err != nil {
			return fmt.Errorf("browser: %s screenshot of %s: %w", s.suffix, p.URL, err)
		}
		name := filepath.Join(opt.Shots, opt.Name+"-"+s.suffix+".png")
		if err := os.WriteFile(name, png, 0o644); err != nil {
			return fmt.Errorf("browser: %w", err)
		}
		p.Shots = append(p.Shots, name)
	}
	return nil
}

// snapshotJS is a function of the axis selector that returns the title, the
// document's scroll size and the outermost SVGs (see SVG).
//
//go:embed snapshot.js
var snapshotJS string

// call makes an action of one protocol command whose result is not needed.
func call[P, R any](c cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, c, params)
		return err
	})
}

// ctxErr gives the context's error (a timeout, say) when it ended, since
// chromedp's own error then says less.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// recorder keeps the events of one page. Its event method is called on
// chromedp's reading goroutine, results on the caller's.
type recorder struct {
	page string // the page's URL, whose own request is not recorded

	mu         sync.Mutex
	console    []Message
	exceptions []Message
	requests   []Request
	byID       map[network.RequestID]int // index in requests
}

func (r *recorder) event(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		m := Message{Level: string(ev.Type), Source: "console-api", Text: argsText(ev.Args)}
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			m.URL, m.Line = st.CallFrames[0].URL, st.CallFrames[0].LineNumber+1
		}
		r.console = append(r.console, m)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		m := Message{Level: "exception", Source: "exception", Text: d.Text, URL: d.URL, Line: d.LineNumber + 1}
		if d.Exception != nil {
			desc, _, _ := strings.Cut(argText(d.Exception), "\n")
			m.Text = strings.TrimSpace(d.Text + " " + desc)
		}
		if m.URL == "" && d.StackTrace != nil && len(d.StackTrace.CallFrames) > 0 {
			m.URL = d.StackTrace.CallFrames[0].URL
		}
		r.exceptions = append(r.exceptions, m)
	case *log.EventEntryAdded:
		e := ev.Entry
		m := Message{Level: string(e.Level), Source: string(e.Source), Text: e.Text, URL: e.URL}
		if e.LineNumber > 0 {
			m.Line = e.LineNumber + 1
		}
		r.console = append(r.console, m)
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if u == r.page || strings.HasPrefix(u, "data:") {
			return
		}
		if r.byID == nil {
			r.byID = make(map[network.RequestID]int)
		}
		r.byID[ev.RequestID] = len(r.requests)
		r.requests = append(r.requests, Request{URL: u, Type: string(ev.Type)})
	case *network.EventLoadingFailed:
		if i, ok := r.byID[ev.RequestID]; ok {
			switch ev.BlockedReason {
			case "":
				r.requests[i].Failed = ev.ErrorText
			case network.BlockedReasonInspector:
				r.requests[i].Failed = "blocked by Inspect"
			default:
				r.requests[i].Failed = "blocked: " + string(ev.BlockedReason)
			}
		}
	}
}

func (r *recorder) results() (console, exceptions []Message, requests []Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.console...), append([]Message(nil), r.exceptions...), append([]Request(nil), r.requests...)
}

// argsText joins a console call's arguments as the DevTools console shows
// them, without applying format directives.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = argText(a)
	}
	return strings.Join(parts, " ")
}

func argText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case o.Type == runtime.RemoteObjectTypeString:
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// tail keeps the last max bytes written to it: the browser's output, for
// an error when it does not start.
type tail struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// note is the output for an error message, or nothing.
func (t *tail) note() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return "; its output ends:\n" + s
}
