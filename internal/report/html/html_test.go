package html

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/stats/drift"
)

func TestWrite(t *testing.T) {
	f, err := os.Open("../history/testdata/rows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := history.Read(f, drift.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, vs, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "http://", "https://", "<link", "ZgotmplZ"} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page contains %q: it must be self-contained and its SVG unescaped", bad)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	// 1.4.2: share, heat, amount psi, device hellinger, performance, latency; 2.0.0: share, heat, amount psi, performance, latency.
	if len(svgs) != 11 {
		t.Errorf("%d charts, want 11", len(svgs))
	}
	for i, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("chart %d is not well-formed: %v", i, err)
			}
		}
	}
	for _, want := range []string{"<h2>Summary</h2>", "<h2>fraud 1.4.2</h2>", "<h2>fraud 2.0.0</h2>", "amount: psi per window", "SEV-2"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
