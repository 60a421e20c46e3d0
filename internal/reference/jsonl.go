package reference

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// readJSONL feeds b with the records of model in r, JSON lines of prediction
// log records as consumer.Decode reads them (so a record over
// consumer.DefaultMaxRecordBytes is skipped, as production would reject it).
// Features and the prediction go in by kind: numbers as numbers, strings and
// bools as categories (consumer.Value.Text), nulls as nulls. Blank lines are
// ignored; lines that fail to decode or are longer than maxLineBytes are
// skipped and counted in sum; records of other models are counted in
// sum.OtherModels. Only a read error or a JSON array instead of JSON lines
// ends it early.
func readJSONL(r io.Reader, model string, b *baselines.Builder, sum *Summary, sel *Select) error {
	lr := newLineReader(r, maxLineBytes)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errLineTooLong) {
			sum.skip(lr.n, err.Error())
			continue
		}
		if err != nil {
			return err
		}
		if lr.n == 1 {
			line = bytes.TrimPrefix(line, []byte(utf8BOM))
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] == '[' && sum.Rows == 0 && sum.Skipped == 0 && sum.OtherModels == 0 {
			return errors.New("line 1 starts a JSON array; want JSON lines, one record per line")
		}
		rec, err := consumer.Decode(line, 0)
		if err != nil {
			sum.skip(lr.n, err.Error())
			continue
		}
		addRecord(&rec, model, b, sum, sel)
	}
}

// addRecord adds rec to b if it is of model and sel selects it, and
// counts it in sum.
func addRecord(rec *consumer.Record, model string, b *baselines.Builder, sum *Summary, sel *Select) {
	if rec.Model != model {
		sum.OtherModels++
		return
	}
	if !sel.take(rec, sum) {
		return
	}
	if rec.Error != "" {
		sum.Failed++
		return
	}
	if sum.From.IsZero() || rec.Timestamp.Before(sum.From) {
		sum.From = rec.Timestamp
	}
	if rec.Timestamp.After(sum.Until) {
		sum.Until = rec.Timestamp
	}
	b.SetTime(rec.Timestamp)
	for name, v := range rec.Features {
		switch v.Kind {
		case consumer.Number:
			b.AddNumber(name, v.Num)
		case consumer.String, consumer.Bool:
			b.AddCategory(name, v.Text())
		default:
			b.AddNull(name)
		}
	}
	switch v := rec.Prediction; v.Kind {
	case consumer.Number:
		b.AddPredictionNumber(v.Num)
	case consumer.String, consumer.Bool:
		b.AddPredictionCategory(v.Text())
	default:
		b.AddPredictionNull()
	}
	if rec.Prediction.Kind == consumer.Number {
		for attr, group := range rec.Segments {
			b.AddSegment(attr, group, rec.Prediction.Num)
		}
	}
	if rec.Label.Kind != consumer.Null {
		b.AddLabel(rec.Label.Text(), rec.Prediction.Num, rec.Prediction.Kind == consumer.Number)
	}
	b.EndRow()
	sum.Rows++
}

// lineReader splits a stream into lines of at most max bytes, newline
// excluded. Unlike bufio.Scanner it goes on after a line that is too long.
type lineReader struct {
	r    *bufio.Reader
	max  int
	line []byte
	n    int64 // number of the line last returned, from 1
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line ending, valid until the next
// call. It returns errLineTooLong, after reading past it, for a line longer
// than max, and io.EOF at the end of the stream.
func (l *lineReader) next() ([]byte, error) {
	l.line = l.line[:0]
	tooLong := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !tooLong {
			if len(l.line)+len(chunk) > l.max+2 { // room for "\r\n"
				tooLong = true
				l.line = l.line[:0]
			} else {
				l.line = append(l.line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(l.line) == 0 && !tooLong {
				return nil, io.EOF
			}
		case err != nil:
			return nil, err
		}
		l.n++
		line := bytes.TrimSuffix(l.line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if tooLong || len(line) > l.max {
			return nil, errLineTooLong
		}
		return line, nil
	}
}
