package consumer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// LabelFileCounts is what ReadLabels did.
type LabelFileCounts struct {
	Lines      int64            // non-empty lines
	Labels     int64            // good labels
	DeadLetter map[string]int64 // rejected lines by reason
}

// ReadLabels reads late labels (CONTRACT.md section 2) from JSON lines, one
// per line, in file order. A line that breaks the contract is written to
// deadLetter as a DeadLetterLine (nil discards it) and counted, never
// silently dropped; name appears in those lines. Reading stops at the first
// read or write error.
func ReadLabels(r io.Reader, name string, maxBytes int, deadLetter io.Writer) ([]Label, LabelFileCounts, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	c := LabelFileCounts{DeadLetter: make(map[string]int64)}
	var dlq *json.Encoder
	if deadLetter != nil {
		dlq = json.NewEncoder(deadLetter)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var labels []Label
	for lineNo := int64(1); ; lineNo++ {
		line, tooLong, err := readLine(br, maxBytes)
		if err == io.EOF {
			return labels, c, nil
		}
		if err != nil {
			return labels, c, fmt.Errorf("read %s line %d: %w", name, lineNo, err)
		}
		if len(line) == 0 && !tooLong {
			continue
		}
		c.Lines++
		var derr *DecodeError
		if tooLong {
			derr = reject(ReasonTooBig, "line is longer than %d bytes", maxBytes)
		} else if l, err := DecodeLabel(line, maxBytes); err != nil {
			derr = err.(*DecodeError)
		} else {
			labels = append(labels, l)
			c.Labels++
			continue
		}
		c.DeadLetter[derr.Code]++
		if dlq != nil {
			if err := dlq.Encode(deadLetterLine(name, lineNo, derr, line)); err != nil {
				return labels, c, fmt.Errorf("write dead letter for %s line %d: %w", name, lineNo, err)
			}
		}
	}
}
