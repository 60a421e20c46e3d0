// Package reference reads a model's reference data (the rows it was trained
// or validated on, or an early production period) from a file and builds a
// baselines.Baseline from it. It reads JSON lines of prediction log records
// (CONTRACT.md section 1) and CSV files with a header, either of them
// gzip-compressed.
//
// It deliberately does not read Parquet (not yet), Kafka or ClickHouse,
// sample rows, or write the baseline: the caller saves it with
// baselines.Baseline.Save. Bad lines are skipped and counted, not fatal: a
// reference file is often an export nobody cleaned, and Summary tells how
// much was dropped and why. Exact quantiles need every value, so a build
// holds the reference in memory (see baselines.Builder); sample files that do
// not fit.
package reference

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// maxLineBytes is the longest line Build reads: longer JSON lines are skipped
// and counted, a longer CSV line is an error.
const maxLineBytes = 16 << 20

// maxFirstErrors is how many skipped lines Summary describes.
const maxFirstErrors = 5

// supported names the file types Build reads, for error messages.
const supported = ".jsonl, .ndjson, .json (JSON lines) and .csv, each optionally gzipped (.gz)"

// Summary says what Build did with the lines of a reference file.
type Summary struct {
	Rows        int64     // records or CSV rows of the model that went into the baseline
	Skipped     int64     // lines or rows that could not be decoded
	OtherModels int64     // well-formed records or rows of another model
	Unselected  int64     // records of the model that Select left out (version, period, count)
	Failed      int64     // records selected that were failed predictions (an "error"): not predictions, left out
	From, Until time.Time // event times of the first and last record used (JSON lines)
	FirstErrors []string  // the first few skipped lines, as "line N: reason" ("record N" for Records)
}

// skip counts a line that could not be used and keeps its reason if it is
// among the first few.
func (s *Summary) skip(line int64, reason string) { s.skipAt("line", line, reason) }

// skipAt is skip of the n-th of what (line, record).
func (s *Summary) skipAt(what string, n int64, reason string) {
	s.Skipped++
	if len(s.FirstErrors) < maxFirstErrors {
		s.FirstErrors = append(s.FirstErrors, fmt.Sprintf("%s %d: %s", what, n, reason))
	}
}

type format int

const (
	formatJSONL format = iota
	formatCSV
)

// Build reads the reference file at path and returns the baseline of model
// built from its rows, with opts as given (Source defaults to path). The
// file's type follows from its name, in any case: .jsonl, .ndjson or .json,
// and .csv; a trailing .gz means gzip.
//
// JSON lines are prediction log records (CONTRACT.md section 1), decoded by
// consumer.Decode: features and the prediction go in as numbers, as
// categories (strings and bools, by consumer.Value.Text) or as nulls. Records
// of other models are counted in Summary.OtherModels; lines that do not
// decode, and lines longer than 16 MiB, are skipped and counted.
//
// A CSV file has a header. Column prediction is the prediction;
// prediction_id, model, model_version, timestamp, label, variant, latency_ms
// and unnamed columns are not features, and rows whose model cell names
// another model count as OtherModels; every other column is a feature. A
// column is numeric if each of its cells is null (empty, NA, NaN, null or
// None) or parses as a float64, and categorical otherwise. Rows of the wrong
// width or that the CSV parser rejects are skipped and counted.
//
// The Summary is valid even when Build fails. Build fails on an unknown file
// type, on I/O errors, on a CSV line longer than 16 MiB, and when the file has
// no usable row of model. It is safe to call concurrently.
func Build(path, model string, opts baselines.BuildOptions) (*baselines.Baseline, Summary, error) {
	return BuildSelect(path, model, opts, Select{})
}

// Select picks the records of a production log that make a baseline: an
// initial production period of one model version. Its zero value takes
// every record. It applies to JSON lines (prediction records), not CSV.
type Select struct {
	Version string    // only records of this model_version
	From    time.Time // only records at or after this event time
	Until   time.Time // only records before this event time
	// First: only records within this long after the first selected
	// record's event time (the log's first hours).
	First time.Duration
	// Records: at most this many records, the first ones in the file.
	Records int64

	start time.Time // the first selected record's event time
}

// zero reports whether s selects everything.
func (s Select) zero() bool {
	return s.Version == "" && s.From.IsZero() && s.Until.IsZero() && s.First == 0 && s.Records == 0
}

// take reports whether rec is selected, given the records taken so far.
func (s *Select) take(rec *consumer.Record, sum *Summary) bool {
	switch {
	case s.Version != "" && rec.ModelVersion != s.Version,
		!s.From.IsZero() && rec.Timestamp.Before(s.From),
		!s.Until.IsZero() && !rec.Timestamp.Before(s.Until),
		s.Records > 0 && sum.Rows >= s.Records,
		s.First > 0 && !s.start.IsZero() && (rec.Timestamp.Before(s.start) || !rec.Timestamp.Before(s.start.Add(s.First))):
		sum.Unselected++
		return false
	}
	if s.start.IsZero() {
		s.start = rec.Timestamp // the period starts at the first selected record
	}
	return true
}

// BuildSelect is Build over the records sel selects.
func BuildSelect(path, model string, opts baselines.BuildOptions, sel Select) (*baselines.Baseline, Summary, error) {
	return BuildSelectProgress(path, model, opts, sel, nil)
}

