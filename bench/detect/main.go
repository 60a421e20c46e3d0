// Command detect is the detection benchmark of issue 16 (`make
// bench-detect`): for every scenario of bench/detect/scenario it writes the
// reference files, the stream, the late labels and the ground truth, builds
// the baselines with `driftwatch baseline` from the references (JSON lines
// with timestamps, so a reference of whole days keeps its time profile),
// runs `driftwatch replay` over the stream with the default configuration,
// scores the metric rows against the truth (bench/detect/score), runs
// Evidently's DataDriftPreset on the same data (bench/detect/evidently_run.py,
// when -python can import evidently) and scores its verdicts the same way
// on the subjects it judges, and writes the table to bench/DETECTION.md.
//
// It deliberately changes no setting of driftwatch: every figure is what
// its defaults give.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/bench/detect/scenario"
	"github.com/driftwatch/driftwatch/bench/detect/score"
	"github.com/driftwatch/driftwatch/stats/drift"
)

func main() { os.Exit(run()) }

type options struct {
	work, report, python, script, only, setupLog, set string
	seed                                              int64
	reps                                              int
}

func run() int {
	var o options
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "driftwatch-bench-detect"), "directory for the generated streams, baselines and rows (emptied first)")
	flag.StringVar(&o.report, "report", "", "where the table goes (default bench/DETECTION.md, or bench/DETECTION-aside.md with -set aside)")
	flag.StringVar(&o.set, "set", "main", "the streams: main (scenario.All) or aside (scenario.Aside: other sizes, strengths and seeds, not tuned on)")
	flag.StringVar(&o.python, "python", "", "Python interpreter with evidently==0.7.23 and pandas==2.3.3 (empty: Evidently is not run)")
	flag.StringVar(&o.script, "script", "bench/detect/evidently_run.py", "Evidently's side")
	flag.StringVar(&o.setupLog, "setup-log", "", "log of the virtualenv's installation, quoted when Evidently cannot be imported")
	flag.StringVar(&o.only, "scenarios", "", "comma-separated scenario names to run (empty: all; the report then covers only those)")
	flag.Int64Var(&o.seed, "seed", 16, "seed of the first scenario (the others take the next ones)")
	flag.IntVar(&o.reps, "reps", 3, "streams per scenario, each from its own seed (seed, seed+1000, ...); their counts add up")
	flag.Parse()
	if o.set != "main" && o.set != "aside" {
		fmt.Fprintf(os.Stderr, "bench-detect: -set %q: want main or aside\n", o.set)
		return 2
	}
	if o.report == "" {
		o.report = map[string]string{"main": "bench/DETECTION.md", "aside": "bench/DETECTION-aside.md"}[o.set]
	}
	ctx := context.Background()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-detect:", err)
		return 1
	}
	return 0
}

// outcome is one scenario's result.
type outcome struct {
	s          scenario.Scenario
	truth      scenario.Truth
	dw, dwEv   score.Result // driftwatch on everything, on Evidently's subjects
	ev         *score.Result
	evErr      string
	evFailures int
	seeds      []int64 // of the streams added up
}

// add adds the counts of another stream of the same scenario, tagging
// its misses and false alarms with the stream's seed.
func (o *outcome) add(n outcome) {
	seed := n.s.Config.Seed
	if len(o.seeds) == 0 {
		o.s, o.truth = n.s, n.truth
	}
	o.seeds = append(o.seeds, seed)
	o.dw = addResult(o.dw, n.dw, seed)
	o.dwEv = addResult(o.dwEv, n.dwEv, seed)
	if n.ev != nil {
		if o.ev == nil {
			o.ev = &score.Result{}
		}
		*o.ev = addResult(*o.ev, *n.ev, seed)
	}
	if n.evErr != "" {
		o.evErr = n.evErr
	}
	o.evFailures += n.evFailures
}

