package consumer

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// TestLineReaderMatchesSplit reads random input through the chunks a file
// source reads, with few lines per chunk (lines cross chunks and reads),
// short reads, lines past the limit (some longer than a read block, so
// that skipping them takes several reads), empty lines, carriage returns
// and input with and without a last newline, and compares each chunk's
// lines, numbers and too_big marks with the input split on its newlines.
func TestLineReaderMatchesSplit(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		max := 1 + rng.IntN(300)
		var in bytes.Buffer
		for range rng.IntN(400) {
			n := rng.IntN(2 * max)
			switch rng.IntN(20) {
			case 0:
				n = 0
			case 1:
				n = readBlock + rng.IntN(3*readBlock)
			}
			for range n {
				in.WriteByte("abc{}\" \r"[rng.IntN(8)])
			}
			if rng.IntN(4) == 0 {
				in.WriteByte('\r')
			}
			in.WriteByte('\n')
		}
		if rng.IntN(2) == 0 {
			in.WriteString("last") // no newline
		}
		type line struct {
			text string
			no   int64
			long bool
		}
		var want []line
		for i, l := range bytes.Split(in.Bytes(), []byte("\n")) {
			if i == bytes.Count(in.Bytes(), []byte("\n")) && len(l) == 0 {
				break // after the last newline
			}
			long := len(l) > max
			if long {
				l = l[:max]
			}
			l = bytes.TrimSuffix(l, []byte("\r"))
			if len(l) > 0 || long {
				want = append(want, line{string(l), int64(i + 1), long})
			}
		}

		var r io.Reader = bytes.NewReader(in.Bytes())
		switch seed % 3 {
		case 1:
			r = iotest.HalfReader(r)
		case 2:
			r = iotest.DataErrReader(r) // io.EOF with the last bytes
		}
		lr := newLineReader(r, "in", max)
		var got []line
		var c fileChunk
		for {
			var tk task
			err := c.read(lr, &tk, 1+rng.IntN(5))
			if err != nil && err != io.EOF {
				t.Fatalf("seed %d: %v", seed, err)
			}
			for i, v := range tk.values {
				got = append(got, line{string(v), c.lines[i], tk.tooLong[i] != nil})
			}
			if err == io.EOF {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d lines, want %d", seed, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %d: line %d is %q (line %d, too long %v), want %q (line %d, too long %v)", seed, i,
					trim(got[i].text), got[i].no, got[i].long, trim(want[i].text), want[i].no, want[i].long)
			}
		}
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestLineReaderReadError: a failed read ends the chunk with the error and
// the line it was in.
func TestLineReaderReadError(t *testing.T) {
	boom := io.ErrClosedPipe
	r := io.MultiReader(bytes.NewReader([]byte("{}\n{}\n{")), iotest.ErrReader(boom))
	lr := newLineReader(r, "in", 100)
	var c fileChunk
	var tk task
	err := c.read(lr, &tk, 10)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("read in line 3")) || !errors.Is(err, boom) {
		t.Fatalf("error %v, want one for line 3 wrapping %v", err, boom)
	}
}

// TestLineReaderSkipsLongLines: a line far past the limit is read through,
// not held: the chunk's buffer keeps its size.
func TestLineReaderSkipsLongLines(t *testing.T) {
	in := append(bytes.Repeat([]byte("x"), 3*chunkBytes), "\n{}\n"...)
	lr := newLineReader(bytes.NewReader(in), "in", 1000)
	var c fileChunk
	var tk task
	if err := c.read(lr, &tk, 10); err != io.EOF {
		t.Fatalf("read: %v, want io.EOF", err)
	}
	if len(tk.values) != 2 || len(tk.values[0]) != 1000 || tk.tooLong[0] == nil || string(tk.values[1]) != "{}" {
		t.Fatalf("%d lines (first %d bytes, too long %v), want the first cut to 1000 bytes and then {}", len(tk.values), len(tk.values[0]), tk.tooLong[0] != nil)
	}
	if c := cap(c.buf); c > chunkBytes+chunkBytes/8 {
		t.Errorf("buffer grew to %d bytes for a line of %d", c, 3*chunkBytes)
	}
}