// BuildSelectProgress is BuildSelect that adds to read, as it goes, the
// bytes of the file read so far (of the file as stored: compressed for
// .gz), for a progress display; read may be nil.
func BuildSelectProgress(path, model string, opts baselines.BuildOptions, sel Select, read *atomic.Int64) (*baselines.Baseline, Summary, error) {
	var sum Summary
	if model == "" {
		return nil, sum, fmt.Errorf("build baseline from %s: model is required", path)
	}
	f, gz, err := formatOf(path)
	if err != nil {
		return nil, sum, err
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, sum, fmt.Errorf("open reference file: %w", err)
	}
	defer file.Close()
	var r io.Reader = file
	if read != nil {
		r = &countingReader{r: file, n: read}
	}
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, sum, fmt.Errorf("read %s as gzip: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	if opts.Source == "" {
		opts.Source = path
	}
	opts = trafficOptions(opts, sel)
	b := baselines.NewBuilder(model, opts)
	switch f {
	case formatJSONL:
		err = readJSONL(r, model, b, &sum, &sel)
	case formatCSV:
		if !sel.zero() {
			return nil, sum, fmt.Errorf("read %s: selecting a production period needs JSON lines of prediction records, not CSV", path)
		}
		err = readCSV(r, model, b, &sum)
	}
	if err != nil {
		return nil, sum, fmt.Errorf("read %s: %w", path, err)
	}
	if sum.Rows == 0 {
		return nil, sum, noRows(path, model, sum)
	}
	bl, err := b.Build()
	if err != nil {
		return nil, sum, fmt.Errorf("%w (from %s)", err, path)
	}
	return bl, sum, nil
}

// formatOf tells the format of the file at path from its name.
func formatOf(path string) (f format, gz bool, err error) {
	name := strings.ToLower(filepath.Base(path))
	if trimmed, ok := strings.CutSuffix(name, ".gz"); ok {
		name, gz = trimmed, true
	}
	switch ext := filepath.Ext(name); ext {
	case ".jsonl", ".ndjson", ".json":
		return formatJSONL, gz, nil
	case ".csv":
		return formatCSV, gz, nil
	case ".parquet":
		return 0, false, fmt.Errorf("read %s: parquet is not supported yet; convert it to CSV or JSON lines (supported: %s)", path, supported)
	case "":
		return 0, false, fmt.Errorf("read %s: no file extension to tell its type; supported: %s", path, supported)
	default:
		return 0, false, fmt.Errorf("read %s: unsupported file type %q; supported: %s; parquet is not supported yet", path, ext, supported)
	}
}

// noRows is the error of a file without a single usable row of model: it
// says what the file held instead.
func noRows(path, model string, sum Summary) error {
	var why []string
	if sum.OtherModels > 0 {
		why = append(why, fmt.Sprintf("found %d records of other models", sum.OtherModels))
	}
	if sum.Unselected > 0 {
		why = append(why, fmt.Sprintf("left out %d records of the model outside the selected version, period or count", sum.Unselected))
	}
	if sum.Skipped > 0 {
		why = append(why, fmt.Sprintf("skipped %d bad lines, first %s", sum.Skipped, sum.FirstErrors[0]))
	}
	if len(why) == 0 {
		return fmt.Errorf("no records of model %q in %s: the file has no data rows", model, path)
	}
	return fmt.Errorf("no records of model %q in %s (%s)", model, path, strings.Join(why, "; "))
}

// utf8BOM is the byte order mark some tools write at the start of a file.
const utf8BOM = "\ufeff"

// errLineTooLong is the reason of a line longer than maxLineBytes.
var errLineTooLong = errors.New("line longer than 16 MiB")

// countingReader adds the bytes it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// Records builds a baseline from prediction records given one at a time
// (the values of Kafka records), as BuildSelect does from JSON lines: the
// records of model that sel selects, the others counted. Not safe for
// concurrent use.
type Records struct {
	model string
	b     *baselines.Builder
	sel   Select
	sum   Summary
	n     int64
}

// NewRecords returns a Records of model's records that sel selects.
func NewRecords(model string, opts baselines.BuildOptions, sel Select) *Records {
	return &Records{model: model, b: baselines.NewBuilder(model, trafficOptions(opts, sel)), sel: sel}
}

// trafficOptions returns opts for the records sel selects: the records of
// one version selected from a production log are its traffic
// (BuildOptions.Traffic), and its model version.
func trafficOptions(opts baselines.BuildOptions, sel Select) baselines.BuildOptions {
	if sel.Version != "" {
		opts.Traffic = true
		if opts.ModelVersion == "" {
			opts.ModelVersion = sel.Version
		}
	}
	return opts
}

// Add decodes one record and adds it; a record that does not decode is
// skipped and counted.
func (r *Records) Add(value []byte) {
	r.n++
	rec, err := consumer.Decode(value, 0)
	if err != nil {
		r.sum.skipAt("record", r.n, err.Error())
		return
	}
	addRecord(&rec, r.model, r.b, &r.sum, &r.sel)
}

// Summary is what was read so far.
func (r *Records) Summary() Summary { return r.sum }

// Build builds the baseline of the records added; it fails when none of
// them was selected. what names where they came from, for errors.
func (r *Records) Build(what string) (*baselines.Baseline, Summary, error) {
	if r.sum.Rows == 0 {
		return nil, r.sum, noRows(what, r.model, r.sum)
	}
	b, err := r.b.Build()
	if err != nil {
		return nil, r.sum, fmt.Errorf("%w (from %s)", err, what)
	}
	return b, r.sum, nil
}