func addResult(a, b score.Result, seed int64) score.Result {
	a.Changed += b.Changed
	a.Detected += b.Detected
	a.Judged += b.Judged
	a.FalseAlarm += b.FalseAlarm
	for _, m := range b.Misses {
		m.Model = fmt.Sprintf("%s, seed %d", m.Model, seed)
		a.Misses = append(a.Misses, m)
	}
	for _, u := range b.FalseAlarms {
		u.Model = fmt.Sprintf("%s, seed %d", u.Model, seed)
		a.FalseAlarms = append(a.FalseAlarms, u)
	}
	return a
}

func bench(ctx context.Context, o options) error {
	if err := os.RemoveAll(o.work); err != nil {
		return fmt.Errorf("empty %s: %w", o.work, err)
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.work, err)
	}
	bin := filepath.Join(o.work, "driftwatch")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/driftwatch").CombinedOutput(); err != nil {
		return fmt.Errorf("build driftwatch: %w: %s", err, out)
	}
	v := versions(ctx, bin)
	evReason := ""
	if o.python == "" {
		evReason = "no Python interpreter given (-python)"
	} else if out, err := exec.CommandContext(ctx, o.python, "-c", "import evidently, pandas").CombinedOutput(); err != nil {
		evReason = fmt.Sprintf("%s cannot import evidently and pandas: %v: %s", o.python, err, lastLine(string(out)))
		if b, err := os.ReadFile(o.setupLog); o.setupLog != "" && err == nil && len(b) > 0 {
			evReason += "; installing it with pip said: " + lastLine(string(b))
		}
	}
	streams := scenario.All
	if o.set == "aside" {
		streams = scenario.Aside
	}
	var outs []outcome
	for i, s := range streams(o.seed) {
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), s.Name) {
			continue
		}
		var total outcome
		for rep := range max(o.reps, 1) {
			sr := streams(o.seed + 1000*int64(rep))[i]
			t0 := time.Now()
			out, err := one(ctx, o, bin, sr, evReason == "")
			if err != nil {
				return fmt.Errorf("scenario %s, seed %d: %w", s.Name, sr.Config.Seed, err)
			}
			if out.ev != nil && v.evidently == "" {
				v.evidently, v.pandas, v.python = evVersions(filepath.Join(runDir(o, sr), "evidently.json"))
			}
			fmt.Fprintf(os.Stderr, "%-22s seed %-6d driftwatch recall %s false alarms %s; evidently %s (%.0fs)\n",
				s.Name, sr.Config.Seed, pct(out.dw.Recall()), rate(out.dw), evSummary(out), time.Since(t0).Seconds())
			total.add(out)
		}
		outs = append(outs, total)
	}
	md := render(outs, v, evReason, o)
	if err := os.WriteFile(o.report, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", o.report, err)
	}
	fmt.Fprintln(os.Stderr, "wrote", o.report)
	return nil
}

func evSummary(o outcome) string {
	if o.ev == nil {
		return "not run"
	}
	return fmt.Sprintf("recall %s false alarms %s", pct(o.ev.Recall()), rate(*o.ev))
}

