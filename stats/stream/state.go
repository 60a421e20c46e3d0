package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The detectors' binary state encoding (MarshalBinary, AppendBinary,
// UnmarshalBinary), format version 1. An encoding is
//
//	type byte | version byte | fields
//
// with the type byte 'A' (ADWIN), 'P' (PageHinkley), 'D' (DDM), 'E' (EDDM)
// or 'K' (KSWIN), the version byte 1, and the fields in the order each
// detector's AppendBinary documents: a float64 as its IEEE 754 bits and an
// integer as an int64, both 8 bytes little-endian, and a bool as one byte,
// 0 or 1. Floats are copied bit for bit (NaN payloads, ±Inf and -0
// included), so a restored detector repeats the original's arithmetic
// exactly.
//
// The encoding is canonical: UnmarshalBinary accepts only what
// AppendBinary writes (bools 0 or 1, no trailing bytes, unused slots
// zero), so re-encoding a decoded state gives back the same bytes.
//
// A format change that a version-1 decoder would misread bumps the
// version byte; decoders reject versions they do not know.
const stateVersion = 1

// Type bytes of the encodings.
const (
	tagADWIN       byte = 'A'
	tagPageHinkley byte = 'P'
	tagDDM         byte = 'D'
	tagEDDM        byte = 'E'
	tagKSWIN       byte = 'K'
)

// stateHeaderLen is the length of the type and version bytes.
const stateHeaderLen = 2

// tagNames names the detector of each type byte in error messages.
var tagNames = map[byte]string{
	tagADWIN:       "adwin",
	tagPageHinkley: "page_hinkley",
	tagDDM:         "ddm",
	tagEDDM:        "eddm",
	tagKSWIN:       "kswin",
}

// maxCount is the largest whole number a float64 counter holds exactly
// (2^53); the detectors that count in float64 (River's arithmetic) stop
// counting exactly beyond it.
const maxCount = 1 << 53

// isCount reports whether n is a whole number in [0, maxCount].
func isCount(n float64) bool { return n >= 0 && n <= maxCount && n == math.Trunc(n) }

// sameBits reports whether a and b have the same IEEE 754 bits.
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// allFinite reports whether no x is NaN or ±Inf.
func allFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func appendHeader(b []byte, tag byte) []byte { return append(b, tag, stateVersion) }

func appendFloats(b []byte, xs ...float64) []byte {
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func appendInts(b []byte, xs ...int) []byte {
	for _, x := range xs {
		b = appendInt64(b, int64(x))
	}
	return b
}

func appendInt64(b []byte, x int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(x)) }

func appendBools(b []byte, xs ...bool) []byte {
	for _, x := range xs {
		var v byte
		if x {
			v = 1
		}
		b = append(b, v)
	}
	return b
}

// stateDecoder reads the fields of an encoding in order, remembering the
// first error; reads after an error return zero values.
type stateDecoder struct {
	name string // detector, for error messages
	data []byte
	off  int
	err  error
}

// newStateDecoder checks the header of data against tag and returns a
// decoder positioned at the first field.
func newStateDecoder(data []byte, tag byte) *stateDecoder {
	d := &stateDecoder{name: tagNames[tag], data: data, off: stateHeaderLen}
	switch {
	case len(data) < stateHeaderLen:
		d.err = fmt.Errorf("truncated: %d bytes, no header", len(data))
	case data[0] != tag && tagNames[data[0]] != "":
		d.err = fmt.Errorf("data is %s state (type byte %q)", tagNames[data[0]], data[0])
	case data[0] != tag:
		d.err = fmt.Errorf("unknown type byte %#02x, want %q", data[0], tag)
	case data[1] != stateVersion:
		d.err = fmt.Errorf("unknown format version %d, want %d", data[1], stateVersion)
	}
	return d
}

// errorf records an error unless one is recorded already.
func (d *stateDecoder) errorf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

// next returns the next n bytes, or nil (recording an error) if fewer
// remain.
func (d *stateDecoder) next(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.data)-d.off < n {
		d.errorf("truncated: %d bytes, field at byte %d needs %d", len(d.data), d.off, n)
		return nil
	}
	b := d.data[d.off : d.off+n]
	d.off += n
	return b
}

// remaining returns the number of unread bytes.
func (d *stateDecoder) remaining() int { return len(d.data) - d.off }

func (d *stateDecoder) float() float64 {
	if b := d.next(8); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (d *stateDecoder) int64() int64 {
	if b := d.next(8); b != nil {
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (d *stateDecoder) int() int {
	v := d.int64()
	if int64(int(v)) != v {
		d.errorf("integer %d at byte %d overflows int", v, d.off-8)
		return 0
	}
	return int(v)
}

func (d *stateDecoder) uint32() uint32 {
	if b := d.next(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *stateDecoder) byte() byte {
	if b := d.next(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *stateDecoder) bool() bool {
	switch v := d.byte(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.errorf("bool byte %d at byte %d is not 0 or 1", v, d.off-1)
		return false
	}
}

// check records err, a failed consistency check, unless an error is
// recorded already.
func (d *stateDecoder) check(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

// finish returns the recorded error, or an error if bytes are left over,
// wrapped for the caller.
func (d *stateDecoder) finish() error {
	if d.err == nil && d.remaining() != 0 {
		d.errorf("%d trailing bytes", d.remaining())
	}
	if d.err != nil {
		return fmt.Errorf("decode %s state: %w: %w", d.name, d.err, errInvalidState)
	}
	return nil
}

// errInvalidState is wrapped by every UnmarshalBinary and MarshalBinary
// error.
var errInvalidState = errors.New("invalid detector state")

// encodeError wraps a failed consistency check of a detector being
// encoded.
func encodeError(name string, err error) error {
	return fmt.Errorf("encode %s state: %w: %w", name, err, errInvalidState)
}
