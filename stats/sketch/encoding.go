package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// encodingMagic starts every encoded sketch: "DDS" and format version 1.
const encodingMagic = "DDS\x01"

// maxIndex bounds the bucket indices UnmarshalBinary accepts (see the
// bucket keys in distance.go).
const maxIndex = 1 << 30

// MarshalBinary encodes s in a canonical, versioned binary form: equal
// states give equal bytes (only each store's non-empty range is written), so
// the bytes of merged sketches can be compared directly. Layout, integers as
// (u)varints unless noted:
//
//	"DDS\x01" | alpha (float64 bits, 8 bytes LE) | maxBuckets | flags
//	(1 byte: 1 = negative side collapsed, 2 = positive side collapsed) |
//	zero | -Inf | +Inf | NaN counts | min, max (float64 bits, 8 bytes LE
//	each) | negative store | positive store,
//
// where a store is its number of buckets k, then if k > 0 its lowest index
// (signed varint) and k counts. The size is at most about
// 60 + 20*maxBuckets bytes; typically 1-3 bytes per non-empty bucket.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, 64+2*(s.pos.hi-s.pos.lo+s.neg.hi-s.neg.lo+2)))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (s *Sketch) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingMagic...)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.m.alpha))
	b = binary.AppendUvarint(b, uint64(s.pos.maxBuckets))
	var flags byte
	if s.neg.collapsed {
		flags |= 1
	}
	if s.pos.collapsed {
		flags |= 2
	}
	b = append(b, flags)
	for _, c := range [...]uint64{s.zero, s.negInf, s.posInf, s.nan} {
		b = binary.AppendUvarint(b, c)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.min))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.max))
	for _, st := range [...]*store{&s.neg, &s.pos} {
		if st.n == 0 {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(st.hi-st.lo+1))
		b = binary.AppendVarint(b, int64(st.lo))
		for _, c := range st.counts[st.lo-st.offset : st.hi-st.offset+1] {
			b = binary.AppendUvarint(b, c)
		}
	}
	return b, nil
}

// errCorrupt is wrapped by every UnmarshalBinary error.
var errCorrupt = errors.New("corrupt sketch encoding")

// UnmarshalBinary replaces s with the sketch encoded in data by
// MarshalBinary. It validates the whole encoding (parameters in range,
// bucket ranges within the bound, first and last bucket non-empty, counts
// that do not overflow, min and max consistent with the count, no trailing
// bytes) and leaves s unchanged on error. It never allocates more than
// 8*len(data) bytes of counts, so it is safe on untrusted input.
func (s *Sketch) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if string(d.bytes(len(encodingMagic))) != encodingMagic {
		return fmt.Errorf("decode sketch: bad magic or version: %w", errCorrupt)
	}
	alpha := math.Float64frombits(d.u64())
	maxB := d.uvarint()
	flags := d.byte1()
	if d.err != nil {
		return d.fail()
	}
	t, err := NewWithMaxBuckets(alpha, int(min(maxB, MaxMaxBuckets+1)))
	if err != nil {
		return fmt.Errorf("decode sketch: %w: %w", err, errCorrupt)
	}
	if flags > 3 {
		return fmt.Errorf("decode sketch: flags %#x: %w", flags, errCorrupt)
	}
	t.zero, t.negInf, t.posInf, t.nan = d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
	t.min, t.max = math.Float64frombits(d.u64()), math.Float64frombits(d.u64())
	for k, st := range [...]*store{&t.neg, &t.pos} {
		d.store(st, flags&(1<<k) != 0)
	}
	if d.err != nil {
		return d.fail()
	}
	if len(d.b) != 0 {
		return fmt.Errorf("decode sketch: %d trailing bytes: %w", len(d.b), errCorrupt)
	}
	var total, carry uint64
	for _, c := range [...]uint64{t.zero, t.negInf, t.posInf, t.pos.n, t.neg.n} {
		var cc uint64
		total, cc = bits.Add64(total, c, 0)
		carry |= cc
	}
	if carry != 0 {
		return fmt.Errorf("decode sketch: count overflows: %w", errCorrupt)
	}
	if total == 0 {
		if !math.IsInf(t.min, 1) || !math.IsInf(t.max, -1) {
			return fmt.Errorf("decode sketch: empty sketch with min %g, max %g: %w", t.min, t.max, errCorrupt)
		}
	} else if !(t.min <= t.max) {
		return fmt.Errorf("decode sketch: min %g, max %g: %w", t.min, t.max, errCorrupt)
	}
	*s = *t
	return nil
}

// decoder reads the fields of an encoding, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() error {
	return fmt.Errorf("decode sketch: %w: %w", d.err, errCorrupt)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.setErr(errors.New("truncated"))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte1() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.bytes(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.setErr(errors.New("bad uvarint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.setErr(errors.New("bad varint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// store decodes one store into st (empty, maxBuckets set).
func (d *decoder) store(st *store, collapsed bool) {
	k := d.uvarint()
	if d.err != nil {
		return
	}
	if k == 0 {
		if collapsed {
			d.setErr(errors.New("empty store marked collapsed"))
		}
		return
	}
	// Each count takes at least one byte, which bounds the allocation.
	if k > uint64(st.maxBuckets) || k > uint64(len(d.b)) {
		d.setErr(fmt.Errorf("%d buckets exceed bound %d or input", k, st.maxBuckets))
		return
	}
	if collapsed && k != uint64(st.maxBuckets) {
		d.setErr(fmt.Errorf("collapsed store with %d buckets, want %d", k, st.maxBuckets))
		return
	}
	lo := d.varint()
	if d.err == nil && (lo < -maxIndex || lo+int64(k)-1 > maxIndex) {
		d.setErr(fmt.Errorf("bucket index %d out of range", lo))
	}
	if d.err != nil {
		return
	}
	st.counts = make([]uint64, k)
	st.offset, st.lo, st.hi = int(lo), int(lo), int(lo)+int(k)-1
	var carry uint64
	for i := range st.counts {
		c := d.uvarint()
		st.counts[i] = c
		var cc uint64
		st.n, cc = bits.Add64(st.n, c, 0)
		carry |= cc
	}
	switch {
	case d.err != nil:
	case carry != 0:
		d.setErr(errors.New("store count overflows"))
	case st.counts[0] == 0 || st.counts[k-1] == 0:
		d.setErr(errors.New("first or last bucket empty"))
	}
	st.collapsed = collapsed
}
