package consumer

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The columns a BatchBuilder fills are plain Go slices, appended to
// without a call through an interface or a capacity check per value of
// Arrow's builders; a batch's arrays are made from them at the end,
// without copying. Each batch gets new slices (sized as the last batch's),
// since the arrays it hands on keep the old ones.

// validity is a column's validity bitmap, made only once a null comes.
type validity struct {
	bits  []byte
	nulls int
}

// set notes row i (the newest) as valid or null.
func (v *validity) set(i int, valid bool) {
	if valid && v.bits == nil {
		return
	}
	if v.bits == nil { // the first null: the rows before it were valid
		v.bits = make([]byte, i/8+1, max(64, i/4))
		for j := range i {
			v.bits[j/8] |= 1 << (j % 8)
		}
	}
	for len(v.bits) <= i/8 {
		v.bits = append(v.bits, 0)
	}
	if valid {
		v.bits[i/8] |= 1 << (i % 8)
	} else {
		v.nulls++
	}
}

// truncate forgets the rows from n on, of which there is at most one.
func (v *validity) truncate(n int) {
	if v.bits == nil || n/8 >= len(v.bits) {
		return
	}
	if mask := byte(1) << (n % 8); v.bits[n/8]&mask == 0 {
		v.nulls--
	} else {
		v.bits[n/8] &^= mask
	}
}

// data returns the Arrow data of a column of n fixed-width values with
// this validity, and forgets the bitmap.
func (v *validity) data(dt arrow.DataType, n int, values []byte) *array.Data {
	bits, nulls := v.buffer()
	return array.NewData(dt, n, []*memory.Buffer{bits, memory.NewBufferBytes(values)}, nil, nulls, 0)
}

// buffer is the bitmap as an Arrow buffer, nil without nulls; it forgets it
// either way (a bitmap can be left without nulls when the one null it was
// made for was taken back).
func (v *validity) buffer() (*memory.Buffer, int) {
	bits, nulls := v.bits, v.nulls
	*v = validity{}
	if nulls == 0 {
		return nil, 0
	}
	return memory.NewBufferBytes(bits), nulls
}

// f64Col builds a float64 column.
type f64Col struct {
	vals  []float64
	valid validity
}

func (c *f64Col) add(x float64) {
	c.vals = append(c.vals, x)
	c.valid.set(len(c.vals)-1, true)
}

func (c *f64Col) addNull() {
	c.vals = append(c.vals, 0)
	c.valid.set(len(c.vals)-1, false)
}

func (c *f64Col) array() arrow.Array {
	data := c.valid.data(arrow.PrimitiveTypes.Float64, len(c.vals), arrow.Float64Traits.CastToBytes(c.vals))
	defer data.Release()
	c.vals = make([]float64, 0, cap(c.vals))
	return array.NewFloat64Data(data)
}

// strCol builds a column of strings without nulls.
type strCol struct {
	offsets []int32 // from 0, one more than the rows
	bytes   []byte
}

func (c *strCol) add(b []byte) {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	c.bytes = append(c.bytes, b...)
	c.offsets = append(c.offsets, int32(len(c.bytes)))
}

func (c *strCol) len() int { return max(len(c.offsets)-1, 0) }

// array returns the strings, with the validity bitmap bits (nil: none
// null).
func (c *strCol) array(bits *memory.Buffer, nulls int) *array.String {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	data := array.NewData(arrow.BinaryTypes.String, len(c.offsets)-1,
		[]*memory.Buffer{bits, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets)), memory.NewBufferBytes(c.bytes)}, nil, nulls, 0)
	defer data.Release()
	c.offsets, c.bytes = make([]int32, 0, cap(c.offsets)), make([]byte, 0, cap(c.bytes))
	return array.NewStringData(data)
}

// dictCol builds a dictionary-encoded string column (int32 indexes, in
// the order values first came, as Arrow's dictionary builder numbers them).
type dictCol struct {
	idx    []int32
	valid  validity
	index  map[string]int32
	values strCol
	// short caches the indexes of values of at most eight bytes, which
	// categories mostly are, by their bytes as a word: a look-up without
	// hashing the string; entries of another generation are empty.
	short [64]shortEntry
	gen   uint64
}

type shortEntry struct {
	word, gen uint64
	n, idx    int32
}

// add appends b, reporting whether it is new to the dictionary.
func (c *dictCol) add(b []byte) (added bool) {
	var e *shortEntry
	var word uint64
	if len(b) <= 8 {
		if cap(b) >= 8 { // b's bytes and those after it, masked off: no copy
			word = binary.LittleEndian.Uint64(b[:8]) & (^uint64(0) >> (64 - 8*len(b)))
		} else {
			var w [8]byte
			copy(w[:], b)
			word = binary.LittleEndian.Uint64(w[:])
		}
		e = &c.short[(word^uint64(len(b)))*0x9E3779B97F4A7C15>>58]
		if e.gen == c.gen+1 && e.word == word && e.n == int32(len(b)) {
			c.idx = append(c.idx, e.idx)
			c.valid.set(len(c.idx)-1, true)
			return false
		}
	}
	i, ok := c.index[string(b)]
	if !ok {
		added = true
		if c.index == nil {
			c.index = make(map[string]int32)
		}
		i = int32(c.values.len())
		c.values.add(b)
		c.index[string(b)] = i
	}
	if e != nil {
		*e = shortEntry{word: word, gen: c.gen + 1, n: int32(len(b)), idx: i}
	}
	c.idx = append(c.idx, i)
	c.valid.set(len(c.idx)-1, true)
	return added
}

func (c *dictCol) addNull() {
	c.idx = append(c.idx, 0)
	c.valid.set(len(c.idx)-1, false)
}

func (c *dictCol) array() arrow.Array {
	data := c.valid.data(arrow.PrimitiveTypes.Int32, len(c.idx), arrow.Int32Traits.CastToBytes(c.idx))
	defer data.Release()
	indices := array.NewInt32Data(data)
	defer indices.Release()
	dict := c.values.array(nil, 0)
	defer dict.Release()
	clear(c.index)
	c.gen++ // the cache's entries are of the old dictionary
	c.idx = make([]int32, 0, cap(c.idx))
	return array.NewDictionaryArray(dictString, indices, dict)
}

// dropLast removes the dictionary's newest value.
func (c *dictCol) dropLast() {
	c.gen++ // the cache may hold the value
	n := c.values.len() - 1
	delete(c.index, string(c.values.bytes[c.values.offsets[n]:]))
	c.values.offsets = c.values.offsets[:n+1]
	c.values.bytes = c.values.bytes[:c.values.offsets[n]]
}

// column is one feature's (or the prediction's) column: numbers or
// categories, as the baseline has it.
type column struct {
	numeric bool
	num     f64Col
	cat     dictCol
}

func (c *column) addNull() {
	if c.numeric {
		c.num.addNull()
	} else {
		c.cat.addNull()
	}
}

// truncate forgets the rows from n on, of which there is at most one.
func (c *column) truncate(n int) {
	if c.numeric {
		if len(c.num.vals) > n {
			c.num.valid.truncate(n)
			c.num.vals = c.num.vals[:n]
		}
	} else if len(c.cat.idx) > n {
		c.cat.valid.truncate(n)
		c.cat.idx = c.cat.idx[:n]
	}
}

func (c *column) array() arrow.Array {
	if c.numeric {
		return c.num.array()
	}
	return c.cat.array()
}
