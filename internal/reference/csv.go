package reference

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/driftwatch/driftwatch/baselines"
)

// Column roles in a reference CSV header.
const (
	roleFeature = iota
	rolePrediction
	roleModel
	roleIgnored
	roleLabel
)

// roles are the header names that are not features; every other named
// column is one.
var roles = map[string]int{
	"prediction":    rolePrediction,
	"model":         roleModel,
	"prediction_id": roleIgnored,
	"model_version": roleIgnored,
	"timestamp":     roleIgnored,
	"label":         roleLabel,
	"variant":       roleIgnored,
	"latency_ms":    roleIgnored,
}

// isNullCell reports whether a CSV cell, already trimmed, is a missing
// value: empty, or NA, NaN, null or None in any case.
func isNullCell(s string) bool {
	switch len(s) {
	case 0:
		return true
	case 2, 3, 4:
		return strings.EqualFold(s, "NA") || strings.EqualFold(s, "NaN") ||
			strings.EqualFold(s, "null") || strings.EqualFold(s, "None")
	}
	return false
}

// column is one used CSV column: a feature or the prediction. Its cells are
// buffered until the end of the file, when the column's type is known.
type column struct {
	name    string
	index   int      // position in the header
	cells   []string // trimmed, one per kept row
	pred    bool     // the prediction, not a feature
	numeric bool     // every non-null cell parses as a float64
}

// readCSV feeds b with the rows of r, CSV with a header row. Column
// "prediction" is the prediction and "label" the ground truth (for the
// baseline's label distribution and scored outcomes); prediction_id,
// model_version, timestamp, variant and latency_ms are not features; a column named "model"
// is not a feature either, and rows whose non-empty model cell differs from
// model are counted in sum.OtherModels instead of used. Every other column is
// a feature, except columns with an empty name (such as a pandas index),
// which are dropped.
//
// A column is numeric if every one of its cells is null (empty, NA, NaN,
// null or None, in any case, around spaces) or parses with
// strconv.ParseFloat, and categorical otherwise; numbers too large for a
// float64, such as 1e400, count as null. Deciding that needs the whole column,
// so readCSV buffers every used cell until the end: memory is about the size
// of the uncompressed file plus 16 bytes per cell. Categorical cells are kept
// as written, trimmed: "1.0" stays "1.0".
//
// Rows with a different number of cells than the header, and rows the CSV
// parser rejects, are skipped and counted in sum; blank lines are ignored (so
// in a file of one column an empty cell is no row). A line longer than
// maxLineBytes, a header with a repeated name and read errors end it.
func readCSV(r io.Reader, model string, b *baselines.Builder, sum *Summary) error {
	br := bufio.NewReaderSize(&lineLimiter{r: r, max: maxLineBytes}, 64<<10)
	if bom, _ := br.Peek(len(utf8BOM)); string(bom) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var cols []*column
	var label *column // the ground truth, kept apart: it is not a feature
	modelIndex := -1
	seen := make(map[string]bool, len(header))
	for i, name := range header {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if seen[name] {
			return fmt.Errorf("header: column %q appears twice", name)
		}
		seen[name] = true
		switch roles[name] {
		case roleFeature, rolePrediction:
			cols = append(cols, &column{name: name, index: i, pred: roles[name] == rolePrediction, numeric: true})
		case roleModel:
			modelIndex = i
		case roleLabel:
			label = &column{name: name, index: i}
		}
	}

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			sum.skip(int64(pe.Line), pe.Err.Error())
			continue
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			sum.skip(int64(line), fmt.Sprintf("%d cells, the header has %d", len(rec), len(header)))
			continue
		}
		if modelIndex >= 0 {
			if m := strings.TrimSpace(rec[modelIndex]); m != "" && m != model {
				sum.OtherModels++
				continue
			}
		}
		if label != nil {
			label.cells = append(label.cells, strings.TrimSpace(rec[label.index]))
		}
		for _, c := range cols {
			cell := strings.TrimSpace(rec[c.index])
			c.cells = append(c.cells, cell)
			if c.numeric && !isNullCell(cell) {
				if _, err := strconv.ParseFloat(cell, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
					c.numeric = false
				}
			}
		}
		sum.Rows++
	}

	var pred *column
	for _, c := range cols {
		if c.pred {
			pred = c
		}
	}
	for row := range sum.Rows {
		for _, c := range cols {
			add(b, c, c.cells[row])
		}
		if label != nil && !isNullCell(label.cells[row]) {
			var score float64
			scored := pred != nil && pred.numeric && !isNullCell(pred.cells[row])
			if scored {
				score, _ = strconv.ParseFloat(pred.cells[row], 64)
			}
			b.AddLabel(labelText(label.cells[row]), score, scored)
		}
		b.EndRow()
	}
	return nil
}

// labelText writes a label cell as a JSON record's label would be written
// (consumer.Value.Text): numbers in Go's shortest form ("1.0" is "1"),
// booleans in lower case, anything else as it is.
func labelText(cell string) string {
	if x, err := strconv.ParseFloat(cell, 64); err == nil {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	if strings.EqualFold(cell, "true") || strings.EqualFold(cell, "false") {
		return strings.ToLower(cell)
	}
	return cell
}

// add adds one cell of column c to the current row of b.
func add(b *baselines.Builder, c *column, cell string) {
	pred := c.pred
	switch {
	case isNullCell(cell):
		if pred {
			b.AddPredictionNull()
		} else {
			b.AddNull(c.name)
		}
	case c.numeric:
		x, _ := strconv.ParseFloat(cell, 64) // parsed before; a ±Inf from overflow counts as null
		if pred {
			b.AddPredictionNumber(x)
		} else {
			b.AddNumber(c.name, x)
		}
	default:
		if pred {
			b.AddPredictionCategory(cell)
		} else {
			b.AddCategory(c.name, cell)
		}
	}
}

// lineLimiter passes r through but fails, for good, once a line is longer
// than max bytes: encoding/csv would otherwise buffer a line of any length.
type lineLimiter struct {
	r    io.Reader
	max  int
	run  int   // bytes since the last newline
	line int64 // newlines passed, so the current line is line+1
	err  error
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			l.run += len(rest)
			break
		}
		l.run += i
		if l.run > l.max {
			break
		}
		l.run = 0
		l.line++
		rest = rest[i+1:]
	}
	if l.run > l.max {
		l.err = fmt.Errorf("line %d: %w", l.line+1, errLineTooLong)
		return 0, l.err
	}
	return n, err
}
