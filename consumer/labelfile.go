package consumer

import "io"

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
	c := LabelFileCounts{DeadLetter: make(map[string]int64)}
	var labels []Label
	err := eachLine(r, name, maxBytes, deadLetter, func(line []byte, tooLong *DecodeError) (*DecodeError, error) {
		c.Lines++
		derr := tooLong
		if derr == nil {
			l, err := DecodeLabel(line, maxBytes)
			if err == nil {
				labels = append(labels, l)
				c.Labels++
				return nil, nil
			}
			derr = err.(*DecodeError)
		}
		c.DeadLetter[derr.Code]++
		return derr, nil
	})
	return labels, c, err
}