// one generates, runs and scores one scenario.
func one(ctx context.Context, o options, bin string, s scenario.Scenario, withEvidently bool) (outcome, error) {
	dir := runDir(o, s)
	files, err := s.Write(dir)
	if err != nil {
		return outcome{}, err
	}
	out := outcome{s: s, truth: s.Truth()}
	baselines := filepath.Join(dir, "baselines")
	for _, m := range s.Config.Models {
		if err := command(ctx, bin, "baseline", "--model", m.Name, "--model-version", m.Version,
			"--input", files.References[m.Name], "--out", baselines); err != nil {
			return out, err
		}
	}
	rowsPath := filepath.Join(dir, "rows.jsonl")
	args := []string{"replay", "--baselines", baselines, "--input", files.Stream, "--output", rowsPath, "--quiet"}
	if files.Labels != "" {
		args = append(args, "--labels", files.Labels)
	}
	if err := command(ctx, bin, args...); err != nil {
		return out, err
	}
	rows, err := readRows(rowsPath)
	if err != nil {
		return out, err
	}
	units := score.FromRows(rows, out.truth.Start, out.truth.Window)
	out.dw = score.Score(out.truth.Changes, units, nil)
	out.dwEv = score.Score(out.truth.Changes, units, score.FeaturesAndPrediction)
	if !withEvidently {
		return out, nil
	}
	evPath := filepath.Join(dir, "evidently.json")
	evArgs := []string{o.script, "--start", out.truth.Start.Format(time.RFC3339),
		"--window-seconds", fmt.Sprint(out.truth.Window.Seconds()), "--windows", fmt.Sprint(out.truth.Windows),
		"--stream", files.Stream, "--out", evPath}
	for _, m := range s.Config.Models {
		evArgs = append(evArgs, "--reference", m.Name+"="+files.References[m.Name])
	}
	cmd := exec.CommandContext(ctx, o.python, evArgs...)
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		out.evErr = fmt.Sprintf("%v: %s", err, lastLine(string(b)))
		return out, nil
	}
	evUnits, failures, err := readEvidently(evPath)
	if err != nil {
		out.evErr = err.Error()
		return out, nil
	}
	r := score.Score(out.truth.Changes, evUnits, score.FeaturesAndPrediction)
	out.ev, out.evFailures = &r, failures
	return out, nil
}

// runDir is where one stream of a scenario and its results go.
func runDir(o options, s scenario.Scenario) string {
	return filepath.Join(o.work, fmt.Sprintf("%s-seed%d", s.Name, s.Config.Seed))
}

func command(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("driftwatch %s: %w: %s", strings.Join(args, " "), err, b)
	}
	return nil
}

func readRows(path string) ([]score.Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open rows: %w", err)
	}
	defer f.Close()
	var rows []score.Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var r score.Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("decode row %d of %s: %w", n, path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// evidentlyFile is what evidently_run.py writes.
type evidentlyFile struct {
	Versions map[string]string `json:"versions"`
	Verdicts []struct {
		Model     string   `json:"model"`
		Window    int      `json:"window"`
		Column    string   `json:"column"`
		Method    string   `json:"method"`
		Threshold float64  `json:"threshold"`
		Score     *float64 `json:"score"`
		Drifted   bool     `json:"drifted"`
	} `json:"verdicts"`
	Errors []struct {
		Model  string `json:"model"`
		Window int    `json:"window"`
		Error  string `json:"error"`
	} `json:"errors"`
}

func readEvidently(path string) ([]score.Unit, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read evidently verdicts: %w", err)
	}
	var f evidentlyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, 0, fmt.Errorf("decode %s: %w", path, err)
	}
	units := make([]score.Unit, 0, len(f.Verdicts))
	for _, v := range f.Verdicts {
		family, subject := drift.FamilyData, v.Column
		if v.Column == "prediction" {
			family = drift.FamilyPrediction
		}
		val := "null"
		if v.Score != nil {
			val = fmt.Sprintf("%.4g", *v.Score)
		}
		units = append(units, score.Unit{
			Window: v.Window, Model: v.Model, Family: family, Subject: subject, Judged: true, Flagged: v.Drifted,
			Evidence: []string{fmt.Sprintf("%s/%s %s=%s (threshold %.4g, drifted %v)", family, subject, v.Method, val, v.Threshold, v.Drifted)},
		})
	}
	return units, len(f.Errors), nil
}

type versionInfo struct {
	commit, driftwatch, goVersion, evidently, pandas, python string
}

func versions(ctx context.Context, bin string) versionInfo {
	v := versionInfo{goVersion: runtime.Version()}
	if b, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output(); err == nil {
		v.commit = strings.TrimSpace(string(b))
	}
	if b, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		v.commit += " (with uncommitted changes)"
	}
	if b, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
		v.driftwatch = strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)[0]
	}
	return v
}

func evVersions(path string) (ev, pandas, python string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", ""
	}
	var f evidentlyFile
	if json.Unmarshal(b, &f) != nil {
		return "", "", ""
	}
	return f.Versions["evidently"], f.Versions["pandas"], f.Versions["python"]
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
